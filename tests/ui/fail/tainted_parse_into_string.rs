#[rasp::source(kind = "http.query")]
fn name() -> String {
    "x' OR 1=1 --".to_owned()
}

fn main() {
    // Parsing into text keeps whatever the text carries.
    let _: Result<String, _> = name().parse::<String>();
}
