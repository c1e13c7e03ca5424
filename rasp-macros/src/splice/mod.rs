//! `rasp::sql!` and `rasp::shell!`: sink text built from a literal
//! template, with the span of every argument known at build time.
//!
//! The expansion appends the template's pieces and the arguments to a
//! `Spliced` text, which records where each argument's bytes went, and
//! hands it to the guard of the class, which judges exactly those spans.
//! Each use registers a sink site of its own (guard `span-exact`), so the
//! audit sees every call.

mod places;
mod template;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token};

use places::Reader;
use rasp_detect::span::Place;
use template::Piece;

/// One span-exact macro: its name, the context marker of its class and
/// the fn of `__private_v1` that checks and finishes its text.
pub(crate) struct Kind {
    pub(crate) name: &'static str,
    pub(crate) marker: &'static str,
    pub(crate) finish: &'static str,
    /// How the template is read (`places`).
    pub(crate) reader: Reader,
}

/// `rasp::sql!`.
pub(crate) const SQL: Kind = Kind {
    name: "sql",
    marker: "Sql",
    finish: "spliced_sql",
    reader: Reader::Sql,
};

/// `rasp::shell!`.
pub(crate) const SHELL: Kind = Kind {
    name: "shell",
    marker: "Shell",
    finish: "spliced_shell",
    reader: Reader::Shell,
};

/// `rasp::path!`.
pub(crate) const PATH: Kind = Kind {
    name: "path",
    marker: "Path",
    finish: "spliced_path",
    reader: Reader::Path,
};

/// `rasp::header!`.
pub(crate) const HEADER: Kind = Kind {
    name: "header",
    marker: "Header",
    finish: "spliced_header",
    reader: Reader::Header,
};

/// `rasp::redirect!`.
pub(crate) const REDIRECT: Kind = Kind {
    name: "redirect",
    marker: "Redirect",
    finish: "spliced_redirect",
    reader: Reader::Redirect,
};

/// `rasp::url!`.
pub(crate) const URL: Kind = Kind {
    name: "url",
    marker: "Url",
    finish: "spliced_url",
    reader: Reader::Url,
};

/// `[root,] "template", args…` where an argument is `expr` or
/// `name = expr`; `path!` takes the root first.
struct Input {
    root: Option<Expr>,
    template: LitStr,
    args: Vec<Arg>,
}

struct Arg {
    name: Option<Ident>,
    expr: Expr,
}

impl Input {
    /// `path!`'s input: the root, then the rest.
    fn rooted(input: ParseStream<'_>) -> syn::Result<Self> {
        let root: Expr = input.parse()?;
        input.parse::<Token![,]>()?;
        let rest: Input = input.parse()?;
        Ok(Input {
            root: Some(root),
            ..rest
        })
    }
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let template: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "the template must be a string literal: the macro reads it at build time to know which bytes each argument writes",
            )
        })?;
        let mut args = Vec::new();
        if input.parse::<Option<Token![,]>>()?.is_some() {
            let parsed = Punctuated::<Arg, Token![,]>::parse_terminated(input)?;
            args.extend(parsed);
        }
        Ok(Input {
            root: None,
            template,
            args,
        })
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let name: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            return Ok(Arg {
                name: Some(name),
                expr: input.parse()?,
            });
        }
        Ok(Arg {
            name: None,
            expr: input.parse()?,
        })
    }
}

