//! Refusals and the responses that answer them.
//!
//! A request is refused at entry (its [`EntryGuard`](crate::EntryGuard)
//! said block or throttle), when it goes past its input limits, or by a
//! guarded sink inside the handler, which returns [`Blocked`] through the
//! handler's error type. Each becomes a
//! [`Refusal`], answered by the layer's [`RefusalResponder`]: by default a
//! 403, a 413 for a request past its input limits, or a 429 with
//! `Retry-After`, and a small JSON body that names the
//! request id and nothing of rasp's internals (no sink, no reason, no input).

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rasp_core::{Blocked, Limit, RequestContext};

/// Why rasp refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// A guarded sink found an injection and refused the call.
    Attack(Blocked),
    /// The entry guard blocked the request.
    Denied,
    /// The entry guard throttled the request.
    Throttled {
        /// How long until a retry may succeed.
        retry_after: Duration,
    },
    /// The request went past its input limits ([`InputLimits`](rasp_core::InputLimits),
    /// the policy's `[limits]`), which refuse what could not be checked.
    TooLarge {
        /// The first limit the request went past.
        limit: Limit,
    },
}

impl Refusal {
    /// The status of the default response: 429 for throttling, 413 past
    /// the input limits, 403 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Refusal::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::Attack(_) | Refusal::Denied => StatusCode::FORBIDDEN,
        }
    }
}

/// Renders the response to a [`Refusal`].
///
/// Closures `Fn(&Refusal, Option<&RequestContext>) -> Response` are
/// responders. The context is `None` only for a [`BlockedResponse`]
/// rendered outside any request context.
pub trait RefusalResponder: Send + Sync + 'static {
    /// The response to `refusal` of the request whose context is `ctx`.
    fn respond(&self, refusal: &Refusal, ctx: Option<&RequestContext>) -> Response;
}

impl<F> RefusalResponder for F
where
    F: Fn(&Refusal, Option<&RequestContext>) -> Response + Send + Sync + 'static,
{
    fn respond(&self, refusal: &Refusal, ctx: Option<&RequestContext>) -> Response {
        self(refusal, ctx)
    }
}

/// The default responses: `403 {"error":"forbidden","request_id":"…"}`,
/// `413 {"error":"too_large","request_id":"…"}`, and
/// `429 {"error":"too_many_requests","request_id":"…"}` with `Retry-After`
/// in whole seconds (rounded up, at least 1).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultResponder;

#[derive(serde::Serialize)]
struct Body<'a> {
    error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

impl RefusalResponder for DefaultResponder {
    fn respond(&self, refusal: &Refusal, ctx: Option<&RequestContext>) -> Response {
        let request_id = ctx.map(RequestContext::request_id);
        let error = match refusal {
            Refusal::Throttled { .. } => "too_many_requests",
            Refusal::TooLarge { .. } => "too_large",
            Refusal::Attack(_) | Refusal::Denied => "forbidden",
        };
        let mut response = (refusal.status(), Json(Body { error, request_id })).into_response();
        if let Refusal::Throttled { retry_after } = refusal {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_seconds(*retry_after));
        }
        response
    }
}

fn retry_after_seconds(wait: Duration) -> HeaderValue {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    HeaderValue::from(seconds.max(1))
}

/// A sink's [`Blocked`] as a handler error: `Result<_, BlockedResponse>`
/// handlers use `?` on guarded calls. Under [`RaspLayer`](crate::RaspLayer)
/// the response comes from the layer's responder; elsewhere from
/// [`DefaultResponder`].
///
/// An app with its own error type keeps it, implements `From<Blocked>`,
/// and turns the `Blocked` variant into `BlockedResponse(blocked).into_response()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockedResponse(pub Blocked);

impl From<Blocked> for BlockedResponse {
    fn from(blocked: Blocked) -> Self {
        BlockedResponse(blocked)
    }
}

impl IntoResponse for BlockedResponse {
    fn into_response(self) -> Response {
        let refusal = Refusal::Attack(self.0);
        let mut response =
            RequestContext::with_current(|ctx| DefaultResponder.respond(&refusal, ctx));
        // Marks the response so the layer can render it with its own
        // responder; extensions never go on the wire.
        response.extensions_mut().insert(refusal);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::ZERO), "1");
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), "1");
        assert_eq!(retry_after_seconds(Duration::from_millis(2001)), "3");
        assert_eq!(retry_after_seconds(Duration::from_secs(60)), "60");
    }
}
