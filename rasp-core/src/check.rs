//! The runtime check every guarded sink runs before it executes.
//!
//! Cost is paid only where there is something to find:
//!
//! 1. no current request context → `Ok` after one thread-local read;
//! 2. no recorded input occurs in the sink text → `Ok` after one SIMD
//!    substring search per input (`memchr::memmem`, searcher built once when
//!    the input was recorded), or, for a request with more than
//!    [`INDEX_THRESHOLD`] inputs, one
//!    Aho-Corasick pass over the text for all of them;
//! 3. only then does the detector of the sink's class lex the text around
//!    the occurrences.
//!
//! None of these steps allocates (past the threshold, building the
//! request's searcher does, once). Every recorded input is checked however
//! many there are. A request that went past its recording caps has inputs
//! that were not stored; unless its limits say `monitor`, each of its sink
//! calls is refused ([`Reason::InputsOverflowed`]).
//!
//! A detection is decided by the installed [`crate::policy`], or by the
//! process-wide [`Mode`] when there is none, and reported through
//! [`crate::event`]. A panic inside a detector or while deciding is caught,
//! counted and reported; the call is allowed (fail-open) unless the policy
//! says the sink fails closed. A panic while reporting (a metrics recorder,
//! a `tracing` subscriber) is caught and counted too, and the decision
//! already taken stands.

use core::sync::atomic::{AtomicU64, Ordering};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::context::{INDEX_THRESHOLD, RecordedInput, RequestContext};
use crate::decision::{Blocked, Decision, Mode};
use crate::detect::{self, Detection, Finding, Needle, Reason};
use crate::event::{self, EventRules, Excerpt};
use crate::policy::{self, OnError};
use crate::sink::SinkSite;
use crate::telemetry::{Verdict, metrics};

/// Inputs shorter than this are not looked for in SQL, shell, path,
/// redirect and HTML text. A single byte occurs by coincidence in almost
/// every such text, where one quote or one comma of the application's own
/// would be read as the input's, and one character cannot carry an exploit
/// on its own there: at most it breaks the statement (an error, no data).
pub const MIN_INPUT_LEN: usize = 2;

/// The shortest input the check of sink class `kind` looks for.
///
/// Header and log detectors judge an input by its own characters (a lone
/// CR is an attack wherever it lands), and the URL detector only by whether
/// the occurrence decides the scheme or host, so a coincidental byte of the
/// application's own text cannot be mistaken for the input there: those
/// classes check one-byte inputs too (`0` is a whole host: `http://0/`).
#[inline]
pub const fn min_input_len(kind: crate::SinkClass) -> usize {
    match kind {
        crate::SinkClass::Url | crate::SinkClass::Header | crate::SinkClass::Log => 1,
        _ => MIN_INPUT_LEN,
    }
}

static DETECTIONS: AtomicU64 = AtomicU64::new(0);
static BLOCKS: AtomicU64 = AtomicU64::new(0);
static INTERNAL_ERRORS: AtomicU64 = AtomicU64::new(0);

/// Process-wide counts of what the runtime checks found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckCounts {
    /// Injections found (blocked or monitored).
    pub detections: u64,
    /// Calls refused.
    pub blocks: u64,
    /// Detector failures (caught panics); the calls were allowed unless the
    /// sink fails closed.
    pub internal_errors: u64,
}

/// Counts since the process started.
pub fn counts() -> CheckCounts {
    CheckCounts {
        detections: DETECTIONS.load(Ordering::Relaxed),
        blocks: BLOCKS.load(Ordering::Relaxed),
        internal_errors: INTERNAL_ERRORS.load(Ordering::Relaxed),
    }
}

/// Checks `text`, the final text of sink `site`, against the inputs recorded
/// in the current request context.
#[inline]
pub fn check(site: &'static SinkSite, text: &[u8]) -> Result<(), Blocked> {
    RequestContext::with_current(|ctx| match ctx {
        None => Ok(()),
        Some(ctx) => check_in(site, ctx, text),
    })
}

