//! The layering of rasp-core, checked: no module uses a module of a layer
//! above its own.
//!
//! The layers are the ones drawn at the top of `src/lib.rs`. Every
//! `crate::…` path in a module's code (comments and doc links aside) names
//! the top-level module it reaches; that module's layer must not be above
//! the user's. A use inside the same layer is allowed, a cycle between two
//! modules is not.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Top-level modules by layer, top first.
const LAYERS: &[(&str, &[&str])] = &[
    ("support for generated code", &["__private_v1"]),
    ("check", &["check"]),
    ("policy", &["policy"]),
    ("event", &["event"]),
    ("telemetry", &["telemetry"]),
    ("context", &["context"]),
    (
        "taint and trust",
        &[
            "class",
            "compose",
            "decision",
            "escape_hatch",
            "escaped",
            "record",
            "registration",
            "registry",
            "rich_html",
            "sanitize",
            "sink",
            "spliced",
            "taint",
            "trust",
        ],
    ),
    ("detect", &["detect"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_str().unwrap().trim_end_matches(".rs").to_owned()
}

/// The items the crate root re-exports, by name, with the module each comes
/// from: `crate::Tainted` is a use of `taint`.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut items = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(at) = statement.find("pub use ") else {
            continue;
        };
        let path = &statement[at + "pub use ".len()..];
        let Some((module, rest)) = path.split_once("::") else {
            continue;
        };
        let names = rest.rsplit("::").next().unwrap_or(rest);
        for name in names.split([',', '{', '}', ' ', '\n']) {
            if !name.is_empty() {
                items.insert(name.to_owned(), module.trim().to_owned());
            }
        }
    }
    items
}

/// The top-level modules named by `crate::…` paths in code (not comments),
/// with re-exports of the crate root resolved through `root`.
fn used_modules(text: &str, root: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            // `$crate::` in a macro body names the crate of the macro's
            // caller, not a module of this one.
            let is_dollar = at > 0 && rest.as_bytes()[at - 1] == b'$';
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if is_dollar || name.is_empty() {
                continue;
            }
            match root.get(&name) {
                Some(module) => used.insert(module.clone()),
                None => used.insert(name),
            };
        }
    }
    used
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let root = root_reexports(&fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut violations = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "lib" {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            violations.push(format!("{module}: not in any layer of this test"));
            continue;
        };
        for used in used_modules(&fs::read_to_string(file).unwrap(), &root) {
            if used == module {
                continue;
            }
            match layer_of(&used) {
                Some(layer) if layer < own => violations.push(format!(
                    "{}: {module} ({}) uses {used} ({})",
                    file.strip_prefix(&src).unwrap().display(),
                    LAYERS[own].0,
                    LAYERS[layer].0
                )),
                Some(_) => {
                    edges.entry(module.clone()).or_default().insert(used);
                }
                // Macros and items defined in the crate root itself.
                None => {}
            }
        }
    }
    for (module, uses) in &edges {
        for used in uses {
            if edges.get(used).is_some_and(|back| back.contains(module)) {
                violations.push(format!("cycle: {module} <-> {used}"));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_checker_sees_an_upward_use() {
    let root = root_reexports("pub use context::{InputLimits, RequestContext};");
    let used = used_modules(
        "use crate::policy::snapshot; // crate::event\n$crate::check\nlet c: crate::RequestContext;",
        &root,
    );
    assert_eq!(
        used,
        BTreeSet::from(["context".to_owned(), "policy".to_owned()])
    );
}
