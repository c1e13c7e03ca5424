//! One parsed file walked with `syn::visit`: the guard calls and escape
//! hatches in it, and every call by name, for matching the callers of
//! generic helpers once all files are read.
//!
//! Macro bodies are walked when they parse as comma-separated expressions
//! (`format!`, `vec![..]`, `assert!`, a `trust_unchecked!`'s value), so a
//! guard called inside one is seen; other macros' bodies are opaque.
//! Items under `#[cfg(test)]` are skipped: they never run in the service.

use std::collections::BTreeSet;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Expr, Token};

use super::guards;
use super::resolve::{Imports, Segments, facade, segments};
use super::typed_names::TypedNames;
use crate::audit::map::Matched;

/// A guard call found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GuardCall {
    pub(crate) guard: guards::Guard,
    pub(crate) matched: Matched,
    pub(crate) at: At,
}

/// A `trust_unchecked!` found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Exit {
    pub(crate) class: String,
    pub(crate) reason: String,
    pub(crate) at: At,
    /// The enclosing fn when it is generic: each caller instantiates the
    /// hatch anew, but the registry lists it once.
    pub(crate) generic_helper: Option<Helper>,
}

/// A generic fn holding an escape hatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Helper {
    pub(crate) name: String,
    /// Declared in an `impl` or trait: called as a method or through its
    /// type's path. A free fn is only called through a path.
    pub(crate) associated: bool,
}

/// A call of any function or method, by the last segment of its resolved
/// path or its method name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Call {
    pub(crate) name: String,
    /// A method call (`x.name(..)`) rather than a path call.
    pub(crate) method: bool,
    pub(crate) at: At,
}

impl Call {
    /// Whether this call may be a call of `helper`.
    pub(crate) fn may_call(&self, helper: &Helper) -> bool {
        self.name == helper.name && (helper.associated || !self.method)
    }
}

/// Where something is: line and 1-based column (as `column!()` counts),
/// and the enclosing fn's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct At {
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) fn_path: String,
}

/// What one file holds.
#[derive(Debug, Default)]
pub(crate) struct FileFindings {
    pub(crate) guard_calls: Vec<GuardCall>,
    pub(crate) exits: Vec<Exit>,
    pub(crate) calls: Vec<Call>,
    /// `.sink_text()` calls outside a `#[rasp::sink]` fn: the text of a
    /// trusted value (sanitized, asserted, composed) read as plain bytes
    /// where no sink is.
    pub(crate) text_reads: Vec<At>,
}

/// Walks `file`, whose items live in module `module` (`crate::a::b`), of
/// a crate declaring `typed` names.
pub(crate) fn file(file: &syn::File, module: &[String], typed: &TypedNames) -> FileFindings {
    let imports = Imports::of_file(file);
    let gates = Mentions::of_file(file, &imports);
    let mut walker = Walker {
        imports: &imports,
        gates,
        typed,
        scope: module.to_vec(),
        fns: Vec::new(),
        sinks: Vec::new(),
        impl_generic: Vec::new(),
        found: FileFindings::default(),
    };
    walker.visit_file(file);
    walker.found
}

/// The method-guard gates (modules such as `rasp::fs`) a file refers to,
/// in a `use` item or in any path of its code.
struct Mentions<'i> {
    imports: &'i Imports,
    gates: BTreeSet<&'static str>,
}

impl Mentions<'_> {
    fn of_file(file: &syn::File, imports: &Imports) -> BTreeSet<&'static str> {
        let mut mentions = Mentions {
            imports,
            gates: BTreeSet::new(),
        };
        for path in imports.targets() {
            mentions.note(&path);
        }
        mentions.visit_file(file);
        mentions.gates
    }

    fn note(&mut self, path: &[String]) {
        let joined = path.join("::");
        for gate in guards::gates() {
            if joined == gate || joined.starts_with(&format!("{gate}::")) {
                self.gates.insert(gate);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Mentions<'_> {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        for candidate in self.imports.resolve(&segments(path)) {
            self.note(&candidate);
        }
        visit::visit_path(self, path);
    }
}

