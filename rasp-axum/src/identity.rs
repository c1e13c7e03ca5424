//! Who a request is from, as far as can be told before the handler runs:
//! the user and tenant that entry rules (blocklists, per-user limits) and
//! security events key on.
//!
//! The layer cannot know how an app authenticates, so the app says it with
//! a function of the request head: typically it reads an extension that an
//! authentication layer placed before [`RaspLayer`](crate::RaspLayer) (decoded
//! token claims, a session), or a header set by a trusted gateway.

use axum::http::{Extensions, HeaderMap};

/// The user and tenant of a request, when known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The authenticated user id.
    pub user: Option<String>,
    /// The tenant id.
    pub tenant: Option<String>,
}

/// Tells the identity of a request from its headers and extensions.
/// Closures `Fn(&HeaderMap, &Extensions) -> Identity` are identifiers.
pub trait Identify: Send + Sync + 'static {
    /// The identity of the request with these headers and extensions.
    fn identify(&self, headers: &HeaderMap, extensions: &Extensions) -> Identity;
}

impl<F> Identify for F
where
    F: Fn(&HeaderMap, &Extensions) -> Identity + Send + Sync + 'static,
{
    fn identify(&self, headers: &HeaderMap, extensions: &Extensions) -> Identity {
        self(headers, extensions)
    }
}
