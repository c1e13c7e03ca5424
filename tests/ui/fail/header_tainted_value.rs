use rasp::{Blocked, HeaderSafe};

struct HttpError;

impl From<Blocked> for HttpError {
    fn from(_: Blocked) -> Self {
        HttpError
    }
}

#[rasp::source(kind = "http.query")]
fn lang_param() -> String {
    "en\r\nSet-Cookie: admin=1".to_owned()
}

#[rasp::sink(kind = "header", guard(value))]
fn content_language(value: impl HeaderSafe) -> Result<(), HttpError> {
    let _ = value;
    Ok(())
}

fn main() {
    let lang = lang_param();
    let _ = content_language(lang);
}
