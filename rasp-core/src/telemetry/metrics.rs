//! Counters reported through the `metrics` facade.
//!
//! Labels are drawn from closed sets only (sink kind, action, rule), never
//! from request data: an attacker must not be able to grow the label space of
//! a metrics backend. Every key is built at compile time, so incrementing a
//! counter hashes nothing and allocates nothing; without an installed
//! recorder it is a no-op.
//!
//! | counter | labels |
//! | --- | --- |
//! | [`CHECKS`] | `sink_kind` |
//! | [`DETECTIONS`] | `sink_kind`, `action`, `rule` |
//! | [`BLOCKS`] | `sink_kind` |
//! | [`INTERNAL_ERRORS`] | `sink_kind`, `action` |
//! | [`RELOADS`] | — |
//! | [`RELOAD_FAILURES`] | — |
//! | [`ENTRY_DECISIONS`] | `action`, `rule` |
//! | [`FLEET_ERRORS`] | `op` |
//! | [`ENTRY_TABLE_OVERFLOWS`] | `table` |
//! | [`EVENTS_SUPPRESSED`] | `sink_kind` |
//! | [`EVIDENCE_WRITTEN`] | — |
//! | [`EVIDENCE_DROPPED`] | — |
//! | [`EVIDENCE_OVERWRITTEN`] | — |
//! | [`EVIDENCE_SUPPRESSED`] | — |
//! | [`SECURITY_EVENTS`] | `stream`, `outcome` |
//! | [`GUARD_REFUSALS`] | `sink_kind` |
//! | [`LIMITS_EXCEEDED`] | `limit`, `action` |

use metrics::{Key, Label, Level, Metadata};

#[cfg(feature = "redis")]
use super::labels::FleetOp;
use super::labels::{EntryRule, Rule, TrackedTable};
use crate::class::SinkClass;
use crate::context::{Limit, OnExceeded};
use crate::decision::Decision;

/// Sink checks run inside a request context.
pub const CHECKS: &str = "rasp_checks_total";
/// Injections found, by the action taken and the policy rule that chose it.
pub const DETECTIONS: &str = "rasp_detections_total";
/// Sink calls refused (detections blocked and fail-closed detector errors).
pub const BLOCKS: &str = "rasp_blocks_total";
/// Detector failures, by the action taken (`allow` when fail-open, `block`
/// when fail-closed).
pub const INTERNAL_ERRORS: &str = "rasp_internal_errors_total";
/// Policies installed.
pub const RELOADS: &str = "rasp_policy_reloads_total";
/// Policies refused (invalid, stale, or naming unknown sinks under `strict`).
pub const RELOAD_FAILURES: &str = "rasp_policy_reload_failures_total";

/// Requests refused (or, with `[entry] action = "monitor"`, reported) by
/// an entry rule.
pub const ENTRY_DECISIONS: &str = "rasp_entry_decisions_total";

/// Redis calls for fleet state that failed or timed out, by what they were
/// for (`rate_limit`, `block_list`).
pub const FLEET_ERRORS: &str = "rasp_fleet_errors_total";

/// Requests from requesters a full entry table could not track: limited
/// on the table's shared overflow budget (rate limits) or not counted
/// (circuit breaker), by table (`rate_limit`, `circuit_breaker`,
/// `per_ip_rate_limit`). Each table also reports a `rasp.entry.table_full`
/// event, at most one every ten seconds.
pub const ENTRY_TABLE_OVERFLOWS: &str = "rasp_entry_table_overflows_total";

/// Detection events not emitted because they repeated an event of the
/// same sink, reason, action and client within the policy's window. The
/// detections themselves are counted in [`DETECTIONS`].
pub const EVENTS_SUPPRESSED: &str = "rasp_events_suppressed_total";

/// Records appended to the evidence log.
pub const EVIDENCE_WRITTEN: &str = "rasp_evidence_written_total";

