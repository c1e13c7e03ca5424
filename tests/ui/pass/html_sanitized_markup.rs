//! Values a raw-HTML sink accepts: literals and values sanitized for HTML.
//! At run time the escaped value also passes the check while the
//! attacker's input is recorded in the request. In a template, a tainted
//! value renders through its escaped view.

use askama::Template;
use rasp::{Blocked, HtmlSafe, SinkText, Tainted};

#[derive(Debug)]
struct PageError;

impl From<Blocked> for PageError {
    fn from(_: Blocked) -> Self {
        PageError
    }
}

#[rasp::source(kind = "http.form")]
fn comment_field() -> String {
    "<script>alert(1)</script>".to_owned()
}

#[rasp::sink(kind = "html", guard(markup))]
fn append_markup(markup: impl HtmlSafe) -> Result<Vec<u8>, PageError> {
    Ok(markup.sink_text().unwrap_or(b"<hr>").to_vec())
}

#[derive(Template)]
#[template(ext = "html", source = "<p>{{ comment.escaped::<rasp::Html>() }}</p>")]
struct Comment {
    comment: Tainted<String>,
}

#[rasp::protect(route = "/comments")]
fn comments() -> Result<(Vec<u8>, String), PageError> {
    append_markup("<hr>")?;
    let markup = append_markup(comment_field().sanitize::<rasp::Html>())?;
    let page = Comment {
        comment: comment_field(),
    }
    .render()
    .unwrap();
    Ok((markup, page))
}

fn main() {
    let (markup, page) = comments().unwrap();
    assert_eq!(markup, b"&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_eq!(page, "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
}
