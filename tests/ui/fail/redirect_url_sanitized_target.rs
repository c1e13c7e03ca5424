use rasp::{Blocked, RedirectSafe};

struct HttpError;

impl From<Blocked> for HttpError {
    fn from(_: Blocked) -> Self {
        HttpError
    }
}

#[rasp::source(kind = "http.query")]
fn next_param() -> String {
    "https://evil.example/".to_owned()
}

#[rasp::sink(kind = "redirect", guard(to))]
fn see_other(to: impl RedirectSafe) -> Result<(), HttpError> {
    let _ = to;
    Ok(())
}

fn main() {
    // Encoded for a URL component, not made a same-site path.
    let next = next_param().sanitize::<rasp::Url>();
    let _ = see_other(next);
}
