//! [`RaspLayer`]: one request context per request, the entry guard, every
//! input of the request recorded, and refusals turned into responses.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, Request, header};
use axum::response::Response;
use http_body::Body as _;
use rasp_core::{InContext, InputLimits, Limit, RequestContext};
use tower::{Layer, Service};

use crate::body;
use crate::client_addr::ClientAddrPolicy;
use crate::guard::{AllowAll, EntryDecision, EntryGuard, GuardAdmission};
use crate::identity::Identify;
use crate::record::{self, BodyKind, RecordedByLayer};
use crate::refusal::{DefaultResponder, Refusal, RefusalResponder};
use crate::request_id;

/// The tower layer that protects an axum app.
///
/// For each request it opens a [`RequestContext`] (route from
/// `MatchedPath`, request id from the `x-request-id` header when present,
/// client address per the [`ClientAddrPolicy`], user and tenant from the
/// [`Identify`] hook when set), asks the [`EntryGuard`]
/// whether the request may enter, records every input of the request in
/// the context (query pairs, path parameters, header values, cookies, and
/// form, JSON or text bodies, read within [`InputLimits::max_body_bytes`]
/// and handed on unchanged), and runs the handler with the context current:
/// guarded sinks check against it whatever extractors the handler uses,
/// `#[rasp::protect]` handlers reuse it. A request past its
/// [`InputLimits`] is refused with a 413 unless the limits say `monitor`.
/// Refusals, at entry, past the limits or from a handler's
/// [`BlockedResponse`](crate::BlockedResponse), are rendered by the
/// [`RefusalResponder`]. `docs/axum.md` lists exactly what is recorded.
///
/// Add it with `Router::layer` (or `route_layer`), so that it runs after
/// routing and sees the matched route.
///
/// ```
/// use std::num::NonZeroU32;
/// use axum::{Router, routing::get};
/// use rasp_axum::{IpBlocklist, PerIpRateLimit, Quota, RaspLayer};
///
/// let layer = RaspLayer::new().entry_guard((
///     IpBlocklist::new(["192.0.2.0/24".parse().unwrap()]),
///     PerIpRateLimit::new(Quota::per_second(NonZeroU32::new(50).unwrap())),
/// ));
/// let app: Router = Router::new().route("/", get(|| async { "hi" })).layer(layer);
/// ```
pub struct RaspLayer<G = AllowAll> {
    guard: Arc<G>,
    client_addr: ClientAddrPolicy,
    request_id_header: HeaderName,
    limits: InputLimits,
    responder: Arc<dyn RefusalResponder>,
    identify: Option<Arc<dyn Identify>>,
}

impl RaspLayer<AllowAll> {
    /// A layer that admits every request, takes the client address from
    /// the TCP peer, and answers refusals with [`DefaultResponder`].
    pub fn new() -> Self {
        RaspLayer {
            guard: Arc::new(AllowAll),
            client_addr: ClientAddrPolicy::default(),
            request_id_header: HeaderName::from_static("x-request-id"),
            limits: InputLimits::default(),
            responder: Arc::new(DefaultResponder),
            identify: None,
        }
    }
}

impl Default for RaspLayer<AllowAll> {
    fn default() -> Self {
        Self::new()
    }
}

impl<G: EntryGuard> RaspLayer<G> {
    /// Sets the entry guard asked before each request enters.
    pub fn entry_guard<H: EntryGuard>(self, guard: H) -> RaspLayer<H> {
        RaspLayer {
            guard: Arc::new(guard),
            client_addr: self.client_addr,
            request_id_header: self.request_id_header,
            limits: self.limits,
            responder: self.responder,
            identify: self.identify,
        }
    }

    /// Sets how the client address is found (the TCP peer by default).
    pub fn client_addr(mut self, policy: ClientAddrPolicy) -> Self {
        self.client_addr = policy;
        self
    }

    /// Sets the header an incoming request id is read from
    /// (`x-request-id` by default).
    pub fn request_id_header(mut self, header: HeaderName) -> Self {
        self.request_id_header = header;
        self
    }

