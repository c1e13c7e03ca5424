//! Each runtime-checked guard takes tainted text (and checks it), text the
//! application built, and values sanitized or composed for its own class;
//! a value made safe for another class is refused, and the message names
//! both classes.

#[rasp::source(kind = "http.query")]
fn name() -> String {
    "../../etc/passwd\r\nSet-Cookie: admin=1".to_owned()
}

fn main() {
    let root = rasp::fs::Root::new(".").unwrap();
    let _ = root.read(name().sanitize::<rasp::Url>());
    let _ = rasp::header::value(name().sanitize::<rasp::Html>());
    let _ = rasp::redirect::location(name().sanitize::<rasp::Path>());
    let _ = rasp::log::line(name().sanitize::<rasp::Header>());
    let _ = rasp::html::raw(rasp::compose!(rasp::Shell, "{}", name().sanitize::<rasp::Shell>()));
    let _ = rasp::sql(rasp::compose!(rasp::Shell, "{}", name().sanitize::<rasp::Shell>()));
}
