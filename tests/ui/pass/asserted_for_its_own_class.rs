use rasp::{Blocked, ShellSafe, SqlSafe};

#[derive(Debug)]
struct AppError;

impl From<Blocked> for AppError {
    fn from(_: Blocked) -> Self {
        AppError
    }
}

#[rasp::source(kind = "http.query")]
fn param() -> String {
    "created_at".to_owned()
}

#[rasp::sink(kind = "sql", guard(sql))]
fn execute(sql: impl SqlSafe) -> Result<(), AppError> {
    let _ = sql;
    Ok(())
}

#[rasp::sink(kind = "shell", guard(line))]
fn run(line: impl ShellSafe) -> Result<(), AppError> {
    let _ = line;
    Ok(())
}

fn main() {
    // Each vouch is accepted by the sinks of the class it names.
    let column = rasp::trust_unchecked!(param(), rasp::Sql, "checked against the column allowlist");
    execute(column).unwrap();
    let word = rasp::trust_unchecked!(param(), rasp::Shell, "checked against the word allowlist");
    run(word).unwrap();
    let program = rasp::trust_unchecked!(param(), rasp::Shell, "one of the configured tools");
    let _ = rasp::process::Command::new(program);
}
