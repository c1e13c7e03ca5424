//! [`RaspLayer`]: one request context per request, the entry guard, and
//! refusals turned into responses.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::extract::MatchedPath;
use axum::http::{HeaderName, Request};
use axum::response::Response;
use rasp_core::{InContext, InputLimits, RequestContext};
use tower::{Layer, Service};

use crate::client_addr::ClientAddrPolicy;
use crate::guard::{AllowAll, EntryDecision, EntryGuard, GuardAdmission};
use crate::identity::Identify;
use crate::refusal::{DefaultResponder, Refusal, RefusalResponder};
use crate::request_id;

/// The tower layer that protects an axum app.
///
/// For each request it opens a [`RequestContext`] (route from
/// `MatchedPath`, request id from the `x-request-id` header when present,
/// client address per the [`ClientAddrPolicy`], user and tenant from the
/// [`Identify`] hook when set), asks the [`EntryGuard`]
/// whether the request may enter, and runs the handler with the context
/// current: the extractors record into it, guarded sinks check against it,
/// `#[rasp::protect]` handlers reuse it. Refusals, at entry or from a
/// handler's [`BlockedResponse`](crate::BlockedResponse), are rendered by the
/// [`RefusalResponder`].
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

    /// Sets the recording caps of each request context.
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
        let mut builder = RequestContext::builder().limits(self.limits);
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

impl<S, G, B> Service<Request<B>> for RaspService<S, G>
where
    // `Clone + Send + 'static`: a request whose entry decision waits (on
    // Redis) takes the service that was made ready along with it.
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    B: Send + 'static,
    G: EntryGuard,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let ctx = self.shared.open_context(&req);
        let decision = match self.shared.guard.admission(&ctx) {
            GuardAdmission::Decided(decision) => decision,
            GuardAdmission::Pending(admission) => {
                // The ready service goes with the request; a clone stays
                // for the next `poll_ready`.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let scope = Arc::clone(&ctx);
                return ResponseFuture {
                    state: State::Admitting {
                        admission,
                        start: Some(Box::new(move || scope.scope(|| inner.call(req)))),
                        ctx,
                        responder: Arc::clone(&self.shared.responder),
                    },
                };
            }
        };
        let refusal = refusal_of(decision);
        let state = match refusal {
            Some(refusal) => State::Refused {
                response: Some(self.shared.responder.respond(&refusal, Some(&ctx))),
            },
            None => {
                // Current during `call` too: some services start their work
                // (and extract) before returning the future.
                let future = ctx.scope(|| self.inner.call(req));
                State::Running {
                    inner: Arc::clone(&ctx).instrument(future),
                    ctx,
                    responder: Arc::clone(&self.shared.responder),
                }
            }
        };
        ResponseFuture { state }
    }
}

fn refusal_of(decision: EntryDecision) -> Option<Refusal> {
    match decision {
        EntryDecision::Allow => None,
        EntryDecision::Block => Some(Refusal::Denied),
        EntryDecision::Throttle { retry_after } => Some(Refusal::Throttled { retry_after }),
    }
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
        // The entry guard's decision waits on I/O; the handler is called
        // once it is made.
        Admitting {
            admission: Pin<Box<dyn Future<Output = EntryDecision> + Send>>,
            start: Option<Box<dyn FnOnce() -> F + Send>>,
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

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let StateProj::Admitting {
            admission,
            start,
            ctx,
            responder,
        } = self.as_mut().project().state.project()
        {
            let decision = ready!(admission.as_mut().poll(cx));
            let (ctx, responder) = (Arc::clone(ctx), Arc::clone(responder));
            let next = match (refusal_of(decision), start.take()) {
                (None, Some(start)) => State::Running {
                    inner: Arc::clone(&ctx).instrument(start()),
                    ctx,
                    responder,
                },
                (refusal, _) => {
                    let refusal = refusal.unwrap_or(Refusal::Denied);
                    State::Refused {
                        response: Some(responder.respond(&refusal, Some(&ctx))),
                    }
                }
            };
            self.as_mut().project().state.set(next);
        }
        match self.project().state.project() {
            StateProj::Refused { response } => Poll::Ready(Ok(response
                .take()
                .expect("ResponseFuture polled after completion"))),
            StateProj::Admitting { .. } => unreachable!("left above once decided"),
            StateProj::Running {
                inner,
                ctx,
                responder,
            } => {
                let response = ready!(inner.poll(cx))?;
                // A handler's `BlockedResponse` marked its response; render
                // it with this layer's responder.
                match response.extensions().get::<Refusal>() {
                    Some(refusal) => Poll::Ready(Ok(responder.respond(refusal, Some(ctx)))),
                    None => Poll::Ready(Ok(response)),
                }
            }
        }
    }
}
