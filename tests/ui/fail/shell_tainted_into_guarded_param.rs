use rasp::{Blocked, ShellSafe};

struct JobError;

impl From<Blocked> for JobError {
    fn from(_: Blocked) -> Self {
        JobError
    }
}

#[rasp::source(kind = "http.query")]
fn archive_name() -> String {
    "x; rm -rf ~".to_owned()
}

#[rasp::sink(kind = "shell", guard(name))]
fn compress(name: impl ShellSafe) -> Result<(), JobError> {
    let _ = name;
    Ok(())
}

fn main() {
    let _ = compress(archive_name());
}
