//! Refusals a guard makes on its own, from the type of what it was given
//! rather than from a recorded input: a tainted argument that starts with
//! `-`, a path that leaves its root. They do not depend on the mode (the
//! guard's contract is to refuse them), and they are reported on the same
//! `tracing` target as detections, so that an attempt is seen.

use rasp_core::sink::SinkSite;
use rasp_core::{Blocked, Reason};

/// Reports the refusal of a call to `site` for `reason` and returns the
/// `Blocked` to hand back.
#[cold]
pub(crate) fn refuse(site: &'static SinkSite, reason: Reason) -> Blocked {
    tracing::event!(
        target: rasp_core::event::TARGET,
        tracing::Level::WARN,
        event.name = "rasp.guard.refused",
        rasp.action = "block",
        rasp.sink.kind = site.kind.as_str(),
        rasp.sink.id = site.id,
        rasp.reason = reason.as_str(),
        "{}",
        reason.describe(),
    );
    Blocked {
        sink_id: site.id,
        kind: site.kind,
        reason,
    }
}
