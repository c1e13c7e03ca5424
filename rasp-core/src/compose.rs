//! Text composed for one sink context: [`compose!`](macro@crate::compose) and
//! [`Composed<C>`].
//!
//! Sanitized values have no `Display`: text escaped for one context,
//! formatted into plain text, could be spliced into another, where its
//! escaping means nothing (HTML-escaped `&lt; touch x &gt;` runs `touch`
//! under `sh`) and the input no longer reads as it was recorded, so the
//! runtime check cannot find it. `compose!` is the way to build text from
//! them: it names the context, accepts each argument only through
//! [`Part`] of that context (a value sanitized or asserted for another is
//! refused, naming both), and yields a [`Composed<C>`] that only the sinks
//! of `C` accept, and that they still check at run time.

use core::fmt;
use core::marker::PhantomData;

use crate::class::{Context, Html};
use crate::escape_hatch::Asserted;
use crate::escaped::Escaped;
use crate::sanitize::{Sanitize, Sanitized};
use crate::trust::SameContext;

/// Text built by [`compose!`](macro@crate::compose) for the sinks of context `C`.
///
/// No `Display`, `as_str` or `into_inner`: it leaves its context only into
/// a sink of `C`, which reads it through `SinkText` and checks it.
pub struct Composed<C> {
    text: String,
    context: PhantomData<C>,
}

impl<C> Composed<C> {
    /// The text, for this crate and the site-bound accessors of
    /// `__private_v1`.
    #[inline]
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The text, owned, for this crate (see [`Composed::text`]).
    #[inline]
    pub(crate) fn into_text(self) -> String {
        self.text
    }

    /// Length of the text in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether the text is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

impl<C: Context> Composed<C> {
    /// Wraps the output of `compose!`. Not for applications.
    #[doc(hidden)]
    #[inline]
    pub fn __from_format(text: String) -> Self {
        Composed {
            text,
            context: PhantomData,
        }
    }
}

impl<C> crate::trust::SinkText for Composed<C> {
    #[inline]
    fn sink_text(&self) -> Option<&[u8]> {
        Some(self.text.as_bytes())
    }
}

/// Compares the text: a fact about it, not a way out of it.
impl<C> PartialEq<str> for Composed<C> {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

/// Compares the text: a fact about it, not a way out of it.
impl<C> PartialEq<&str> for Composed<C> {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl<C: Context> fmt::Debug for Composed<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Composed")
            .field("context", &C::CLASS)
            .field("len", &self.text.len())
            .finish()
    }
}

impl<C> Clone for Composed<C> {
    fn clone(&self) -> Self {
        Composed {
            text: self.text.clone(),
            context: PhantomData,
        }
    }
}

/// What [`compose!`](macro@crate::compose) takes as an argument for context `C`:
/// values sanitized, asserted or composed for `C`, text the program holds
/// (`&str`, `String`), numbers and `bool`. Sealed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of text composed for `{C}`",
    label = "not sanitized, asserted or composed for this context",
    note = "a `rasp::Tainted` value is sanitized for the context first: `rasp::compose!({C}, \"…{{}}…\", value.sanitize::<{C}>())`",
    note = "or kept tainted and checked by the guard: `value.map(|v| format!(\"…{{v}}…\"))`"
)]
pub trait Part<C>: sealed::Sealed<C> {
    /// Writes this part. Not for applications.
    #[doc(hidden)]
    fn __write(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result;

    /// Whether the span this part writes is judged by a span-exact check:
    /// text is, injection-free values (numbers, `bool`) are not.
    #[doc(hidden)]
    #[inline]
    fn __judged(&self) -> bool {
        true
    }
}

#[allow(unreachable_pub)] // the sealed-trait idiom: public name, private path
mod sealed {
    pub trait Sealed<C> {}
}

impl<S: AsRef<str>, From: SameContext<C>, C: Context> sealed::Sealed<C> for Sanitized<S, From> {}
impl<S: AsRef<str>, From: SameContext<C>, C: Context> Part<C> for Sanitized<S, From> {
    fn __write(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        out.write_str(self.text())
    }
}

impl<S: AsRef<str>, From: SameContext<C>, C: Context> sealed::Sealed<C> for Asserted<S, From> {}
impl<S: AsRef<str>, From: SameContext<C>, C: Context> Part<C> for Asserted<S, From> {
    fn __write(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        out.write_str(self.get().as_ref())
    }
}

impl<From: SameContext<C>, C: Context> sealed::Sealed<C> for Composed<From> {}
impl<From: SameContext<C>, C: Context> Part<C> for Composed<From> {
    fn __write(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        out.write_str(&self.text)
    }
}

impl<From: SameContext<C> + Sanitize, C: Context> sealed::Sealed<C> for Escaped<'_, From> {}
impl<From: SameContext<C> + Sanitize, C: Context> Part<C> for Escaped<'_, From> {
    fn __write(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        From::write_escaped(self.text(), out)
    }
}

