//! HTML-escaped text is not a shell word: `&lt; touch x &gt;` runs
//! `touch` under `sh`. `compose!` for shell and the shell guard refuse a
//! value sanitized for HTML, and the message names both contexts.

#[rasp::source(kind = "http.query")]
fn name() -> String {
    "< touch /tmp/owned >".to_owned()
}

fn main() {
    let _ = rasp::compose!(rasp::Shell, "echo {}", name().sanitize::<rasp::Html>());
    let _ = rasp::process::shell(name().sanitize::<rasp::Html>());
    let _ = rasp::process::shell(rasp::compose!(rasp::Html, "<p>{}</p>", name().sanitize::<rasp::Html>()));
}
