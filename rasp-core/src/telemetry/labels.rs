//! The vocabulary of what rasp reports: which rule decided, the verdict an
//! event reports, how much of an input it may show, and the closed label
//! sets of its metrics.
//!
//! These types sit below the policy engine, which produces them, so that
//! events and metrics can report them without reaching up into it.

use serde::Deserialize;

use crate::decision::{Decision, Mode};

/// Which rule of the policy decided; the `rule` label of the detection metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// No policy is installed: the process-wide [`crate::Mode`] decided.
    NoPolicy,
    /// The policy's global `mode`.
    Mode,
    /// A `[sinks.<class>]` rule.
    Class,
    /// A `[sink_ids."<id>"]` rule.
    Sink,
    /// A `[routes."<route>"]` rule.
    Route,
    /// An `[allow]` list.
    Allowlist,
    /// A block demoted to monitor because the request is outside the canary.
    Canary,
}

impl Rule {
    /// Every rule, in declaration order (the order of the metric keys).
    pub const ALL: [Rule; 7] = [
        Rule::NoPolicy,
        Rule::Mode,
        Rule::Class,
        Rule::Sink,
        Rule::Route,
        Rule::Allowlist,
        Rule::Canary,
    ];

    /// Stable snake-case name, as used in metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Rule::NoPolicy => "no_policy",
            Rule::Mode => "mode",
            Rule::Class => "class",
            Rule::Sink => "sink",
            Rule::Route => "route",
            Rule::Allowlist => "allowlist",
            Rule::Canary => "canary",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// What the policy decided about one detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verdict {
    /// The decision: `Allow`, `Monitor` or `Block`.
    pub decision: Decision,
    /// The rule that decided.
    pub rule: Rule,
    /// Revision of the policy that decided; `None` without a policy.
    pub revision: Option<u64>,
    /// How the event reports the input.
    pub masking: Masking,
}

impl Verdict {
    /// The verdict without a policy: the process-wide mode decides.
    pub fn from_mode(mode: Mode) -> Verdict {
        Verdict {
            decision: match mode {
                Mode::Monitor => Decision::Monitor,
                Mode::Block => Decision::Block,
            },
            rule: Rule::NoPolicy,
            revision: None,
            masking: Masking::Masked,
        }
    }
}

/// How much of the offending input a detection event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Masking {
    /// The shape of the input: letters and digits replaced by `*` (the default).
    #[default]
    Masked,
    /// Only the input's length.
    LengthOnly,
    /// Nothing about the input.
    Off,
}

impl Masking {
    /// Stable name, as written in policy files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Masking::Masked => "masked",
            Masking::LengthOnly => "length-only",
            Masking::Off => "off",
        }
    }
}

/// Which entry rule refused a request; the `rule` label of
/// [`metrics::ENTRY_DECISIONS`](super::metrics::ENTRY_DECISIONS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryRule {
    /// `block_ips`, `block_users` or `block_tenants`.
    BlockList,
    /// The circuit breaker is open for this requester.
    CircuitBreaker,
    /// A rate limit is exhausted.
    RateLimit,
    /// The shared fleet state could not be read and `[fleet] on_error` is
    /// `closed`.
    FleetUnavailable,
}

impl EntryRule {
    /// Stable snake-case name, as used in events and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            EntryRule::BlockList => "block_list",
            EntryRule::CircuitBreaker => "circuit_breaker",
            EntryRule::RateLimit => "rate_limit",
            EntryRule::FleetUnavailable => "fleet_unavailable",
        }
    }
}

/// Which table of requesters overflowed: the `table` label of
/// [`metrics::ENTRY_TABLE_OVERFLOWS`](super::metrics::ENTRY_TABLE_OVERFLOWS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrackedTable {
    /// A policy's `[[entry.rate_limits]]` rule.
    RateLimit,
    /// A policy's `[entry.circuit_breaker]`.
    CircuitBreaker,
    /// `rasp-axum`'s `PerIpRateLimit` guard.
    PerIpRateLimit,
}

impl TrackedTable {
    /// Stable snake-case name, as used in events and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            TrackedTable::RateLimit => "rate_limit",
            TrackedTable::CircuitBreaker => "circuit_breaker",
            TrackedTable::PerIpRateLimit => "per_ip_rate_limit",
        }
    }
}

/// What a fleet command was for: the `op` label of
/// [`FLEET_ERRORS`](super::metrics::FLEET_ERRORS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg(feature = "redis")]
pub(crate) enum FleetOp {
    /// A shared rate limit.
    RateLimit,
    /// The shared block list.
    BlockList,
}

#[cfg(feature = "redis")]
impl FleetOp {
    /// Stable snake-case name, as used in events and metrics.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            FleetOp::RateLimit => "rate_limit",
            FleetOp::BlockList => "block_list",
        }
    }
}
