//! The adversarial suite: each test performs an attack an outsider would
//! send against a service protected with rasp's defaults, and asserts that
//! the attack fails while its benign twin still passes.
//!
//! One module per surface an attacker pushes on. Every limit, cap, table,
//! queue and sampling rule is driven past its bound here, and the test
//! asserts what `docs/threat-model.md` promises happens there (a refusal, or
//! a counted and reported event), never silently less checking.

mod command;
mod entry;
mod events;
mod recording;
mod ssrf_fs;
