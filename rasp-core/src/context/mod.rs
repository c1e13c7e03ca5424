//! The request context: what rasp knows about the request being served.
//!
//! A context is opened by `#[rasp::protect]` (or by hand with
//! [`RequestContext::scope`] / [`RequestContext::instrument`]) and is
//! *current* on a thread while a protected call runs on it. Sources record
//! their raw input here; guarded sinks look for those inputs in their text.
//!
//! Async code needs no runtime dependency: [`InContext`] makes a context
//! current for the duration of each `poll` of the wrapped future and restores
//! the previous one afterwards, the way `tracing`'s `Instrumented` enters a
//! span. Work spawned onto other tasks carries the context along with
//! [`ContextFutureExt::in_current_context`].
//!
//! Recording is bounded by [`InputLimits`], so memory never grows with
//! hostile input; but a cap never means less checking in silence. The
//! first input past a cap marks the request as over its limits
//! ([`RequestContext::exceeded`]), is counted in a metric and reported in
//! an event, and what follows is the limits' [`OnExceeded`] rule: by
//! default the web adapter refuses the request and every guarded sink of
//! the request refuses its call.
//!
//! Within the caps, recording stays linear in the number of inputs
//! (duplicates are found through a hash index once a request has more than
//! a handful), and so does checking: past [`INDEX_THRESHOLD`] inputs a sink
//! check finds the inputs occurring in its text with one Aho-Corasick pass
//! instead of one search per input.

use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::task::{Context as TaskContext, Poll};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use compact_str::CompactString;

use crate::sink::DecisionSlot;
use crate::taint::SourceMeta;

mod dedup;
mod entry_mark;
mod index;
mod inputs;
mod presence;

use dedup::Dedup;
pub use entry_mark::EntryMark;
pub use index::INDEX_THRESHOLD;
pub(crate) use index::InputIndex;
use inputs::Inputs;
pub use inputs::RecordedInput;

/// Caps on what one request records, and what happens past them.
///
/// The defaults hold any ordinary request whole (a form or JSON body up to
/// axum's own 2 MiB body limit, thousands of fields) while keeping a
/// request's memory bounded. Set them in code
/// ([`RequestContextBuilder::limits`], `RaspLayer::input_limits`) or in the
/// policy file's `[limits]` table, which takes precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    /// Most distinct inputs recorded per request (default 8192).
    pub max_inputs: usize,
    /// Most bytes recorded per request, all inputs together (default 4 MiB).
    pub max_total_bytes: usize,
    /// Largest request body a web adapter buffers to record it (default
    /// 2 MiB, axum's own default body limit).
    pub max_body_bytes: usize,
    /// What happens to a request that goes past any of the caps.
    pub on_exceeded: OnExceeded,
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_inputs: 8192,
            max_total_bytes: 4 * 1024 * 1024,
            max_body_bytes: 2 * 1024 * 1024,
            on_exceeded: OnExceeded::Block,
        }
    }
}

/// What happens to a request that goes past one of its [`InputLimits`].
/// Either way the overflow is counted (metric `rasp_limits_exceeded_total`)
/// and reported (event `rasp.limits.exceeded`), once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnExceeded {
    /// Refuse the request: a web adapter answers 413 before the handler
    /// runs, and every guarded sink of the request refuses its call, so no
    /// input goes unchecked (the default).
    #[default]
    Block,
    /// Let the request through. Every input stored within the caps is
    /// still checked; those past the caps are not.
    Monitor,
}

impl OnExceeded {
    /// Stable lowercase name, as written in policy files.
    pub const fn as_str(self) -> &'static str {
        match self {
            OnExceeded::Block => "block",
            OnExceeded::Monitor => "monitor",
        }
    }
}

/// Which of the [`InputLimits`] a request went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// [`InputLimits::max_inputs`].
    Inputs,
    /// [`InputLimits::max_total_bytes`].
    TotalBytes,
    /// [`InputLimits::max_body_bytes`].
    BodyBytes,
}