/// Evidence records lost: the writer's queue was full or the file could not
/// be written.
pub const EVIDENCE_DROPPED: &str = "rasp_evidence_dropped_total";

/// Evidence records removed from disk when the oldest rotated file was
/// deleted to make room (`[evidence] max_rotated_files`). Also counted in
/// [`EVIDENCE_DROPPED`], which counts every record lost.
pub const EVIDENCE_OVERWRITTEN: &str = "rasp_evidence_overwritten_total";

/// Evidence records not written because their key (sink, reason, action,
/// requester) had already filled its quota for the window
/// (`[evidence] max_per_key`); their count is carried by the key's next
/// record or by a summary line.
pub const EVIDENCE_SUPPRESSED: &str = "rasp_evidence_suppressed_total";

/// Every security event rasp raised, by stream (`detection`, `entry`,
/// `refusal`, `limit`) and outcome (`emitted`, or `suppressed` as a repeat
/// by the deduplication of `[events]`): the count a flood cannot hide.
pub const SECURITY_EVENTS: &str = "rasp_security_events_total";

/// Calls a guard refused on its own (an option-like argument, a path
/// leaving its root, an internal address), by sink class.
pub const GUARD_REFUSALS: &str = "rasp_guard_refusals_total";

/// Requests that went past one of their input limits (`[limits]`), by the
/// limit and the action taken (`block`: refused; `monitor`: let through with
/// the inputs past the limit unchecked). Counted once per request.
pub const LIMITS_EXCEEDED: &str = "rasp_limits_exceeded_total";

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// One key per sink class, in the order of `SinkClass::ALL`: the class
/// registry hands its rows to `by_class_rows`, which keeps the names.
macro_rules! by_kind {
    ($key:ident) => {
        rasp_detect::with_sink_classes!(by_class_rows($key))
    };
}

