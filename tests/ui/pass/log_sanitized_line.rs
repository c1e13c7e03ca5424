//! Values a log sink accepts: literals and values sanitized for logs. At
//! run time the sanitized value also passes the check while the attacker's
//! input is recorded in the request.

use rasp::{Blocked, LogSafe, SinkText};

#[derive(Debug)]
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
fn audit_failed_login(user: impl LogSafe) -> Result<String, AuditError> {
    let user = user.sink_text().unwrap_or(b"-");
    Ok(format!("FAILED user={}", String::from_utf8_lossy(user)))
}

#[rasp::protect(route = "/login")]
fn login() -> Result<String, AuditError> {
    audit_failed_login("anonymous")?;
    let user = user_field();
    audit_failed_login(user.sanitize::<rasp::Log>())
}

fn main() {
    assert_eq!(
        login().unwrap(),
        "FAILED user=bob\\n2026-11-29 INFO admin login ok"
    );
}
