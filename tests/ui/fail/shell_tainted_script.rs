#[rasp::source(kind = "http.query")]
fn script() -> String {
    "id".to_owned()
}

fn main() {
    let _ = rasp::process::shell(script());
}
