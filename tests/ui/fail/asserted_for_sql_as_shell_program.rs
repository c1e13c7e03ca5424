#[rasp::source(kind = "http.query")]
fn tool() -> String {
    "rm".to_owned()
}

fn main() {
    // Vouched for SQL is not vouched for choosing the program that runs.
    let program = rasp::trust_unchecked!(tool(), rasp::Sql, "checked against the tool list");
    let _ = rasp::process::Command::new(program);
}
