#[rasp::source(kind = "http.query")]
fn name() -> String {
    "report.pdf\r\nSet-Cookie: admin=1".to_owned()
}

fn main() {
    let _ = rasp::header::value(name());
}