/// Appends argument `index`, spanned at its expression so that an
/// argument of the wrong type is reported there.
fn arg_step(index: usize, arg: &Arg, place: Place) -> TokenStream {
    let span = syn::spanned::Spanned::span(&arg.expr);
    let var = format_ident!("__rasp_arg{index}", span = span);
    let place = place_tokens(place);
    quote_spanned! {span=> __rasp_text.__arg_in(#var, #place); }
}

/// `place` as the expansion names it.
fn place_tokens(place: Place) -> TokenStream {
    let variant = match place {
        Place::SqlQuoted => "SqlQuoted",
        Place::ShellSingleQuoted => "ShellSingleQuoted",
        Place::ShellDoubleQuoted => "ShellDoubleQuoted",
        Place::HeaderQuoted => "HeaderQuoted",
        Place::HeaderParam => "HeaderParam",
        Place::PathSegment => "PathSegment",
        Place::UrlPath => "UrlPath",
        Place::UrlQuery => "UrlQuery",
        Place::UrlFragment => "UrlFragment",
        _ => "Any",
    };
    let variant = Ident::new(variant, Span::call_site());
    quote! { ::rasp::__private_v1::Place::#variant }
}

/// Expands one use of the macro `kind`.
pub(crate) fn expand(kind: &Kind, tokens: TokenStream) -> TokenStream {
    let parsed = if kind.reader == Reader::Path {
        syn::parse::Parser::parse2(Input::rooted, tokens)
    } else {
        syn::parse2::<Input>(tokens)
    };
    match parsed.and_then(|input| generate(kind, &input)) {
        Ok(tokens) => tokens,
        Err(err) => err.to_compile_error(),
    }
}

fn generate(kind: &Kind, input: &Input) -> syn::Result<TokenStream> {
    let template = &input.template;
    let pieces = template::parse(&template.value())
        .map_err(|message| syn::Error::new(template.span(), message))?;
    let positional: Vec<&Arg> = input.args.iter().filter(|a| a.name.is_none()).collect();
    // As in `format!`, positional arguments come first, so argument `i`
    // of the template is `input.args[i]`.
    if let Some(first) = input.args.iter().position(|a| a.name.is_some())
        && let Some(after) = input.args[first..].iter().find(|a| a.name.is_none())
    {
        return Err(syn::Error::new_spanned(
            &after.expr,
            "positional arguments come before named ones",
        ));
    }

    let places = places::places(kind.reader, &pieces)
        .map_err(|message| syn::Error::new(template.span(), message))?;
    let mut used = vec![false; input.args.len()];
    let mut next = 0;
    let mut steps = Vec::new();
    let mut literal_len = 0;
    for (piece, place) in pieces.iter().zip(&places) {
        let place = place.unwrap_or(Place::Any);
        let step = match piece {
            Piece::Literal(text) => {
                literal_len += text.len();
                quote! { __rasp_text.__literal(#text); }
            }
            Piece::Next | Piece::Index(_) => {
                let index = match piece {
                    Piece::Index(index) => *index,
                    _ => {
                        next += 1;
                        next - 1
                    }
                };
                if index >= positional.len() {
                    return Err(syn::Error::new(
                        template.span(),
                        format!(
                            "the template refers to argument {index}, but {} positional argument{} given",
                            positional.len(),
                            if positional.len() == 1 {
                                " is"
                            } else {
                                "s are"
                            }
                        ),
                    ));
                }
                used[index] = true;
                arg_step(index, &input.args[index], place)
            }
            Piece::Name(name) => {
                match input
                    .args
                    .iter()
                    .position(|a| a.name.as_ref().is_some_and(|n| n == name))
                {
                    Some(at) => {
                        used[at] = true;
                        arg_step(at, &input.args[at], place)
                    }
                    None => {
                        // A variable in scope, as `format!` captures it.
                        let var = Ident::new(name, template.span());
                        let place = place_tokens(place);
                        quote_spanned! {template.span()=> __rasp_text.__arg_in(&#var, #place); }
                    }
                }
            }
        };
        steps.push(step);
    }
    if let Some(unused) = used.iter().position(|used| !used) {
        return Err(syn::Error::new_spanned(
            &input.args[unused].expr,
            "argument never used in the template",
        ));
    }

    let bindings = input.args.iter().enumerate().map(|(index, arg)| {
        let var = format_ident!("__rasp_arg{index}");
        let expr = &arg.expr;
        quote_spanned! {syn::spanned::Spanned::span(expr)=> let #var = &(#expr); }
    });
    let marker = Ident::new(kind.marker, Span::call_site());
    let finish = Ident::new(kind.finish, Span::call_site());
    let name = kind.name;
    let capacity = literal_len + 16 * input.args.len();
    let root = input.root.as_ref().map(|root| quote! { &(#root), });
    Ok(quote! {{
        static __RASP_SITE: ::rasp::__private_v1::SinkSite = ::rasp::__private_v1::SinkSite::new(
            ::core::concat!(::core::module_path!(), "::", #name, "!:", ::core::line!()),
            <::rasp::#marker as ::rasp::__private_v1::Context>::CLASS,
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
            &[],
            ::rasp::__private_v1::Guard::SpanExact,
        );
        ::rasp::__private_v1::inventory::submit! {
            ::rasp::__private_v1::SinkRegistration(&__RASP_SITE)
        }
        #(#bindings)*
        let mut __rasp_text =
            ::rasp::__private_v1::Spliced::<::rasp::#marker>::__with_capacity(#capacity);
        #(#steps)*
        ::rasp::__private_v1::#finish(#root __rasp_text, &__RASP_SITE)
    }})
}
