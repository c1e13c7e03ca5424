use rasp::{Blocked, HtmlSafe, SqlSafe};

struct Error;

impl From<Blocked> for Error {
    fn from(_: Blocked) -> Self {
        Error
    }
}

#[rasp::sink(kind = "nosql", guard(q))]
fn unknown_kind(q: impl SqlSafe) -> Result<(), Error> {
    let _ = q;
    Ok(())
}

#[rasp::sink(kind = "sql", guard(query))]
fn missing_param(q: impl SqlSafe) -> Result<(), Error> {
    let _ = q;
    Ok(())
}

struct Db;

impl Db {
    #[rasp::sink(kind = "sql", guard(self, q, q))]
    fn guard_self(&self, q: impl SqlSafe) -> Result<(), Error> {
        let _ = q;
        Ok(())
    }
}

#[rasp::sink(kind = "sql", guard(a))]
fn pattern((a, b): (&'static str, &'static str)) -> Result<(), Error> {
    let _ = (a, b);
    Ok(())
}

#[rasp::sink(kind = "html", guard(h), dialect = "postgres")]
fn dialect_on_html(h: impl HtmlSafe) -> Result<(), Error> {
    let _ = h;
    Ok(())
}

#[rasp::sink(kind = "sql", guard(q), dialect = "oracle")]
fn unknown_dialect(q: impl SqlSafe) -> Result<(), Error> {
    let _ = q;
    Ok(())
}

#[rasp::sink(kind = "sql")]
fn no_guard(q: impl SqlSafe) -> Result<(), Error> {
    let _ = q;
    Ok(())
}

#[rasp::sink(kind = "sql", guard = "q")]
fn guard_as_string(q: impl SqlSafe) -> Result<(), Error> {
    let _ = q;
    Ok(())
}

#[rasp::sink(kind = "sql", guard(q), dialekt = "sqlite")]
fn unknown_key(q: impl SqlSafe) -> Result<(), Error> {
    let _ = q;
    Ok(())
}

#[rasp::sink(kind = "sql", guard(q), id = "")]
fn empty_id(q: impl SqlSafe) -> Result<(), Error> {
    let _ = q;
    Ok(())
}

#[rasp::sink(guard(q))]
fn missing_kind(q: impl SqlSafe) -> Result<(), Error> {
    let _ = q;
    Ok(())
}

#[rasp::sink(kind = "sql", guard())]
fn empty_guard(q: impl SqlSafe) -> Result<(), Error> {
    let _ = q;
    Ok(())
}

fn main() {}