struct Walker<'i> {
    imports: &'i Imports,
    gates: BTreeSet<&'static str>,
    typed: &'i TypedNames,
    /// Module path, then the `impl`'s or trait's type name when inside one.
    scope: Vec<String>,
    /// Enclosing fns, innermost last, with whether each is generic.
    fns: Vec<(Helper, bool)>,
    /// Whether each enclosing fn is a `#[rasp::sink]`, innermost last.
    sinks: Vec<bool>,
    /// Whether each enclosing `impl` has type parameters.
    impl_generic: Vec<bool>,
    found: FileFindings,
}

impl Walker<'_> {
    fn at(&self, span: Span) -> At {
        let start = span.start();
        let fn_path = match self.fns.last() {
            Some((function, _)) => {
                let mut path = self.scope.clone();
                path.push(function.name.clone());
                path.join("::")
            }
            None => String::new(),
        };
        At {
            line: u32::try_from(start.line).unwrap_or(u32::MAX),
            column: u32::try_from(start.column + 1).unwrap_or(u32::MAX),
            fn_path,
        }
    }

    /// Walks a fn with signature `sig`, `associated` when it is declared
    /// in an `impl` or trait.
    fn in_fn(
        &mut self,
        sig: &syn::Signature,
        attrs: &[syn::Attribute],
        associated: bool,
        walk: impl FnOnce(&mut Self),
    ) {
        let generic = sig.generics.type_params().next().is_some()
            || sig.inputs.iter().any(|input| {
                matches!(input, syn::FnArg::Typed(typed) if matches!(*typed.ty, syn::Type::ImplTrait(_)))
            })
            || self.impl_generic.last().copied().unwrap_or(false);
        let function = Helper {
            name: sig.ident.to_string(),
            associated,
        };
        self.fns.push((function, generic));
        self.sinks.push(attrs.iter().any(is_sink_attribute));
        walk(self);
        self.sinks.pop();
        self.fns.pop();
    }

    fn in_scope(&mut self, name: String, walk: impl FnOnce(&mut Self)) {
        self.scope.push(name);
        walk(self);
        self.scope.pop();
    }

    /// A `trust_unchecked!(value, Class, "reason")`.
    fn escape_hatch(&mut self, mac: &syn::Macro, args: &Punctuated<Expr, Token![,]>) {
        let class = match args.get(1) {
            Some(Expr::Path(path)) => class_of_marker(&segments(&path.path)),
            Some(other) => quote_text(other),
            None => String::new(),
        };
        let reason = match args.get(2) {
            Some(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            })) => text.value(),
            Some(other) => quote_text(other),
            None => String::new(),
        };
        let generic_helper = match self.fns.last() {
            Some((function, true)) => Some(function.clone()),
            _ => None,
        };
        let at = self.at(first_span(&mac.path));
        self.found.exits.push(Exit {
            class,
            reason,
            at,
            generic_helper,
        });
    }
}

impl<'ast> Visit<'ast> for Walker<'_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if cfg_test(&item.attrs) {
            return;
        }
        self.in_scope(item.ident.to_string(), |walker| {
            visit::visit_item_mod(walker, item);
        });
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if cfg_test(&item.attrs) {
            return;
        }
        let name = match &*item.self_ty {
            syn::Type::Path(ty) => ty
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default(),
            _ => "impl".to_owned(),
        };
        self.impl_generic
            .push(item.generics.type_params().next().is_some());
        self.in_scope(name, |walker| visit::visit_item_impl(walker, item));
        self.impl_generic.pop();
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        // A trait's default method is generic over `Self`.
        self.impl_generic.push(true);
        self.in_scope(item.ident.to_string(), |walker| {
            visit::visit_item_trait(walker, item);
        });
        self.impl_generic.pop();
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if cfg_test(&item.attrs) {
            return;
        }
        self.in_fn(&item.sig, &item.attrs, false, |walker| {
            visit::visit_item_fn(walker, item)
        });
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        if cfg_test(&item.attrs) {
            return;
        }
        self.in_fn(&item.sig, &item.attrs, true, |walker| {
            visit::visit_impl_item_fn(walker, item);
        });
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        self.in_fn(&item.sig, &item.attrs, true, |walker| {
            visit::visit_trait_item_fn(walker, item);
        });
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let Expr::Path(func) = &*call.func {
            let span = first_span(&func.path);
            let candidates = self.imports.resolve(&segments(&func.path));
            if let Some(guard) = candidates.iter().find_map(|path| guards::function(path)) {
                let at = self.at(span);
                self.found.guard_calls.push(GuardCall {
                    guard,
                    matched: Matched::Path,
                    at,
                });
            }
            if let Some(name) = candidates.first().and_then(|path| path.last()) {
                let at = self.at(span);
                self.found.calls.push(Call {
                    name: name.clone(),
                    method: false,
                    at,
                });
            }
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let name = call.method.to_string();
        let span = call.method.span();
        let receiver = receiver_name(&call.receiver);
        let gated = |gate: &str| self.gates.contains(gate);
        let typed = |ty: &str| {
            receiver
                .as_deref()
                .is_some_and(|receiver| self.typed.contains(ty, receiver))
        };
        if let Some(guard) = guards::method(&name, call.args.len(), gated, typed) {
            let at = self.at(span);
            self.found.guard_calls.push(GuardCall {
                guard,
                matched: Matched::MethodName,
                at,
            });
        }
        // A sink reads its guarded parameter this way; anywhere else it
        // turns a trusted value into plain bytes.
        if name == "sink_text" && call.args.is_empty() && self.sinks.last() != Some(&true) {
            let at = self.at(span);
            self.found.text_reads.push(at);
        }
        let at = self.at(span);
        self.found.calls.push(Call {
            name,
            method: true,
            at,
        });
        visit::visit_expr_method_call(self, call);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        match mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
            Ok(args) => {
                if mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "trust_unchecked")
                {
                    self.escape_hatch(mac, &args);
                }
                for expr in &args {
                    self.visit_expr(expr);
                }
            }
            Err(_) => {
                for expr in expressions_in(mac.tokens.clone()) {
                    self.visit_expr(&expr);
                }
            }
        }
    }
}

