//! `#[rasp::source]`: the fn's return value becomes `Tainted<T>`.
//!
//! ```text
//! #[rasp::source(kind = "http.query")]          fn q(&self) -> Tainted<String> {
//! fn q(&self) -> String { body }         ==>        static __RASP_SOURCE: SourceMeta = …;
//!                                                    let __rasp_value = (move || { body })();
//!                                                    taint(__rasp_value, &__RASP_SOURCE)
//!                                                }
//! ```
//!
//! For `Result<T, E>` (or any alias whose last segment is `Result`, such as
//! `io::Result<T>`) only the `Ok` value is tainted: the fn returns
//! `Result<Tainted<T>, E>`, so `?` keeps working for its callers.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericArgument, ReturnType, Type};

use crate::attr::SourceArgs;
use crate::body;
use crate::func::{Func, result_args};
use crate::valid;

/// Expands `#[rasp::source]` on `func`.
pub(crate) fn expand(args: &SourceArgs, func: &Func) -> syn::Result<TokenStream> {
    let ret = valid::source(func)?;
    let kind = &args.kind;
    let fn_path = func.path_expr();
    let value = syn::Ident::new("__rasp_value", Span::call_site());
    let bind = body::bind(func, ret, &value);

    let mut tainted_ret = ret.clone();
    let taint = match result_ok_type(&mut tainted_ret) {
        Some(ok) => {
            let span = ok.span();
            *ok = tainted(ok, span);
            quote_spanned! {span=>
                ::core::result::Result::map(#value, |__rasp_ok| {
                    ::rasp::__private_v1::taint(__rasp_ok, &__RASP_SOURCE)
                })
            }
        }
        None => {
            let span = ret.span();
            tainted_ret = tainted(ret, span);
            // The value is the argument rustc blames for a missing
            // `Recordable`: give it the return type's span too.
            let mut value = value.clone();
            value.set_span(span);
            quote_spanned! {span=>
                ::rasp::__private_v1::taint(#value, &__RASP_SOURCE)
            }
        }
    };
    let line = quote_spanned!(func.span()=> ::core::line!());
    let body = quote! {
        static __RASP_SOURCE: ::rasp::__private_v1::SourceMeta = ::rasp::__private_v1::SourceMeta {
            kind: #kind,
            fn_path: #fn_path,
            file: ::core::file!(),
            line: #line,
        };
        #bind
        #taint
    };

    let mut sig = func.sig.clone();
    if let ReturnType::Type(_, ty) = &mut sig.output {
        **ty = tainted_ret;
    }
    Ok(func.emit(&sig, body))
}

/// `::rasp::__private_v1::Tainted<ty>`, spanned at the user's type so a
/// `Recordable` error points there.
fn tainted(ty: &Type, span: Span) -> Type {
    syn::parse_quote_spanned!(span=> ::rasp::__private_v1::Tainted<#ty>)
}

/// The `T` of `Result<T, E>` / `Result<T>`.
fn result_ok_type(ty: &mut Type) -> Option<&mut Type> {
    match result_args(ty)?.first_mut()? {
        GenericArgument::Type(ok) => Some(ok),
        _ => None,
    }
}