impl<T: Part<C> + ?Sized, C> sealed::Sealed<C> for &T {}
impl<T: Part<C> + ?Sized, C> Part<C> for &T {
    fn __write(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).__write(out)
    }

    fn __judged(&self) -> bool {
        (**self).__judged()
    }
}

// Text and numbers the program holds: written as they are, and checked
// with the rest of the text at the sink. Numbers and `bool` cannot carry
// an injection: a span-exact check skips them (a `char` can be a quote).
macro_rules! plain_part {
    ($judged:literal: $($t:ty)*) => {$(
        impl<C: Context> sealed::Sealed<C> for $t {}
        impl<C: Context> Part<C> for $t {
            fn __write(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, out)
            }

            #[inline]
            fn __judged(&self) -> bool {
                $judged
            }
        }
    )*};
}
plain_part!(true: str String char);
plain_part!(false: u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize f32 f64 bool);

/// One argument of `compose!`, displayed through its [`Part`] for `C`.
/// Not for applications.
#[doc(hidden)]
pub struct Piece<'a, C, P: ?Sized> {
    part: &'a P,
    context: PhantomData<C>,
}

/// Wraps one argument of `compose!`. Not for applications.
#[doc(hidden)]
#[inline]
pub fn __piece<C: Context, P: Part<C> + ?Sized>(part: &P) -> Piece<'_, C, P> {
    Piece {
        part,
        context: PhantomData,
    }
}

impl<C, P: Part<C> + ?Sized> fmt::Display for Piece<'_, C, P> {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.part.__write(f)
    }
}

/// Builds text for one sink context from a format string and values
/// sanitized, asserted or composed for that context.
///
/// `compose!(Context, "format", args…)` is `format!` with a context: each
/// argument must be a [`Part`] of `Context` (a value sanitized for it, an
/// `Asserted` for it, a `Composed` for it, plain text, a number), and the
/// result is a [`Composed<Context>`], which the sinks of that context
/// accept, and check at run time, and no other sink does. Sanitized
/// values have no `Display`, so one cannot slip in through a name written
/// inside the format string either.
///
/// ```
/// use rasp_core::{Html, Shell, SourceMeta, Tainted, compose};
/// let name = Tainted::new("it's; rm -rf ~".to_string(), &SourceMeta::MANUAL);
/// let script = compose!(Shell, "echo {}", name.clone().sanitize::<Shell>());
/// assert_eq!(script, "echo 'it'\\''s; rm -rf ~'");
///
/// let page = compose!(Html, "<p>{}</p>", name.escaped::<Html>());
/// assert_eq!(page, "<p>it&#x27;s; rm -rf ~</p>");
/// ```
///
/// A value sanitized for another context is refused:
///
/// ```compile_fail,E0277
/// use rasp_core::{Html, Shell, SourceMeta, Tainted, compose};
/// let name = Tainted::new("<x>".to_string(), &SourceMeta::MANUAL);
/// let script = compose!(Shell, "echo {}", name.sanitize::<Html>());
/// ```
#[macro_export]
macro_rules! compose {
    ($context:ty, $format:literal $(, $arg:expr)* $(,)?) => {
        $crate::compose::Composed::<$context>::__from_format(::std::format!(
            $format $(, $crate::compose::__piece::<$context, _>(&$arg))*
        ))
    };
}

/// Composed markup is HTML the application vouches for: askama renders it
/// as it is.
#[cfg(feature = "askama")]
impl askama::filters::HtmlSafe for Composed<Html> {}

/// Composed markup displays, as the other HTML values do (askama needs
/// `Display`); other contexts' composed text does not.
impl fmt::Display for Composed<Html> {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

// Composed text is accepted by the trust trait of its own context: it is
// checked at the sink like every guarded argument.
macro_rules! composed_is_trusted {
    ($(
        $(#[$doc:meta])*
        $variant:ident { name: $name:literal, event: $event:literal, marker: $marker:ident,
                         trust: $trust:ident, $($rest:tt)* },
    )*) => {$(
        impl<C: SameContext<crate::class::$marker>>
            crate::trust::sealed::Sealed<crate::class::$marker> for Composed<C> {}
        impl<C: SameContext<crate::class::$marker>> crate::trust::$trust for Composed<C> {}
    )*};
}

rasp_detect::with_sink_classes!(composed_is_trusted);
