//! Security events on the `tracing` target `rasp::security`.
//!
//! Field names follow OpenTelemetry semantic conventions where one exists
//! (`http.route`, `client.address`, `user.id`) and a `rasp.` namespace
//! otherwise. Inputs are never logged raw: [`Excerpt::masked`] keeps the
//! shape of an input (punctuation, whitespace, SQL operators) and replaces
//! letters and digits with `*`, which is enough to recognise an attack
//! pattern without leaking the data typed by a user.
//!
//! Every event about a request carries its correlation fields: request id
//! (`rasp.request.id`), route (`http.route`), client (`client.address`),
//! user (`user.id`) and tenant (`rasp.tenant.id`) where known, taken from
//! the request's [`RequestContext`] (the current one, for events raised
//! where no context is passed). Every stream of events (detections, entry
//! decisions, guard refusals, limits reached) goes through one
//! deduplication table (see `[events]` in `docs/policy.md`), and every
//! event, emitted or suppressed, is counted in
//! [`metrics::SECURITY_EVENTS`].

mod dedup;
mod evidence;
mod recording;

pub use dedup::EventRules;
pub(crate) use dedup::Subject;
pub use evidence::{EvidenceConfig, EvidenceLog};
pub(crate) use evidence::{Record, counts as evidence_counts, recorded};

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use arc_swap::ArcSwap;

use crate::class::SinkClass;
use crate::context::{Limit, OnExceeded, RequestContext};
use crate::decision::Decision;
use crate::detect::{Detection, Reason};
use crate::sink::SinkSite;
use crate::taint::SourceMeta;
use crate::telemetry::EntryRule;
use crate::telemetry::{Masking, Verdict, metrics};

/// The `tracing` target of every security event.
pub const TARGET: &str = "rasp::security";

/// Longest excerpt kept, in bytes.
pub const EXCERPT_LEN: usize = 64;

/// A masked, bounded copy of an input, stored inline (no allocation).
#[derive(Clone, Copy)]
pub struct Excerpt {
    buf: [u8; EXCERPT_LEN],
    len: u8,
    truncated: bool,
}

impl Excerpt {
    /// Masks `input`: ASCII letters and digits become `*`, other printable
    /// ASCII is kept, anything else (control bytes, non-ASCII) becomes `.`.
    pub fn masked(input: &[u8]) -> Excerpt {
        let mut buf = [0u8; EXCERPT_LEN];
        let n = input.len().min(EXCERPT_LEN);
        for (out, &b) in buf.iter_mut().zip(&input[..n]) {
            *out = match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => b'*',
                b' '..=b'~' => b,
                _ => b'.',
            };
        }
        Excerpt {
            buf,
            len: n as u8,
            truncated: input.len() > EXCERPT_LEN,
        }
    }

    /// The masked text (ASCII by construction).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or("")
    }

    /// Whether the input was longer than the excerpt.
    pub fn truncated(&self) -> bool {
        self.truncated
    }
}

impl core::fmt::Debug for Excerpt {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{:?}{}",
            self.as_str(),
            if self.truncated { "…" } else { "" }
        )
    }
}

/// The attack family name used in `event.name`, per sink class: the
/// registry's event stem.
pub const fn attack_name(class: SinkClass) -> &'static str {
    class.event_stem()
}

/// `event.name` of a detection by class and decision (allowed, monitored,
/// blocked), built from the registry's event stems at compile time so that
/// naming an event allocates nothing.
static EVENT_NAMES: [[&str; 3]; SinkClass::ALL.len()] = {
    macro_rules! event_names {
        ($($(#[$doc:meta])* $variant:ident { name: $name:literal, event: $event:literal, $($rest:tt)* },)*) => {
            [$([
                concat!("rasp.", $event, ".allowed"),
                concat!("rasp.", $event, ".monitored"),
                concat!("rasp.", $event, ".blocked"),
            ],)*]
        };
    }
    rasp_detect::with_sink_classes!(event_names)
};

pub(crate) fn event_name(class: SinkClass, decision: Decision) -> &'static str {
    let outcome = match decision {
        Decision::Allow => 0,
        Decision::Block => 2,
        _ => 1,
    };
    EVENT_NAMES[class.index()][outcome]
}

/// A stream of security events, as labelled in
/// [`metrics::SECURITY_EVENTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    /// Detections at sinks.
    Detection = 0,
    /// Requests refused or reported at entry.
    Entry = 1,
    /// Calls refused by a guard on its own.
    Refusal = 2,
    /// Bounds of rasp's own reached.
    Limit = 3,
}

/// The process's deduplication table, shared by every stream.
static TABLE: LazyLock<dedup::Table> = LazyLock::new(|| dedup::Table::new(dedup::EVENT_SETS));

