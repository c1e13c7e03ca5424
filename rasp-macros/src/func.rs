//! The annotated fn, taken apart so its body can be rewritten while its
//! signature is re-emitted token for token.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, TokenStreamExt, quote};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    AttrStyle, Attribute, Block, FnArg, GenericArgument, Ident, Item, Pat, PathArguments,
    ReturnType, Signature, Token, Type,
};

use crate::error::Macro;

/// A fn with a body: free fn, inherent or trait-impl method.
pub(crate) struct Func {
    outer_attrs: Vec<Attribute>,
    inner_attrs: Vec<Attribute>,
    vis: syn::Visibility,
    pub(crate) sig: Signature,
    block: Block,
}

/// What a name in `guard(...)` refers to.
pub(crate) enum Param<'a> {
    /// A parameter bound to a plain name, with its declared type.
    Named(&'a Ident, &'a Type),
    /// The method receiver.
    Receiver,
    /// A name bound inside a destructuring pattern such as `(a, b): (T, U)`.
    InPattern,
    /// No parameter binds the name.
    Missing,
}

impl Func {
    /// Accepts a fn item; anything else is refused at the item.
    pub(crate) fn from_item(item: Item, attr: Macro) -> syn::Result<Func> {
        let item = match item {
            Item::Fn(item) => item,
            Item::Verbatim(tokens) if is_bodiless_fn(&tokens) => {
                return Err(syn::Error::new_spanned(
                    tokens,
                    format!(
                        "{} needs a fn with a body; put it on the implementation, not the declaration",
                        attr.attribute()
                    ),
                ));
            }
            other => {
                return Err(syn::Error::new_spanned(
                    item_head(&other),
                    format!(
                        "{} applies to fns only; move it onto the fn that {}",
                        attr.attribute(),
                        match attr {
                            Macro::Source => "returns the untrusted value",
                            Macro::Sink => "hands text to the dangerous API",
                            Macro::Protect => "handles the request",
                        }
                    ),
                ));
            }
        };
        let (inner_attrs, outer_attrs) = item
            .attrs
            .into_iter()
            .partition(|a| matches!(a.style, AttrStyle::Inner(_)));
        Ok(Func {
            outer_attrs,
            inner_attrs,
            vis: item.vis,
            sig: item.sig,
            block: *item.block,
        })
    }

    /// The fn's name without a raw-identifier prefix, as used in paths.
    pub(crate) fn name(&self) -> String {
        self.sig.ident.unraw().to_string()
    }

    /// `module_path::name` of the fn, evaluated where it expands.
    pub(crate) fn path_expr(&self) -> TokenStream {
        let name = self.name();
        quote!(::core::concat!(::core::module_path!(), "::", #name))
    }

    /// Span for problems with the fn as a whole: its name.
    pub(crate) fn span(&self) -> Span {
        self.sig.ident.span()
    }

    /// The declared return type, unless it is absent or `()`.
    pub(crate) fn return_type(&self) -> Option<&Type> {
        match &self.sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, ty) if is_unit(ty) => None,
            ReturnType::Type(_, ty) => Some(ty),
        }
    }

    /// Span to report a missing or unit return type at.
    pub(crate) fn return_span(&self) -> Span {
        match &self.sig.output {
            ReturnType::Type(_, ty) => ty.span(),
            ReturnType::Default => self.sig.paren_token.span.close(),
        }
    }

