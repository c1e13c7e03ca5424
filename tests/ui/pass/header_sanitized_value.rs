//! Values a header sink accepts: literals and values sanitized for
//! headers. At run time the sanitized value also passes the check while the
//! attacker's input is recorded in the request.

use rasp::{Blocked, HeaderSafe, SinkText};

#[derive(Debug)]
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
fn content_language(value: impl HeaderSafe) -> Result<Vec<u8>, HttpError> {
    Ok(value.sink_text().unwrap_or(b"en").to_vec())
}

#[rasp::protect(route = "/settings")]
fn settings() -> Result<Vec<u8>, HttpError> {
    content_language("de")?;
    let lang = lang_param();
    content_language(lang.sanitize::<rasp::Header>())
}

fn main() {
    assert_eq!(settings().unwrap(), b"en  Set-Cookie: admin=1");
}
