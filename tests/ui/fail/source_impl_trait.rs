#[rasp::source(kind = "http.query")]
fn query() -> impl std::fmt::Display {
    "q"
}

fn main() {}