macro_rules! by_class_rows {
    (($key:ident) $($(#[$doc:meta])* $variant:ident { name: $name:literal, $($rest:tt)* },)*) => {
        [$($key!($name),)*]
    };
}

/// A key whose labels live in a `const`, so the reference is `'static`.
macro_rules! key {
    ($name:expr; $($label:literal = $value:literal),*) => {{
        const LABELS: &[Label] = &[$(Label::from_static_parts($label, $value)),*];
        Key::from_static_parts($name, LABELS)
    }};
}

macro_rules! check_key {
    ($kind:literal) => { key!(CHECKS; "sink_kind" = $kind) };
}
macro_rules! block_key {
    ($kind:literal) => { key!(BLOCKS; "sink_kind" = $kind) };
}
macro_rules! error_keys {
    ($kind:literal) => {
        [
            key!(INTERNAL_ERRORS; "sink_kind" = $kind, "action" = "allow"),
            key!(INTERNAL_ERRORS; "sink_kind" = $kind, "action" = "block"),
        ]
    };
}
/// Detection keys of one class: by action (allow, monitor, block), then by
/// rule in the order of `Rule::ALL`.
macro_rules! detection_keys {
    ($kind:literal) => {
        [
            detection_keys!($kind, "allow"),
            detection_keys!($kind, "monitor"),
            detection_keys!($kind, "block"),
        ]
    };
    ($kind:literal, $action:literal) => {
        [
            key!(DETECTIONS; "sink_kind" = $kind, "action" = $action, "rule" = "no_policy"),
            key!(DETECTIONS; "sink_kind" = $kind, "action" = $action, "rule" = "mode"),
            key!(DETECTIONS; "sink_kind" = $kind, "action" = $action, "rule" = "class"),
            key!(DETECTIONS; "sink_kind" = $kind, "action" = $action, "rule" = "sink"),
            key!(DETECTIONS; "sink_kind" = $kind, "action" = $action, "rule" = "route"),
            key!(DETECTIONS; "sink_kind" = $kind, "action" = $action, "rule" = "allowlist"),
            key!(DETECTIONS; "sink_kind" = $kind, "action" = $action, "rule" = "canary"),
        ]
    };
}

static CHECK_KEYS: [Key; SinkClass::ALL.len()] = by_kind!(check_key);
static BLOCK_KEYS: [Key; SinkClass::ALL.len()] = by_kind!(block_key);
static ERROR_KEYS: [[Key; 2]; SinkClass::ALL.len()] = by_kind!(error_keys);
static DETECTION_KEYS: [[[Key; Rule::ALL.len()]; 3]; SinkClass::ALL.len()] =
    by_kind!(detection_keys);
macro_rules! suppressed_key {
    ($kind:literal) => { key!(EVENTS_SUPPRESSED; "sink_kind" = $kind) };
}
static SUPPRESSED_KEYS: [Key; SinkClass::ALL.len()] = by_kind!(suppressed_key);
static EVIDENCE_WRITTEN_KEY: Key = Key::from_static_name(EVIDENCE_WRITTEN);
static EVIDENCE_DROPPED_KEY: Key = Key::from_static_name(EVIDENCE_DROPPED);
static EVIDENCE_OVERWRITTEN_KEY: Key = Key::from_static_name(EVIDENCE_OVERWRITTEN);
static EVIDENCE_SUPPRESSED_KEY: Key = Key::from_static_name(EVIDENCE_SUPPRESSED);
macro_rules! refusal_key {
    ($kind:literal) => { key!(GUARD_REFUSALS; "sink_kind" = $kind) };
}
static REFUSAL_KEYS: [Key; SinkClass::ALL.len()] = by_kind!(refusal_key);
macro_rules! event_keys {
    ($($stream:literal),*) => {
        [$([
            key!(SECURITY_EVENTS; "stream" = $stream, "outcome" = "emitted"),
            key!(SECURITY_EVENTS; "stream" = $stream, "outcome" = "suppressed"),
        ]),*]
    };
}
/// By stream, in the order of `event::Stream`, then emitted, suppressed.
static EVENT_KEYS: [[Key; 2]; 4] = event_keys!("detection", "entry", "refusal", "limit");
static RELOAD_KEY: Key = Key::from_static_name(RELOADS);
static RELOAD_FAILURE_KEY: Key = Key::from_static_name(RELOAD_FAILURES);

/// Entry decision keys: by action (monitor, block, throttle), then by rule
/// in the order of `EntryRule`.
macro_rules! entry_keys {
    ($($action:literal),*) => {
        [$([
            key!(ENTRY_DECISIONS; "action" = $action, "rule" = "block_list"),
            key!(ENTRY_DECISIONS; "action" = $action, "rule" = "circuit_breaker"),
            key!(ENTRY_DECISIONS; "action" = $action, "rule" = "rate_limit"),
            key!(ENTRY_DECISIONS; "action" = $action, "rule" = "fleet_unavailable"),
        ]),*]
    };
}
static ENTRY_KEYS: [[Key; 4]; 3] = entry_keys!("monitor", "block", "throttle");
/// By limit (in the order of `Limit`), then by action (block, monitor).
macro_rules! limit_keys {
    ($($limit:literal),*) => {
        [$([
            key!(LIMITS_EXCEEDED; "limit" = $limit, "action" = "block"),
            key!(LIMITS_EXCEEDED; "limit" = $limit, "action" = "monitor"),
        ]),*]
    };
}
static LIMIT_KEYS: [[Key; 2]; 3] = limit_keys!("max_inputs", "max_total_bytes", "max_body_bytes");
static TABLE_OVERFLOW_KEYS: [Key; 3] = [
    key!(ENTRY_TABLE_OVERFLOWS; "table" = "rate_limit"),
    key!(ENTRY_TABLE_OVERFLOWS; "table" = "circuit_breaker"),
    key!(ENTRY_TABLE_OVERFLOWS; "table" = "per_ip_rate_limit"),
];
#[cfg(feature = "redis")]
static FLEET_ERROR_KEYS: [Key; 2] = [
    key!(FLEET_ERRORS; "op" = "rate_limit"),
    key!(FLEET_ERRORS; "op" = "block_list"),
];

#[inline]
fn increment(key: &'static Key) {
    metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA).increment(1));
}

