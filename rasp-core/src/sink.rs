//! Sink sites: the static description of one guarded sink.
//!
//! `#[rasp::sink]` emits one `static SinkSite` per annotated fn and submits
//! it to the registry; guarded integrations in `rasp-sinks` do the same for
//! their entry points. The runtime check takes `&'static SinkSite`, so an
//! event can name its sink without any allocation.

use crate::contexts::ContextKind;
use crate::detect::sql::Dialect;
use crate::policy::DecisionCache;

/// Class of a sink; decides which detector runs.
pub type SinkKind = ContextKind;

/// How a sink's inputs are guarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Guard {
    /// Parameters carry trust-trait bounds checked by the compiler, and the
    /// runtime detector checks their text.
    Typed,
    /// The sink text is only checked at run time (string-built text).
    RuntimeChecked,
}

/// Static description of one guarded sink.
#[derive(Debug)]
pub struct SinkSite {
    /// Stable id, by default the fn path; used by events and policies.
    pub id: &'static str,
    /// Sink class.
    pub kind: SinkKind,
    /// Path of the guarded fn.
    pub fn_path: &'static str,
    /// File that declares the sink.
    pub file: &'static str,
    /// Line of the sink declaration.
    pub line: u32,
    /// Names of the guarded parameters.
    pub guarded: &'static [&'static str],
    /// How the sink is guarded.
    pub guard: Guard,
    /// SQL dialect of the sink's text (SQL sinks only).
    pub dialect: Dialect,
    /// The installed policy's rule for this sink, resolved once per policy
    /// (always `DecisionCache::new()` when declared).
    pub cache: DecisionCache,
}

/// Registration of a sink site, gathered through `inventory`.
#[derive(Debug)]
pub struct SinkRegistration(pub &'static SinkSite);

inventory::collect!(SinkRegistration);
