//! What each sink kind risks, shared by the SARIF rules and the HTML report.

/// Security severity (CVSS-like, 0–10) of an injection into a sink of
/// `kind`, as code-scanning services rank `security-severity`.
pub(crate) fn security_severity(kind: &str) -> &'static str {
    match kind {
        "sql" | "shell" => "9.8",
        "url" => "8.6",
        "path" => "7.5",
        "html" | "redirect" => "6.1",
        "header" => "5.3",
        "log" => "4.3",
        _ => "5.0",
    }
}

/// The weakness an unguarded sink of `kind` would have.
pub(crate) fn cwe(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "sql" => "CWE-89",
        "shell" => "CWE-78",
        "url" => "CWE-918",
        "path" => "CWE-22",
        "html" => "CWE-79",
        "redirect" => "CWE-601",
        "header" => "CWE-113",
        "log" => "CWE-117",
        _ => return None,
    })
}

/// Severity given to an escape hatch: a value that skipped the compile-time
/// check, whatever the sink it reaches.
pub(crate) const ESCAPE_HATCH_SEVERITY: &str = "5.0";
