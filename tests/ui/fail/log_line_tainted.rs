#[rasp::source(kind = "http.form")]
fn user() -> String {
    "bob\nINFO admin login ok".to_owned()
}

fn main() {
    let _ = rasp::log::line(user());
}
