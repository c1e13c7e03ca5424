//! The policy file as written: the TOML schema, deserialized as-is.
//!
//! Every table denies unknown keys, so a typo (`acton = "block"`) is an error
//! naming its key path instead of a silently ignored rule. Nothing here is
//! validated beyond types; [`super::compile`] checks ranges and references.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::Deserialize;

use crate::telemetry::Masking;

/// What to do with a detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Action {
    /// Let the call run without reporting it as an attack (an accepted risk).
    Allow,
    /// Report the detection and let the call run.
    Monitor,
    /// Report the detection and refuse the call.
    Block,
}

impl Action {
    /// Stable lowercase name, as written in policy files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Monitor => "monitor",
            Action::Block => "block",
        }
    }
}

/// What a sink does when its detector fails (panics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum OnError {
    /// Allow the call: availability first (the default).
    #[default]
    Open,
    /// Refuse the call: for sinks where an unchecked call is worse than an
    /// error.
    Closed,
}

impl OnError {
    /// Stable lowercase name, as written in policy files.
    pub const fn as_str(self) -> &'static str {
        match self {
            OnError::Open => "open",
            OnError::Closed => "closed",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyFile {
    pub(crate) schema_version: u32,
    pub(crate) revision: u64,
    pub(crate) mode: Mode,
    #[serde(default)]
    pub(crate) canary: Option<u32>,
    #[serde(default)]
    pub(crate) on_error: Option<OnError>,
    #[serde(default)]
    pub(crate) strict: bool,
    #[serde(default)]
    pub(crate) events: Events,
    #[serde(default)]
    pub(crate) evidence: Option<Evidence>,
    #[serde(default)]
    pub(crate) allow: Allowlist,
    #[serde(default)]
    pub(crate) sinks: Classes,
    #[serde(default)]
    pub(crate) sink_ids: BTreeMap<String, SinkRule>,
    #[serde(default)]
    pub(crate) routes: BTreeMap<String, RouteRule>,
    #[serde(default)]
    pub(crate) entry: Option<Entry>,
    #[serde(default)]
    pub(crate) fleet: Option<Fleet>,
    #[serde(default)]
    pub(crate) limits: Option<Limits>,
}

/// The global mode: `allow` is not a mode, so it has its own type.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    Monitor,
    Block,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Events {
    #[serde(default)]
    pub(crate) excerpt: Masking,
    #[serde(default)]
    pub(crate) dedup_window_secs: Option<u64>,
    #[serde(default)]
    pub(crate) max_per_window: Option<u32>,
    #[serde(default)]
    pub(crate) sample_every: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Evidence {
    pub(crate) path: std::path::PathBuf,
    #[serde(default)]
    pub(crate) include_monitored: bool,
    #[serde(default)]
    pub(crate) queue: Option<u32>,
    #[serde(default)]
    pub(crate) max_file_mb: Option<u32>,
    #[serde(default)]
    pub(crate) max_rotated_files: Option<u32>,
    #[serde(default)]
    pub(crate) max_per_key: Option<u32>,
    #[serde(default)]
    pub(crate) key_window_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Allowlist {
    #[serde(default)]
    pub(crate) routes: Vec<String>,
    #[serde(default)]
    pub(crate) sinks: Vec<String>,
    #[serde(default)]
    pub(crate) ips: Vec<IpNet>,
    #[serde(default)]
    pub(crate) users: Vec<String>,
    #[serde(default)]
    pub(crate) tenants: Vec<String>,
}

/// One optional rule per sink class, named as in `SinkKind::as_str`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Classes {
    pub(crate) sql: Option<SinkRule>,
    pub(crate) html: Option<SinkRule>,
    pub(crate) shell: Option<SinkRule>,
    pub(crate) path: Option<SinkRule>,
    pub(crate) url: Option<SinkRule>,
    pub(crate) header: Option<SinkRule>,
    pub(crate) log: Option<SinkRule>,
    pub(crate) redirect: Option<SinkRule>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SinkRule {
    pub(crate) action: Option<Action>,
    pub(crate) canary: Option<u32>,
    pub(crate) on_error: Option<OnError>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteRule {
    pub(crate) action: Option<Action>,
    pub(crate) canary: Option<u32>,
}

/// Rules applied when a request enters, before any sink runs.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Entry {
    #[serde(default)]
    pub(crate) action: Option<Mode>,
    #[serde(default)]
    pub(crate) block_ips: Vec<IpNet>,
    #[serde(default)]
    pub(crate) block_users: Vec<String>,
    #[serde(default)]
    pub(crate) block_tenants: Vec<String>,
    #[serde(default)]
    pub(crate) rate_limits: Vec<RateLimit>,
    #[serde(default)]
    pub(crate) circuit_breaker: Option<CircuitBreaker>,
    #[serde(default)]
    pub(crate) ipv6_prefix: Option<u8>,
    #[serde(default)]
    pub(crate) max_tracked: Option<usize>,
}

/// Who an entry rule counts requests or detections for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Requester {
    Ip,
    User,
    Tenant,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RateLimit {
    pub(crate) key: Requester,
    pub(crate) per_second: Option<u32>,
    pub(crate) per_minute: Option<u32>,
    pub(crate) burst: Option<u32>,
    /// Route templates the limit applies to; every route when absent.
    #[serde(default)]
    pub(crate) routes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CircuitBreaker {
    pub(crate) key: Requester,
    pub(crate) detections: u32,
    pub(crate) window_secs: u64,
    pub(crate) open_secs: u64,
}

/// Entry state shared by every instance through Redis (feature `redis`).
/// Parsed in every build, so that a build without the feature names the
/// missing feature instead of an unknown key.
#[derive(Debug, Deserialize)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
#[serde(deny_unknown_fields)]
pub(crate) struct Fleet {
    pub(crate) redis_url: String,
    #[serde(default)]
    pub(crate) timeout_ms: Option<u64>,
    #[serde(default)]
    pub(crate) on_error: Option<OnError>,
    #[serde(default)]
    pub(crate) key_prefix: Option<String>,
    #[serde(default)]
    pub(crate) refresh_ms: Option<u64>,
}

/// Caps on what one request records, and what happens past them
/// (`[limits]`); unset keys keep the defaults of `InputLimits`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Limits {
    #[serde(default)]
    pub(crate) max_inputs: Option<u64>,
    #[serde(default)]
    pub(crate) max_total_bytes: Option<u64>,
    #[serde(default)]
    pub(crate) max_body_bytes: Option<u64>,
    #[serde(default)]
    pub(crate) on_exceeded: Option<crate::context::OnExceeded>,
}
