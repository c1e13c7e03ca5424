use rasp::SqlSafe;

/// A database error that forgot `From<rasp::Blocked>`.
#[derive(Debug)]
struct DbError;

#[rasp::sink(kind = "sql", guard(sql))]
fn execute(sql: impl SqlSafe) -> Result<(), DbError> {
    let _ = sql;
    Ok(())
}

fn main() {}
