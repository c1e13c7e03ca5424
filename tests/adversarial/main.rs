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
