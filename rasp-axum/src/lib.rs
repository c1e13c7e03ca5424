//! axum integration of rasp: tainting extractors, and a tower layer that
//! opens the request context, admits or refuses each request, and turns
//! refusals into responses.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use rasp_axum::{BlockedResponse, RaspLayer, TaintedQuery};
//!
//! #[derive(serde::Deserialize)]
//! struct Search {
//!     q: String,
//! }
//!
//! async fn search(TaintedQuery(search): TaintedQuery<Search>) -> Result<String, BlockedResponse> {
//!     // `search` is a `rasp::Tainted<Search>`: its text is recorded in the
//!     // request context, and guarded sinks refuse SQL built from it.
//!     Ok(search.inspect(|s| s.q.len()).to_string())
//! }
//!
//! let app: Router = Router::new()
//!     .route("/search", get(search))
//!     .layer(RaspLayer::new());
//! ```
//!
//! # Why a crate of its own
//!
//! The sink integrations (`rasp-sinks`) need no web framework, and most of
//! them none of axum's, tower's or hyper's dependencies. Keeping the axum
//! integration apart means a service that uses another framework never
//! compiles axum, and this crate can follow axum's releases (a new major
//! version of axum means a new major version here) without moving the
//! version of `rasp-core` or the sinks. The facade re-exports it as
//! `rasp::axum` behind the `axum` feature.
//!
//! # The pieces
//!
//! - [`RaspLayer`] opens one [`RequestContext`](rasp_core::RequestContext) per
//!   request (route from `MatchedPath`, request id, client address), asks an
//!   [`EntryGuard`] whether the request may enter, records every input of
//!   the request, runs the handler with the context current, and renders
//!   [`Refusal`]s through a [`RefusalResponder`]. Handlers under it are
//!   protected whatever extractors they use.
//! - The extractors ([`TaintedQuery`], [`TaintedPath`], [`TaintedJson`],
//!   [`TaintedForm`], [`TaintedHeaders`], [`TaintedCookies`]) delegate to
//!   axum's own and hand the handler a [`Tainted`](rasp_core::Tainted)
//!   value, which the compiler refuses at sinks; they record what they
//!   produce where the layer has not already.
//! - [`Identify`] tells the layer the user and tenant of a request, for
//!   entry rules and events.
//! - [`BlockedResponse`] carries a sink's [`Blocked`](rasp_core::Blocked) out
//!   of a handler with `?`.

mod body;
mod client_addr;
mod extract;
mod guard;
mod identity;
mod layer;
mod record;
mod refusal;
mod request_id;
pub mod sources;

pub use client_addr::ClientAddrPolicy;
pub use extract::{
    TaintedCookies, TaintedForm, TaintedHeaders, TaintedJson, TaintedPath, TaintedQuery,
};
pub use governor::Quota;
pub use guard::{
    AllowAll, EntryDecision, EntryGuard, GuardAdmission, InstalledPolicy, IpBlocklist,
    PerIpRateLimit,
};
pub use identity::{Identify, Identity};
pub use ipnet::IpNet;
pub use layer::{RaspLayer, RaspService, ResponseFuture};
pub use refusal::{BlockedResponse, DefaultResponder, Refusal, RefusalResponder};
