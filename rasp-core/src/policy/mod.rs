//! The policy engine: what rasp does about a detection, loaded from a
//! versioned TOML file and replaceable while the service runs.
//!
//! Without a policy, the process-wide [`crate::Mode`] decides every
//! detection, detector failures allow the call, and events carry masked
//! excerpts. A policy ([`load_str`], [`load_file`], then [`install`]) refines
//! this per sink class, sink id and route, adds allowlists, a canary
//! percentage for blocking, per-sink failure modes and event masking. The
//! file format, every key and its default are described in `docs/policy.md`.
//!
//! The installed policy is an immutable snapshot behind an
//! [`arc_swap::ArcSwapOption`]: a decision loads it once, without a lock or
//! an allocation, and reads every rule from that one snapshot, so a reload
//! is atomic for every check. The snapshot is also the decision cache: all
//! lookups are resolved into per-class rules and small hash maps when a
//! policy is compiled, and the detection-free path of a check never reads it.
//!
//! A reload validates first and swaps only a valid policy; an invalid file,
//! a lower revision, or (under `strict = true`) a sink id that no linked code
//! registers keeps the last good policy in force, and is reported as an
//! event, counted in [`status`] and in the metrics of
//! [`crate::telemetry::metrics`].
//!
//! Entry rules (`[entry]`: block lists, rate limits, a detection circuit
//! breaker) decide whether a request may enter at all; see [`entry`].
//! With `[fleet]` (feature `redis`) their rate limits and block lists are
//! shared by every instance through Redis.
//!
//! Reloads can be triggered by [`reload_file`], by a file watch
//! ([`watch`], feature `policy-watch`) or by `SIGHUP`
//! ([`reload_on_sighup`], feature `policy-sighup`, unix).

mod cache;
mod compile;
mod decide;
pub mod entry;
mod file;
#[cfg(feature = "redis")]
mod fleet;
#[cfg(all(unix, feature = "policy-sighup"))]
mod sighup;
mod store;
#[cfg(feature = "policy-watch")]
mod watch;

pub use compile::{
    MAX_NESTING, MAX_POLICY_BYTES, Policy, PolicyError, RoutePolicy, SCHEMA_VERSION,
};
pub use decide::in_canary;
pub use file::{Action, OnError};
#[cfg(all(unix, feature = "policy-sighup"))]
pub use sighup::{SighupReload, reload_on_sighup};
pub use store::{
    PolicyStatus, current, flush_evidence, install, load_file, load_str, reload_file, status,
    uninstall,
};
#[cfg(feature = "policy-watch")]
pub use watch::{DEBOUNCE, PolicyWatch, watch};

pub(crate) use store::snapshot;

/// The `[limits]` of the installed policy, if a policy is installed and has
/// that table: what adapters opening a request context use in place of the
/// caps set in code. One lock-free load.
pub fn input_limits() -> Option<crate::InputLimits> {
    snapshot().as_deref().and_then(Policy::input_limits)
}
