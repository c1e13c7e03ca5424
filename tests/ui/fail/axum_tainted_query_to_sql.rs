use rasp::axum::TaintedQuery;
use rasp::{Blocked, SqlSafe};

struct DbError;

impl From<Blocked> for DbError {
    fn from(_: Blocked) -> Self {
        DbError
    }
}

#[rasp::sink(kind = "sql", guard(sql))]
fn execute(sql: impl SqlSafe) -> Result<(), DbError> {
    let _ = sql;
    Ok(())
}

#[derive(serde::Deserialize)]
struct Search {
    q: String,
}

async fn search(TaintedQuery(search): TaintedQuery<Search>) -> &'static str {
    // Extracted query text is tainted: the SQL sink refuses it unsanitized.
    let _ = execute(search.map(|s| s.q));
    "done"
}

fn main() {
    let _ = search;
}
