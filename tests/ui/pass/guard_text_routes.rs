//! The way in that each guard's compile error names, as written there.

#[rasp::source(kind = "http.query")]
fn param() -> String {
    "value".to_owned()
}

fn main() {
    let name = param();
    let _ = rasp::header::value(name.map(|n| format!("attachment; filename=\"{n}\"")));
    let name = param();
    let _ = rasp::header::value(name.sanitize::<rasp::Header>());
    let next = param();
    let _ = rasp::redirect::location(next.sanitize::<rasp::Redirect>());
    let _ = rasp::redirect::location(param());
    let bio = param();
    let _ = rasp::html::raw(format!("<p>{}</p>", bio.escaped::<rasp::Html>()));
    let user = param();
    tracing::warn!(user = rasp::log::tainted(&user), "login failed");
    let _ = rasp::log::line(user.map(|u| format!("login failed for {u}")));
    let root = rasp::fs::Root::new(".").unwrap();
    let name = param();
    let _ = root.read(name.sanitize::<rasp::Path>());
    let _ = root.read(param());
}
