use rasp::SqlSafe;

#[rasp::sink(kind = "sql", guard(sql))]
fn execute(sql: impl SqlSafe) -> u32 {
    let _ = sql;
    0
}

fn main() {}
