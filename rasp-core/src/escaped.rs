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

use crate::class::Html;
use crate::sanitize::Sanitize;

/// `text` as it reads once escaped for context `C`, written on display.
///
/// Only HTML has a view ([`Shown`]): it is written by an askama template,
/// by [`compose!`](macro@crate::compose) for HTML, or by `format!` into markup.
///
/// ```
/// use rasp_core::{Html, SourceMeta, Tainted, compose};
/// let name = Tainted::new("<b>x\nFAKE".to_string(), &SourceMeta::MANUAL);
/// assert_eq!(compose!(Html, "{}", name.escaped::<Html>()), "&lt;b&gt;x\nFAKE");
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

/// Contexts with an escaped view: HTML, where a template or `compose!`
/// writes it straight into markup. Sealed.
#[diagnostic::on_unimplemented(
    message = "an escaped view is output for HTML, not for `{Self}`",
    label = "no displayed view for this context",
    note = "a tainted value goes into a log as a `tracing` field: `tracing::warn!(user = rasp::log::tainted(&user), \"…\")`, or into a line through a guard: `rasp::log::line(user.map(|u| format!(\"login failed for {{u}}\")))`",
    note = "for other sinks, sanitize it for that sink (`.sanitize::<rasp::Shell>()`) and pass the result to the sink itself"
)]
pub trait Shown: Sanitize + sealed::Sealed {}

#[allow(unreachable_pub)] // the sealed-trait idiom: public name, private path
mod sealed {
    pub trait Sealed {}
}

impl sealed::Sealed for Html {}
impl Shown for Html {}

/// Markup, displayed for askama (whose every expression needs `Display`)
/// and `format!` of HTML. See [`Sanitized`](crate::Sanitized) for what
/// that leaves open.
impl fmt::Display for Escaped<'_, Html> {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Html::write_escaped(self.text, f)
    }
}

impl<C> Escaped<'_, C> {
    /// The unescaped text, for this crate's writers.
    #[inline]
    pub(crate) fn text(&self) -> &str {
        self.text
    }
}

impl<C: Sanitize> fmt::Debug for Escaped<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The view of another context never turns into text, not even here.
        write!(f, "Escaped<{}>(..)", C::CLASS)
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
/// as it is. Values of other contexts have no `Display`, so a template
/// refuses them, `|safe` or not.
#[cfg(feature = "askama")]
impl<T: AsRef<str>> askama::filters::HtmlSafe for crate::Sanitized<T, crate::class::Html> {}
