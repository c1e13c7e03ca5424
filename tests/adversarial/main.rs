//! The adversarial suite: each test performs an attack an outsider would
//! send against a service protected with rasp's defaults, and asserts that
//! the attack fails while its benign twin still passes.
//!
//! One module per surface an attacker pushes on. Every limit, cap, table,
//! queue and sampling rule is driven past its bound here, and the test
//! asserts what `docs/threat-model.md` promises happens there (a refusal, or
//! a counted and reported event), never silently less checking.
#![allow(
    clippy::await_holding_lock,
    reason = "each test has a runtime of its own; the suite lock serializes whole tests, awaits included"
)]

mod command;
mod entry;
mod events;
mod recording;
mod ssrf_fs;

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};

/// The installed policy, the process-wide mode, the event deduplication and
/// the evidence log are shared by every test of this binary, so one test's
/// policy would change what another observes. Every test holds this lock
/// while it runs, and starts with no policy installed.
pub(crate) fn serial() -> MutexGuard<'static, ()> {
    static SUITE: Mutex<()> = Mutex::new(());
    let guard = SUITE.lock().unwrap_or_else(|p| p.into_inner());
    rasp::policy::uninstall();
    guard
}

/// Serves `app` on a free loopback port, with the TCP peer available to
/// the layer as the client address, and returns its base URL.
pub(crate) async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("server");
    });
    format!("http://{addr}")
}
