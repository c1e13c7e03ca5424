// The README is the crate's front page; its example uses the sqlx
// integration, so it is compiled (as a doctest) when that feature is on.
#![cfg_attr(feature = "sqlx", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "sqlx"),
    doc = "Runtime application self-protection for Rust services. See README.md; enable the `sqlx` feature for the full front page."
)]

pub use rasp_core::{
    Asserted, Blocked, Composed, Context, ContextFutureExt, Decision, DecisionSlot, Dialect,
    EscapeHatch, Escaped, Guard, Header, HeaderSafe, Html, HtmlSafe, InContext, InjectionFree,
    InputLimits, Limit, Log, LogSafe, Mode, OnBlocked, OnExceeded, Part, Path, PathSafe, Reason,
    Recordable, Redirect, RedirectSafe, RequestContext, SameContext, Sanitize, Sanitized, Shell,
    ShellSafe, Shown, SinkClass, SinkSite, SinkText, SourceMeta, Sql, SqlSafe, Tainted, Url,
    UrlSafe, check, class, compose, context, detect, escaped, event, policy, registry, sanitize,
    spliced, telemetry, trust_unchecked,
};
pub use rasp_macros::{header, path, protect, redirect, shell, sink, source, sql, url};
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
pub mod __private_v1 {
    pub use rasp_core::__private_v1::*;
    #[cfg(feature = "process")]
    pub use rasp_sinks::command::__spliced as spliced_shell;
    #[cfg(feature = "fs")]
    pub use rasp_sinks::fs::__spliced as spliced_path;
    #[cfg(feature = "header")]
    pub use rasp_sinks::header::__spliced as spliced_header;
    #[cfg(feature = "reqwest")]
    pub use rasp_sinks::http_client::__spliced as spliced_url;
    #[cfg(feature = "redirect")]
    pub use rasp_sinks::redirect::__spliced as spliced_redirect;
    #[cfg(feature = "sqlx")]
    pub use rasp_sinks::sqlx::__spliced as spliced_sql;
}

/// The guide in `docs/` as doctests: every Rust block of every page is
/// compiled, and most are run, by `cargo test --doc`, so the guide cannot
/// drift from the API. Pages whose examples use an integration are tested
/// when its feature is on (`--all-features` tests them all).
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../docs/README.md")]
    mod index {}
    #[cfg(all(feature = "axum", feature = "sqlx", feature = "policy-watch"))]
    #[doc = include_str!("../docs/getting-started.md")]
    mod getting_started {}
    #[doc = include_str!("../docs/concepts.md")]
    mod concepts {}
    #[doc = include_str!("../docs/macros.md")]
    mod macros {}
    #[cfg(all(feature = "axum", feature = "sqlx"))]
    #[doc = include_str!("../docs/axum.md")]
    mod axum {}
    #[doc = include_str!("../docs/policy.md")]
    mod policy {}
    #[doc = include_str!("../docs/operations.md")]
    mod operations {}
    #[doc = include_str!("../docs/audit.md")]
    mod audit {}
    #[doc = include_str!("../docs/demo.md")]
    mod demo {}
    #[doc = include_str!("../docs/threat-model.md")]
    mod threat_model {}
    #[doc = include_str!("../docs/benchmarks.md")]
    mod benchmarks {}
    #[doc = include_str!("../docs/accuracy.md")]
    mod accuracy {}

    /// One page per sink class.
    mod sinks {
        #[doc = include_str!("../docs/sinks/sql.md")]
        mod sql {}
        #[cfg(feature = "process")]
        #[doc = include_str!("../docs/sinks/shell.md")]
        mod shell {}
        #[cfg(feature = "fs")]
        #[doc = include_str!("../docs/sinks/path.md")]
        mod path {}
        #[cfg(feature = "reqwest")]
        #[doc = include_str!("../docs/sinks/ssrf.md")]
        mod ssrf {}
        #[cfg(feature = "redirect")]
        #[doc = include_str!("../docs/sinks/redirect.md")]
        mod redirect {}
        #[cfg(feature = "header")]
        #[doc = include_str!("../docs/sinks/header.md")]
        mod header {}
        #[cfg(feature = "log")]
        #[doc = include_str!("../docs/sinks/log.md")]
        mod log {}
        #[cfg(all(feature = "html", feature = "askama", feature = "ammonia"))]
        #[doc = include_str!("../docs/sinks/html.md")]
        mod html {}
    }
}
