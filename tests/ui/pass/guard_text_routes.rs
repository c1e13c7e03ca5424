//! The way in that each guard's compile error names, as written there.

#[rasp::source(kind = "http.query")]
fn param() -> String {
    "value".to_owned()
}

fn main() {
    let name = param();
    let _ = rasp::header::value(format!(
        "attachment; filename=\"{}\"",
        name.sanitize::<rasp::Header>()
    ));
    let next = param();
    let _ = rasp::redirect::location(next.sanitize::<rasp::Redirect>().as_str());
    let bio = param();
    let _ = rasp::html::raw(format!("<p>{}</p>", bio.escaped::<rasp::Html>()));
    let user = param();
    tracing::warn!(user = rasp::log::tainted(&user), "login failed");
    let _ = rasp::log::line(format!("{}", user.escaped::<rasp::Log>()));
    let root = rasp::fs::Root::new(".").unwrap();
    let name = param();
    let _ = root.read(name.sanitize::<rasp::Path>().as_str());
}
