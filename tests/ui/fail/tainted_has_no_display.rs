#[rasp::source(kind = "http.query")]
fn name_param() -> String {
    "Ann".to_owned()
}

fn main() {
    let name = name_param();
    let _ = format!("Hello {}", name);
}
