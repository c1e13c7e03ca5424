//! Arguments of the three attributes.
//!
//! Each argument list is parsed with `lookahead1`, so a misspelt key is
//! answered with the list of keys the attribute accepts. A key given twice
//! is refused at its second occurrence, and values are checked where they
//! are written (an unknown sink kind points at its string literal), so every
//! mistake comes back with a span and the fix.

use proc_macro2::Span;
use quote::format_ident;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

use crate::error::Macro;

mod kw {
    syn::custom_keyword!(kind);
    syn::custom_keyword!(guard);
    syn::custom_keyword!(id);
    syn::custom_keyword!(dialect);
    syn::custom_keyword!(route);
}

/// `#[rasp::source(kind = "http.query")]`.
pub(crate) struct SourceArgs {
    /// Source kind as written, e.g. `http.query`.
    pub(crate) kind: LitStr,
}

/// `#[rasp::sink(kind = "sql", guard(query), id = "…", dialect = "…")]`.
pub(crate) struct SinkArgs {
    /// Sink class.
    pub(crate) kind: SinkClass,
    /// Names listed in `guard(...)`, in order.
    pub(crate) guard: Vec<Ident>,
    /// Stable id, when given.
    pub(crate) id: Option<LitStr>,
    /// SQL dialect; `generic` unless given.
    pub(crate) dialect: SqlDialect,
}

/// `#[rasp::protect]` or `#[rasp::protect(route = "/users/{id}")]`.
pub(crate) struct ProtectArgs {
    /// Route template, when given.
    pub(crate) route: Option<LitStr>,
}

/// A sink class, as named in `kind = "…"`: the registry's own type, so
/// the names the attribute accepts are the ones the runtime knows.
pub(crate) use rasp_detect::SinkClass;

/// What the macros need of a sink class beyond the registry's names.
pub(crate) trait ClassTokens {
    /// The trust trait guarded parameters must implement, as users write it.
    fn trust_path(self) -> String;
    /// The `rasp::SinkClass` variant.
    fn variant(self) -> Ident;
    /// The `__private_v1` fn that bounds a guarded argument by this class's
    /// trust trait and checks its text at run time.
    fn guard_fn(self) -> Ident;
}

impl ClassTokens for SinkClass {
    fn trust_path(self) -> String {
        format!("rasp::{}", self.trust_trait())
    }

    fn variant(self) -> Ident {
        // `Debug` of a fieldless variant is its name.
        Ident::new(&format!("{self:?}"), Span::call_site())
    }

    fn guard_fn(self) -> Ident {
        format_ident!("guard_{}_arg", self.as_str())
    }
}

fn parse_class(kind: &LitStr) -> syn::Result<SinkClass> {
    let name = kind.value();
    SinkClass::from_name(&name).ok_or_else(|| {
        let names: Vec<_> = SinkClass::ALL.iter().map(|c| c.as_str()).collect();
        syn::Error::new(
            kind.span(),
            format!(
                "unknown sink kind `{name}` in #[rasp::sink]; expected one of: {}",
                names.join(", ")
            ),
        )
    })
}

/// A SQL dialect, as named in `dialect = "…"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SqlDialect {
    Generic,
    Sqlite,
    Postgres,
    MySql,
}

impl SqlDialect {
    const NAMES: &'static str = "generic, sqlite, postgres, mysql, mariadb";

    /// Accepts the names `rasp::Dialect::from_name` accepts.
    fn parse(dialect: &LitStr) -> syn::Result<SqlDialect> {
        Ok(match dialect.value().as_str() {
            "generic" => SqlDialect::Generic,
            "sqlite" => SqlDialect::Sqlite,
            "postgres" | "postgresql" => SqlDialect::Postgres,
            "mysql" | "mariadb" => SqlDialect::MySql,
            other => {
                return Err(syn::Error::new(
                    dialect.span(),
                    format!(
                        "unknown SQL dialect `{other}` in #[rasp::sink]; expected one of: {}",
                        SqlDialect::NAMES
                    ),
                ));
            }
        })
    }

    /// The `rasp::Dialect` variant.
    pub(crate) fn variant(self) -> Ident {
        let name = match self {
            SqlDialect::Generic => "Generic",
            SqlDialect::Sqlite => "Sqlite",
            SqlDialect::Postgres => "Postgres",
            SqlDialect::MySql => "MySql",
        };
        Ident::new(name, Span::call_site())
    }
}

impl Parse for SourceArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        const ATTR: Macro = Macro::Source;
        let mut kind = None;
        parse_list(input, ATTR, |input| {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::kind) {
                let key: kw::kind = input.parse()?;
                let value = string_value(input, ATTR, ("kind", key.span), "\"http.query\"")?;
                set_once(&mut kind, ATTR, "kind", key.span, value)
            } else {
                Err(unknown_key(ATTR, lookahead.error()))
            }
        })?;
        let kind =
            kind.ok_or_else(|| missing(ATTR, "kind", "#[rasp::source(kind = \"http.query\")]"))?;
        check_name(&kind, ATTR, "kind")?;
        Ok(SourceArgs { kind })
    }
}

