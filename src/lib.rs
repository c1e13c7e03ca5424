// The README is the crate's front page; its example uses the sqlx
// integration, so it is compiled (as a doctest) when that feature is on.
#![cfg_attr(feature = "sqlx", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "sqlx"),
    doc = "Runtime application self-protection for Rust services. See README.md; enable the `sqlx` feature for the full front page."
)]

pub use rasp_core::{
    Asserted, Blocked, Context, ContextFutureExt, ContextKind, Decision, Dialect, EscapeHatch,
    Escaped, Guard, Header, HeaderSafe, Html, HtmlSafe, InContext, InputLimits, Log, LogSafe, Mode,
    OnBlocked, Path, PathSafe, Reason, Recordable, Redirect, RedirectSafe, RequestContext,
    Sanitize, Sanitized, Shell, ShellSafe, SinkKind, SinkSite, SinkText, SourceMeta, Sql, SqlSafe,
    Tainted, Url, UrlSafe, check, context, detect, escaped, event, policy, registry, sanitize,
    trust_unchecked,
};
pub use rasp_macros::{protect, sink, source};
/// Guarded processes and shell scripts (feature `process`).
#[cfg(feature = "process")]
pub use rasp_sinks::command as process;
/// Confined file access (feature `fs`).
#[cfg(feature = "fs")]
pub use rasp_sinks::fs;
/// Guarded HTTP header values (feature `header`).
#[cfg(feature = "header")]
pub use rasp_sinks::header;
/// Guarded raw HTML and cleaned rich HTML (features `html`, `ammonia`).
#[cfg(feature = "html")]
pub use rasp_sinks::html;
/// Guarded outbound HTTP with `reqwest`, checked at connect time (feature `reqwest`).
#[cfg(feature = "reqwest")]
pub use rasp_sinks::http_client as http;
/// Escaped log fields and checked log lines (feature `log`).
#[cfg(feature = "log")]
pub use rasp_sinks::log;
/// Guarded redirects (feature `redirect`).
#[cfg(feature = "redirect")]
pub use rasp_sinks::redirect;
#[cfg(feature = "sqlx")]
pub use rasp_sinks::sqlx::{Bound, CheckedSql, SqlText, bind, sql, sql_for};

/// axum integration: tainting extractors and `RaspLayer` (feature `axum`).
#[cfg(feature = "axum")]
pub use rasp_axum as axum;

#[doc(hidden)]
pub mod __private {
    pub use rasp_core::__private::*;
}
