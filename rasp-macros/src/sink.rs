//! `#[rasp::sink]`: registers the sink and guards its parameters.
//!
//! ```text
//! #[rasp::sink(kind = "sql", guard(q))]       fn run(q: impl SqlSafe) -> Result<u64, E> {
//! fn run(q: impl SqlSafe)              ==>        static __RASP_SINK: SinkSite = …;
//!     -> Result<u64, E> { body }                  inventory::submit!(SinkRegistration(&__RASP_SINK));
//!                                                 if let Err(b) = guard_sql_arg(&__RASP_SINK, &q) {
//!                                                     return Err(<E as CarriesBlocked>::from_blocked(b));
//!                                                 }
//!                                                 { body }
//!                                             }
//! ```
//!
//! The guard call carries the trust-trait bound of the sink class and is
//! spanned at the parameter's type, so a parameter type that is not trusted
//! for the class is reported there with the trait's own message. The
//! refusal is spanned at the error type `E` (or at the whole return type
//! when it is not spelled `Result<T, E>`) for the same reason.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::attr::{ClassTokens, SinkArgs};
use crate::body;
use crate::func::Func;
use crate::valid;

/// Expands `#[rasp::sink]` on `func`.
pub(crate) fn expand(args: &SinkArgs, func: &Func) -> syn::Result<TokenStream> {
    let (ret, guarded) = valid::sink(args, func)?;
    let id = match &args.id {
        Some(id) => quote!(#id),
        None => func.path_expr(),
    };
    let fn_path = func.path_expr();
    let kind = args.kind.variant();
    let dialect = args.dialect.variant();
    let names = guarded.iter().map(|g| g.name.to_string());
    let line = quote_spanned!(func.span()=> ::core::line!());

    let guard_fn = args.kind.guard_fn();
    let checks = guarded.iter().map(|g| {
        let span = g.ty.span();
        let mut arg = g.name.clone();
        arg.set_span(span);
        quote_spanned!(span=> ::rasp::__private_v1::#guard_fn(&__RASP_SINK, &#arg))
    });
    // One `return` for all parameters: the first refusal wins, and a return
    // type that cannot carry `Blocked` is reported once.
    let verdict =
        checks.reduce(|all, next| quote!(::core::result::Result::and_then(#all, |()| #next)));
    let blocked = syn::Ident::new("__rasp_blocked", Span::call_site());
    let on_blocked = body::refusal(ret, &blocked);
    let check = verdict.map(|verdict| {
        quote! {
            if let ::core::result::Result::Err(#blocked) = #verdict {
                return #on_blocked;
            }
        }
    });
    let block = func.original_block();

    let body = quote! {
        static __RASP_SINK: ::rasp::__private_v1::SinkSite = ::rasp::__private_v1::SinkSite::new(
            #id,
            ::rasp::__private_v1::SinkClass::#kind,
            #fn_path,
            ::core::file!(),
            #line,
            &[#(#names),*],
            ::rasp::__private_v1::Guard::Typed,
        )
        .with_dialect(::rasp::__private_v1::Dialect::#dialect);
        ::rasp::__private_v1::inventory::submit! {
            ::rasp::__private_v1::SinkRegistration(&__RASP_SINK)
        }
        #check
        #block
    };
    Ok(func.emit(&func.sig, body))
}