impl Limit {
    /// The limit's key, as written in the policy's `[limits]` table.
    pub const fn as_str(self) -> &'static str {
        match self {
            Limit::Inputs => "max_inputs",
            Limit::TotalBytes => "max_total_bytes",
            Limit::BodyBytes => "max_body_bytes",
        }
    }
}

/// What recording has used of the request's caps. Only recording touches
/// it; sink checks read the inputs without taking this lock.
#[derive(Debug, Default)]
struct Budget {
    /// Entries stored, inputs and derived forms: the next entry's index.
    count: usize,
    /// Bytes of the request's own inputs.
    total_bytes: usize,
    /// Derived forms stored, and their bytes: a budget of their own, equal
    /// to the caps, so they never crowd out an input the request sent.
    derived: usize,
    derived_bytes: usize,
    dropped: u64,
    exceeded: Option<Limit>,
    dedup: Dedup,
}

/// Everything rasp knows about one request.
#[derive(Debug)]
pub struct RequestContext {
    // Compact strings: ids, route templates and user names are short, and
    // held inline they cost a request no allocation.
    request_id: RequestId,
    route: Option<CompactString>,
    client_ip: Option<IpAddr>,
    user: Option<CompactString>,
    tenant: Option<CompactString>,
    limits: InputLimits,
    /// Every sink check walks them, while inputs are recorded a handful of
    /// times per request.
    inputs: Inputs,
    /// Serializes recording, so caps and de-duplication are exact.
    budget: Mutex<Budget>,
    /// Set once the request went past a cap: read by every sink check
    /// without taking the recording lock.
    over_limits: AtomicBool,
    /// The Aho-Corasick searcher over the inputs, built by the first sink
    /// check that needs it (requests with many inputs only).
    index: Mutex<Option<Arc<InputIndex>>>,
    /// The installed policy's route rule and allowlisting for this request,
    /// resolved at its first detection: route and requester never change.
    policy_slot: DecisionSlot,
    /// The request's canary draw and entry-rule state.
    entry_mark: EntryMark,
}

/// Builds a [`RequestContext`].
#[derive(Debug, Default)]
pub struct RequestContextBuilder {
    request_id: Option<CompactString>,
    route: Option<CompactString>,
    client_ip: Option<IpAddr>,
    user: Option<CompactString>,
    tenant: Option<CompactString>,
    limits: InputLimits,
}

impl RequestContextBuilder {
    /// Sets the request id; by default one is generated.
    pub fn request_id(mut self, id: impl AsRef<str>) -> Self {
        self.request_id = Some(CompactString::new(id));
        self
    }
    /// Sets the route template, e.g. `/users/{id}`.
    pub fn route(mut self, route: impl AsRef<str>) -> Self {
        self.route = Some(CompactString::new(route));
        self
    }
    /// Sets the client address.
    pub fn client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }
    /// Sets the authenticated user id.
    pub fn user(mut self, user: impl AsRef<str>) -> Self {
        self.user = Some(CompactString::new(user));
        self
    }
    /// Sets the tenant id.
    pub fn tenant(mut self, tenant: impl AsRef<str>) -> Self {
        self.tenant = Some(CompactString::new(tenant));
        self
    }
    /// Sets the recording caps.
    pub fn limits(mut self, limits: InputLimits) -> Self {
        self.limits = limits;
        self
    }
    /// Finishes the context.
    pub fn build(self) -> Arc<RequestContext> {
        Arc::new(RequestContext {
            request_id: self
                .request_id
                .map_or_else(RequestId::next, RequestId::given),
            route: self.route,
            client_ip: self.client_ip,
            user: self.user,
            tenant: self.tenant,
            limits: self.limits,
            inputs: Inputs::new(),
            budget: Mutex::new(Budget::default()),
            over_limits: AtomicBool::new(false),
            index: Mutex::new(None),
            policy_slot: DecisionSlot::new(),
            entry_mark: EntryMark::new(),
        })
    }
}

/// A request's id: the one given, or one from the process counter, spelled
/// out the first time it is asked for. Most requests never are (only an
/// event or a refusal reads it), and the spelling is most of the cost.
#[derive(Debug)]
struct RequestId {
    number: u64,
    text: OnceLock<CompactString>,
}

