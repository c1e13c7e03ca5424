//! Security events on the `tracing` target `rasp::security`.
//!
//! Field names follow OpenTelemetry semantic conventions where one exists
//! (`http.route`, `client.address`, `user.id`) and a `rasp.` namespace
//! otherwise. Inputs are never logged raw: [`Excerpt::masked`] keeps the
//! shape of an input (punctuation, whitespace, SQL operators) and replaces
//! letters and digits with `*`, which is enough to recognise an attack
//! pattern without leaking the data typed by a user.

mod dedup;
mod evidence;

pub use dedup::EventRules;
pub use evidence::{EvidenceConfig, EvidenceLog};
pub(crate) use evidence::{Record, counts as evidence_counts, recorded};

use std::time::Instant;

use crate::context::{Limit, OnExceeded, RequestContext};
use crate::decision::Decision;
use crate::detect::Detection;
use crate::policy::{Masking, Verdict, metrics};
use crate::sink::{SinkKind, SinkSite};
use crate::taint::SourceMeta;

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

/// The attack family name used in `event.name`, per sink class.
pub const fn attack_name(kind: SinkKind) -> &'static str {
    match kind {
        SinkKind::Sql => "sqli",
        SinkKind::Html => "xss",
        SinkKind::Shell => "cmdi",
        SinkKind::Path => "path_traversal",
        SinkKind::Url => "ssrf",
        SinkKind::Header => "header_injection",
        SinkKind::Log => "log_injection",
        SinkKind::Redirect => "open_redirect",
    }
}

pub(crate) fn event_name(kind: SinkKind, decision: Decision) -> &'static str {
    macro_rules! names {
        ($($k:ident => $n:literal),*) => {
            match (kind, decision) {
                $(
                    (SinkKind::$k, Decision::Block) => concat!("rasp.", $n, ".blocked"),
                    (SinkKind::$k, Decision::Allow) => concat!("rasp.", $n, ".allowed"),
                    (SinkKind::$k, _) => concat!("rasp.", $n, ".monitored"),
                )*
            }
        };
    }
    names!(Sql => "sqli", Html => "xss", Shell => "cmdi", Path => "path_traversal", Url => "ssrf", Header => "header_injection", Log => "log_injection", Redirect => "open_redirect")
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
    let mut suppressed = None;
    if !rules.window.is_zero() {
        let admission = dedup::TABLE.admit(
            rules,
            (site, detection.reason, decision),
            ctx.client_ip(),
            Instant::now(),
        );
        if let Some(pending) = admission.evicted {
            suppressed_summary(pending);
        }
        if !admission.emit {
            metrics::event_suppressed(site.kind);
            return;
        }
        suppressed = (admission.suppressed > 0).then_some(admission.suppressed);
    }
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
        event.name = event_name(site.kind, decision),
        rasp.action = decision.as_str(),
        rasp.sink.kind = site.kind.as_str(),
        rasp.sink.id = site.id,
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

/// Reports every count of suppressed detection events not yet carried by a
/// later event of the same key, one `rasp.event.suppressed` event per key.
/// Called when a policy is installed or removed; call it at shutdown so
/// that the last window's counts reach the log.
pub fn flush_suppressed() {
    dedup::TABLE.drain(suppressed_summary);
}

fn suppressed_summary(pending: dedup::Pending) {
    tracing::event!(
        target: TARGET,
        tracing::Level::WARN,
        event.name = "rasp.event.suppressed",
        rasp.action = pending.decision.as_str(),
        rasp.sink.kind = pending.site.kind.as_str(),
        rasp.sink.id = pending.site.id,
        rasp.reason = pending.reason.as_str(),
        rasp.event.suppressed = pending.count,
        "repeated detection events were suppressed",
    );
}

/// Reports, once per request, that it went past one of its
/// [`InputLimits`](crate::InputLimits), and counts it.
pub(crate) fn limit_exceeded(ctx: &RequestContext, limit: Limit, source: Option<&SourceMeta>) {
    let limits = ctx.limits();
    let action = limits.on_exceeded;
    metrics::limit_exceeded(limit, action);
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
        rasp.sink.kind = site.kind.as_str(),
        rasp.sink.id = site.id,
        "{what}",
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
