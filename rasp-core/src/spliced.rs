//! Text built by a span-exact macro (`rasp::sql!`, `rasp::shell!`): the
//! literal template's pieces and the arguments, with the byte range each
//! argument wrote.
//!
//! The verbatim check finds a recorded input in the final text and judges
//! every occurrence; it cannot tell the application's own text from the
//! input's, and misses an input transformed before it was spliced. A
//! macro that builds the text from a literal knows, at build time, which
//! bytes are the template's: [`Spliced`] keeps the range of every
//! argument, and the check judges exactly those ranges, with or without a
//! request context.

use core::fmt::Write as _;
use core::marker::PhantomData;

use smallvec::SmallVec;

use crate::class::Context;
use crate::compose::{__piece, Part};
use crate::detect::span::Place;
use crate::taint::{SourceMeta, Tainted};

/// The bytes one argument wrote, and where its value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgSpan {
    /// Start of the argument's bytes in the text.
    pub start: usize,
    /// End (exclusive).
    pub end: usize,
    /// The source of a tainted argument; `None` for a value the program
    /// held.
    pub source: Option<&'static SourceMeta>,
    /// Where the template put the argument, as the macro read it at build
    /// time (`rasp_detect::span::Place`).
    pub place: Place,
}

/// Text for context `C` built from a literal template, with the span of
/// every argument that needs judging. Made by the span-exact macros only;
/// a guard of `C` checks the spans and hands the text on.
pub struct Spliced<C> {
    text: String,
    spans: SmallVec<[ArgSpan; 4]>,
    context: PhantomData<C>,
}

impl<C: Context> Spliced<C> {
    /// An empty text with room for `capacity` bytes. Not for applications.
    #[doc(hidden)]
    #[inline]
    pub fn __with_capacity(capacity: usize) -> Self {
        Spliced {
            text: String::with_capacity(capacity),
            spans: SmallVec::new(),
            context: PhantomData,
        }
    }

    /// Appends a piece of the literal template. Not for applications.
    #[doc(hidden)]
    #[inline]
    pub fn __literal(&mut self, piece: &'static str) {
        self.text.push_str(piece);
    }

    /// Appends an argument and remembers its span. Not for applications.
    #[doc(hidden)]
    #[inline]
    pub fn __arg<A: Splice<C> + ?Sized>(&mut self, arg: &A) {
        self.__arg_in(arg, Place::Any);
    }

    /// Appends an argument the macro placed in `place`. Not for
    /// applications.
    #[doc(hidden)]
    #[inline]
    pub fn __arg_in<A: Splice<C> + ?Sized>(&mut self, arg: &A, place: Place) {
        let start = self.text.len();
        arg.__splice(&mut self.text);
        let end = self.text.len();
        if end > start && arg.__judged() {
            self.spans.push(ArgSpan {
                start,
                end,
                source: arg.__source(),
                place,
            });
        }
    }

    /// The built text, for the check of this crate.
    #[inline]
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The spans to judge, in the order they were written.
    #[inline]
    pub fn spans(&self) -> &[ArgSpan] {
        &self.spans
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

    /// The text, once its spans passed the check (`check::check_spliced`).
    #[inline]
    pub(crate) fn into_text(self) -> String {
        self.text
    }
}

impl<C: Context> core::fmt::Debug for Spliced<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Spliced")
            .field("context", &C::CLASS)
            .field("len", &self.text.len())
            .field("spans", &self.spans.len())
            .finish()
    }
}

/// What a span-exact macro of context `C` takes as an argument: a tainted
/// value (its span is judged where it stands), and everything `compose!`
/// takes ([`Part`]): values sanitized, asserted or composed for `C`, text
/// the program holds (judged too) and numbers (not judged). Sealed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an argument of a span-exact macro for `{C}`",
    label = "not text, a tainted value, a number, or a value made safe for this context",
    note = "arguments are `rasp::Tainted` text, `&str`/`String`, numbers, and values sanitized, asserted or composed for the macro's context"
)]
pub trait Splice<C> {
    /// Writes the argument. Not for applications.
    #[doc(hidden)]
    fn __splice(&self, out: &mut String);
    /// Whether its span is judged. Not for applications.
    #[doc(hidden)]
    fn __judged(&self) -> bool;
    /// Its source, if tainted. Not for applications.
    #[doc(hidden)]
    fn __source(&self) -> Option<&'static SourceMeta>;
}

// Everything `compose!` takes is taken here too, written and judged as
// its `Part` says. Written out per type rather than as one blanket impl,
// which would overlap the impl for `Tainted` below.
macro_rules! splice_as_part {
    ($([$($generics:tt)*] $ty:ty;)*) => {$(
        impl<$($generics)* C: Context> Splice<C> for $ty where $ty: Part<C> {
            #[inline]
            fn __splice(&self, out: &mut String) {
                write!(out, "{}", __piece::<C, Self>(self)).expect("writing to a String cannot fail");
            }

            #[inline]
            fn __judged(&self) -> bool {
                Part::__judged(self)
            }

            /// Only a tainted value has a source.
            #[inline]
            fn __source(&self) -> Option<&'static SourceMeta> {
                None
            }
        }
    )*};
}

splice_as_part! {
    [S, F,] crate::sanitize::Sanitized<S, F>;
    [S, F,] crate::escape_hatch::Asserted<S, F>;
    [F,] crate::compose::Composed<F>;
    ['a, F,] crate::escaped::Escaped<'a, F>;
    [] str;
    [] String;
    [] char;
    [] u8; [] u16; [] u32; [] u64; [] u128; [] usize;
    [] i8; [] i16; [] i32; [] i64; [] i128; [] isize;
    [] f32; [] f64; [] bool;
}

impl<C: Context, T: Splice<C> + ?Sized> Splice<C> for &T {
    #[inline]
    fn __splice(&self, out: &mut String) {
        (**self).__splice(out);
    }

    #[inline]
    fn __judged(&self) -> bool {
        (**self).__judged()
    }

    #[inline]
    fn __source(&self) -> Option<&'static SourceMeta> {
        (**self).__source()
    }
}

/// A tainted value goes in as it is: the macro knows its span, and the
/// check judges it there. This is the sanctioned splice of tainted text.
impl<C: Context, T: AsRef<str>> Splice<C> for Tainted<T> {
    #[inline]
    fn __splice(&self, out: &mut String) {
        out.push_str(self.value_ref().as_ref());
    }

    #[inline]
    fn __judged(&self) -> bool {
        true
    }

    #[inline]
    fn __source(&self) -> Option<&'static SourceMeta> {
        Some(self.source())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::Sql;

    static SRC: SourceMeta = SourceMeta::MANUAL;

    #[test]
    fn spans_cover_exactly_what_each_argument_wrote() {
        let name = Tainted::new("O'Brien".to_owned(), &SRC);
        let mut t = Spliced::<Sql>::__with_capacity(64);
        t.__literal("SELECT id FROM users WHERE name = '");
        t.__arg(&name);
        t.__literal("' AND age > ");
        t.__arg(&42_u32);
        t.__literal(" AND city = '");
        t.__arg("Paris");
        t.__literal("'");
        assert_eq!(
            t.text(),
            "SELECT id FROM users WHERE name = 'O'Brien' AND age > 42 AND city = 'Paris'"
        );
        let spans: Vec<_> = t
            .spans()
            .iter()
            .map(|s| (&t.text()[s.start..s.end], s.source.is_some()))
            .collect();
        assert_eq!(
            spans,
            [("O'Brien", true), ("Paris", false)],
            "numbers are not judged"
        );
    }
}
