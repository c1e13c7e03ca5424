//! The scan of single files: which calls it lists, with what.

use super::*;

/// Scans `source` as the root file `lib.rs` of crate `app`; one row per
/// site: `line:column fn_path call class [via helper] [reason]`.
fn scan(source: &str) -> Vec<String> {
    scan_files(&[("lib.rs", source)])
}

/// Scans a crate of several files, the first its root; rows as [`scan`]'s.
fn scan_files(sources: &[(&str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    for (name, source) in sources {
        std::fs::write(dir.path().join(name), source).unwrap();
    }
    let root = dir.path().join(sources[0].0);
    let files = files::module_tree(&root, "app").unwrap();
    let typed = TypedNames::of_files(files.iter().map(|f| &f.syntax));
    let mut found = Findings::default();
    for file in &files {
        found.add("lib.rs", file, &typed, &[]);
    }
    let mut sites = found.call_sites();
    sites.sort_by_key(|s| (s.line, s.column));
    sites
        .iter()
        .map(|s| {
            let mut row = format!(
                "{}:{} {} {} {}",
                s.line, s.column, s.fn_path, s.call, s.class
            );
            if let Some(helper) = &s.via {
                row.push_str(&format!(" via {helper}"));
            }
            if let Some(reason) = &s.reason {
                row.push_str(&format!(" \"{reason}\""));
            }
            row
        })
        .collect()
}

#[test]
fn guard_calls_are_found_by_path_use_and_rasp_sinks_name() {
    let sites = scan(
        r#"use rasp::log::line;
use rasp::{header, sql as checked};

pub fn search(term: &str) {
    rasp::sql(format!("SELECT * FROM t WHERE name = '{term}'"));
    line(format!("searched {term}"));
    header::value(term.to_owned());
    checked(term);
    ::rasp_sinks::command::shell(term);
    sql(term); // a local fn of that name
}
"#,
    );
    assert_eq!(
        sites,
        [
            "5:5 app::search rasp::sql sql",
            "6:5 app::search rasp::log::line log",
            "7:5 app::search rasp::header::value header",
            "8:5 app::search rasp::sql sql",
            "9:7 app::search rasp::process::shell shell",
        ]
    );
}

#[test]
fn calls_inside_closures_async_blocks_and_macro_arguments_are_seen() {
    let sites = scan(
        r#"mod jobs {
    pub fn spawn(name: String) {
        tokio::spawn(async move {
            let _ = rasp::html::raw(name.clone());
        });
        tracing::info!(user = %rasp::log::field(&name), "started");
        assert!(rasp::http::url(&name).is_ok(), "{}", name);
    }
}
"#,
    );
    assert_eq!(
        sites,
        [
            "4:21 app::jobs::spawn rasp::html::raw html",
            "6:32 app::jobs::spawn rasp::log::field log",
            "7:17 app::jobs::spawn rasp::http::url url",
        ]
    );
}

#[test]
fn methods_count_only_in_files_that_refer_to_the_guards_module() {
    let with_root = scan(
        r#"use rasp::fs::Root;
use rasp::process::Command;

impl Store {
    fn load(&self, root: &Root, name: String) {
        root.open(name.clone());
        root.write(name, b"x");
        root.open_with(); // wrong arity
        Command::new("ls").arg(name);
        POLICY.location(name);
    }
}
"#,
    );
    assert_eq!(
        with_root,
        [
            "6:14 app::Store::load rasp::fs::Root::open path",
            "7:14 app::Store::load rasp::fs::Root::write path",
            "9:9 app::Store::load rasp::process::Command::new shell",
            "9:28 app::Store::load rasp::process::Command::arg shell",
            "10:16 app::Store::load rasp::redirect::RedirectPolicy::location redirect",
        ]
    );
    // Without a reference to `rasp::fs` or `rasp::process`, `open` and
    // `arg` are someone else's; `location` is matched everywhere.
    let without =
        scan("fn f(file: std::fs::File) { file.open(x); cmd.arg(y); POLICY.location(z); }\n");
    assert_eq!(
        without,
        ["1:62 app::f rasp::redirect::RedirectPolicy::location redirect"]
    );
}

#[test]
fn receivers_declared_with_a_guard_type_match_in_every_file_of_the_crate() {
    let sites = scan_files(&[
        (
            "lib.rs",
            "mod handlers;\npub struct Shop { root: rasp::fs::Root, files: PathBuf }\n",
        ),
        (
            "handlers.rs",
            "fn download(shop: &Shop, p: String) {\n    shop.root.read(&p);\n    shop.root.tokio().open(&p);\n    shop.files.join(&p);\n}\n",
        ),
    ]);
    assert_eq!(
        sites,
        [
            "2:15 app::handlers::download rasp::fs::Root::read path",
            "3:23 app::handlers::download rasp::fs::Root::open path",
        ]
    );
}

#[test]
fn escape_hatches_give_class_and_reason_and_generic_helpers_their_callers() {
    let sites = scan(
        r#"use rasp::trust_unchecked;

fn one(v: Tainted<String>) -> Asserted<String, rasp::Html> {
    trust_unchecked!(v, rasp::Html, "rendered by our own template")
}

fn helper<T: Into<String>>(v: T) -> Asserted<String, Sql> {
    let v = rasp::trust_unchecked!(v.into(), Sql, "ids from our own table");
    helper(v) // recursion is not a caller
}

fn first() { helper(1); }
mod web { fn second() { crate::helper("x"); } }
fn not_a_caller(cache: Cache) { cache.helper(2); }

impl Store {
    fn vouch(&self, v: impl Into<String>) -> Asserted<String, Html> {
        rasp::trust_unchecked!(v.into(), rasp::Html, "labels we wrote")
    }
}
fn render(store: &Store) { store.vouch("a"); Store::vouch(store, "b"); }
"#,
    );
    assert_eq!(
        sites,
        [
            "4:5 app::one trust_unchecked! html \"rendered by our own template\"",
            "8:13 app::helper trust_unchecked! sql \"ids from our own table\"",
            "12:14 app::first trust_unchecked! sql via helper \"ids from our own table\"",
            "13:25 app::web::second trust_unchecked! sql via helper \"ids from our own table\"",
            "18:9 app::Store::vouch trust_unchecked! html \"labels we wrote\"",
            "21:34 app::render trust_unchecked! html via vouch \"labels we wrote\"",
            "21:46 app::render trust_unchecked! html via vouch \"labels we wrote\"",
        ]
    );
}

#[test]
fn test_code_and_non_generic_helpers_add_nothing() {
    let sites = scan(
        r#"fn plain(v: Tainted<String>) { rasp::trust_unchecked!(v, rasp::Sql, "fixed"); }
fn caller() { plain(x); }
#[cfg(test)]
mod tests { fn t() { rasp::sql("SELECT 1"); } }
#[cfg(test)]
fn helper_test() { rasp::sql("SELECT 2"); }
"#,
    );
    assert_eq!(sites, ["1:32 app::plain trust_unchecked! sql \"fixed\""]);
}

#[test]
fn escape_hatches_the_registry_lists_are_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lib.rs");
    std::fs::write(
        &root,
        "fn f(v: T) { rasp::trust_unchecked!(v, rasp::Sql, \"fixed\"); }\n",
    )
    .unwrap();
    let registered = EscapeHatch {
        reason: "fixed".to_owned(),
        class: "sql".to_owned(),
        module: "app".to_owned(),
        file: "lib.rs".to_owned(),
        line: 1,
        column: 14,
    };
    let mut found = Findings::default();
    for file in files::module_tree(&root, "app").unwrap() {
        found.add(
            "lib.rs",
            &file,
            &TypedNames::default(),
            std::slice::from_ref(&registered),
        );
    }
    assert!(found.call_sites().is_empty());
}

#[test]
fn trusted_text_read_outside_a_sink_is_an_exit() {
    let sites = scan(
        r#"use rasp::SinkText;

#[rasp::sink(kind = "sql", guard(q))]
pub fn run(q: impl rasp::SqlSafe) -> Result<usize, rasp::Blocked> {
    Ok(q.sink_text().map_or(0, <[u8]>::len))
}

pub fn leak(name: rasp::Sanitized<String, rasp::Html>) -> Vec<u8> {
    name.sink_text().unwrap_or_default().to_vec()
}
"#,
    );
    assert_eq!(
        sites,
        [
            "9:10 app::leak SinkText::sink_text any \"a trusted value's text, read outside a #[rasp::sink] fn\""
        ]
    );
}