impl RequestId {
    fn given(id: CompactString) -> RequestId {
        RequestId {
            number: 0,
            text: OnceLock::from(id),
        }
    }

    fn next() -> RequestId {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        RequestId {
            number: COUNTER.fetch_add(1, Ordering::Relaxed),
            text: OnceLock::new(),
        }
    }

    fn as_str(&self) -> &str {
        self.text.get_or_init(|| spell_request_id(self.number))
    }
}

/// Generated request ids are unique within the process: a per-process
/// prefix from the clock and pid, then the counter, in hex
/// (`1f2e3d4c-00000000002a`). Not secret, just distinct. Written by hand
/// into a stack buffer, and short enough for a compact string inline.
fn spell_request_id(n: u64) -> CompactString {
    static PREFIX: OnceLock<u32> = OnceLock::new();
    let prefix = *PREFIX.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        nanos ^ std::process::id().rotate_left(16)
    });
    let mut buf = [0u8; 8 + 1 + 16];
    write_hex(&mut buf[..8], u64::from(prefix));
    buf[8] = b'-';
    // At least 12 digits, more once the counter outgrows them.
    let digits = (n.checked_ilog2().unwrap_or(0) as usize / 4 + 1).max(12);
    write_hex(&mut buf[9..9 + digits], n);
    let text = core::str::from_utf8(&buf[..9 + digits]).unwrap_or_default();
    CompactString::new(text)
}

/// Writes the low digits of `value` in lowercase hex, filling `out`.
fn write_hex(out: &mut [u8], mut value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in out.iter_mut().rev() {
        *byte = DIGITS[(value & 0xf) as usize];
        value >>= 4;
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<RequestContext>>> = const { RefCell::new(None) };
}

/// Restores the previously current context when dropped, also on unwind.
struct Restore(Option<Arc<RequestContext>>);

/// Keeps a context current until dropped, then restores the previous one.
#[derive(Debug)]
#[must_use = "the context stops being current when the guard is dropped"]
pub struct ScopeGuard {
    _restore: Restore,
}

impl ScopeGuard {
    /// Makes `ctx` current on this thread until the guard is dropped.
    pub fn enter(ctx: Arc<RequestContext>) -> ScopeGuard {
        ScopeGuard {
            _restore: enter(Some(ctx)),
        }
    }
}

impl core::fmt::Debug for Restore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Restore")
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        // `try_with`: during thread teardown the slot may already be gone.
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = previous);
    }
}

fn enter(ctx: Option<Arc<RequestContext>>) -> Restore {
    Restore(CURRENT.with(|c| core::mem::replace(&mut *c.borrow_mut(), ctx)))
}

impl RequestContext {
    /// Starts building a context.
    pub fn builder() -> RequestContextBuilder {
        RequestContextBuilder::default()
    }

    /// A context with defaults and a generated request id.
    pub fn new() -> Arc<RequestContext> {
        Self::builder().build()
    }

    /// The current context on this thread, if a protected call is running.
    pub fn current() -> Option<Arc<RequestContext>> {
        CURRENT.with(|c| c.borrow().clone())
    }

    /// Runs `f` with the current context borrowed, without touching its
    /// reference count: the hot path of every sink check.
    #[inline]
    pub fn with_current<R>(f: impl FnOnce(Option<&RequestContext>) -> R) -> R {
        CURRENT.with(|c| f(c.borrow().as_deref()))
    }

