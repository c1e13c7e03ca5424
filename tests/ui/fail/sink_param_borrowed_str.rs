use rasp::Blocked;

struct DbError;

impl From<Blocked> for DbError {
    fn from(_: Blocked) -> Self {
        DbError
    }
}

// A borrowed `&str` may be built from anything; only literals are trusted.
#[rasp::sink(kind = "sql", guard(sql))]
fn execute(sql: &str) -> Result<(), DbError> {
    let _ = sql;
    Ok(())
}

#[rasp::sink(kind = "path", guard(path))]
fn open<'a>(path: &'a str) -> Result<&'a str, DbError> {
    Ok(path)
}

fn main() {}
