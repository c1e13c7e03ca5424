#[rasp::source(kind = "http.query")]
fn tool() -> String {
    "rm".to_owned()
}

fn main() {
    let _ = rasp::process::Command::new(tool());
}
