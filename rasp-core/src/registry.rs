//! The sink map of the running program.
//!
//! Every `#[rasp::sink]`, guarded integration and `trust_unchecked!` use
//! registers itself at link time through `inventory`. A running service can
//! list them, e.g. to log its coverage at start-up; `cargo xtask
//! audit-sinks` links a workspace's crates into a small program that prints
//! the same two lists, to map and gate the sinks of a whole workspace.

use crate::escape_hatch::{EscapeHatch, EscapeHatchRegistration};
use crate::sink::{SinkRegistration, SinkSite};

/// Every sink linked into this program, sorted by id.
pub fn sinks() -> Vec<&'static SinkSite> {
    let mut all: Vec<_> = inventory::iter::<SinkRegistration>
        .into_iter()
        .map(|r| r.0)
        .collect();
    all.sort_by_key(|s| (s.id(), s.file(), s.line()));
    all
}

/// Every escape-hatch use site linked into this program, sorted by file and line.
pub fn escape_hatches() -> Vec<&'static EscapeHatch> {
    let mut all: Vec<_> = inventory::iter::<EscapeHatchRegistration>
        .into_iter()
        .map(|r| r.0)
        .collect();
    all.sort_by_key(|h| (h.file, h.line, h.column));
    all
}

/// The sink registered under `id`, if any.
pub fn sink(id: &str) -> Option<&'static SinkSite> {
    inventory::iter::<SinkRegistration>
        .into_iter()
        .map(|r| r.0)
        .find(|s| s.id() == id)
}
