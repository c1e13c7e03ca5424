#[rasp::source(kind = "http.query")]
fn file_name() -> String {
    "../../etc/passwd".to_owned()
}

fn main() {
    let root = rasp::fs::Root::new(".").unwrap();
    let _ = root.read(file_name());
}