/// A detector run in place of the one of a sink's class; see [`check_with`].
pub type Detector = fn(&[u8], &dyn Needle) -> Option<Finding>;

/// Like [`check`], with `detector` in place of the detector of the site's
/// class: for an integration that knows more about its text than the class
/// does. A `Set-Cookie` value is a header value in which `;` and `,` are
/// delimiters too, so the cookie guard runs
/// [`detect::header::detect_cookie`] on a [`SinkClass::Header`](crate::SinkClass) site.
#[inline]
pub fn check_with(site: &'static SinkSite, text: &[u8], detector: Detector) -> Result<(), Blocked> {
    RequestContext::with_current(|ctx| match ctx {
        None => Ok(()),
        Some(ctx) => check_in_with(site, ctx, text, &detector),
    })
}

/// Checks `text` against the inputs recorded in `ctx`.
pub fn check_in(site: &'static SinkSite, ctx: &RequestContext, text: &[u8]) -> Result<(), Blocked> {
    check_in_with(site, ctx, text, &|text: &[u8], finder: &dyn Needle| {
        detect::detect(site.class(), site.dialect(), text, finder)
    })
}

fn check_in_with<D>(
    site: &'static SinkSite,
    ctx: &RequestContext,
    text: &[u8],
    detector: &D,
) -> Result<(), Blocked>
where
    D: Fn(&[u8], &dyn Needle) -> Option<Finding>,
{
    if ctx.refuses_unchecked() {
        return overflowed(site);
    }
    // A metrics recorder that panics must not cost the check: counted,
    // and the search goes on.
    if catch_unwind(|| metrics::checked(site.class())).is_err() {
        reporting_failed(site);
    }
    let found = catch_unwind(AssertUnwindSafe(|| {
        find(ctx, min_input_len(site.class()), text, detector)
    }));
    match found {
        Ok(None) => Ok(()),
        Ok(Some(found)) => decide(site, ctx, found),
        Err(_) => internal_error(site),
    }
}

/// The source named by a finding in a span-exact text whose argument the
/// program held rather than read from a request: second-order data, a
/// value from a file or a queue.
pub static PROGRAM_VALUE: crate::SourceMeta = crate::SourceMeta {
    kind: "program.value",
    fn_path: "",
    file: "",
    line: 0,
};

/// Checks text a span-exact macro (`rasp::sql!`, `rasp::shell!`) built:
/// the detector of the site's class judges each argument's span where it
/// stands, and nothing of the literal template, so the template's own text
/// never coincides with an input and an input transformed before it was
/// spliced is judged as it was written.
///
/// No request context is needed: a background job or a value read back
/// from the database is judged the same. A finding is decided and
/// reported in the current context, or in one opened for it. Spans do not
/// depend on recorded inputs, so a request past its recording caps is
/// judged in full rather than refused.
pub fn check_spliced<C: crate::Context>(
    site: &'static SinkSite,
    spliced: &crate::spliced::Spliced<C>,
) -> Result<(), Blocked> {
    if spliced.spans().is_empty() {
        return Ok(());
    }
    if catch_unwind(|| metrics::checked(site.class())).is_err() {
        reporting_failed(site);
    }
    let text = spliced.text().as_bytes();
    let found = catch_unwind(AssertUnwindSafe(|| {
        judge_spans(site, text, spliced.spans())
    }));
    match found {
        Ok(None) => Ok(()),
        Ok(Some(found)) => match RequestContext::current() {
            Some(ctx) => decide(site, &ctx, found),
            None => {
                let ctx = RequestContext::builder().route(site.fn_path()).build();
                decide(site, &ctx, found)
            }
        },
        Err(_) => internal_error(site),
    }
}