impl Parse for SinkArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        const ATTR: Macro = Macro::Sink;
        let mut kind = None;
        let mut guard = None;
        let mut id = None;
        let mut dialect = None;
        parse_list(input, ATTR, |input| {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::kind) {
                let key: kw::kind = input.parse()?;
                let value = string_value(input, ATTR, ("kind", key.span), "\"sql\"")?;
                set_once(&mut kind, ATTR, "kind", key.span, value)
            } else if lookahead.peek(kw::guard) {
                let key: kw::guard = input.parse()?;
                let names = guard_list(input)?;
                set_once(&mut guard, ATTR, "guard", key.span, names)
            } else if lookahead.peek(kw::id) {
                let key: kw::id = input.parse()?;
                let value = string_value(input, ATTR, ("id", key.span), "\"shop.orders.search\"")?;
                set_once(&mut id, ATTR, "id", key.span, value)
            } else if lookahead.peek(kw::dialect) {
                let key: kw::dialect = input.parse()?;
                let value = string_value(input, ATTR, ("dialect", key.span), "\"postgres\"")?;
                set_once(&mut dialect, ATTR, "dialect", key.span, (key, value))
            } else {
                Err(unknown_key(ATTR, lookahead.error()))
            }
        })?;

        let kind = kind
            .ok_or_else(|| missing(ATTR, "kind", "#[rasp::sink(kind = \"sql\", guard(query))]"))?;
        let kind = parse_class(&kind)?;
        let guard = guard.ok_or_else(|| {
            missing(
                ATTR,
                "guard",
                "#[rasp::sink(kind = \"sql\", guard(query))], naming the parameters that carry sink text",
            )
        })?;
        if let Some(id) = &id {
            check_name(id, ATTR, "id")?;
        }
        let dialect = match dialect {
            None => SqlDialect::Generic,
            Some((key, _)) if kind != SinkClass::Sql => {
                return Err(syn::Error::new(
                    key.span,
                    format!(
                        "`dialect` applies to SQL sinks only; remove it from this `kind = \"{}\"` sink",
                        kind.as_str()
                    ),
                ));
            }
            Some((_, value)) => SqlDialect::parse(&value)?,
        };
        Ok(SinkArgs {
            kind,
            guard,
            id,
            dialect,
        })
    }
}

impl Parse for ProtectArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        const ATTR: Macro = Macro::Protect;
        let mut route = None;
        parse_list(input, ATTR, |input| {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::route) {
                let key: kw::route = input.parse()?;
                let value = string_value(input, ATTR, ("route", key.span), "\"/users/{id}\"")?;
                set_once(&mut route, ATTR, "route", key.span, value)
            } else {
                Err(unknown_key(ATTR, lookahead.error()))
            }
        })?;
        if let Some(route) = &route {
            check_name(route, ATTR, "route")?;
        }
        Ok(ProtectArgs { route })
    }
}

/// Parses `arg, arg, …` with an optional trailing comma.
fn parse_list(
    input: ParseStream,
    attr: Macro,
    mut arg: impl FnMut(ParseStream) -> syn::Result<()>,
) -> syn::Result<()> {
    while !input.is_empty() {
        arg(input)?;
        if input.is_empty() {
            break;
        }
        if !input.peek(Token![,]) {
            return Err(input.error(format!(
                "expected `,` between the arguments of {}",
                attr.attribute()
            )));
        }
        input.parse::<Token![,]>()?;
    }
    Ok(())
}

/// `= "text"` after `key` (whose span is `key_span`).
fn string_value(
    input: ParseStream,
    attr: Macro,
    key: (&str, Span),
    example: &str,
) -> syn::Result<LitStr> {
    let (key, key_span) = key;
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(
            key_span,
            format!(
                "`{key}` takes a value in {}: `{key} = {example}`",
                attr.attribute()
            ),
        ));
    }
    input.parse::<Token![=]>()?;
    if !input.peek(LitStr) {
        return Err(input.error(format!(
            "`{key}` takes a string literal in {}: `{key} = {example}`",
            attr.attribute()
        )));
    }
    input.parse()
}

/// `(name, name, …)` after `guard`.
fn guard_list(input: ParseStream) -> syn::Result<Vec<Ident>> {
    if !input.peek(syn::token::Paren) {
        return Err(
            input.error("`guard` lists the guarded parameters in #[rasp::sink]: `guard(query)`")
        );
    }
    let content;
    let parens = syn::parenthesized!(content in input);
    // `parse_any` also accepts `self`, which is then refused with a reason
    // instead of a bare "expected identifier".
    let names = content.parse_terminated(Ident::parse_any, Token![,])?;
    if names.is_empty() {
        return Err(syn::Error::new(
            parens.span.join(),
            "`guard(...)` in #[rasp::sink] names at least one parameter: `guard(query)`",
        ));
    }
    Ok(names.into_iter().collect())
}

fn set_once<T>(
    slot: &mut Option<T>,
    attr: Macro,
    key: &str,
    span: Span,
    value: T,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            span,
            format!("duplicate `{key}` in {}; give it once", attr.attribute()),
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// Names (kinds, ids, routes) end up in events and policies: non-empty and
/// free of whitespace, so they can be matched and grepped as written.
fn check_name(value: &LitStr, attr: Macro, key: &str) -> syn::Result<()> {
    let text = value.value();
    let problem = if text.is_empty() {
        "must not be empty"
    } else if text.chars().any(char::is_whitespace) {
        "must not contain whitespace"
    } else {
        return Ok(());
    };
    Err(syn::Error::new(
        value.span(),
        format!("`{key}` in {} {problem}", attr.attribute()),
    ))
}

fn unknown_key(attr: Macro, lookahead: syn::Error) -> syn::Error {
    syn::Error::new(
        lookahead.span(),
        format!("unknown argument to {}: {lookahead}", attr.attribute()),
    )
}

fn missing(attr: Macro, key: &str, example: &str) -> syn::Error {
    syn::Error::new(
        Span::call_site(),
        format!("{} needs `{key}`: {example}", attr.attribute()),
    )
}