    /// Looks up a parameter by name.
    pub(crate) fn param(&self, name: &Ident) -> Param<'_> {
        if name == "self" {
            return Param::Receiver;
        }
        let mut in_pattern = false;
        for arg in &self.sig.inputs {
            let FnArg::Typed(arg) = arg else { continue };
            match &*arg.pat {
                Pat::Ident(pat) if pat.subpat.is_none() && pat.ident == *name => {
                    return Param::Named(&pat.ident, &arg.ty);
                }
                pat => in_pattern |= binds(pat, name),
            }
        }
        if in_pattern {
            Param::InPattern
        } else {
            Param::Missing
        }
    }

    /// Names of the parameters bound to plain names, for "did you mean".
    pub(crate) fn param_names(&self) -> Vec<String> {
        self.sig
            .inputs
            .iter()
            .filter_map(|arg| match arg {
                FnArg::Typed(arg) => match &*arg.pat {
                    Pat::Ident(pat) => Some(pat.ident.to_string()),
                    _ => None,
                },
                FnArg::Receiver(_) => None,
            })
            .collect()
    }

    /// Re-emits the fn with signature `sig` and body `body`; attributes,
    /// visibility and the body's inner attributes stay as written.
    pub(crate) fn emit(&self, sig: &Signature, body: TokenStream) -> TokenStream {
        let mut tokens = TokenStream::new();
        tokens.append_all(&self.outer_attrs);
        self.vis.to_tokens(&mut tokens);
        sig.to_tokens(&mut tokens);
        self.block.brace_token.surround(&mut tokens, |tokens| {
            tokens.append_all(&self.inner_attrs);
            tokens.extend(body);
        });
        tokens
    }

    /// The original statements, as a block with the original braces.
    pub(crate) fn original_block(&self) -> TokenStream {
        self.block.to_token_stream()
    }
}

/// Whether `ty` is `()` (possibly parenthesized).
pub(crate) fn is_unit(ty: &Type) -> bool {
    match ty {
        Type::Tuple(tuple) => tuple.elems.is_empty(),
        Type::Paren(paren) => is_unit(&paren.elem),
        Type::Group(group) => is_unit(&group.elem),
        _ => false,
    }
}

/// The generic arguments of `Result<T, E>` or `Result<T>`, judged by the
/// last path segment so that aliases (`io::Result<T>`, `anyhow::Result<T>`)
/// count.
pub(crate) fn result_args(ty: &mut Type) -> Option<&mut Punctuated<GenericArgument, Token![,]>> {
    match ty {
        Type::Group(group) => result_args(&mut group.elem),
        Type::Paren(paren) => result_args(&mut paren.elem),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last_mut()?;
            if last.ident != "Result" {
                return None;
            }
            match &mut last.arguments {
                PathArguments::AngleBracketed(args) if (1..=2).contains(&args.args.len()) => {
                    Some(&mut args.args)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The first `impl Trait` inside `ty`, if any: such a type cannot be
/// written in the generated body, which must name the return type.
pub(crate) fn find_impl_trait(ty: &Type) -> Option<syn::TypeImplTrait> {
    struct Finder(Option<syn::TypeImplTrait>);
    impl VisitMut for Finder {
        fn visit_type_impl_trait_mut(&mut self, node: &mut syn::TypeImplTrait) {
            self.0.get_or_insert_with(|| node.clone());
        }
    }
    let mut finder = Finder(None);
    finder.visit_type_mut(&mut ty.clone());
    finder.0
}

/// Whether `pat` binds `name` anywhere inside it.
fn binds(pat: &Pat, name: &Ident) -> bool {
    struct Finder<'a>(&'a Ident, bool);
    impl VisitMut for Finder<'_> {
        fn visit_pat_ident_mut(&mut self, node: &mut syn::PatIdent) {
            self.1 |= node.ident == *self.0;
            syn::visit_mut::visit_pat_ident_mut(self, node);
        }
    }
    let mut finder = Finder(name, false);
    finder.visit_pat_mut(&mut pat.clone());
    finder.1
}

/// `fn name(...) -> T;` as found in a trait.
fn is_bodiless_fn(tokens: &TokenStream) -> bool {
    syn::parse2::<syn::TraitItemFn>(tokens.clone()).is_ok_and(|f| f.default.is_none())
}

/// The part of a non-fn item to underline: its keyword and name.
fn item_head(item: &Item) -> TokenStream {
    fn head(keyword: impl ToTokens, name: &Ident) -> TokenStream {
        quote!(#keyword #name)
    }
    match item {
        Item::Const(i) => head(i.const_token, &i.ident),
        Item::Static(i) => head(i.static_token, &i.ident),
        Item::Struct(i) => head(i.struct_token, &i.ident),
        Item::Enum(i) => head(i.enum_token, &i.ident),
        Item::Union(i) => head(i.union_token, &i.ident),
        Item::Trait(i) => head(i.trait_token, &i.ident),
        Item::Type(i) => head(i.type_token, &i.ident),
        Item::Mod(i) => head(i.mod_token, &i.ident),
        Item::Impl(i) => i.impl_token.into_token_stream(),
        _ => item.to_token_stream(),
    }
}
