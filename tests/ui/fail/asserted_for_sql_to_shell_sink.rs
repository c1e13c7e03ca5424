use rasp::{Blocked, ShellSafe};

struct RunError;

impl From<Blocked> for RunError {
    fn from(_: Blocked) -> Self {
        RunError
    }
}

#[rasp::source(kind = "http.query")]
fn name_param() -> String {
    "x; touch /tmp/owned".to_owned()
}

#[rasp::sink(kind = "shell", guard(line))]
fn run(line: impl ShellSafe) -> Result<(), RunError> {
    let _ = line;
    Ok(())
}

fn main() {
    // Vouched for SQL is not vouched for a shell line.
    let name = rasp::trust_unchecked!(name_param(), rasp::Sql, "names are checked at signup");
    let _ = run(name);
}
