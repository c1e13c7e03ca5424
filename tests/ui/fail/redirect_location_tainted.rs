#[rasp::source(kind = "http.query")]
fn next() -> String {
    "//evil.example".to_owned()
}

fn main() {
    let _ = rasp::redirect::location(next());
}
