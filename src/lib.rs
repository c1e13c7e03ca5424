#![doc = include_str!("../README.md")]

pub use rasp_core::{
    Asserted, Blocked, Context, ContextFutureExt, ContextKind, Decision, Dialect, EscapeHatch,
    Guard, Header, HeaderSafe, Html, HtmlSafe, InContext, InputLimits, Log, LogSafe, Mode,
    OnBlocked, Path, PathSafe, Reason, Recordable, RequestContext, Sanitize, Sanitized, Shell,
    ShellSafe, SinkKind, SinkSite, SinkText, SourceMeta, Sql, SqlSafe, Tainted, Url, UrlSafe,
    check, context, detect, event, registry, sanitize, trust_unchecked,
};
pub use rasp_macros::{protect, sink, source};
#[cfg(feature = "sqlx")]
pub use rasp_sinks::sqlx::{CheckedSql, SqlText, sql, sql_for};

#[doc(hidden)]
pub mod __private {
    pub use rasp_core::__private::*;
}
