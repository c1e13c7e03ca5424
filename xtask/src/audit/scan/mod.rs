//! The source scan: where the application calls rasp's runtime-checked
//! guards, and the escape hatches the registry cannot show.
//!
//! The registry lists each guard once, at its definition in rasp-sinks; a
//! new `rasp::sql(format!(..))` in the application changes nothing there.
//! So the audited packages' library and binary targets are parsed with
//! `syn` and every call of a guard is listed with its file, line, column
//! and enclosing fn ([`guards`] says which calls, [`resolve`] how `use`
//! items are followed). The scan also lists the `trust_unchecked!`s the
//! registry misses: those in binaries (the harness links only libraries)
//! and, for an escape hatch inside a generic fn, one entry per call of that
//! fn, by name, anywhere in the scanned sources.
//!
//! Examples, tests, benches and build scripts are not scanned: they do not
//! run in the service. Nor are rasp's own crates: their calls of the guards
//! are the guards' implementation, which the registry already lists.

use std::collections::BTreeSet;

use cargo_metadata::{Metadata, TargetKind};

use super::harness::rasp_dependents;
use super::map::{CallSite, EscapeHatch, Matched, SiteKind, relative_to};
use typed_names::TypedNames;

mod files;
mod guards;
mod resolve;
mod typed_names;
mod visit;

/// Packages that implement the guards rather than call them.
const GUARD_CRATES: [&str; 3] = ["rasp", "rasp-core", "rasp-sinks"];

/// What the `call` of an escape hatch is named in the map.
const TRUST_UNCHECKED: &str = "trust_unchecked!";

/// The call sites in the library and binary targets of the workspace
/// members depending on rasp (narrowed to `packages` when it names any),
/// leaving out the escape hatches of `registered` that the registry
/// already lists.
pub(crate) fn call_sites(
    metadata: &Metadata,
    packages: &[String],
    registered: &[EscapeHatch],
) -> Result<Vec<CallSite>, String> {
    let root = metadata.workspace_root.as_std_path();
    let mut scanned = BTreeSet::new();
    let mut found = Findings::default();
    let scanned_packages = rasp_dependents(metadata, packages)?
        .into_iter()
        .filter(|p| !GUARD_CRATES.contains(&p.name.as_str()));
    for package in scanned_packages {
        for target in package.targets.iter().filter(|t| {
            t.kind
                .iter()
                .any(|k| matches!(k, TargetKind::Lib | TargetKind::RLib | TargetKind::Bin))
        }) {
            let crate_name = target.name.replace('-', "_");
            let files = files::module_tree(target.src_path.as_std_path(), &crate_name)?;
            let typed = TypedNames::of_files(files.iter().map(|f| &f.syntax));
            for file in &files {
                // A file shared by a library and a binary is read once.
                if scanned.insert(file.path.clone()) {
                    let name = relative_to(root, &file.path.to_string_lossy());
                    found.add(&name, file, &typed, registered);
                }
            }
        }
    }
    Ok(found.call_sites())
}

/// What the files read so far hold.
#[derive(Default)]
struct Findings {
    sites: Vec<CallSite>,
    /// Every call by name, with its file, for [`Findings::helper_calls`].
    calls: Vec<(String, visit::Call)>,
    /// Generic fns holding an escape hatch, with its class and reason.
    helpers: Vec<(visit::Helper, String, String)>,
}

impl Findings {
    /// Reads `file`, named `name` in the map, of a crate declaring `typed`
    /// names.
    fn add(
        &mut self,
        name: &str,
        file: &files::SourceFile,
        typed: &TypedNames,
        registered: &[EscapeHatch],
    ) {
        let found = visit::file(&file.syntax, &file.module, typed);
        self.sites.extend(
            found
                .guard_calls
                .into_iter()
                .map(|call| guard_site(name, call)),
        );
        for exit in found.exits {
            if let Some(helper) = &exit.generic_helper {
                self.helpers
                    .push((helper.clone(), exit.class.clone(), exit.reason.clone()));
            }
            if !listed_by_registry(name, &exit, registered) {
                self.sites.push(exit_site(name, exit));
            }
        }
        self.sites.extend(
            found
                .text_reads
                .into_iter()
                .map(|at| text_read_site(name, at)),
        );
        self.calls
            .extend(found.calls.into_iter().map(|call| (name.to_owned(), call)));
    }

    /// The call sites, with one exit per call of a generic helper.
    fn call_sites(mut self) -> Vec<CallSite> {
        let helper_calls = self.helper_calls();
        self.sites.extend(helper_calls);
        self.sites
            .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        self.sites
    }

    /// One exit per call of a generic helper holding an escape hatch,
    /// matched by the called name (a free fn's by path calls only, an
    /// associated fn's also by method calls); the helper's own recursive
    /// calls are left out.
    fn helper_calls(&self) -> Vec<CallSite> {
        self.calls
            .iter()
            .filter_map(|(file, call)| {
                let (_, class, reason) = self
                    .helpers
                    .iter()
                    .find(|(helper, _, _)| call.may_call(helper))?;
                let recursive = call.at.fn_path == call.name
                    || call.at.fn_path.ends_with(&format!("::{}", call.name));
                (!recursive).then(|| CallSite {
                    site: SiteKind::Exit,
                    class: class.clone(),
                    call: TRUST_UNCHECKED.to_owned(),
                    matched: Matched::HelperCall,
                    file: file.clone(),
                    line: call.at.line,
                    column: call.at.column,
                    fn_path: call.at.fn_path.clone(),
                    via: Some(call.name.clone()),
                    reason: Some(reason.clone()),
                })
            })
            .collect()
    }
}

/// A trusted value's text read as plain bytes outside a sink.
fn text_read_site(file: &str, at: visit::At) -> CallSite {
    CallSite {
        site: SiteKind::Exit,
        class: "any".to_owned(),
        call: "SinkText::sink_text".to_owned(),
        matched: Matched::MethodName,
        file: file.to_owned(),
        line: at.line,
        column: at.column,
        fn_path: at.fn_path,
        via: None,
        reason: Some("a trusted value's text, read outside a #[rasp::sink] fn".to_owned()),
    }
}

fn guard_site(file: &str, call: visit::GuardCall) -> CallSite {
    CallSite {
        site: SiteKind::RuntimeChecked,
        class: call.guard.class.to_owned(),
        call: call.guard.call,
        matched: call.matched,
        file: file.to_owned(),
        line: call.at.line,
        column: call.at.column,
        fn_path: call.at.fn_path,
        via: None,
        reason: None,
    }
}

fn exit_site(file: &str, exit: visit::Exit) -> CallSite {
    CallSite {
        site: SiteKind::Exit,
        class: exit.class,
        call: TRUST_UNCHECKED.to_owned(),
        matched: Matched::Macro,
        file: file.to_owned(),
        line: exit.at.line,
        column: exit.at.column,
        fn_path: exit.at.fn_path,
        via: None,
        reason: Some(exit.reason),
    }
}

/// Whether the registry lists this escape hatch: the same line of the same
/// file, vouching for the same class.
fn listed_by_registry(file: &str, exit: &visit::Exit, registered: &[EscapeHatch]) -> bool {
    registered
        .iter()
        .any(|hatch| hatch.file == file && hatch.line == exit.at.line && hatch.class == exit.class)
}

#[cfg(test)]
mod tests;
