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

// Layers, top to bottom. A module may use what is below it, never what is
// above; rasp-core/tests/layers.rs checks it.
//
//   check            the runtime check at a sink: detectors, then policy
//   policy           rules from the policy file; entry rules; reloads
//   event, telemetry what rasp reports: security events, evidence, metrics
//   context          the request: recorded inputs, caps, requester
//   taint, trust     Tainted, trust traits, sanitizers, sink sites, decisions
//   detect           rasp-detect: pure detectors and the class registry
pub mod check;
pub mod policy;

pub mod event;
pub mod telemetry;

pub mod context;

pub mod class;
pub mod compose;
pub mod decision;
pub mod escape_hatch;
pub mod escaped;
pub mod record;
mod registration;
pub mod registry;
#[cfg(feature = "ammonia")]
pub mod rich_html;
pub mod sanitize;
pub mod sink;
pub mod spliced;
pub mod taint;
pub mod trust;

/// The detectors, re-exported from `rasp-detect`.
pub use rasp_detect as detect;

#[doc(hidden)]
pub mod __private_v1;

pub use class::{Context, Header, Html, Log, Path, Redirect, Shell, SinkClass, Sql, Url};
pub use compose::{Composed, Part};
pub use context::{ContextFutureExt, InContext, InputLimits, Limit, OnExceeded, RequestContext};
pub use decision::{Blocked, Decision, Mode, OnBlocked};
pub use detect::Reason;
pub use detect::sql::Dialect;
pub use escape_hatch::{Asserted, EscapeHatch};
pub use escaped::{Escaped, Shown};
pub use record::Recordable;
pub use sanitize::{Sanitize, Sanitized};
pub use sink::{DecisionSlot, Guard, SinkSite};
pub use taint::{InjectionFree, SourceMeta, Tainted};
pub use trust::{
    HeaderSafe, HtmlSafe, LogSafe, PathSafe, RedirectSafe, SameContext, ShellSafe, SinkText,
    SqlSafe, UrlSafe,
};