/// The expressions in a macro body that is not a plain list of them, such
/// as `tracing::info!(user = %value, "text")` or a `tokio::select!` arm: of
/// each comma-separated part, the longest tail that parses as one.
fn expressions_in(tokens: TokenStream) -> Vec<Expr> {
    /// Leading tokens dropped at most per part: enough for `name = %`,
    /// `target: `, or a `select!` arm's `pattern = future =>`.
    const MAX_SKIPPED: usize = 16;
    let mut parts = vec![Vec::new()];
    for token in tokens {
        match &token {
            TokenTree::Punct(punct) if matches!(punct.as_char(), ',' | ';') => {
                parts.push(Vec::new());
            }
            _ => parts.last_mut().expect("never empty").push(token),
        }
    }
    parts
        .iter()
        .filter_map(|part| {
            (0..part.len().min(MAX_SKIPPED))
                .find_map(|skip| syn::parse2::<Expr>(part[skip..].iter().cloned().collect()).ok())
        })
        .collect()
}

/// The name a method's receiver goes by: `root` in `root.open(..)`,
/// `shop.root.open(..)`, `(&self.root).open(..)` or
/// `self.root.tokio().open(..)`.
fn receiver_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        Expr::Field(field) => match &field.member {
            syn::Member::Named(name) => Some(name.to_string()),
            syn::Member::Unnamed(_) => None,
        },
        Expr::Reference(inner) => receiver_name(&inner.expr),
        Expr::Paren(inner) => receiver_name(&inner.expr),
        Expr::Try(inner) => receiver_name(&inner.expr),
        Expr::Unary(inner) => receiver_name(&inner.expr),
        Expr::MethodCall(inner) => receiver_name(&inner.receiver),
        _ => None,
    }
}

/// The class a marker type names (`rasp::Sql` → `sql`), or the path as
/// written when it names none.
fn class_of_marker(path: &Segments) -> String {
    let marker = facade(path.clone()).last().cloned().unwrap_or_default();
    rasp_core::SinkClass::ALL
        .iter()
        .find(|class| class.marker() == marker)
        .map_or_else(|| path.join("::"), |class| class.as_str().to_owned())
}

fn quote_text(expr: &Expr) -> String {
    quote::ToTokens::to_token_stream(expr).to_string()
}

/// Where a path starts: its first segment, which is where `column!()`
/// points for a macro invocation.
fn first_span(path: &syn::Path) -> Span {
    path.segments
        .first()
        .map_or_else(Span::call_site, |s| s.ident.span())
}

/// Whether `attrs` hold `#[cfg(test)]`.
pub(super) fn cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "test")
    })
}

/// `#[rasp::sink(…)]`, or `#[sink(…)]` imported from rasp.
fn is_sink_attribute(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|last| last.ident == "sink")
}
