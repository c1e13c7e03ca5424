//! A value sanitized for one context never becomes plain text: no
//! `Display` (but for HTML), no `as_str`, no `into_inner`, and the log
//! view of a tainted value does not display either. Otherwise the text,
//! escaped for one grammar, could be formatted into another.

#[rasp::source(kind = "http.query")]
fn name() -> String {
    "x; touch /tmp/owned".to_owned()
}

fn main() {
    let _ = format!("tar czf {}.tgz", name().sanitize::<rasp::Path>());
    let _ = name().sanitize::<rasp::Log>().into_inner();
    let _ = name().sanitize::<rasp::Shell>().as_str();
    let _ = name().escaped::<rasp::Log>().to_string();
}
