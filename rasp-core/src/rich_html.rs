//! Rich HTML from users (comments, profiles written in an editor) cleaned
//! by `ammonia` (feature `ammonia`).
//!
//! Escaping would show such a value as source text; the application wants
//! its formatting (`<b>`, `<a href>`, lists) and nothing that runs.
//! `ammonia` parses the value with html5ever, the parser browsers follow,
//! keeps an allowlist of elements, attributes and URL schemes, and
//! serialises the tree again, so what a browser sees is what was allowed:
//! no `<script>`, no event handler, no `javascript:` link, no markup left
//! open to swallow the page that follows.

use crate::class::Html;
use crate::sanitize::Sanitized;
use crate::taint::Tainted;

impl<T: AsRef<str>> Tainted<T> {
    /// The value as rich HTML with everything that can run script removed
    /// by `ammonia`'s default allowlist; trusted by HTML sinks.
    ///
    /// ```
    /// use rasp_core::{SourceMeta, Tainted};
    /// let bio = Tainted::new("<b>hi</b><img src=x onerror=alert(1)>", &SourceMeta::MANUAL);
    /// assert_eq!(bio.clean_html(), "<b>hi</b><img src=\"x\">");
    /// ```
    pub fn clean_html(&self) -> Sanitized<String, Html> {
        Sanitized::from_sanitizer(ammonia::clean(self.value_ref().as_ref()))
    }
}
