//! `rasp::sql!` and `rasp::shell!`: sink text built from a literal
//! template, with the span of every argument known at build time.
//!
//! The expansion appends the template's pieces and the arguments to a
//! `Spliced` text, which records where each argument's bytes went, and
//! hands it to the guard of the class, which judges exactly those spans.
//! Each use registers a sink site of its own (guard `span-exact`), so the
//! audit sees every call.

mod template;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token};

use template::Piece;

/// One span-exact macro: its name, the context marker of its class and
/// the fn of `__private_v1` that checks and finishes its text.
pub(crate) struct Kind {
    pub(crate) name: &'static str,
    pub(crate) marker: &'static str,
    pub(crate) finish: &'static str,
    /// Whether placeholders inside `'…'` are marked for the one-scan check
    /// (`rasp_detect::sql::quoted`).
    pub(crate) sql: bool,
}

/// `rasp::sql!`.
pub(crate) const SQL: Kind = Kind {
    name: "sql",
    marker: "Sql",
    finish: "spliced_sql",
    sql: true,
};

/// `rasp::shell!`.
pub(crate) const SHELL: Kind = Kind {
    name: "shell",
    marker: "Shell",
    finish: "spliced_shell",
    sql: false,
};

/// `"template", args…` where an argument is `expr` or `name = expr`.
struct Input {
    template: LitStr,
    args: Vec<Arg>,
}

struct Arg {
    name: Option<Ident>,
    expr: Expr,
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
        Ok(Input { template, args })
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
fn arg_step(index: usize, arg: &Arg, quoted: bool) -> TokenStream {
    let span = syn::spanned::Spanned::span(&arg.expr);
    let var = format_ident!("__rasp_arg{index}", span = span);
    let context = context(quoted);
    quote_spanned! {span=> __rasp_text.__arg_in(#var, #context); }
}

/// The `SpanContext` of a placeholder.
fn context(quoted: bool) -> TokenStream {
    if quoted {
        quote! { ::rasp::__private_v1::SpanContext::SqlQuoted }
    } else {
        quote! { ::rasp::__private_v1::SpanContext::Any }
    }
}

/// For each piece, whether it is a placeholder inside a `'…'` literal
/// under every dialect: read from the template with a one-byte probe in
/// place of each argument.
fn quoted_placeholders(pieces: &[Piece]) -> Vec<bool> {
    let mut probe = String::new();
    let mut at = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match piece {
            Piece::Literal(text) => {
                at.push(None);
                probe.push_str(text);
            }
            _ => {
                at.push(Some(probe.len()));
                probe.push('a');
            }
        }
    }
    at.into_iter()
        .map(|at| at.is_some_and(|at| rasp_detect::sql::quoted::quoted_at(probe.as_bytes(), at)))
        .collect()
}

/// Expands one use of the macro `kind`.
pub(crate) fn expand(kind: &Kind, tokens: TokenStream) -> TokenStream {
    match syn::parse2::<Input>(tokens).and_then(|input| generate(kind, &input)) {
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

    let quoted = if kind.sql {
        quoted_placeholders(&pieces)
    } else {
        vec![false; pieces.len()]
    };
    let mut used = vec![false; input.args.len()];
    let mut next = 0;
    let mut steps = Vec::new();
    let mut literal_len = 0;
    for (piece, &quoted) in pieces.iter().zip(&quoted) {
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
                arg_step(index, &input.args[index], quoted)
            }
            Piece::Name(name) => {
                match input
                    .args
                    .iter()
                    .position(|a| a.name.as_ref().is_some_and(|n| n == name))
                {
                    Some(at) => {
                        used[at] = true;
                        arg_step(at, &input.args[at], quoted)
                    }
                    None => {
                        // A variable in scope, as `format!` captures it.
                        let var = Ident::new(name, template.span());
                        let context = context(quoted);
                        quote_spanned! {template.span()=> __rasp_text.__arg_in(&#var, #context); }
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
        ::rasp::__private_v1::#finish(__rasp_text, &__RASP_SITE)
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_inside_single_quotes_are_marked() {
        let pieces =
            template::parse("SELECT '{}', {} FROM t WHERE a = '%{}%' AND b = \"{}\" -- '{}'")
                .unwrap();
        let marked: Vec<bool> = quoted_placeholders(&pieces)
            .into_iter()
            .zip(&pieces)
            .filter(|(_, p)| !matches!(p, Piece::Literal(_)))
            .map(|(quoted, _)| quoted)
            .collect();
        // In a literal; code; in a literal; double quotes (an identifier in
        // PostgreSQL); inside a comment.
        assert_eq!(marked, [true, false, true, false, false]);
    }
}
