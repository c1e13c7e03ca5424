//! Names a crate declares with a guard's type: `root: rasp::fs::Root` as a
//! struct field, a fn parameter or an annotated `let`, and statics and
//! consts. A method call on a receiver of such a name (`shop.root.read(..)`,
//! `client.get(..)`) is matched in every file of the crate, also in files
//! that never name the guard's module. Names only: a field `root` of
//! another type elsewhere in the crate matches too.

use std::collections::BTreeSet;

use syn::visit::{self, Visit};

use super::guards;
use super::resolve::{Imports, facade, segments};

/// `(receiver type, name)` pairs, the type in the facade's names.
#[derive(Debug, Default)]
pub(crate) struct TypedNames(BTreeSet<(&'static str, String)>);

impl TypedNames {
    /// The names declared with a guard's type in any of `files`.
    pub(crate) fn of_files<'f>(files: impl IntoIterator<Item = &'f syn::File>) -> TypedNames {
        let mut names = TypedNames::default();
        for file in files {
            let imports = Imports::of_file(file);
            Declarations {
                imports: &imports,
                names: &mut names,
            }
            .visit_file(file);
        }
        names
    }

    /// Whether `name` was declared with type `receiver`.
    pub(crate) fn contains(&self, receiver: &str, name: &str) -> bool {
        self.0
            .iter()
            .any(|(ty, declared)| *ty == receiver && declared == name)
    }
}

struct Declarations<'a> {
    imports: &'a Imports,
    names: &'a mut TypedNames,
}

impl Declarations<'_> {
    fn declare(&mut self, name: &syn::Ident, ty: &syn::Type) {
        let mut paths = TypePaths(Vec::new());
        paths.visit_type(ty);
        for path in &paths.0 {
            for candidate in self.imports.resolve(&segments(path)) {
                let joined = facade(candidate).join("::");
                if let Some(receiver) = guards::receivers().find(|r| *r == joined) {
                    self.names.0.insert((receiver, name.to_string()));
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Declarations<'_> {
    fn visit_field(&mut self, field: &'ast syn::Field) {
        if let Some(name) = &field.ident {
            self.declare(name, &field.ty);
        }
        visit::visit_field(self, field);
    }

    fn visit_pat_type(&mut self, pat: &'ast syn::PatType) {
        if let syn::Pat::Ident(binding) = &*pat.pat {
            self.declare(&binding.ident, &pat.ty);
        }
        visit::visit_pat_type(self, pat);
    }

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        self.declare(&item.ident, &item.ty);
        visit::visit_item_static(self, item);
    }

    fn visit_item_const(&mut self, item: &'ast syn::ItemConst) {
        self.declare(&item.ident, &item.ty);
        visit::visit_item_const(self, item);
    }
}

/// Every path inside a type: `Arc<rasp::fs::Root>` holds `Arc` and
/// `rasp::fs::Root`.
struct TypePaths(Vec<syn::Path>);

impl<'ast> Visit<'ast> for TypePaths {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.0.push(path.clone());
        visit::visit_path(self, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parameters_and_statics_of_a_guard_type_are_named() {
        let file = syn::parse_file(
            r#"use rasp::fs::Root;
use rasp::http;
struct Shop { root: Root, files: std::path::PathBuf, shared: std::sync::Arc<Root> }
enum Avatars { Guarded { client: http::GuardedClient } }
static POLICY: rasp::redirect::RedirectPolicy = todo!();
fn f(argv: &mut rasp_sinks::command::Command) { let r: Root = todo!(); }
"#,
        )
        .unwrap();
        let names = TypedNames::of_files([&file]);
        assert!(names.contains("rasp::fs::Root", "root"));
        assert!(names.contains("rasp::fs::Root", "shared"));
        assert!(names.contains("rasp::fs::Root", "r"));
        assert!(!names.contains("rasp::fs::Root", "files"));
        assert!(names.contains("rasp::http::GuardedClient", "client"));
        assert!(names.contains("rasp::redirect::RedirectPolicy", "POLICY"));
        assert!(names.contains("rasp::process::Command", "argv"));
        assert!(!names.contains("rasp::http::GuardedClient", "root"));
    }
}
