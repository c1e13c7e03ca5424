//! Methods with `&self`, `&mut self` and `self`, generic parameters,
//! lifetimes and where-clauses are re-emitted as written.

use rasp::{Blocked, HtmlSafe, Recordable, SqlSafe, Tainted};

#[derive(Debug)]
struct Error;

impl From<Blocked> for Error {
    fn from(_: Blocked) -> Self {
        Error
    }
}

struct Request {
    query: String,
    visits: u32,
}

impl Request {
    #[rasp::source(kind = "http.query")]
    pub fn query(&self) -> &str {
        &self.query
    }

    #[rasp::source(kind = "http.query")]
    fn query_mut(&mut self) -> String {
        self.visits += 1;
        self.query.clone()
    }

    #[rasp::source(kind = "http.body")]
    fn into_query(self) -> String {
        self.query
    }

    #[rasp::source(kind = "http.query")]
    fn field<'a, T>(&'a self, pick: impl Fn(&'a Self) -> T) -> T
    where
        T: Recordable,
    {
        pick(self)
    }
}

struct Page {
    html: String,
}

impl Page {
    #[rasp::sink(kind = "html", guard(fragment), id = "page.push")]
    fn push<F: HtmlSafe + std::fmt::Display>(&mut self, fragment: F) -> Result<&mut Self, Error> {
        self.html.push_str(&fragment.to_string());
        Ok(self)
    }

    #[rasp::protect]
    fn render(mut self, title: Tainted<String>) -> Result<String, Error> {
        self.push("<h1>")?
            .push(title.sanitize::<rasp::Html>())?
            .push("</h1>")?;
        Ok(self.html)
    }
}

#[rasp::sink(kind = "sql", guard(a, b))]
fn both<A, B>(a: A, b: B) -> Result<(), Error>
where
    A: SqlSafe,
    B: SqlSafe + Copy,
{
    let _ = (a, b);
    Ok(())
}

fn main() {
    let mut req = Request {
        query: "<b>hi</b>".to_owned(),
        visits: 0,
    };
    let _: Tainted<&str> = req.query();
    let _: Tainted<String> = req.query_mut();
    let _: Tainted<u32> = req.field(|r| r.visits);
    let title = req.into_query();
    let page = Page {
        html: String::new(),
    };
    assert_eq!(
        page.render(title).unwrap(),
        "<h1>&lt;b&gt;hi&lt;/b&gt;</h1>"
    );
    both("SELECT 1", 2_u8).unwrap();
}
