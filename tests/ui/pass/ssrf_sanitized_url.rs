//! What URL sinks accept: literals and values percent-encoded for one URL
//! component. At run time the encoded input passes the check while the
//! attacker's input is recorded in the request: it can no longer leave the
//! path segment it was put in.

use rasp::{Blocked, UrlSafe};

#[derive(Debug)]
struct FetchError;

impl From<Blocked> for FetchError {
    fn from(_: Blocked) -> Self {
        FetchError
    }
}

#[rasp::source(kind = "http.query")]
fn item_param() -> String {
    "@169.254.169.254/latest/meta-data".to_owned()
}

#[rasp::sink(kind = "url", guard(target))]
fn fetch(target: impl UrlSafe) -> Result<Vec<u8>, FetchError> {
    Ok(target.sink_text().unwrap_or(b"").to_vec())
}

#[rasp::protect(route = "/items")]
fn item() -> Result<Vec<u8>, FetchError> {
    fetch("https://api.example.org/items/featured")?;
    let segment = item_param().sanitize::<rasp::Url>();
    fetch(segment)
}

fn main() {
    assert_eq!(item().unwrap(), b"%40169.254.169.254%2Flatest%2Fmeta-data");
}
