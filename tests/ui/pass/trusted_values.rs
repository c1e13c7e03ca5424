//! Values a SQL sink accepts: literals, numbers, values sanitized for SQL,
//! asserted values, and tainted values that only travel as bound parameters.

use rasp::{Blocked, SqlSafe, Tainted};

#[derive(Debug)]
struct DbError;

impl From<Blocked> for DbError {
    fn from(_: Blocked) -> Self {
        DbError
    }
}

#[rasp::source(kind = "http.query")]
fn name_param() -> String {
    "O'Brien".to_owned()
}

#[rasp::sink(kind = "sql", guard(sql))]
fn execute(sql: impl SqlSafe) -> Result<(), DbError> {
    let _ = sql;
    Ok(())
}

/// Bound-parameter style: the statement is a literal and the tainted value
/// is handed to the driver separately, never spliced into the text.
#[rasp::sink(kind = "sql", guard(sql), dialect = "postgres")]
fn query_with(sql: &'static str, param: &str) -> Result<usize, DbError> {
    Ok(sql.len() + param.len())
}

fn main() -> Result<(), DbError> {
    execute("SELECT 1")?;
    execute(42_u64)?;
    execute(-1.5_f64)?;
    execute(true)?;

    let name: Tainted<String> = name_param();
    execute(name.clone().sanitize::<rasp::Sql>())?;
    let id: i64 = Tainted::new("17", &rasp::SourceMeta::MANUAL)
        .parse()
        .unwrap();
    execute(id)?;
    // A fact computed from the value: a count, not the value.
    let n = name.inspect(|n| query_with("SELECT * FROM users WHERE name = $1", n).ok());
    assert_eq!(n, Some(42));

    let column = rasp::trust_unchecked!(name, rasp::Sql, "checked against the column allowlist");
    execute(column)?;
    Ok(())
}
