//! Values a redirect sink accepts: literals and values sanitized for
//! redirects. At run time the sanitized target also passes the check while
//! the attacker's input is recorded in the request.

use rasp::{Blocked, RedirectSafe, SinkText};

#[derive(Debug)]
struct HttpError;

impl From<Blocked> for HttpError {
    fn from(_: Blocked) -> Self {
        HttpError
    }
}

#[rasp::source(kind = "http.query")]
fn next_param() -> String {
    "//evil.example/login".to_owned()
}

#[rasp::sink(kind = "redirect", guard(to))]
fn see_other(to: impl RedirectSafe) -> Result<Vec<u8>, HttpError> {
    Ok(to.sink_text().unwrap_or(b"/").to_vec())
}

#[rasp::protect(route = "/login")]
fn login() -> Result<Vec<u8>, HttpError> {
    see_other("/home")?;
    let next = next_param();
    see_other(next.sanitize::<rasp::Redirect>())
}

fn main() {
    assert_eq!(login().unwrap(), b"/%2Fevil.example/login");
}