    /// Sets the recording caps of each request context, and what happens
    /// to a request past them ([`InputLimits::default`] unless set). The
    /// installed policy's `[limits]` table, when it has one, takes
    /// precedence.
    pub fn input_limits(mut self, limits: InputLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the responder that renders refusals.
    pub fn responder(mut self, responder: impl RefusalResponder) -> Self {
        self.responder = Arc::new(responder);
        self
    }

    /// Sets how the user and tenant of a request are told, for entry rules
    /// and events. Layers that run before this one (authentication) have
    /// already put their extensions on the request.
    pub fn identify(mut self, identify: impl Identify) -> Self {
        self.identify = Some(Arc::new(identify));
        self
    }
}

impl<G> Clone for RaspLayer<G> {
    fn clone(&self) -> Self {
        RaspLayer {
            guard: Arc::clone(&self.guard),
            client_addr: self.client_addr.clone(),
            request_id_header: self.request_id_header.clone(),
            limits: self.limits,
            responder: Arc::clone(&self.responder),
            identify: self.identify.clone(),
        }
    }
}

impl<G> fmt::Debug for RaspLayer<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaspLayer")
            .field("client_addr", &self.client_addr)
            .field("request_id_header", &self.request_id_header)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<S, G> Layer<S> for RaspLayer<G> {
    type Service = RaspService<S, G>;

    fn layer(&self, inner: S) -> Self::Service {
        RaspService {
            inner,
            // One allocation per wrapped route, so that per request the
            // service clone axum makes is a single reference count.
            shared: Arc::new(self.clone()),
        }
    }
}

/// The service of a [`RaspLayer`].
pub struct RaspService<S, G = AllowAll> {
    inner: S,
    shared: Arc<RaspLayer<G>>,
}

impl<S: Clone, G> Clone for RaspService<S, G> {
    fn clone(&self) -> Self {
        RaspService {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S, G> fmt::Debug for RaspService<S, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaspService")
            .field("layer", &self.shared)
            .finish_non_exhaustive()
    }
}

impl<G> RaspLayer<G> {
    fn open_context<B>(&self, req: &Request<B>) -> Arc<RequestContext> {
        // The installed policy's `[limits]` take precedence over the caps
        // set in code, so operators can change them with the policy.
        let limits = rasp_core::policy::input_limits().unwrap_or(self.limits);
        let mut builder = RequestContext::builder().limits(limits);
        if let Some(route) = req.extensions().get::<MatchedPath>() {
            builder = builder.route(route.as_str());
        }
        if let Some(id) = request_id::from_header(req.headers(), &self.request_id_header) {
            builder = builder.request_id(id);
        }
        if let Some(ip) = self.client_addr.client_ip(req) {
            builder = builder.client_ip(ip);
        }
        if let Some(identify) = &self.identify {
            let identity = identify.identify(req.headers(), req.extensions());
            if let Some(user) = identity.user {
                builder = builder.user(user);
            }
            if let Some(tenant) = identity.tenant {
                builder = builder.tenant(tenant);
            }
        }
        builder.build()
    }
}

impl<S, G> Service<Request<Body>> for RaspService<S, G>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    G: EntryGuard,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let ctx = self.shared.open_context(&req);
        let responder = &self.shared.responder;
        let state = match self.shared.guard.admission(&ctx) {
            GuardAdmission::Decided(decision) => match refusal_of(decision) {
                Some(refusal) => refused(responder, &refusal, &ctx),
                None => admitted(&mut self.inner, req, ctx, responder),
            },
            GuardAdmission::Pending(admission) => {
                // The decision waits on I/O (shared fleet state): the ready
                // service goes with the request, a clone stays for the next
                // `poll_ready`.
                let ready = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, ready);
                let (resume_ctx, resume_responder) = (Arc::clone(&ctx), Arc::clone(responder));
                State::Admitting {
                    admission,
                    resume: Some(Box::new(move || {
                        admitted(&mut inner, req, resume_ctx, &resume_responder)
                    })),
                    ctx,
                    responder: Arc::clone(responder),
                }
            }
        };
        ResponseFuture { state }
    }
}

/// What becomes of a request its entry guard let in: every input of the
/// request is recorded here, whatever extractors the handler uses, so
/// protection does not depend on them; then the handler runs, or the
/// request is refused when recording took it past limits that refuse it.
fn admitted<S>(
    inner: &mut S,
    req: Request<Body>,
    ctx: Arc<RequestContext>,
    responder: &Arc<dyn RefusalResponder>,
) -> State<S::Future>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
{
    let (mut parts, body) = req.into_parts();
    record::record_head(&ctx, &mut parts);
    let kind = match BodyKind::of(&parts.headers) {
        Some(kind) if !body.is_end_stream() => kind,
        // No body, or a multipart one, which is not read.
        kind => {
            let recorded = RecordedByLayer {
                body: kind.is_some(),
            };
            parts.extensions.insert(recorded);
            return run(inner, Request::from_parts(parts, body), ctx, responder);
        }
    };
    // Past the limits already: no need to read the body to refuse.
    if let Some(refusal) = over_limits(&ctx) {
        return refused(responder, &refusal, &ctx);
    }
    // A body to read first: the handler runs once it is recorded, with
    // the service that `poll_ready` readied.
    let ready = inner.clone();
    let mut inner = std::mem::replace(inner, ready);
    let limit = ctx.limits().max_body_bytes;
    let declared = content_length(&parts.headers);
    State::Reading {
        read: Box::pin(body::read(body, limit, declared)),
        pending: Some(Pending {
            parts,
            kind,
            call: Box::new(move |req| inner.call(req)),
        }),
        ctx,
        responder: Arc::clone(responder),
    }
}