/// The deduplication rules in force: the installed policy's `[events]`,
/// else [`EventRules::DEFAULT`]. The policy layer sets them whenever it
/// installs or removes a policy, so events never reach up for them.
static RULES: LazyLock<ArcSwap<EventRules>> =
    LazyLock::new(|| ArcSwap::from_pointee(EventRules::DEFAULT));

/// Puts `rules` in force for every event stream; called by the policy
/// layer on install and uninstall.
pub(crate) fn set_rules(rules: EventRules) {
    RULES.store(Arc::new(rules));
}

/// The deduplication rules in force.
fn rules_in_force() -> EventRules {
    **RULES.load()
}

/// Runs one event of `stream` about `subject`, caused by `client`, through
/// deduplication, and counts it. `Some(suppressed)` when it is to be
/// emitted, with the number of its key's repeats suppressed since its last
/// emitted event (if any); `None` when it is suppressed (then reported by
/// a later event of its key, by a summary event when its entry is evicted
/// or its window ends, or by [`flush_suppressed`]).
///
/// The one entry point for every event stream: a limit reached is
/// `admit(Stream::Limit, Subject::Limit { name }, ctx.client_ip(), &rules)`.
pub(crate) fn admit(
    stream: Stream,
    subject: Subject,
    client: Option<IpAddr>,
    rules: &EventRules,
) -> Option<Option<u64>> {
    let admission = TABLE.admit(rules, subject, client, Instant::now());
    admission.reports().for_each(suppressed_summary);
    metrics::security_event(stream as usize, admission.emit);
    admission
        .emit
        .then_some((admission.suppressed > 0).then_some(admission.suppressed))
}

/// Emits the event of one detection, unless `rules` suppress it as a
/// repeat (then it is counted, and reported with a later event or by
/// [`flush_suppressed`]).
pub(crate) fn detection(
    site: &'static SinkSite,
    ctx: &RequestContext,
    source: &SourceMeta,
    verdict: &Verdict,
    detection: Detection,
    input: (&Excerpt, usize),
    rules: &EventRules,
) {
    let decision = verdict.decision;
    let subject = Subject::Detection {
        site,
        reason: detection.reason,
        decision,
    };
    let Some(suppressed) = admit(Stream::Detection, subject, ctx.client_ip(), rules) else {
        metrics::event_suppressed(site.class());
        return;
    };
    let (excerpt, input_len) = input;
    // The policy decides how much of the input an event may carry.
    let (excerpt, truncated, input_len) = match verdict.masking {
        Masking::Masked => (Some(excerpt.as_str()), Some(excerpt.truncated()), None),
        Masking::LengthOnly => (None, None, Some(input_len)),
        Masking::Off => (None, None, None),
    };
    tracing::event!(
        target: TARGET,
        tracing::Level::WARN,
        event.name = event_name(site.class(), decision),
        rasp.action = decision.as_str(),
        rasp.sink.kind = site.class().as_str(),
        rasp.sink.id = site.id(),
        rasp.reason = detection.reason.as_str(),
        rasp.source.kind = source.kind,
        rasp.input.excerpt = excerpt,
        rasp.input.truncated = truncated,
        rasp.input.length = input_len,
        rasp.input.offset = detection.offset,
        rasp.request.id = ctx.request_id(),
        rasp.policy.revision = verdict.revision,
        rasp.policy.rule = verdict.rule.as_str(),
        http.route = ctx.route().unwrap_or(""),
        client.address = ctx.client_ip().map(tracing::field::display),
        user.id = ctx.user(),
        rasp.tenant.id = ctx.tenant(),
        rasp.event.suppressed = suppressed,
        "{}",
        detection.reason.describe(),
    );
}

/// Emits the event of a request refused (or, in monitor mode, reported) at
/// entry by `rule`, deduplicated like detections by rule, action and
/// requester under the policy's `[events]`.
pub(crate) fn entry_decision(
    ctx: &RequestContext,
    decision: Decision,
    rule: EntryRule,
    revision: u64,
) {
    let subject = Subject::Entry { rule, decision };
    let rules = rules_in_force();
    let Some(suppressed) = admit(Stream::Entry, subject, ctx.client_ip(), &rules) else {
        return;
    };
    let name = match decision {
        Decision::Throttle => "rasp.entry.throttled",
        Decision::Block => "rasp.entry.blocked",
        _ => "rasp.entry.monitored",
    };
    tracing::event!(
        target: TARGET,
        tracing::Level::WARN,
        event.name = name,
        rasp.action = decision.as_str(),
        rasp.entry.rule = rule.as_str(),
        rasp.policy.revision = revision,
        rasp.request.id = ctx.request_id(),
        http.route = ctx.route().unwrap_or(""),
        client.address = ctx.client_ip().map(tracing::field::display),
        user.id = ctx.user(),
        rasp.tenant.id = ctx.tenant(),
        rasp.event.suppressed = suppressed,
        "request refused at entry by {}",
        rule.as_str(),
    );
}

