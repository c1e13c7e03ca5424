//! Log injection into real log files.
//!
//! A login handler logs failed attempts with the user name typed in the
//! form: through `tracing` with `tracing-subscriber`'s fmt layer writing to
//! a file, and into a plain audit file written line by line. Without rasp,
//! a user name carrying `\n2026-… INFO admin login ok` adds a second,
//! forged event to the file, and one carrying ANSI escapes reaches the
//! audit file as raw terminal commands. With `rasp::log::tainted` the name
//! is written escaped and the file holds exactly one line per event; with
//! `rasp::log::line` the formatted line is refused. Names with accents,
//! emoji and tabs are written unchanged.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use rasp::{Blocked, Tainted};

const FORGED: &str = "bob\n2026-11-29T00:00:01.000000Z  INFO shop::auth: admin login ok user=admin";
const ANSI: &str = "bob\x1b[1A\x1b[2K\x1b[32mlogin ok\x1b[0m";
const BENIGN: &str = "Zoë Ångström\t🎉 山田";

#[derive(Debug)]
struct AuthError(#[allow(dead_code)] Blocked);

impl From<Blocked> for AuthError {
    fn from(blocked: Blocked) -> Self {
        AuthError(blocked)
    }
}

#[rasp::source(kind = "http.form")]
fn user_field(form: &str) -> String {
    form.to_owned()
}

/// Runs `f` with a fmt subscriber that writes to `path`, then reads the
/// file back.
fn logged_to_file(path: &Path, f: impl FnOnce()) -> String {
    let file = File::create(path).expect("create log file");
    let subscriber = tracing_subscriber::fmt()
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_target(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    std::fs::read_to_string(path).expect("read log file")
}

/// The handler as often written, without rasp: the name spliced into the
/// message.
fn login_failed_unprotected(form: &str) {
    let user = form;
    tracing::warn!("login failed for {user}");
}

/// The name as a field, escaped by rasp.
fn login_failed_field(form: &str) {
    let user: Tainted<String> = user_field(form);
    tracing::warn!(user = rasp::log::tainted(&user), "login failed");
}

/// The formatted message, checked by rasp before it is logged.
#[rasp::protect(route = "/login")]
fn login_failed_checked(form: &str) -> Result<(), AuthError> {
    let line = rasp::log::line(user_field(form).map(|user| format!("login failed for {user}")))?;
    tracing::warn!("{line}");
    Ok(())
}

/// An audit file written line by line, as many services keep one.
fn audit(path: &Path, line: &str) {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open audit file");
    writeln!(file, "{line}").expect("write audit line");
}

#[rasp::protect(route = "/login/audit")]
fn audit_checked(path: &Path, form: &str) -> Result<(), AuthError> {
    let line = rasp::log::line(user_field(form).map(|user| format!("FAILED user={user}")))?;
    audit(path, line.as_str());
    Ok(())
}

#[test]
fn without_rasp_a_name_forges_a_second_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = logged_to_file(&dir.path().join("app.log"), || {
        login_failed_unprotected(FORGED)
    });
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(lines[0].contains("WARN") && lines[0].ends_with("login failed for bob"));
    assert!(lines[1].starts_with("2026-11-29T00:00:01.000000Z  INFO shop::auth: admin login ok"));
}

#[test]
fn an_escaped_field_keeps_one_line_per_event() {
    let dir = tempfile::tempdir().unwrap();
    let log = logged_to_file(&dir.path().join("app.log"), || {
        login_failed_field(FORGED);
        login_failed_field(BENIGN);
    });
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].ends_with("login failed user=bob\\n2026-11-29T00:00:01.000000Z  INFO shop::auth: admin login ok user=admin"),
        "{log}"
    );
    assert!(
        lines[1].ends_with(&format!("login failed user={BENIGN}")),
        "{log}"
    );
}

#[test]
fn a_checked_line_refuses_the_forgery_and_keeps_ordinary_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    // A requester of this test's own: the other tests refuse forged lines
    // at the same sink, and events of one requester repeating within the
    // deduplication window are suppressed, whichever test runs first.
    let requester = rasp::RequestContext::builder()
        .client_ip([192, 0, 2, 121].into())
        .build();
    let log = logged_to_file(&dir.path().join("app.log"), || {
        requester.scope(|| {
            results.push(login_failed_checked(FORGED));
            results.push(login_failed_checked(BENIGN));
        });
    });
    let refused = results[0].as_ref().expect_err("the forged line is refused");
    assert_eq!(refused.0.reason, rasp::Reason::ForgesLogLine);
    assert!(results[1].is_ok());
    // The refusal is reported as a security event, then the benign line.
    let lines: Vec<&str> = log.lines().collect();
    assert!(!log.contains("admin login ok"), "{log}");
    assert!(lines.iter().any(|l| l.contains("forges_log_line")), "{log}");
    assert!(
        lines
            .last()
            .unwrap()
            .ends_with(&format!("login failed for {BENIGN}"))
    );
    assert_eq!(lines.len(), 2, "{log}");
}

#[test]
fn terminal_escapes_reach_an_audit_file_without_rasp_only() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw.log");
    audit(&raw, &format!("FAILED user={ANSI}"));
    let written = std::fs::read(&raw).unwrap();
    assert!(written.contains(&0x1b), "the raw ESC byte reached the file");

    let guarded = dir.path().join("guarded.log");
    let refused = audit_checked(&guarded, ANSI).expect_err("escapes are refused");
    assert_eq!(refused.0.reason, rasp::Reason::TerminalEscape);
    audit_checked(&guarded, BENIGN).unwrap();
    let written = std::fs::read_to_string(&guarded).unwrap();
    assert_eq!(written, format!("FAILED user={BENIGN}\n"));

    // The escaped form: visible text, no ESC byte.
    let user = Tainted::new(ANSI.to_owned(), &rasp::SourceMeta::MANUAL);
    let shown = rasp::log::tainted(&user).to_string();
    assert_eq!(
        shown,
        "bob\\u{1b}[1A\\u{1b}[2K\\u{1b}[32mlogin ok\\u{1b}[0m"
    );
}

#[test]
fn unicode_line_separators_are_refused_too() {
    for name in ["bob\u{2028}INFO admin login ok", "bob\rINFO admin login ok"] {
        let refused = login_failed_checked(name).expect_err("a line separator is refused");
        assert_eq!(refused.0.reason, rasp::Reason::ForgesLogLine);
    }
}

#[test]
fn the_line_guard_is_a_registered_log_sink() {
    let site = rasp::registry::sink("log.line").expect("registered");
    assert_eq!(site.class(), rasp::SinkClass::Log);
    assert_eq!(site.fn_path(), "rasp::log::line");
}
