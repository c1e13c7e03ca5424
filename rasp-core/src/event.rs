//! Security events on the `tracing` target `rasp::security`.
//!
//! Field names follow OpenTelemetry semantic conventions where one exists
//! (`http.route`, `client.address`, `user.id`) and a `rasp.` namespace
//! otherwise. Inputs are never logged raw: [`Excerpt::masked`] keeps the
//! shape of an input (punctuation, whitespace, SQL operators) and replaces
//! letters and digits with `*`, which is enough to recognise an attack
//! pattern without leaking the data typed by a user.

use crate::context::RequestContext;
use crate::decision::Decision;
use crate::detect::Detection;
use crate::policy::{Masking, Verdict};
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

fn event_name(kind: SinkKind, decision: Decision) -> &'static str {
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

pub(crate) fn detection(
    site: &SinkSite,
    ctx: &RequestContext,
    source: &SourceMeta,
    verdict: &Verdict,
    detection: Detection,
    input: (&Excerpt, usize),
) {
    let (excerpt, input_len) = input;
    let decision = verdict.decision;
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
        "{}",
        detection.reason.describe(),
    );
}

pub(crate) fn inputs_dropped(ctx: &RequestContext, source: &SourceMeta) {
    let limits = ctx.limits();
    tracing::event!(
        target: TARGET,
        tracing::Level::WARN,
        event.name = "rasp.context.inputs_dropped",
        rasp.source.kind = source.kind,
        rasp.request.id = ctx.request_id(),
        rasp.limits.max_inputs = limits.max_inputs,
        rasp.limits.max_total_bytes = limits.max_total_bytes,
        "request context full: further inputs are not checked at sinks",
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
