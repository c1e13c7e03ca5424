use rasp::{Blocked, SqlSafe};

struct DbError;

impl From<Blocked> for DbError {
    fn from(_: Blocked) -> Self {
        DbError
    }
}

#[rasp::source(kind = "http.query")]
fn name_param() -> String {
    "x' OR 1=1 --".to_owned()
}

#[rasp::sink(kind = "sql", guard(sql))]
fn execute(sql: impl SqlSafe) -> Result<(), DbError> {
    let _ = sql;
    Ok(())
}

fn main() {
    // Escaped for HTML is not escaped for SQL.
    let name = name_param().sanitize::<rasp::Html>();
    let _ = execute(name);
}
