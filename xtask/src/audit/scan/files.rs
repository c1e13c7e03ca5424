//! The files of one target, found the way rustc finds them: from the
//! target's root file through its `mod name;` declarations (`name.rs` or
//! `name/mod.rs`, or a `#[path]`), so a stray file the crate does not
//! compile is not scanned, and each file gets its module path.

use std::path::{Path, PathBuf};

use super::visit::cfg_test;

/// One parsed file of a target.
pub(crate) struct SourceFile {
    pub(crate) path: PathBuf,
    /// Its module path, starting with the crate name.
    pub(crate) module: Vec<String>,
    pub(crate) syntax: syn::File,
}

/// A module file still to read: where it is, its module path, and the
/// directory its own `mod name;` files live in.
struct Pending {
    path: PathBuf,
    module: Vec<String>,
    dir: PathBuf,
}

/// Every file of the target rooted at `root`, named `crate_name` in code.
pub(crate) fn module_tree(root: &Path, crate_name: &str) -> Result<Vec<SourceFile>, String> {
    let mut pending = vec![Pending {
        path: root.to_path_buf(),
        module: vec![crate_name.to_owned()],
        dir: root.parent().unwrap_or(Path::new("")).to_path_buf(),
    }];
    let mut files = Vec::new();
    while let Some(next) = pending.pop() {
        let text = std::fs::read_to_string(&next.path)
            .map_err(|e| format!("cannot read {}: {e}", next.path.display()))?;
        let syntax = syn::parse_file(&text).map_err(|e| {
            let at = e.span().start();
            format!(
                "cannot parse {}:{}:{}: {e}; its call sites cannot be listed",
                next.path.display(),
                at.line,
                at.column + 1
            )
        })?;
        let file_dir = next.path.parent().unwrap_or(Path::new("")).to_path_buf();
        declared_modules(
            &syntax.items,
            &next.dir,
            &file_dir,
            &next.module,
            &mut pending,
        );
        files.push(SourceFile {
            path: next.path,
            module: next.module,
            syntax,
        });
    }
    Ok(files)
}

/// Queues the files `items` declare with `mod name;`, looking into inline
/// `mod name { .. }` blocks, whose files live in `dir/name/`.
fn declared_modules(
    items: &[syn::Item],
    dir: &Path,
    file_dir: &Path,
    module: &[String],
    pending: &mut Vec<Pending>,
) {
    for item in items {
        let syn::Item::Mod(item) = item else { continue };
        if cfg_test(&item.attrs) {
            continue;
        }
        let mut child = module.to_vec();
        child.push(item.ident.to_string());
        let name = item.ident.to_string();
        if let Some((_, items)) = &item.content {
            declared_modules(items, &dir.join(&name), file_dir, &child, pending);
            continue;
        }
        let (path, child_dir) = match path_attribute(&item.attrs) {
            // Relative to the declaring file's directory.
            Some(path) => {
                let path = file_dir.join(path);
                let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
                (path, dir)
            }
            None => {
                let flat = dir.join(format!("{name}.rs"));
                let nested = dir.join(&name).join("mod.rs");
                if flat.exists() {
                    (flat, dir.join(&name))
                } else if nested.exists() {
                    (nested, dir.join(&name))
                } else {
                    eprintln!(
                        "note: no file for `mod {name};` in {}; not scanned",
                        dir.display()
                    );
                    continue;
                }
            }
        };
        pending.push(Pending {
            path,
            module: child,
            dir: child_dir,
        });
    }
}

/// The value of a `#[path = "…"]` attribute.
fn path_attribute(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| match &attr.meta {
        syn::Meta::NameValue(meta) if meta.path.is_ident("path") => match &meta.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            }) => Some(text.value()),
            _ => None,
        },
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_are_followed_from_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("db")).unwrap();
        std::fs::create_dir_all(src.join("web/api")).unwrap();
        let write = |path: &str, text: &str| std::fs::write(src.join(path), text).unwrap();
        write(
            "lib.rs",
            "mod db;\nmod web { mod api; }\n#[cfg(test)]\nmod tests;\n#[path = \"other.rs\"]\nmod renamed;",
        );
        write("db/mod.rs", "mod pool;");
        write("db/pool.rs", "");
        write("web/api/mod.rs", "");
        write("other.rs", "");
        write("tests.rs", "");
        write("stray.rs", "");
        let mut found: Vec<(String, String)> = module_tree(&src.join("lib.rs"), "app")
            .unwrap()
            .into_iter()
            .map(|f| {
                let path = f.path.strip_prefix(&src).unwrap().display().to_string();
                (path, f.module.join("::"))
            })
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                ("db/mod.rs".to_owned(), "app::db".to_owned()),
                ("db/pool.rs".to_owned(), "app::db::pool".to_owned()),
                ("lib.rs".to_owned(), "app".to_owned()),
                ("other.rs".to_owned(), "app::renamed".to_owned()),
                ("web/api/mod.rs".to_owned(), "app::web::api".to_owned()),
            ]
        );
    }

    #[test]
    fn a_file_that_does_not_parse_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("lib.rs");
        std::fs::write(&root, "fn broken( {").unwrap();
        let error = module_tree(&root, "app").err().unwrap();
        assert!(
            error.contains("cannot parse") && error.contains("lib.rs:1:"),
            "{error}"
        );
    }
}