/// Reports a request refused at entry by a framework integration's own
/// guard (e.g. `rasp-axum`'s `ip_blocklist` or `per_ip_rate_limit`), named
/// `guard`, with `decision` (`Block` or `Throttle`).
///
/// Deduplicated like every entry decision, by guard, decision and
/// requester under the policy's `[events]` (or [`EventRules::DEFAULT`]):
/// a flood of refused requests is counted in full in
/// [`metrics::SECURITY_EVENTS`]
/// and reported in a bounded number of events (`rasp.entry.blocked`,
/// `rasp.entry.throttled`, with `rasp.entry.guard`).
pub fn entry_guard_refused(ctx: &RequestContext, guard: &'static str, decision: Decision) {
    let subject = Subject::EntryGuard { guard, decision };
    let rules = rules_in_force();
    let Some(suppressed) = admit(Stream::Entry, subject, ctx.client_ip(), &rules) else {
        return;
    };
    let name = if decision == Decision::Throttle {
        "rasp.entry.throttled"
    } else {
        "rasp.entry.blocked"
    };
    tracing::event!(
        target: TARGET,
        tracing::Level::WARN,
        event.name = name,
        rasp.action = decision.as_str(),
        rasp.entry.guard = guard,
        rasp.request.id = ctx.request_id(),
        http.route = ctx.route().unwrap_or(""),
        client.address = ctx.client_ip().map(tracing::field::display),
        user.id = ctx.user(),
        rasp.tenant.id = ctx.tenant(),
        rasp.event.suppressed = suppressed,
        "request refused at entry",
    );
}

/// Reports a call to `site` that its guard refused on its own, from the
/// type of what it was given rather than from a recorded input (a tainted
/// argument that starts with `-`, a path that leaves its root, an internal
/// address).
///
/// The refusal is counted in
/// [`metrics::GUARD_REFUSALS`]
/// every time; the event (`rasp.guard.refused`) carries the correlation
/// fields of the current [`RequestContext`], if any, and is deduplicated
/// by sink, reason and requester under the policy's `[events]` (or
/// [`EventRules::DEFAULT`] without a policy), so that a flood of refusals
/// is a bounded number of events that report how many they stand for.
#[cold]
pub fn guard_refused(site: &'static SinkSite, reason: Reason) {
    metrics::guard_refused(site.class());
    // A clone of the current context rather than a borrow of it: the
    // subscriber that receives the event may itself enter a context.
    let ctx = RequestContext::current();
    let ctx = ctx.as_deref();
    let subject = Subject::Refusal { site, reason };
    let rules = rules_in_force();
    let client = ctx.and_then(RequestContext::client_ip);
    let Some(suppressed) = admit(Stream::Refusal, subject, client, &rules) else {
        return;
    };
    tracing::event!(
        target: TARGET,
        tracing::Level::WARN,
        event.name = "rasp.guard.refused",
        rasp.action = "block",
        rasp.sink.kind = site.class().as_str(),
        rasp.sink.id = site.id(),
        rasp.reason = reason.as_str(),
        rasp.request.id = ctx.map(RequestContext::request_id),
        http.route = ctx.and_then(RequestContext::route),
        client.address = client.map(tracing::field::display),
        user.id = ctx.and_then(RequestContext::user),
        rasp.tenant.id = ctx.and_then(RequestContext::tenant),
        rasp.event.suppressed = suppressed,
        "{}",
        reason.describe(),
    );
}

/// Reports every count of suppressed events not yet carried by a later
/// event of the same key, one `rasp.event.suppressed` event per key.
/// Called when a policy is installed or removed; call it at shutdown so
/// that the last window's counts reach the log.
pub fn flush_suppressed() {
    TABLE.drain(suppressed_summary);
}

