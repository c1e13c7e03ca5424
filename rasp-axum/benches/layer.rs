//! Cost of `RaspLayer` on a minimal axum handler, through
//! `tower::ServiceExt::oneshot`: the same router with and without the
//! layer, in one run, so the difference is what the layer adds (opening
//! the context, the request id, the client address, the entry guard,
//! entering the context on each poll). A second pair compares axum's
//! `Query` with `TaintedQuery`. A layer that does nothing, added the same
//! way, shows how much of the difference is axum's own per-route layering.
//!
//! `cargo bench -p rasp-axum --bench layer`

use std::net::SocketAddr;
use std::num::NonZeroU32;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Query};
use axum::http::Request;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use rasp_axum::{PerIpRateLimit, Quota, RaspLayer, TaintedQuery};
use tower::ServiceExt;

async fn hello() -> &'static str {
    "hello"
}

#[derive(serde::Deserialize)]
struct Search {
    #[allow(dead_code, reason = "only deserialized")]
    q: String,
}

async fn search(Query(_search): Query<Search>) -> &'static str {
    "found"
}

async fn tainted_search(TaintedQuery(_search): TaintedQuery<Search>) -> &'static str {
    "found"
}

/// A request as `axum::serve` hands it over with `ConnectInfo`.
fn request(uri: &'static str) -> Request<Body> {
    let mut req = Request::get(uri).body(Body::empty()).expect("request");
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 7], 40_000))));
    req
}

fn bench(c: &mut Criterion, name: &str, app: Router, uri: &'static str) {
    // As `axum::serve` does once: handlers (and the layers around them)
    // become routes here, not on every request.
    let app: Router = app.with_state(());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    c.bench_function(name, |b| {
        b.iter(|| {
            let response = rt
                .block_on(app.clone().oneshot(request(uri)))
                .expect("infallible");
            assert!(response.status().is_success());
        })
    });
}

fn layer(c: &mut Criterion) {
    let bare = Router::new().route("/hello", get(hello));
    bench(c, "axum/hello/bare", bare.clone(), "/hello");
    // What `Router::layer` costs with a layer that does nothing: axum
    // boxes each wrapped route again, and the boxed route is cloned and
    // its future boxed on every request. Any layer added this way pays it.
    bench(
        c,
        "axum/hello/identity_layer",
        bare.clone().layer(tower::layer::util::Identity::new()),
        "/hello",
    );
    bench(
        c,
        "axum/hello/rasp_layer",
        bare.clone().layer(RaspLayer::new()),
        "/hello",
    );
    let quota = Quota::per_second(NonZeroU32::new(u32::MAX).expect("non-zero"));
    let limited = RaspLayer::new().entry_guard(PerIpRateLimit::new(quota));
    bench(
        c,
        "axum/hello/rasp_layer_rate_limited",
        bare.layer(limited),
        "/hello",
    );

    let plain = Router::new().route("/search", get(search));
    let tainted = Router::new()
        .route("/search", get(tainted_search))
        .layer(RaspLayer::new());
    bench(c, "axum/query/bare", plain, "/search?q=books+and+more");
    bench(
        c,
        "axum/query/rasp_layer_tainted",
        tainted,
        "/search?q=books+and+more",
    );
}

criterion_group!(benches, layer);
criterion_main!(benches);
