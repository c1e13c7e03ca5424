//! Checks between an attribute's arguments and the fn it is placed on.
//!
//! Everything that can be decided from the tokens is decided here, with a
//! span on the offending part of the signature, and every problem of one
//! attribute use is reported at once. What only the type checker knows (is
//! this parameter type `SqlSafe`, can this return type carry `Blocked`) is
//! left to rustc, through spanned bounds in the expansion.

use proc_macro2::Ident;
use syn::Type;

use crate::attr::{ClassTokens, SinkArgs};
use crate::error::{Errors, Macro, join};
use crate::func::{Func, Param, find_impl_trait};

/// A guarded parameter: its name and declared type.
pub(crate) struct Guarded<'a> {
    pub(crate) name: &'a Ident,
    pub(crate) ty: &'a Type,
}

/// A `#[rasp::source]` fn: returns the type whose value is tainted.
pub(crate) fn source(func: &Func) -> syn::Result<&Type> {
    let ret = match func.return_type() {
        None => Err(syn::Error::new(
            func.return_span(),
            "#[rasp::source] needs a return value to taint; return the untrusted value, e.g. `-> String`",
        )),
        Some(Type::Never(never)) => Err(syn::Error::new(
            never.bang_token.span,
            "#[rasp::source] needs a return value to taint; this fn never returns one",
        )),
        Some(ty) => nameable(ty, Macro::Source),
    };
    join(not_const(func, Macro::Source), ret).map(|((), ret)| ret)
}

/// A `#[rasp::sink]` fn: returns its return type and guarded parameters.
pub(crate) fn sink<'a>(
    args: &'a SinkArgs,
    func: &'a Func,
) -> syn::Result<(&'a Type, Vec<Guarded<'a>>)> {
    let ret = join(
        not_const(func, Macro::Sink),
        fallible_return(func, Macro::Sink),
    );
    join(ret, guarded(args, func)).map(|(((), ret), guarded)| (ret, guarded))
}

/// A `#[rasp::protect]` fn: returns its return type.
pub(crate) fn protect(func: &Func) -> syn::Result<&Type> {
    join(
        not_const(func, Macro::Protect),
        fallible_return(func, Macro::Protect),
    )
    .map(|((), ret)| ret)
}

/// Resolves the names in `guard(...)` to parameters.
fn guarded<'a>(args: &'a SinkArgs, func: &'a Func) -> syn::Result<Vec<Guarded<'a>>> {
    let mut errors = Errors::default();
    let mut guarded: Vec<Guarded<'a>> = Vec::with_capacity(args.guard.len());
    for name in &args.guard {
        if guarded.iter().any(|g| g.name == name) {
            errors.push(syn::Error::new(
                name.span(),
                format!("`{name}` is listed twice in `guard(...)`; list each parameter once"),
            ));
            continue;
        }
        match func.param(name) {
            Param::Named(_, ty) if is_borrowed_str(ty) => errors.push(syn::Error::new_spanned(
                ty,
                format!(
                    "a guarded `&str` only accepts string literals; write `&'static str`, or take `impl {}` to also accept sanitized and asserted values",
                    args.kind.trust_path()
                ),
            )),
            Param::Named(ident, ty) => guarded.push(Guarded { name: ident, ty }),
            Param::Receiver => errors.push(syn::Error::new(
                name.span(),
                "`self` cannot be guarded; list the parameters that carry the sink's text in `guard(...)`",
            )),
            Param::InPattern => errors.push(syn::Error::new(
                name.span(),
                format!(
                    "`{name}` is bound inside a pattern and cannot be guarded; take the parameter as `{name}: T` and destructure it in the body"
                ),
            )),
            Param::Missing => {
                let names = func.param_names();
                let known = if names.is_empty() {
                    "it has no named parameters".to_owned()
                } else {
                    format!("parameters: {}", names.join(", "))
                };
                errors.push(syn::Error::new(
                    name.span(),
                    format!(
                        "#[rasp::sink] guards `{name}`, but the fn has no parameter of that name ({known})"
                    ),
                ));
            }
        }
    }
    errors.finish().map(|()| guarded)
}

/// `&str` or `&'a str`: trusted only as `&'static str`, and rustc would
/// report the shorter lifetime as a confusing "borrowed data escapes".
fn is_borrowed_str(ty: &Type) -> bool {
    match ty {
        Type::Reference(reference) => {
            reference
                .lifetime
                .as_ref()
                .is_none_or(|l| l.ident != "static")
                && matches!(&*reference.elem, Type::Path(p) if p.qself.is_none() && p.path.is_ident("str"))
        }
        Type::Group(group) => is_borrowed_str(&group.elem),
        Type::Paren(paren) => is_borrowed_str(&paren.elem),
        _ => false,
    }
}

/// The checks run at run time; a `const fn` would run them at compile time.
fn not_const(func: &Func, attr: Macro) -> syn::Result<()> {
    match &func.sig.constness {
        None => Ok(()),
        Some(constness) => Err(syn::Error::new(
            constness.span,
            format!(
                "{} cannot be used on a `const fn`: rasp records and checks values at run time",
                attr.attribute()
            ),
        )),
    }
}

/// A sink or protected fn refuses a call by returning `Blocked` through its
/// return type, so it needs one that can carry it.
fn fallible_return(func: &Func, attr: Macro) -> syn::Result<&Type> {
    match func.return_type() {
        Some(ty) => nameable(ty, attr),
        None => Err(syn::Error::new(
            func.return_span(),
            format!(
                "a {} fn must return `Result<_, E>` where `E: From<rasp::Blocked>`, so a refused call can return the error",
                attr.attribute()
            ),
        )),
    }
}

/// The expansion writes the return type out; `impl Trait` cannot be.
fn nameable(ty: &Type, attr: Macro) -> syn::Result<&Type> {
    let Some(impl_trait) = find_impl_trait(ty) else {
        return Ok(ty);
    };
    let what = match attr {
        Macro::Source => "wraps the return value in `rasp::Tainted<T>` and must name `T`",
        Macro::Sink | Macro::Protect => {
            "builds the `rasp::Blocked` return value and must name its type"
        }
    };
    Err(syn::Error::new_spanned(
        impl_trait,
        format!(
            "{} {what}; replace `impl Trait` with a concrete type",
            attr.attribute()
        ),
    ))
}
