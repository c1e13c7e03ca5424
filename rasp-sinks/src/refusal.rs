//! Refusals a guard makes on its own, from the type of what it was given
//! rather than from a recorded input: a tainted argument that starts with
//! `-`, a path that leaves its root. They do not depend on the mode (the
//! guard's contract is to refuse them), and they are reported on the same
//! `tracing` target as detections, so that an attempt is seen: counted every
//! time, with the current request's correlation fields, and deduplicated
//! like every security event (see [`rasp_core::event::guard_refused`]).

use rasp_core::sink::SinkSite;
use rasp_core::{Blocked, Reason};

/// Reports the refusal of a call to `site` for `reason` and returns the
/// `Blocked` to hand back.
#[cold]
pub(crate) fn refuse(site: &'static SinkSite, reason: Reason) -> Blocked {
    rasp_core::event::guard_refused(site, reason);
    Blocked::new(site.id(), site.class(), reason)
}
