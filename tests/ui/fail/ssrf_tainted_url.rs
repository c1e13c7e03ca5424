use rasp::{Blocked, UrlSafe};

struct FetchError;

impl From<Blocked> for FetchError {
    fn from(_: Blocked) -> Self {
        FetchError
    }
}

#[rasp::source(kind = "http.body")]
fn webhook_param() -> String {
    "http://169.254.169.254/latest/meta-data/".to_owned()
}

#[rasp::sink(kind = "url", guard(target))]
fn fetch(target: impl UrlSafe) -> Result<(), FetchError> {
    let _ = target;
    Ok(())
}

fn main() {
    let webhook = webhook_param();
    let _ = fetch(webhook);
}