    /// Runs `f` with `self` as the current context.
    pub fn scope<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        let _restore = enter(Some(Arc::clone(self)));
        f()
    }

    /// Wraps `future` so that `self` is current while it is polled.
    pub fn instrument<F: Future>(self: Arc<Self>, future: F) -> InContext<F> {
        InContext {
            inner: future,
            context: Some(self),
        }
    }

    /// Stores one input from `source` within the request's caps and says
    /// what happened; the public `record_input` (in the event layer, which
    /// reports a first overflow) is built on it. Storing the same bytes
    /// again is cheap and stores nothing.
    pub(crate) fn store_input(
        &self,
        source: &'static SourceMeta,
        bytes: &[u8],
        origin: Origin,
    ) -> Recorded {
        if bytes.is_empty() {
            return Recorded::Empty;
        }
        let mut budget = self.lock();
        if budget.dedup.contains(&self.inputs, budget.count, bytes) {
            return Recorded::Stored;
        }
        let (count, bytes_so_far) = match origin {
            Origin::Request => (budget.count - budget.derived, budget.total_bytes),
            Origin::Derived => (budget.derived, budget.derived_bytes),
        };
        let limit = if count >= self.limits.max_inputs {
            Some(Limit::Inputs)
        } else if bytes_so_far + bytes.len() > self.limits.max_total_bytes {
            Some(Limit::TotalBytes)
        } else {
            None
        };
        if let Some(limit) = limit {
            budget.dropped += 1;
            let first = budget.exceeded.is_none();
            if first {
                budget.exceeded = Some(limit);
            }
            drop(budget);
            if first {
                self.over_limits.store(true, Ordering::Release);
            }
            return Recorded::Overflowed { limit, first };
        }
        match origin {
            Origin::Request => budget.total_bytes += bytes.len(),
            Origin::Derived => {
                budget.derived += 1;
                budget.derived_bytes += bytes.len();
            }
        }
        self.inputs.push(|| match origin {
            Origin::Request => RecordedInput::new(source, bytes),
            Origin::Derived => RecordedInput::derived(source, bytes),
        });
        let index = budget.count;
        budget.count += 1;
        budget.dedup.remember(&self.inputs, index, bytes);
        Recorded::Stored
    }

    /// Marks the request as over `limit` without storing anything; `true`
    /// the first time the request goes past any limit, which is the time
    /// to report it.
    pub(crate) fn mark_exceeded(&self, limit: Limit) -> bool {
        let mut budget = self.lock();
        let first = budget.exceeded.is_none();
        if first {
            budget.exceeded = Some(limit);
        }
        drop(budget);
        if first {
            self.over_limits.store(true, Ordering::Release);
        }
        first
    }

    /// The first of the request's limits it went past, if any.
    pub fn exceeded(&self) -> Option<Limit> {
        if !self.over_limits.load(Ordering::Acquire) {
            return None;
        }
        self.lock().exceeded
    }

    /// Whether the request went past a cap and its limits refuse it
    /// ([`OnExceeded::Block`]): every sink check then refuses its call.
    #[inline]
    pub fn refuses_unchecked(&self) -> bool {
        self.limits.on_exceeded == OnExceeded::Block && self.over_limits.load(Ordering::Acquire)
    }

    /// The inputs the requester sent, oldest first. Reading takes no lock.
    #[inline]
    pub fn inputs(&self) -> impl Iterator<Item = &RecordedInput> {
        self.inputs.iter().filter(|i| !i.is_derived())
    }

    /// Everything a sink check looks for: the inputs and their derived
    /// forms, oldest first. Reading takes no lock.
    #[inline]
    pub(crate) fn stored(&self) -> impl Iterator<Item = &RecordedInput> {
        self.inputs.iter()
    }

    /// How many entries [`Self::stored`] yields.
    #[inline]
    pub(crate) fn stored_count(&self) -> usize {
        self.inputs.count()
    }

    /// The entry stored `index`-th (from 0) among [`Self::stored`], if
    /// there is one.
    pub(crate) fn input(&self, index: usize) -> Option<&RecordedInput> {
        self.inputs.get(index)
    }

    /// How many inputs the requester sent were recorded.
    pub fn input_count(&self) -> usize {
        self.inputs().count()
    }

    /// How many inputs were not recorded because the caps were reached.
    pub fn dropped_inputs(&self) -> u64 {
        self.lock().dropped
    }

    /// The Aho-Corasick searcher over the inputs recorded so far: the one
    /// cached, unless more than [`INDEX_THRESHOLD`] inputs were recorded
    /// since it was built. A check searches the inputs its searcher does
    /// not cover one by one, so that tail stays short.
    pub(crate) fn input_index(&self) -> Arc<InputIndex> {
        let mut cached = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let count = self.inputs.count();
        if let Some(index) = &*cached
            && count - index.covered() <= INDEX_THRESHOLD
        {
            return Arc::clone(index);
        }
        let index = Arc::new(InputIndex::build(self.stored().take(count)));
        *cached = Some(Arc::clone(&index));
        index
    }

    /// The request id.
    pub fn request_id(&self) -> &str {
        self.request_id.as_str()
    }
    /// The route template, if known.
    pub fn route(&self) -> Option<&str> {
        self.route.as_deref()
    }
    /// The client address, if known.
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }
    /// The authenticated user, if known.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }
    /// The tenant, if known.
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }
    /// The request's policy decision cache.
    #[inline]
    pub(crate) fn policy_slot(&self) -> &DecisionSlot {
        &self.policy_slot
    }

    /// The request's canary draw and entry-rule state.
    #[inline]
    pub fn entry_mark(&self) -> &EntryMark {
        &self.entry_mark
    }

    /// The recording caps.
    pub fn limits(&self) -> InputLimits {
        self.limits
    }

    /// The budget stays consistent across a panic in another holder (every
    /// update is a single counter bump), so a poisoned lock is used as is
    /// rather than failing the request.
    fn lock(&self) -> MutexGuard<'_, Budget> {
        self.budget.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pin_project_lite::pin_project! {
    /// A future that runs with a request context current on every poll.
    #[derive(Debug)]
    pub struct InContext<F> {
        #[pin]
        inner: F,
        context: Option<Arc<RequestContext>>,
    }
}

