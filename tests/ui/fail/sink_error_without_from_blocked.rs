use rasp::SqlSafe;

#[rasp::sink(kind = "sql", guard(sql))]
fn execute(sql: impl SqlSafe) -> Result<(), String> {
    let _ = sql;
    Ok(())
}

fn main() {}