/// The first argument span the site's detector flags, judged as the one
/// occurrence of its bytes.
fn judge_spans(
    site: &'static SinkSite,
    text: &[u8],
    spans: &[crate::spliced::ArgSpan],
) -> Option<Found> {
    for (index, span) in spans.iter().enumerate() {
        let Some(needle) = detect::span::Span::new(text, span.start, span.end) else {
            continue;
        };
        // Where the macro read the place at build time, the span's own
        // bytes may settle it: one scan, no lexing.
        let finding = match detect::span::judge_in_place(span.place, text, span.start, span.end) {
            detect::span::Verdict::Stays => None,
            detect::span::Verdict::Leaves(reason) => Some(Finding {
                offset: span.start,
                reason,
            }),
            detect::span::Verdict::Detector => {
                detect::detect(site.class(), site.dialect(), text, &needle)
            }
        };
        if let Some(Finding { offset, reason }) = finding {
            let bytes = needle.needle();
            return Some(Found {
                detection: Detection {
                    input: index,
                    offset,
                    reason,
                },
                source: span.source.unwrap_or(&PROGRAM_VALUE),
                excerpt: Excerpt::masked(bytes),
                input_len: bytes.len(),
            });
        }
    }
    None
}

/// What a detection carries out of the input lock: enough to report it.
struct Found {
    detection: Detection,
    source: &'static crate::SourceMeta,
    excerpt: Excerpt,
    input_len: usize,
}

fn find<D>(ctx: &RequestContext, min_len: usize, text: &[u8], detector: &D) -> Option<Found>
where
    D: Fn(&[u8], &dyn Needle) -> Option<Finding>,
{
    if ctx.stored_count() <= INDEX_THRESHOLD {
        return detect_any(detector, min_len, text, ctx.stored().enumerate());
    }
    // Many inputs: one pass over the text finds those that occur, then the
    // inputs recorded since the searcher was built are searched one by one.
    let index = ctx.input_index();
    let Some(occurring) = index.occurring(text) else {
        return detect_any(detector, min_len, text, ctx.stored().enumerate());
    };
    let covered = occurring
        .into_iter()
        .filter_map(|at| Some((at, ctx.input(at)?)));
    let tail = ctx.stored().enumerate().skip(index.covered());
    detect_any(detector, min_len, text, covered.chain(tail))
}

#[inline]
fn detect_any<'a, D>(
    detector: &D,
    min_len: usize,
    text: &[u8],
    inputs: impl Iterator<Item = (usize, &'a RecordedInput)>,
) -> Option<Found>
where
    D: Fn(&[u8], &dyn Needle) -> Option<Finding>,
{
    for (index, input) in inputs {
        let needle = input.bytes();
        if needle.len() < min_len || needle.len() > text.len() {
            continue;
        }
        // Most inputs do not occur in most texts: one direct search rules
        // those out before the detector is dispatched at all.
        if !input.occurs_in(text) {
            continue;
        }
        if let Some(Finding { offset, reason }) =
            input.with_searcher(|searcher| detector(text, searcher))
        {
            return Some(Found {
                detection: Detection {
                    input: index,
                    offset,
                    reason,
                },
                source: input.source(),
                excerpt: Excerpt::masked(input.bytes()),
                input_len: input.bytes().len(),
            });
        }
    }
    None
}

