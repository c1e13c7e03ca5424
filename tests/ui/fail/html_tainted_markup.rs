//! A tainted value cannot reach a raw-HTML sink: it could open a tag.
use rasp::{Blocked, HtmlSafe};

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
fn append_markup(markup: impl HtmlSafe) -> Result<(), PageError> {
    let _ = markup;
    Ok(())
}

fn main() {
    let comment = comment_field();
    let _ = append_markup(comment);
}