#[inline]
pub(crate) fn checked(kind: SinkClass) {
    increment(&CHECK_KEYS[kind.index()]);
}

pub(crate) fn detected(kind: SinkClass, decision: Decision, rule: Rule) {
    let action = match decision {
        Decision::Allow => 0,
        Decision::Monitor => 1,
        Decision::Block | Decision::Throttle => 2,
    };
    increment(&DETECTION_KEYS[kind.index()][action][rule.index()]);
}

pub(crate) fn blocked(kind: SinkClass) {
    increment(&BLOCK_KEYS[kind.index()]);
}

pub(crate) fn internal_error(kind: SinkClass, blocked: bool) {
    increment(&ERROR_KEYS[kind.index()][usize::from(blocked)]);
}

pub(crate) fn event_suppressed(kind: SinkClass) {
    increment(&SUPPRESSED_KEYS[kind.index()]);
}

pub(crate) fn evidence_written(records: u64) {
    metrics::with_recorder(|recorder| {
        recorder
            .register_counter(&EVIDENCE_WRITTEN_KEY, &METADATA)
            .increment(records)
    });
}

pub(crate) fn evidence_dropped() {
    increment(&EVIDENCE_DROPPED_KEY);
}

pub(crate) fn evidence_overwritten(records: u64) {
    metrics::with_recorder(|recorder| {
        recorder
            .register_counter(&EVIDENCE_OVERWRITTEN_KEY, &METADATA)
            .increment(records)
    });
    metrics::with_recorder(|recorder| {
        recorder
            .register_counter(&EVIDENCE_DROPPED_KEY, &METADATA)
            .increment(records)
    });
}

pub(crate) fn evidence_suppressed() {
    increment(&EVIDENCE_SUPPRESSED_KEY);
}

/// One security event of `stream` (its index in `event::Stream`), emitted
/// or suppressed.
pub(crate) fn security_event(stream: usize, emitted: bool) {
    increment(&EVENT_KEYS[stream][usize::from(!emitted)]);
}

pub(crate) fn guard_refused(kind: SinkClass) {
    increment(&REFUSAL_KEYS[kind.index()]);
}

pub(crate) fn reloaded() {
    increment(&RELOAD_KEY);
}

pub(crate) fn reload_failed() {
    increment(&RELOAD_FAILURE_KEY);
}

pub(crate) fn entry_decided(decision: Decision, rule: EntryRule) {
    let action = match decision {
        Decision::Allow | Decision::Monitor => 0,
        Decision::Block => 1,
        Decision::Throttle => 2,
    };
    let rule = match rule {
        EntryRule::BlockList => 0,
        EntryRule::CircuitBreaker => 1,
        EntryRule::RateLimit => 2,
        EntryRule::FleetUnavailable => 3,
    };
    increment(&ENTRY_KEYS[action][rule]);
}

pub(crate) fn limit_exceeded(limit: Limit, action: OnExceeded) {
    let limit = match limit {
        Limit::Inputs => 0,
        Limit::TotalBytes => 1,
        Limit::BodyBytes => 2,
    };
    let action = match action {
        OnExceeded::Block => 0,
        OnExceeded::Monitor => 1,
    };
    increment(&LIMIT_KEYS[limit][action]);
}

pub(crate) fn entry_table_overflowed(table: TrackedTable) {
    let index = match table {
        TrackedTable::RateLimit => 0,
        TrackedTable::CircuitBreaker => 1,
        TrackedTable::PerIpRateLimit => 2,
    };
    increment(&TABLE_OVERFLOW_KEYS[index]);
}

#[cfg(feature = "redis")]
pub(crate) fn fleet_error(op: FleetOp) {
    increment(&FLEET_ERROR_KEYS[op as usize]);
}