#[cold]
#[inline(never)]
fn decide(site: &'static SinkSite, ctx: &RequestContext, found: Found) -> Result<(), Blocked> {
    DETECTIONS.fetch_add(1, Ordering::Relaxed);
    // One snapshot load: the revision and every rule come from the same
    // policy even while another thread installs a new one.
    let snapshot = policy::snapshot();
    let policy = snapshot.as_deref();
    // Deciding fails like detecting: by the sink's failure rule.
    let verdict = catch_unwind(AssertUnwindSafe(|| match policy {
        Some(policy) => {
            let verdict = policy.decide(site, ctx);
            if verdict.decision != Decision::Allow {
                policy.record_detection(ctx);
            }
            verdict
        }
        None => Verdict::from_mode(Mode::current()),
    }));
    let Ok(verdict) = verdict else {
        return internal_error(site);
    };
    let blocked = matches!(verdict.decision, Decision::Block | Decision::Throttle);
    if blocked {
        BLOCKS.fetch_add(1, Ordering::Relaxed);
    }
    // Reporting cannot change the decision: a recorder or subscriber that
    // panics is counted, and the call is refused or allowed as decided.
    let reported = catch_unwind(AssertUnwindSafe(|| {
        report(site, ctx, &found, &verdict, policy);
    }));
    if reported.is_err() {
        reporting_failed(site);
    }
    if blocked {
        Err(Blocked {
            sink_id: site.id(),
            class: site.class(),
            reason: found.detection.reason,
        })
    } else {
        Ok(())
    }
}

fn report(
    site: &'static SinkSite,
    ctx: &RequestContext,
    found: &Found,
    verdict: &Verdict,
    policy: Option<&policy::Policy>,
) {
    metrics::detected(site.class(), verdict.decision, verdict.rule);
    let input = (&found.excerpt, found.input_len);
    if let Some((log, include_monitored)) = policy.and_then(|p| p.evidence_log())
        && event::recorded(verdict.decision, include_monitored)
    {
        log.record(event::Record::new(
            site,
            ctx,
            found.source,
            *verdict,
            found.detection,
            input,
        ));
    }
    let rules = policy.map_or(EventRules::EVERY_EVENT, |p| p.event_rules());
    event::detection(
        site,
        ctx,
        found.source,
        verdict,
        found.detection,
        input,
        &rules,
    );
    if matches!(verdict.decision, Decision::Block | Decision::Throttle) {
        metrics::blocked(site.class());
    }
}

/// A failure while reporting (a panicking metrics recorder or `tracing`
/// subscriber): counted in [`counts`], and reported as far as reporting
/// still works. It never changes a decision.
#[cold]
#[inline(never)]
fn reporting_failed(site: &'static SinkSite) {
    INTERNAL_ERRORS.fetch_add(1, Ordering::Relaxed);
    let _ = catch_unwind(AssertUnwindSafe(|| {
        metrics::internal_error(site.class(), false);
        event::internal_error(site, "reporting panicked; decision kept");
    }));
}

/// A sink call in a request that went past its recording caps, whose
/// limits refuse what could not be checked.
#[cold]
#[inline(never)]
fn overflowed(site: &'static SinkSite) -> Result<(), Blocked> {
    BLOCKS.fetch_add(1, Ordering::Relaxed);
    let _ = catch_unwind(AssertUnwindSafe(|| metrics::blocked(site.class())));
    Err(Blocked {
        sink_id: site.id(),
        class: site.class(),
        reason: Reason::InputsOverflowed,
    })
}

#[cold]
#[inline(never)]
fn internal_error(site: &'static SinkSite) -> Result<(), Blocked> {
    INTERNAL_ERRORS.fetch_add(1, Ordering::Relaxed);
    let on_error = catch_unwind(AssertUnwindSafe(|| match &*policy::snapshot() {
        Some(policy) => policy.on_error(site),
        None => OnError::Open,
    }))
    .unwrap_or_default();
    // The failure may be in reporting itself: reporting it is best effort.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        metrics::internal_error(site.class(), on_error == OnError::Closed);
        match on_error {
            OnError::Open => {
                event::internal_error(site, "check panicked; call allowed (fail-open)")
            }
            OnError::Closed => {
                metrics::blocked(site.class());
                event::internal_error(site, "check panicked; call refused (fail-closed)");
            }
        }
    }));
    match on_error {
        OnError::Open => Ok(()),
        OnError::Closed => {
            BLOCKS.fetch_add(1, Ordering::Relaxed);
            Err(Blocked {
                sink_id: site.id(),
                class: site.class(),
                reason: Reason::DetectorFailed,
            })
        }
    }
}
