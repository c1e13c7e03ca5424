//! `#[rasp::protect]`: runs the fn inside a request context and its span.
//!
//! A sync fn makes the context current and enters the span for the rest of
//! its body; guards restore both on every exit, including `return`, `?` and
//! unwinding. An async fn cannot hold a thread-local across `.await`, so its
//! body becomes a future wrapped in `InContext` (context current on each
//! poll) and `tracing::Instrumented` (span entered on each poll), which
//! needs no async runtime. A protected call inside another protected call
//! reuses the outer context: one request, one context.
//!
//! Entry rules are asked first and may refuse the call; the refusal is
//! returned through the fn's return type, which must implement `OnBlocked`.
//! An async fn awaits them (`admit_async`: shared fleet state in Redis is
//! awaited, no thread is held); a sync fn asks them in place (`admit`).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

use crate::attr::ProtectArgs;
use crate::body;
use crate::func::Func;
use crate::valid;

/// Expands `#[rasp::protect]` on `func`.
pub(crate) fn expand(args: &ProtectArgs, func: &Func) -> syn::Result<TokenStream> {
    let ret = valid::protect(func)?;
    let fn_path = func.path_expr();
    let route = match &args.route {
        Some(route) => quote!(::core::option::Option::Some(#route)),
        None => quote!(::core::option::Option::None),
    };
    let line = quote_spanned!(func.span()=> ::core::line!());
    let ctx = syn::Ident::new("__rasp_ctx", Span::call_site());
    let span = syn::Ident::new("__rasp_span", Span::call_site());
    let blocked = syn::Ident::new("__rasp_blocked", Span::call_site());
    let on_blocked = body::refusal(ret, &blocked);
    let admit = quote! {
        if let ::core::result::Result::Err(#blocked) = ::rasp::__private_v1::admit(&__RASP_PROTECT) {
            return #on_blocked;
        }
    };

    let prelude = quote! {
        static __RASP_PROTECT: ::rasp::__private_v1::ProtectSite = ::rasp::__private_v1::ProtectSite {
            fn_path: #fn_path,
            file: ::core::file!(),
            line: #line,
            route: #route,
        };
        let #ctx = ::rasp::__private_v1::open_context(&__RASP_PROTECT);
        // Debug level on its own target: a subscriber that collects the
        // security events (`rasp::security`) does not also build and format
        // a span for every request, which cost more than the checks.
        let #span = ::rasp::__private_v1::tracing::debug_span!(
            target: "rasp::request",
            "rasp.protect",
            code.function = __RASP_PROTECT.fn_path,
            http.route = ::rasp::__private_v1::RequestContext::route(&#ctx).unwrap_or(""),
            rasp.request.id = ::rasp::__private_v1::RequestContext::request_id(&#ctx),
        );
    };

    let body = if func.sig.asyncness.is_some() {
        let admit_async = quote! {
            if let ::core::result::Result::Err(#blocked) =
                ::rasp::__private_v1::admit_async(&__RASP_PROTECT).await
            {
                return #on_blocked;
            }
        };
        let future = body::async_block(func, ret, admit_async);
        quote! {
            #prelude
            ::rasp::__private_v1::tracing::Instrument::instrument(
                ::rasp::__private_v1::RequestContext::instrument(#ctx, #future),
                #span,
            )
            .await
        }
    } else {
        let block = func.original_block();
        quote! {
            #prelude
            let __rasp_entered = #span.enter();
            let __rasp_scope = ::rasp::__private_v1::enter(#ctx);
            #admit
            #block
        }
    };
    Ok(func.emit(&func.sig, body))
}