impl<F: Future> Future for InContext<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _lent = Lend::enter(this.context);
        this.inner.poll(cx)
    }
}

/// A future's context moved into the thread's slot for one poll and moved
/// back when dropped, also on unwind. Moving rather than cloning keeps the
/// reference count (two atomic operations per poll and layer) out of
/// every poll of every protected request.
struct Lend<'a> {
    home: &'a mut Option<Arc<RequestContext>>,
    previous: Option<Arc<RequestContext>>,
}

impl<'a> Lend<'a> {
    fn enter(home: &'a mut Option<Arc<RequestContext>>) -> Lend<'a> {
        let lent = home.take();
        let previous = CURRENT.with(|c| core::mem::replace(&mut *c.borrow_mut(), lent));
        Lend { home, previous }
    }
}

impl Drop for Lend<'_> {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // Whatever the poll entered in between was restored by its own
        // guard, so the slot holds the lent context again.
        if let Ok(lent) = CURRENT.try_with(|c| core::mem::replace(&mut *c.borrow_mut(), previous)) {
            *self.home = lent;
        }
    }
}

/// Carries request contexts into futures.
pub trait ContextFutureExt: Future + Sized {
    /// Runs this future with the context that is current *now*: use it on
    /// work handed to `tokio::spawn` or another executor. Without a current
    /// context the future runs outside any context, even if the executor
    /// thread that polls it happens to have one.
    fn in_current_context(self) -> InContext<Self> {
        InContext {
            inner: self,
            context: RequestContext::current(),
        }
    }
}

impl<F: Future> ContextFutureExt for F {}

/// Where an input stored in the context comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Sent by the requester, as a source read it.
    Request,
    /// A form of a recorded input the application may write instead (its
    /// HTML-escaped text): counted against a budget of its own, as large
    /// as the caps, so it never takes the place of an input.
    Derived,
}

/// What storing one input did.
#[must_use = "a first overflow must be reported"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// Stored, or already stored.
    Stored,
    /// Empty: nothing to store.
    Empty,
    /// Past the request's caps and not stored; `first` when this is the
    /// first time the request went past any of them.
    Overflowed { limit: Limit, first: bool },
}

#[cfg(test)]
mod tests {
    use super::*;

    static SRC: SourceMeta = SourceMeta::MANUAL;

