//! What shell sinks accept: literals, values sanitized for the shell, and
//! tainted values as separate arguments. At run time the sanitized word
//! passes the check as an argument while the attacker's input is recorded;
//! standing alone as a whole script it would name the program to run, which
//! the check refuses.

use rasp::{Blocked, ShellSafe};

#[derive(Debug)]
struct JobError;

impl From<Blocked> for JobError {
    fn from(_: Blocked) -> Self {
        JobError
    }
}

#[rasp::source(kind = "http.query")]
fn archive_name() -> String {
    "x; touch pwned".to_owned()
}

#[rasp::sink(kind = "shell", guard(name))]
fn compress(name: impl ShellSafe) -> Result<Vec<u8>, JobError> {
    Ok(name.sink_text().unwrap_or(b"literal").to_vec())
}

#[rasp::protect(route = "/archive")]
fn archive() -> Result<Vec<u8>, JobError> {
    compress("backup.tar")?;
    let word = archive_name().sanitize::<rasp::Shell>();
    let script = rasp::process::shell(rasp::compose!(rasp::Shell, "printf %s {}", &word))?;
    let quoted = script.std().output().map_err(|_| JobError)?.stdout;
    let argv = rasp::process::Command::new("printf")
        .arg("%s")
        .arg_tainted(archive_name())
        .std()?
        .output()
        .map_err(|_| JobError)?
        .stdout;
    assert_eq!(quoted, argv);
    assert!(compress(word).is_err(), "a lone word is the program");
    Ok(quoted)
}

fn main() {
    assert_eq!(archive().unwrap(), b"x; touch pwned");
}
