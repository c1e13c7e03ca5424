//! Recording with reporting: the public way to record an input, built on
//! the context's own bookkeeping. The context says what storing an input
//! did; this layer reports the first overflow of a request as an event, so
//! the context needs nothing from the layers above it.

use super::limit_exceeded;
use crate::context::{Limit, Recorded, RequestContext};
use crate::taint::SourceMeta;

impl RequestContext {
    /// Records one input from `source`. Returns `true` when the input is
    /// stored (or was already), `false` when it is empty or did not fit the
    /// request's caps. The first input that does not fit marks the request
    /// as over its limits (see [`Self::exceeded`]), counted and reported.
    ///
    /// Recording the same bytes again is cheap and stores nothing: an
    /// adapter and an extractor may both record what they see.
    pub fn record_input(&self, source: &'static SourceMeta, bytes: &[u8]) -> bool {
        match self.store_input(source, bytes) {
            Recorded::Stored => true,
            Recorded::Empty => false,
            Recorded::Overflowed { limit, first } => {
                if first {
                    limit_exceeded(self, limit, Some(source));
                }
                false
            }
        }
    }

    /// Marks the request as over `limit` without recording anything: for
    /// adapters that enforce a cap of their own, such as
    /// [`InputLimits::max_body_bytes`](crate::InputLimits::max_body_bytes).
    /// Counted and reported once per request, like an input past the caps.
    pub fn exceed(&self, limit: Limit) {
        if self.mark_exceeded(limit) {
            limit_exceeded(self, limit, None);
        }
    }
}
