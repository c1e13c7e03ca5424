use rasp::{Blocked, RedirectSafe};

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
fn see_other(to: impl RedirectSafe) -> Result<(), HttpError> {
    let _ = to;
    Ok(())
}

fn main() {
    let next = next_param();
    let _ = see_other(next);
}
