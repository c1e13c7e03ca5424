//! What a path in a file stands for, as far as its `use` items tell.
//!
//! Each file is read on its own: `use rasp::log::line;` makes `line(..)` a
//! call of `rasp::log::line`, `use rasp::{header, sql as checked};` makes
//! `header::value` and `checked` resolve through the facade, and
//! `use rasp::log::*;` offers `rasp::log::` to any name no `use` binds.
//! Every `use` of the file counts, wherever it stands: scopes are not
//! tracked, so a name bound in one fn also resolves in another. Paths
//! through `rasp_sinks` are rewritten to the facade's names, so one table
//! of guards covers both.

use std::collections::HashMap;

use syn::UseTree;
use syn::visit::Visit;

/// A path as its segments' names.
pub(crate) type Segments = Vec<String>;

/// The names a file's `use` items bind.
#[derive(Debug, Default)]
pub(crate) struct Imports {
    /// Local name → the path it stands for.
    names: HashMap<String, Segments>,
    /// Prefixes of glob imports (`use rasp::log::*;` → `rasp::log`).
    globs: Vec<Segments>,
}

impl Imports {
    /// The imports of every `use` item in `file`.
    pub(crate) fn of_file(file: &syn::File) -> Imports {
        struct Collect(Imports);
        impl<'ast> Visit<'ast> for Collect {
            fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
                self.0.add(&mut Vec::new(), &item.tree);
            }
        }
        let mut collect = Collect(Imports::default());
        collect.visit_file(file);
        collect.0
    }

    fn add(&mut self, prefix: &mut Segments, tree: &UseTree) {
        match tree {
            UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.add(prefix, &path.tree);
                prefix.pop();
            }
            // `use rasp::log::{self, line};` binds `log` itself.
            UseTree::Name(name) if name.ident == "self" => {
                if let Some(last) = prefix.last() {
                    self.names.insert(last.clone(), prefix.clone());
                }
            }
            UseTree::Name(name) => self.bind(name.ident.to_string(), prefix, &name.ident),
            UseTree::Rename(rename) if rename.ident == "self" => {
                self.names.insert(rename.rename.to_string(), prefix.clone());
            }
            UseTree::Rename(rename) => self.bind(rename.rename.to_string(), prefix, &rename.ident),
            UseTree::Glob(_) => self.globs.push(prefix.clone()),
            UseTree::Group(group) => {
                for tree in &group.items {
                    self.add(prefix, tree);
                }
            }
        }
    }

    fn bind(&mut self, local: String, prefix: &Segments, ident: &syn::Ident) {
        // `use name as _;` brings traits into scope and binds nothing.
        if local == "_" {
            return;
        }
        let mut path = prefix.clone();
        path.push(ident.to_string());
        self.names.insert(local, path);
    }

    /// The paths `segments` may stand for, in the facade's names: the one
    /// a `use` binds its first segment to, else the path as written
    /// followed by its expansions through the glob imports.
    pub(crate) fn resolve(&self, segments: &[String]) -> Vec<Segments> {
        let Some((first, rest)) = segments.split_first() else {
            return Vec::new();
        };
        if let Some(bound) = self.names.get(first) {
            let mut path = bound.clone();
            path.extend(rest.iter().cloned());
            return vec![facade(path)];
        }
        let mut candidates = vec![facade(segments.to_vec())];
        for glob in &self.globs {
            let mut path = glob.clone();
            path.extend(segments.iter().cloned());
            candidates.push(facade(path));
        }
        candidates
    }

    /// Every path a `use` item names, in the facade's names.
    pub(crate) fn targets(&self) -> impl Iterator<Item = Segments> + '_ {
        self.names
            .values()
            .chain(&self.globs)
            .map(|path| facade(path.clone()))
    }
}

