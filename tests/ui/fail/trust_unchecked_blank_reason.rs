#[rasp::source(kind = "http.query")]
fn column() -> String {
    "created_at".to_owned()
}

fn main() {
    // A reason that says nothing is no reason.
    let _ = rasp::trust_unchecked!(column(), rasp::Sql, " ");
}
