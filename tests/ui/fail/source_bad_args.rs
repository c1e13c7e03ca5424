#[rasp::source]
fn missing_kind() -> String {
    String::new()
}

#[rasp::source(knd = "http.query")]
fn unknown_key() -> String {
    String::new()
}

#[rasp::source(kind = "http.query", kind = "http.header")]
fn duplicate_key() -> String {
    String::new()
}

#[rasp::source(kind = 5)]
fn wrong_literal() -> String {
    String::new()
}

#[rasp::source(kind = "http query")]
fn whitespace() -> String {
    String::new()
}

#[rasp::source(kind)]
fn no_value() -> String {
    String::new()
}

fn main() {
    // The items are re-emitted, so calls still resolve.
    let _: String = missing_kind();
}