    #[test]
    fn scope_sets_and_restores_current() {
        assert!(RequestContext::current().is_none());
        let outer = RequestContext::builder().request_id("outer").build();
        let inner = RequestContext::builder().request_id("inner").build();
        outer.scope(|| {
            assert_eq!(RequestContext::current().unwrap().request_id(), "outer");
            inner.scope(|| {
                assert_eq!(RequestContext::current().unwrap().request_id(), "inner");
            });
            assert_eq!(RequestContext::current().unwrap().request_id(), "outer");
        });
        assert!(RequestContext::current().is_none());
    }

    #[test]
    fn scope_restores_after_panic() {
        let ctx = RequestContext::new();
        let r = std::panic::catch_unwind(|| ctx.scope(|| panic!("boom")));
        assert!(r.is_err());
        assert!(RequestContext::current().is_none());
    }

    /// Polls `future` once with a no-op waker.
    fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut TaskContext::from_waker(core::task::Waker::noop()))
    }

    #[test]
    fn a_future_keeps_its_context_across_polls_and_nesting() {
        let outer = RequestContext::builder().request_id("outer").build();
        let inner = RequestContext::builder().request_id("inner").build();
        let seen = RefCell::new(Vec::new());
        let record = || {
            let id = RequestContext::current().map(|c| c.request_id().to_owned());
            seen.borrow_mut().push(id);
        };
        let mut polls = 0;
        let future = core::future::poll_fn(|cx| {
            record();
            polls += 1;
            if polls < 3 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(())
        });
        let nested = Arc::clone(&inner).instrument(future);
        let mut outer_future = Box::pin(Arc::clone(&outer).instrument(async {
            record();
            nested.await;
            record();
        }));
        while poll_once(outer_future.as_mut()).is_pending() {
            assert!(
                RequestContext::current().is_none(),
                "restored between polls"
            );
        }
        // Lent, not cloned: the futures held one reference each.
        drop(outer_future);
        let ids: Vec<_> = seen.take().into_iter().map(Option::unwrap).collect();
        assert_eq!(ids, ["outer", "inner", "inner", "inner", "outer"]);
        assert_eq!(Arc::strong_count(&outer), 1);
        assert_eq!(Arc::strong_count(&inner), 1);
    }

    #[test]
    fn a_panicking_poll_restores_the_previous_context() {
        let outer = RequestContext::builder().request_id("outer").build();
        let inner = RequestContext::builder().request_id("inner").build();
        let mut panics = core::pin::pin!(inner.instrument(async { panic!("boom") }));
        outer.scope(|| {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                poll_once(panics.as_mut())
            }));
            assert!(result.is_err());
            assert_eq!(RequestContext::current().unwrap().request_id(), "outer");
        });
        assert!(RequestContext::current().is_none());
    }

    #[test]
    fn caps_bound_recording_count_drops_and_mark_the_request() {
        let ctx = RequestContext::builder()
            .limits(InputLimits {
                max_inputs: 2,
                max_total_bytes: 10,
                ..InputLimits::default()
            })
            .build();
        assert!(ctx.record_input(&SRC, b"abc"));
        assert_eq!(ctx.exceeded(), None);
        assert!(!ctx.refuses_unchecked());
        assert!(!ctx.record_input(&SRC, b"0123456789"), "over byte cap");
        assert_eq!(ctx.exceeded(), Some(Limit::TotalBytes));
        assert!(ctx.refuses_unchecked(), "block by default");
        assert!(ctx.record_input(&SRC, b"def"));
        assert!(!ctx.record_input(&SRC, b"ghi"), "over count cap");
        assert!(!ctx.record_input(&SRC, b""), "empty is ignored");
        assert_eq!(ctx.input_count(), 2);
        assert_eq!(ctx.dropped_inputs(), 2);
        assert_eq!(ctx.exceeded(), Some(Limit::TotalBytes), "the first limit");
    }

    #[test]
    fn monitor_limits_do_not_refuse() {
        let ctx = RequestContext::builder()
            .limits(InputLimits {
                max_inputs: 1,
                on_exceeded: OnExceeded::Monitor,
                ..InputLimits::default()
            })
            .build();
        assert!(ctx.record_input(&SRC, b"abc"));
        assert!(!ctx.record_input(&SRC, b"def"));
        assert_eq!(ctx.exceeded(), Some(Limit::Inputs));
        assert!(!ctx.refuses_unchecked());
        ctx.exceed(Limit::BodyBytes);
        assert_eq!(ctx.exceeded(), Some(Limit::Inputs), "the first limit stays");
    }

    #[test]
    fn duplicates_are_stored_once() {
        let ctx = RequestContext::new();
        assert!(ctx.record_input(&SRC, b"same"));
        assert!(ctx.record_input(&SRC, b"same"));
        assert_eq!(ctx.input_count(), 1);
    }

    #[test]
    fn duplicates_are_found_past_the_scan_and_inputs_stay_in_order() {
        let ctx = RequestContext::new();
        let texts: Vec<String> = (0..500).map(|i| format!("input-{i}")).collect();
        for round in 0..3 {
            for text in &texts {
                assert!(ctx.record_input(&SRC, text.as_bytes()), "round {round}");
            }
        }
        assert_eq!(ctx.input_count(), texts.len());
        let read: Vec<&[u8]> = ctx.inputs().map(RecordedInput::bytes).collect();
        let expected: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
        assert_eq!(read, expected);
        for (i, text) in texts.iter().enumerate() {
            assert_eq!(
                ctx.input(i).map(RecordedInput::bytes),
                Some(text.as_bytes())
            );
        }
        assert!(ctx.input(texts.len()).is_none());
    }

    /// Recording stays linear: twice the inputs cost about twice the time,
    /// not four times (the scan it replaced took 2.6 s for 20,000).
    #[test]
    fn recording_many_inputs_is_linear() {
        fn record(n: usize) -> std::time::Duration {
            let texts: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
            let ctx = RequestContext::builder()
                .limits(InputLimits {
                    max_inputs: usize::MAX,
                    max_total_bytes: usize::MAX,
                    ..InputLimits::default()
                })
                .build();
            let start = std::time::Instant::now();
            for text in &texts {
                ctx.record_input(&SRC, text.as_bytes());
                // Every value again, as an extractor would.
                ctx.record_input(&SRC, text.as_bytes());
            }
            let took = start.elapsed();
            assert_eq!(ctx.input_count(), n);
            took
        }
        let small = (0..3).map(|_| record(10_000)).min().unwrap();
        let large = (0..3).map(|_| record(20_000)).min().unwrap();
        assert!(
            large < std::time::Duration::from_secs(1),
            "20,000 inputs took {large:?}"
        );
        assert!(
            large < small * 4,
            "10,000 inputs took {small:?}, 20,000 took {large:?}"
        );
    }

    #[test]
    fn request_ids_are_hex_with_a_growing_counter() {
        let first = RequestContext::new();
        let id = first.request_id();
        let (prefix, counter) = id.split_once('-').unwrap();
        assert_eq!(prefix.len(), 8);
        assert_eq!(counter.len(), 12);
        assert!(id.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()));
        assert_eq!(first.request_id(), id, "spelled once, then the same");
        let next = RequestContext::new();
        let later = next.request_id().split_once('-').unwrap().1;
        let later = u64::from_str_radix(later, 16).unwrap();
        assert!(later > u64::from_str_radix(counter, 16).unwrap());
        assert_eq!(
            spell_request_id(u64::MAX).split_once('-').unwrap().1,
            "ffffffffffffffff"
        );
        let mut digits = [0u8; 16];
        write_hex(&mut digits, 0x0123_4567_89ab_cdef);
        assert_eq!(&digits, b"0123456789abcdef");
    }

    #[test]
    fn a_context_fits_the_allocators_per_thread_cache() {
        // glibc serves blocks up to 1032 bytes from a per-thread cache;
        // `Arc` adds two counters. Past that, every request's context
        // takes the allocator's slower paths.
        assert!(size_of::<RequestContext>() + 16 <= 1032);
        // Above 16 bytes of alignment glibc takes its `memalign` path.
        assert!(align_of::<RequestContext>() <= 16);
    }

    #[test]
    fn request_ids_are_distinct() {
        assert_ne!(
            RequestContext::new().request_id(),
            RequestContext::new().request_id()
        );
    }
}
