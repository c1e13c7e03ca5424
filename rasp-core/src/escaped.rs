//! [`Escaped`]: a borrowed text that writes its inert form for one sink
//! context while it is displayed.
//!
//! [`Sanitized::from_tainted`](crate::Sanitized::from_tainted) makes an
//! owned copy, which a value that is only written once — a `tracing` field,
//! a template expression — does not need. An `Escaped` view streams the
//! sanitizer of its context straight into the formatter instead, so
//! escaping costs one pass and no allocation. It is output, never trusted
//! input: it implements no trust trait, so no sink parameter accepts it.

use core::fmt;
use core::marker::PhantomData;

use crate::sanitize::Sanitize;

/// `text` as it reads once escaped for context `C`, written on display.
///
/// ```
/// use rasp_core::{Html, Log, SourceMeta, Tainted};
/// let name = Tainted::new("<b>x\nFAKE".to_string(), &SourceMeta::MANUAL);
/// assert_eq!(name.escaped::<Html>().to_string(), "&lt;b&gt;x\nFAKE");
/// assert_eq!(name.escaped::<Log>().to_string(), "<b>x\\nFAKE");
/// ```
pub struct Escaped<'a, C> {
    text: &'a str,
    context: PhantomData<C>,
}

impl<'a, C: Sanitize> Escaped<'a, C> {
    /// A view of `text` escaped for `C`.
    #[inline]
    pub const fn new(text: &'a str) -> Self {
        Escaped {
            text,
            context: PhantomData,
        }
    }
}

impl<C: Sanitize> fmt::Display for Escaped<'_, C> {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        C::write_escaped(self.text, f)
    }
}

impl<C: Sanitize> fmt::Debug for Escaped<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Escaped<{}>({self})", C::CLASS)
    }
}

impl<C> Clone for Escaped<'_, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Escaped<'_, C> {}

/// Its display is escaped for HTML already: askama must not escape it
/// again.
#[cfg(feature = "askama")]
impl askama::filters::HtmlSafe for Escaped<'_, crate::class::Html> {}

#[cfg(feature = "askama")]
impl askama::FastWritable for Escaped<'_, crate::class::Html> {
    #[inline]
    fn write_into(
        &self,
        dest: &mut dyn fmt::Write,
        _values: &dyn askama::Values,
    ) -> askama::Result<()> {
        <crate::class::Html as Sanitize>::write_escaped(self.text, &mut &mut *dest)?;
        Ok(())
    }
}

/// The HTML sanitizer's output (escaped text, or rich HTML cleaned by
/// `ammonia`) is markup the application vouches for: askama renders it
/// as it is.
#[cfg(feature = "askama")]
impl<T: AsRef<str>> askama::filters::HtmlSafe for crate::Sanitized<T, crate::class::Html> {}
