//! Running a fn's original body as a value, with `return` and `?` intact.
//!
//! `#[rasp::source]` must taint the value on *every* exit of the body,
//! including early `return`s and `?`. Pasting the body inline would let a
//! `return` skip the wrapping, so the body becomes the body of something
//! it can return from:
//!
//! * sync fns: a `move` closure called on the spot. A closure sees `self`,
//!   the generic parameters and `Self` like the fn does; an inner fn item
//!   would see none of them.
//! * async fns: an `async move` block awaited on the spot, which also keeps
//!   `.await` legal in the body.
//!
//! Either way the closure or block would infer its output type from the
//! body alone, which is too late for `?` (it needs the error type to pick a
//! `From` conversion). A never-taken `return` of a value of the declared
//! return type, placed first, fixes the output type before the body is
//! checked, so inference and diagnostics behave as in the original fn. The
//! same trick is used by `tracing`'s `#[instrument]`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericArgument, Ident, Type};

use crate::func::{Func, result_args};

/// `let binding = <original body>;` with the body's value of type `ret`:
/// a called closure for a sync fn, an awaited `async move` block for an
/// async fn.
pub(crate) fn bind(func: &Func, ret: &Type, binding: &Ident) -> TokenStream {
    let block = typed_block(func, ret);
    if func.sig.asyncness.is_some() {
        quote! {
            let #binding = async move #block.await;
        }
    } else {
        quote! {
            #[allow(
                clippy::redundant_closure_call,
                reason = "the closure gives early `return`s in the body a place to return to"
            )]
            let #binding = (move || #block)();
        }
    }
}

/// `async move { … }` of the original body, for wrapping in a future
/// adapter; `prelude` runs first, inside the block.
pub(crate) fn async_block(func: &Func, ret: &Type, prelude: TokenStream) -> TokenStream {
    let edge = return_type_edge(ret);
    let block = func.original_block();
    quote! {
        async move {
            #edge
            #prelude
            #block
        }
    }
}

/// `{ <edge> <original block> }`.
fn typed_block(func: &Func, ret: &Type) -> TokenStream {
    let edge = return_type_edge(ret);
    let block = func.original_block();
    quote!({ #edge #block })
}

/// A `return` that never runs but fixes the enclosing closure's or async
/// block's output type to `ret`. Spanned at the return type, so a body
/// whose value does not match it is reported against the declaration.
fn return_type_edge(ret: &Type) -> TokenStream {
    quote_spanned! {ret.span()=>
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable,
            reason = "never runs: it only fixes the output type before the body is checked"
        )]
        if false {
            let __rasp_return_type: #ret = loop {};
            return __rasp_return_type;
        }
    }
}

/// The value a guarded fn returns in place of a refused call, from the
/// `Blocked` in `blocked`.
///
/// For `Result<T, E>` the bound is checked on `E` and spanned there, so an
/// error type without `From<Blocked>` gets rasp's message rather than an
/// unadorned `From` error. Any other return type (aliases hiding `E`,
/// `u32`, …) goes through `OnBlocked`, spanned at the return type. A type
/// spelled `Result<T, E>` is taken to be `core::result::Result` (directly
/// or through an alias), as everywhere else in the expansion.
pub(crate) fn refusal(ret: &Type, blocked: &Ident) -> TokenStream {
    let mut ty = ret.clone();
    if let Some(args) = result_args(&mut ty)
        && args.len() == 2
        && let Some(GenericArgument::Type(error)) = args.last()
    {
        let convert = quote_spanned! {error.span()=>
            <#error as ::rasp::__private_v1::CarriesBlocked>::from_blocked(#blocked)
        };
        return quote!(::core::result::Result::Err(#convert));
    }
    quote_spanned! {ret.span()=>
        <#ret as ::rasp::__private_v1::OnBlocked>::on_blocked(#blocked)
    }
}