fn suppressed_summary(pending: dedup::Pending) {
    let (stream, action, kind, id, reason) = match pending.subject {
        Subject::Detection {
            site,
            reason,
            decision,
        } => (
            "detection",
            decision.as_str(),
            Some(site.class().as_str()),
            Some(site.id()),
            Some(reason.as_str()),
        ),
        Subject::Entry { rule, decision } => {
            ("entry", decision.as_str(), None, None, Some(rule.as_str()))
        }
        Subject::EntryGuard { guard, decision } => {
            ("entry", decision.as_str(), None, None, Some(guard))
        }
        Subject::Refusal { site, reason } => (
            "refusal",
            "block",
            Some(site.class().as_str()),
            Some(site.id()),
            Some(reason.as_str()),
        ),
        Subject::Limit { name } => ("limit", "monitor", None, None, Some(name)),
    };
    tracing::event!(
        target: TARGET,
        tracing::Level::WARN,
        event.name = "rasp.event.suppressed",
        rasp.event.stream = stream,
        rasp.action = action,
        rasp.sink.kind = kind,
        rasp.sink.id = id,
        rasp.reason = reason,
        client.address = pending.requester.map(tracing::field::display),
        rasp.event.suppressed = pending.count,
        "repeated security events were suppressed",
    );
}

/// Reports that a request went past one of its
/// [`InputLimits`](crate::InputLimits), and counts it. Each request reports
/// once; a flood of such requests from one requester is deduplicated like
/// every other event stream, and the metric counts every one.
pub(crate) fn limit_exceeded(ctx: &RequestContext, limit: Limit, source: Option<&SourceMeta>) {
    let limits = ctx.limits();
    let action = limits.on_exceeded;
    metrics::limit_exceeded(limit, action);
    let subject = Subject::Limit {
        name: limit.as_str(),
    };
    let rules = rules_in_force();
    let Some(suppressed) = admit(Stream::Limit, subject, ctx.client_ip(), &rules) else {
        return;
    };
    let message = match action {
        OnExceeded::Block => "request went past its input limits: refused",
        OnExceeded::Monitor => {
            "request went past its input limits: inputs past them are not checked"
        }
    };
    tracing::event!(
        target: TARGET,
        tracing::Level::WARN,
        event.name = "rasp.limits.exceeded",
        rasp.action = action.as_str(),
        rasp.limit = limit.as_str(),
        rasp.source.kind = source.map(|s| s.kind),
        rasp.event.suppressed = suppressed,
        rasp.limits.max_inputs = limits.max_inputs,
        rasp.limits.max_total_bytes = limits.max_total_bytes,
        rasp.limits.max_body_bytes = limits.max_body_bytes,
        rasp.request.id = ctx.request_id(),
        http.route = ctx.route().unwrap_or(""),
        client.address = ctx.client_ip().map(tracing::field::display),
        user.id = ctx.user(),
        rasp.tenant.id = ctx.tenant(),
        "{message}",
    );
}

pub(crate) fn internal_error(site: &SinkSite, what: &'static str) {
    tracing::event!(
        target: TARGET,
        tracing::Level::ERROR,
        event.name = "rasp.internal_error",
        rasp.sink.kind = site.class().as_str(),
        rasp.sink.id = site.id(),
        "{what}",
    );
}

/// Reports a value asserted through an escape-hatch site that is missing
/// from the registry: built by hand rather than by `trust_unchecked!`, so
/// the sink audit cannot list it. Once per site (the registration is
/// looked up once), so a binary reports at most one event per such site.
#[cold]
pub(crate) fn unregistered_escape_hatch(site: &'static crate::EscapeHatch) {
    tracing::event!(
        target: TARGET,
        tracing::Level::WARN,
        event.name = "rasp.escape_hatch.unregistered",
        rasp.sink.kind = site.class.as_str(),
        code.filepath = site.file,
        code.lineno = site.line,
        rasp.escape_hatch.reason = site.reason,
        "a value was asserted through an escape hatch the audit cannot see",
    );
}

/// A value left `Tainted`, `Sanitized` or `Asserted` through a sink site
/// that is not in the registry: built by hand rather than by
/// `#[rasp::sink]` or one of rasp's guards, so the audit cannot list it.
/// Reported once per site.
#[cold]
pub(crate) fn unregistered_sink(site: &'static SinkSite) {
    tracing::event!(
        target: TARGET,
        tracing::Level::WARN,
        event.name = "rasp.sink.unregistered",
        rasp.sink.id = site.id(),
        rasp.sink.kind = site.class().as_str(),
        code.filepath = site.file(),
        code.lineno = site.line(),
        "a value left its wrapper through a sink site the audit cannot see",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_shape_not_data() {
        let e = Excerpt::masked(b"admin' OR 1=1 --");
        assert_eq!(e.as_str(), "*****' ** *=* --");
        assert!(!e.truncated());
        let e = Excerpt::masked(&[b'a'; 100]);
        assert_eq!(e.as_str().len(), EXCERPT_LEN);
        assert!(e.truncated());
        assert_eq!(Excerpt::masked(b"\x00\xff\n").as_str(), "...");
    }
}
