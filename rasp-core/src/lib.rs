//! Runtime core of rasp.
//!
//! Two layers of defence meet here. At compile time, values from untrusted
//! sources are [`Tainted<T>`] and sink parameters accept only types that
//! implement the sink context's trust trait ([`SqlSafe`], [`HtmlSafe`], …).
//! At run time, sources record the raw input in the current
//! [`RequestContext`], and every guarded sink asks the detector of its class
//! whether a recorded input changes the *structure* of the final sink text.
//! The [`Mode`] turns a detection into an action and every detection is
//! reported as a `tracing` event on target `rasp::security`.
//!
//! Users depend on the `rasp` facade crate, which re-exports this one.

pub mod check;
pub mod context;
pub mod contexts;
pub mod decision;
pub mod detect;
pub mod escape_hatch;
pub mod escaped;
pub mod event;
pub mod policy;
pub mod record;
pub mod registry;
#[cfg(feature = "ammonia")]
pub mod rich_html;
pub mod sanitize;
pub mod sink;
pub mod taint;
pub mod trust;

#[doc(hidden)]
pub mod __private;

pub use context::{ContextFutureExt, InContext, InputLimits, Limit, OnExceeded, RequestContext};
pub use contexts::{Context, ContextKind, Header, Html, Log, Path, Redirect, Shell, Sql, Url};
pub use decision::{Blocked, Decision, Mode, OnBlocked};
pub use detect::Reason;
pub use detect::sql::Dialect;
pub use escape_hatch::{Asserted, EscapeHatch};
pub use escaped::Escaped;
pub use record::Recordable;
pub use sanitize::{Sanitize, Sanitized};
pub use sink::{Guard, SinkKind, SinkSite};
pub use taint::{SourceMeta, Tainted};
pub use trust::{
    HeaderSafe, HtmlSafe, LogSafe, PathSafe, RedirectSafe, ShellSafe, SinkText, SqlSafe, UrlSafe,
};
