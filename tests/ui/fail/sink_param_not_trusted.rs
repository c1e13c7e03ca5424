use rasp::Blocked;

struct DbError;

impl From<Blocked> for DbError {
    fn from(_: Blocked) -> Self {
        DbError
    }
}

// A concrete parameter type that is not trusted for SQL is refused where
// the sink is declared, not only where it is called.
#[rasp::sink(kind = "sql", guard(sql))]
fn execute(sql: String) -> Result<(), DbError> {
    let _ = sql;
    Ok(())
}

fn main() {}
