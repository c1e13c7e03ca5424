//! What each sink kind risks, shared by the SARIF rules and the HTML report:
//! read from the class registry, so a new class brings its own weakness.

use rasp_core::SinkClass;

/// Security severity (CVSS-like, 0–10) of an injection into a sink of
/// `kind`, as code-scanning services rank `security-severity`.
pub(crate) fn security_severity(kind: &str) -> &'static str {
    SinkClass::from_name(kind).map_or("5.0", SinkClass::severity)
}

/// The weakness an unguarded sink of `kind` would have.
pub(crate) fn cwe(kind: &str) -> Option<&'static str> {
    SinkClass::from_name(kind).map(SinkClass::cwe)
}

/// Severity given to an escape hatch: a value that skipped the compile-time
/// check, whatever the sink it reaches.
pub(crate) const ESCAPE_HATCH_SEVERITY: &str = "5.0";
