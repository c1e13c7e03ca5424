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
//! Recording is bounded by [`InputLimits`]: past the caps an input is not
//! stored but counted in [`RequestContext::dropped_inputs`], and an event
//! says so once per request, so memory never grows with hostile input.

use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context as TaskContext, Poll};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use boxcar::Vec as AppendOnly;

use memchr::memmem::Finder;

use crate::policy::DecisionCache;
use crate::taint::SourceMeta;

/// Caps on what one request context records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    /// Most inputs recorded per request.
    pub max_inputs: usize,
    /// Most bytes recorded per request, all inputs together.
    pub max_total_bytes: usize,
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_inputs: 64,
            max_total_bytes: 64 * 1024,
        }
    }
}

/// One input recorded by a source.
pub struct RecordedInput {
    source: &'static SourceMeta,
    finder: Finder<'static>,
}

impl RecordedInput {
    /// The source that produced the input.
    pub fn source(&self) -> &'static SourceMeta {
        self.source
    }

    /// The raw bytes, exactly as the source returned them.
    pub fn bytes(&self) -> &[u8] {
        self.finder.needle()
    }

    /// A substring searcher for the input, built once when it was recorded.
    pub fn finder(&self) -> &Finder<'static> {
        &self.finder
    }
}

impl core::fmt::Debug for RecordedInput {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RecordedInput")
            .field("source", &self.source.kind)
            .field("len", &self.bytes().len())
            .finish()
    }
}

/// What recording has used of the request's caps. Only recording touches
/// it; sink checks read the inputs without taking this lock.
#[derive(Debug, Default)]
struct Budget {
    total_bytes: usize,
    dropped: u64,
}

/// Everything rasp knows about one request.
#[derive(Debug)]
pub struct RequestContext {
    request_id: Box<str>,
    route: Option<Box<str>>,
    client_ip: Option<IpAddr>,
    user: Option<Box<str>>,
    tenant: Option<Box<str>>,
    limits: InputLimits,
    /// Append-only and lock-free to read: every sink check walks it, while
    /// inputs are recorded a handful of times per request.
    /// Boxed: the append-only vector zeroes its first bucket (32 entries)
    /// when the first input arrives, and an inline `RecordedInput` (its
    /// substring finder holds the search tables) made that about 11 KiB of
    /// zeroing per request; a boxed entry is one pointer.
    inputs: AppendOnly<Box<RecordedInput>>,
    /// Serializes recording, so caps and de-duplication are exact.
    budget: Mutex<Budget>,
    /// The installed policy's route rule and allowlisting for this request,
    /// resolved at its first detection: route and requester never change.
    policy_cache: DecisionCache,
}

/// Builds a [`RequestContext`].
#[derive(Debug, Default)]
pub struct RequestContextBuilder {
    request_id: Option<Box<str>>,
    route: Option<Box<str>>,
    client_ip: Option<IpAddr>,
    user: Option<Box<str>>,
    tenant: Option<Box<str>>,
    limits: InputLimits,
}

impl RequestContextBuilder {
    /// Sets the request id; by default one is generated.
    pub fn request_id(mut self, id: impl Into<Box<str>>) -> Self {
        self.request_id = Some(id.into());
        self
    }
    /// Sets the route template, e.g. `/users/{id}`.
    pub fn route(mut self, route: impl Into<Box<str>>) -> Self {
        self.route = Some(route.into());
        self
    }
    /// Sets the client address.
    pub fn client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }
    /// Sets the authenticated user id.
    pub fn user(mut self, user: impl Into<Box<str>>) -> Self {
        self.user = Some(user.into());
        self
    }
    /// Sets the tenant id.
    pub fn tenant(mut self, tenant: impl Into<Box<str>>) -> Self {
        self.tenant = Some(tenant.into());
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
            request_id: self.request_id.unwrap_or_else(next_request_id),
            route: self.route,
            client_ip: self.client_ip,
            user: self.user,
            tenant: self.tenant,
            limits: self.limits,
            inputs: AppendOnly::new(),
            budget: Mutex::new(Budget::default()),
            policy_cache: DecisionCache::new(),
        })
    }
}

/// Request ids unique within the process: a per-process prefix from the
/// clock and pid, then a counter. Not secret, just distinct.
fn next_request_id() -> Box<str> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let prefix = *PREFIX.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        nanos ^ std::process::id().rotate_left(16)
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix:08x}-{n:012x}").into_boxed_str()
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

    /// Records one input from `source`. Returns `false` when the input was
    /// not stored because the request's caps are reached (it is counted in
    /// [`Self::dropped_inputs`]) or because it is empty.
    pub fn record_input(&self, source: &'static SourceMeta, bytes: &[u8]) -> bool {
        if bytes.is_empty() {
            return false;
        }
        let mut budget = self.lock();
        if self.inputs().any(|i| i.bytes() == bytes) {
            return true;
        }
        let fits = self.inputs.count() < self.limits.max_inputs
            && budget.total_bytes + bytes.len() <= self.limits.max_total_bytes;
        if !fits {
            budget.dropped += 1;
            let first = budget.dropped == 1;
            drop(budget);
            if first {
                crate::event::inputs_dropped(self, source);
            }
            return false;
        }
        budget.total_bytes += bytes.len();
        self.inputs.push(Box::new(RecordedInput {
            source,
            finder: Finder::new(bytes).into_owned(),
        }));
        true
    }

    /// The recorded inputs, oldest first. Reading takes no lock.
    #[inline]
    pub fn inputs(&self) -> impl Iterator<Item = &RecordedInput> {
        self.inputs.iter().map(|(_, input)| &**input)
    }

    /// How many inputs were recorded.
    pub fn input_count(&self) -> usize {
        self.inputs.count()
    }

    /// How many inputs were not recorded because the caps were reached.
    pub fn dropped_inputs(&self) -> u64 {
        self.lock().dropped
    }

    /// The request id.
    pub fn request_id(&self) -> &str {
        &self.request_id
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
    pub(crate) fn policy_cache(&self) -> &DecisionCache {
        &self.policy_cache
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
        let _restore = enter(this.context.clone());
        this.inner.poll(cx)
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

    #[test]
    fn caps_bound_recording_and_count_drops() {
        let ctx = RequestContext::builder()
            .limits(InputLimits {
                max_inputs: 2,
                max_total_bytes: 10,
            })
            .build();
        assert!(ctx.record_input(&SRC, b"abc"));
        assert!(!ctx.record_input(&SRC, b"0123456789"), "over byte cap");
        assert!(ctx.record_input(&SRC, b"def"));
        assert!(!ctx.record_input(&SRC, b"ghi"), "over count cap");
        assert!(!ctx.record_input(&SRC, b""), "empty is ignored");
        assert_eq!(ctx.input_count(), 2);
        assert_eq!(ctx.dropped_inputs(), 2);
    }

    #[test]
    fn duplicates_are_stored_once() {
        let ctx = RequestContext::new();
        assert!(ctx.record_input(&SRC, b"same"));
        assert!(ctx.record_input(&SRC, b"same"));
        assert_eq!(ctx.input_count(), 1);
    }

    #[test]
    fn request_ids_are_distinct() {
        assert_ne!(
            RequestContext::new().request_id(),
            RequestContext::new().request_id()
        );
    }
}
