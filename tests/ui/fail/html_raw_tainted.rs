#[rasp::source(kind = "http.query")]
fn bio() -> String {
    "<img src=x onerror=alert(1)>".to_owned()
}

fn main() {
    let _ = rasp::html::raw(bio());
}