/// Runs the handler, unless recording took the request past limits that
/// refuse it.
fn run<S>(
    inner: &mut S,
    req: Request<Body>,
    ctx: Arc<RequestContext>,
    responder: &Arc<dyn RefusalResponder>,
) -> State<S::Future>
where
    S: Service<Request<Body>, Response = Response>,
{
    if let Some(refusal) = over_limits(&ctx) {
        return refused(responder, &refusal, &ctx);
    }
    // Current during `call` too: some services start their work (and
    // extract) before returning the future.
    let future = ctx.scope(|| inner.call(req));
    State::Running {
        inner: Arc::clone(&ctx).instrument(future),
        ctx,
        responder: Arc::clone(responder),
    }
}

fn refused<F>(
    responder: &Arc<dyn RefusalResponder>,
    refusal: &Refusal,
    ctx: &RequestContext,
) -> State<F> {
    State::Refused {
        response: Some(responder.respond(refusal, Some(ctx))),
    }
}

fn refusal_of(decision: EntryDecision) -> Option<Refusal> {
    match decision {
        EntryDecision::Allow => None,
        EntryDecision::Block => Some(Refusal::Denied),
        EntryDecision::Throttle { retry_after } => Some(Refusal::Throttled { retry_after }),
    }
}

/// The refusal of a request that went past limits that refuse it.
fn over_limits(ctx: &RequestContext) -> Option<Refusal> {
    if !ctx.refuses_unchecked() {
        return None;
    }
    let limit = ctx.exceeded()?;
    Some(Refusal::TooLarge { limit })
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// What a request waiting for its body needs to go on.
struct Pending<F> {
    parts: Parts,
    kind: BodyKind,
    call: Box<dyn FnOnce(Request<Body>) -> F + Send>,
}

pin_project_lite::pin_project! {
    /// The response future of a [`RaspService`].
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F> {
        Refused {
            response: Option<Response>,
        },
        // The entry guard's decision waits on I/O; the request goes on
        // once it is made.
        Admitting {
            admission: Pin<Box<dyn Future<Output = EntryDecision> + Send>>,
            resume: Option<Box<dyn FnOnce() -> State<F> + Send>>,
            ctx: Arc<RequestContext>,
            responder: Arc<dyn RefusalResponder>,
        },
        Reading {
            read: Pin<Box<dyn Future<Output = body::Read> + Send>>,
            pending: Option<Pending<F>>,
            ctx: Arc<RequestContext>,
            responder: Arc<dyn RefusalResponder>,
        },
        Running {
            #[pin]
            inner: InContext<F>,
            ctx: Arc<RequestContext>,
            responder: Arc<dyn RefusalResponder>,
        },
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Refused { response } => {
                    return Poll::Ready(Ok(response
                        .take()
                        .expect("ResponseFuture polled after completion")));
                }
                StateProj::Admitting {
                    admission,
                    resume,
                    ctx,
                    responder,
                } => {
                    let decision = ready!(admission.as_mut().poll(cx));
                    let next = match (refusal_of(decision), resume.take()) {
                        (None, Some(resume)) => resume(),
                        (refusal, _) => {
                            refused(responder, &refusal.unwrap_or(Refusal::Denied), ctx)
                        }
                    };
                    state.set(next);
                }
                StateProj::Reading {
                    read,
                    pending,
                    ctx,
                    responder,
                } => {
                    let read = ready!(read.as_mut().poll(cx));
                    let Pending {
                        mut parts,
                        kind,
                        call,
                    } = pending
                        .take()
                        .expect("ResponseFuture polled after completion");
                    let (body, recorded) = match read {
                        body::Read::Whole { bytes, body } => {
                            record::record_body(ctx, kind, &bytes);
                            (body, true)
                        }
                        body::Read::TooLarge { body } => {
                            ctx.exceed(Limit::BodyBytes);
                            (body, false)
                        }
                        // Nothing to record: the handler's extractor
                        // meets the body's error and rejects the request.
                        body::Read::Failed { body } => (body, false),
                    };
                    let ctx = Arc::clone(ctx);
                    let responder = Arc::clone(responder);
                    if let Some(refusal) = over_limits(&ctx) {
                        let response = responder.respond(&refusal, Some(&ctx));
                        state.set(State::Refused {
                            response: Some(response),
                        });
                        continue;
                    }
                    parts.extensions.insert(RecordedByLayer { body: recorded });
                    let req = Request::from_parts(parts, body);
                    let future = ctx.scope(|| call(req));
                    state.set(State::Running {
                        inner: Arc::clone(&ctx).instrument(future),
                        ctx,
                        responder,
                    });
                }
                StateProj::Running {
                    inner,
                    ctx,
                    responder,
                } => {
                    let response = ready!(inner.poll(cx))?;
                    // A handler's `BlockedResponse` marked its response; render
                    // it with this layer's responder.
                    return match response.extensions().get::<Refusal>() {
                        Some(refusal) => Poll::Ready(Ok(responder.respond(refusal, Some(ctx)))),
                        None => Poll::Ready(Ok(response)),
                    };
                }
            }
        }
    }
}