/// The segments of `path`, without generic arguments.
pub(crate) fn segments(path: &syn::Path) -> Segments {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// `path` as the facade `rasp` names it: rasp-sinks' modules are
/// re-exported under other names (`command` as `process`, `http_client` as
/// `http`, the contents of `sqlx` at the root).
pub(crate) fn facade(path: Segments) -> Segments {
    if path.first().map(String::as_str) != Some("rasp_sinks") || path.len() < 2 {
        return path;
    }
    let mut facade = vec!["rasp".to_owned()];
    match path[1].as_str() {
        "sqlx" => {}
        "command" => facade.push("process".to_owned()),
        "http_client" => facade.push("http".to_owned()),
        other => facade.push(other.to_owned()),
    }
    facade.extend(path.into_iter().skip(2));
    facade
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imports(source: &str) -> Imports {
        Imports::of_file(&syn::parse_file(source).unwrap())
    }

    fn resolved(imports: &Imports, path: &str) -> Vec<String> {
        let segments: Segments = path.split("::").map(str::to_owned).collect();
        imports
            .resolve(&segments)
            .into_iter()
            .map(|p| p.join("::"))
            .collect()
    }

    #[test]
    fn a_name_resolves_to_what_its_use_binds() {
        let imports = imports("use rasp::log::line;\nuse rasp::{sql, header};");
        assert_eq!(resolved(&imports, "line"), ["rasp::log::line"]);
        assert_eq!(resolved(&imports, "sql"), ["rasp::sql"]);
        assert_eq!(resolved(&imports, "header::value"), ["rasp::header::value"]);
    }

    #[test]
    fn renames_self_and_nested_groups_are_followed() {
        let imports = imports(
            "use rasp::{log::{self, line as checked_line}, process::{Command as Cmd, shell}};\n\
             use rasp::redirect as r;\nuse std::io::Write as _;",
        );
        assert_eq!(resolved(&imports, "checked_line"), ["rasp::log::line"]);
        assert_eq!(resolved(&imports, "log::field"), ["rasp::log::field"]);
        assert_eq!(
            resolved(&imports, "Cmd::new"),
            ["rasp::process::Command::new"]
        );
        assert_eq!(resolved(&imports, "shell"), ["rasp::process::shell"]);
        assert_eq!(
            resolved(&imports, "r::location"),
            ["rasp::redirect::location"]
        );
        // A name no `use` binds stands for itself; `_` binds nothing.
        assert_eq!(resolved(&imports, "line"), ["line"]);
        assert_eq!(resolved(&imports, "_"), ["_"]);
    }

    #[test]
    fn globs_offer_their_prefix_to_unbound_names() {
        let imports = imports("use rasp::log::*;\nuse rasp::sql;");
        assert_eq!(resolved(&imports, "line"), ["line", "rasp::log::line"]);
        assert_eq!(resolved(&imports, "sql"), ["rasp::sql"]);
    }

    #[test]
    fn uses_inside_fns_and_modules_count() {
        let imports = imports(
            "mod db { use rasp::sql_for; }\nfn f() { use rasp::html::raw as html; html(x); }",
        );
        assert_eq!(resolved(&imports, "sql_for"), ["rasp::sql_for"]);
        assert_eq!(resolved(&imports, "html"), ["rasp::html::raw"]);
    }

    #[test]
    fn rasp_sinks_paths_take_the_facade_names() {
        let imports = imports(
            "use rasp_sinks::sqlx::sql;\nuse rasp_sinks::command;\nuse rasp_sinks::http_client::url;",
        );
        assert_eq!(resolved(&imports, "sql"), ["rasp::sql"]);
        assert_eq!(
            resolved(&imports, "command::shell"),
            ["rasp::process::shell"]
        );
        assert_eq!(resolved(&imports, "url"), ["rasp::http::url"]);
        assert_eq!(
            resolved(&imports, "rasp_sinks::fs::Root"),
            ["rasp::fs::Root"]
        );
        let mut targets: Vec<String> = imports.targets().map(|p| p.join("::")).collect();
        targets.sort();
        assert_eq!(targets, ["rasp::http::url", "rasp::process", "rasp::sql"]);
    }
}
