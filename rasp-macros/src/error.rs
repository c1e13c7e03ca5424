//! Reporting misuse without breaking the caller.
//!
//! A macro that fails should still hand the item back: the error then stands
//! alone in the compiler output instead of being buried under "cannot find
//! function" errors at every call site, and IDEs keep resolving the fn.

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Which attribute is expanding; names it in every message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Macro {
    Source,
    Sink,
    Protect,
}

impl Macro {
    /// The attribute as users write it, e.g. `#[rasp::sink]`.
    pub(crate) const fn attribute(self) -> &'static str {
        match self {
            Macro::Source => "#[rasp::source]",
            Macro::Sink => "#[rasp::sink]",
            Macro::Protect => "#[rasp::protect]",
        }
    }
}

/// Gathers every problem found in one attribute use, so a user fixes them
/// in one round instead of one compile per mistake.
#[derive(Default)]
pub(crate) struct Errors {
    first: Option<syn::Error>,
}

impl Errors {
    /// Adds a problem.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.first {
            Some(first) => first.combine(error),
            None => self.first = Some(error),
        }
    }

    /// `Err` with every problem if there was one.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.first.map_or(Ok(()), Err)
    }
}

/// Both results, or every error of the two.
pub(crate) fn join<A, B>(a: syn::Result<A>, b: syn::Result<B>) -> syn::Result<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(mut a), Err(b)) => {
            a.combine(b);
            Err(a)
        }
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
    }
}

/// The original item followed by the errors: the item keeps compiling as
/// written, and the errors point at the spans that caused them.
pub(crate) fn with_item(error: syn::Error, item: impl ToTokens) -> TokenStream {
    let mut tokens = item.into_token_stream();
    tokens.extend(error.into_compile_error());
    tokens
}
