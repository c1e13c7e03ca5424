//! A tainted value cannot reach a log sink: spliced into a line it can
//! forge events.
use rasp::{Blocked, LogSafe};

struct AuditError;

impl From<Blocked> for AuditError {
    fn from(_: Blocked) -> Self {
        AuditError
    }
}

#[rasp::source(kind = "http.form")]
fn user_field() -> String {
    "bob\n2026-11-29 INFO admin login ok".to_owned()
}

#[rasp::sink(kind = "log", guard(user))]
fn audit_failed_login(user: impl LogSafe) -> Result<(), AuditError> {
    let _ = user;
    Ok(())
}

fn main() {
    let user = user_field();
    let _ = audit_failed_login(user);
}
