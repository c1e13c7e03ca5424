//! Recording with reporting: the public way to record an input, built on
//! the context's own bookkeeping. The context says what storing an input
//! did; this layer reports the first overflow of a request as an event, so
//! the context needs nothing from the layers above it.

use super::limit_exceeded;
use crate::class::Html;
use crate::context::{Limit, Origin, Recorded, RequestContext};
use crate::sanitize::Sanitize;
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
        let stored = self.reported(source, self.store_input(source, bytes, Origin::Request));
        if stored {
            self.record_html_form(source, bytes);
        }
        stored
    }

    /// Records the HTML-escaped form of an input beside it, when it has
    /// one.
    ///
    /// HTML output is the one sanitized text that displays (templates need
    /// `Display`), so it can be formatted into another grammar's text,
    /// where the input no longer reads as it was recorded: `< touch x >`
    /// escaped is `&lt; touch x &gt;`, which `sh` runs. With its escaped
    /// form recorded too, the check finds it there, and the shell detector
    /// sees the `&` and `;` it brings. In HTML the escaped form is inert by
    /// construction, so it is never flagged there. Derived forms have a
    /// budget of their own, as large as the caps, so they never take the
    /// place of an input the request sent; one that does not fit is an
    /// overflow like any other (counted, reported, and refused under
    /// `OnExceeded::Block`), never a form silently left unchecked.
    fn record_html_form(&self, source: &'static SourceMeta, bytes: &[u8]) {
        let Ok(text) = core::str::from_utf8(bytes) else {
            return;
        };
        if !Html::needs_escaping(text) {
            return;
        }
        let mut escaped = String::with_capacity(text.len() + 16);
        Html::write_escaped(text, &mut escaped).expect("writing to a String cannot fail");
        self.reported(
            source,
            self.store_input(source, escaped.as_bytes(), Origin::Derived),
        );
    }

    /// What storing an input did, reporting the request's first overflow.
    fn reported(&self, source: &'static SourceMeta, recorded: Recorded) -> bool {
        match recorded {
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
