//! Builds and runs the harness that reads the registry of the audited crates.
//!
//! Sinks and escape hatches register through `inventory`, i.e. through
//! link-time sections that exist only in a linked program. The harness is
//! a generated binary crate under `<target>/rasp-audit/<workspace>/` with a
//! path dependency on every audited crate. Each crate is named in an
//! `extern crate … as _;` item: whether rustc loads, and so links, a Cargo
//! dependency that no code names is up to the compiler, and a crate left
//! out loses its registrations without an error. Once loaded, rustc keeps
//! every `#[used]` static of the crate (the registrations are such statics)
//! even though nothing calls into it, so naming it is enough. The harness
//! then prints
//! `rasp_core::registry::{sinks, escape_hatches}` as JSON, and an empty map
//! is treated as a failed link, never as a clean result.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_metadata::{Metadata, MetadataCommand, Package, TargetKind};

use super::map::{SCHEMA, SinkMap};
use super::selection::Selection;

/// The outcome of a harness run.
pub(crate) struct Gathered {
    pub(crate) map: SinkMap,
    pub(crate) workspace_root: PathBuf,
    /// Names of the crates the harness linked.
    pub(crate) crates: Vec<String>,
    /// The audited workspace, for the source scan.
    pub(crate) metadata: Metadata,
}

/// Names whose registry the audit reads: a crate depending on either can
/// declare sinks or use the escape hatch.
const RASP_CRATES: [&str; 2] = ["rasp", "rasp-core"];

/// Finds the crates, builds and runs the harness, returns the normalized map.
#[allow(
    clippy::disallowed_methods,
    reason = "runs cargo with fixed arguments, no untrusted input"
)]
pub(crate) fn gather(selection: &Selection) -> Result<Gathered, String> {
    let metadata = metadata(selection.manifest_path.as_deref())?;
    let audited = audited_packages(&metadata, &selection.packages)?;
    let features = features_by_package(&audited, selection)?;
    let rasp_core = metadata
        .packages
        .iter()
        .find(|p| p.name.as_str() == "rasp-core")
        .ok_or("no package in the dependency graph is `rasp-core`; is this a rasp workspace?")?;

    let workspace_root = metadata.workspace_root.clone().into_std_path_buf();
    let target_dir = metadata.target_directory.clone().into_std_path_buf();
    let (manifest, main) = harness_sources(&audited, &features, rasp_core, selection);
    let name = harness_name(&workspace_root, &manifest);
    let dir = target_dir.join("rasp-audit").join(&name);
    write_harness(&dir, &name, &manifest, &main, &workspace_root)?;

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["run", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        // Shared with the workspace so the audited crates' dependencies
        // are compiled once, not once per harness.
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the audit harness in {} failed ({}):\n{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let stdout = String::from_utf8(output.stdout)
        .map_err(|_| "the audit harness printed invalid UTF-8".to_owned())?;
    let mut map = SinkMap::from_json(&stdout)
        .map_err(|e| format!("the audit harness printed an unreadable map: {e}"))?;
    if map.sinks.is_empty() && map.escape_hatches.is_empty() {
        return Err(format!(
            "the harness linked {} but found no registrations at all: a crate was \
             not linked, or no sink is compiled with these features",
            audited
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    map.normalize(&workspace_root);
    for package in silent_packages(&metadata, &audited, &map) {
        eprintln!("note: `{package}` registers no sink and no escape hatch with these features");
    }
    let crates = audited.iter().map(|p| p.name.to_string()).collect();
    Ok(Gathered {
        map,
        workspace_root,
        crates,
        metadata,
    })
}

/// Audited packages none of whose files holds a registration. A file
/// belongs to the workspace member whose directory is its longest prefix
/// (the root package's directory also holds the other members).
fn silent_packages<'m>(
    metadata: &'m Metadata,
    audited: &[&'m Package],
    map: &SinkMap,
) -> Vec<&'m str> {
    let root = metadata.workspace_root.as_std_path();
    let dirs: Vec<(&str, PathBuf)> = metadata
        .workspace_packages()
        .into_iter()
        .filter_map(|p| {
            let dir = p.manifest_path.parent()?.as_std_path();
            Some((p.name.as_str(), dir.strip_prefix(root).ok()?.to_path_buf()))
        })
        .collect();
    let owner = |file: &str| {
        dirs.iter()
            .filter(|(_, dir)| Path::new(file).starts_with(dir))
            .max_by_key(|(_, dir)| dir.components().count())
            .map(|(name, _)| *name)
    };
    let files = map
        .sinks
        .iter()
        .map(|s| s.file.as_str())
        .chain(map.escape_hatches.iter().map(|h| h.file.as_str()));
    let owners: Vec<&str> = files.filter_map(owner).collect();
    audited
        .iter()
        .map(|p| p.name.as_str())
        .filter(|name| !owners.contains(name))
        .collect()
}

fn metadata(manifest_path: Option<&Path>) -> Result<Metadata, String> {
    let mut command = MetadataCommand::new();
    if let Some(path) = manifest_path {
        command.manifest_path(path);
    }
    command
        .exec()
        .map_err(|e| format!("cargo metadata failed: {e}"))
}

/// Workspace members with a library target that depend on rasp or
/// rasp-core (binaries and proc-macros cannot be linked into another
/// program), narrowed to `--package` when given.
fn audited_packages<'m>(
    metadata: &'m Metadata,
    wanted: &[String],
) -> Result<Vec<&'m Package>, String> {
    let audited: Vec<&Package> = rasp_dependents(metadata, wanted)?
        .into_iter()
        .filter(|p| library_target(p).is_some())
        .collect();
    if audited.is_empty() {
        return Err(
            "no selected workspace package has a library target depending on rasp or rasp-core"
                .into(),
        );
    }
    Ok(audited)
}

/// Workspace members with a normal dependency on rasp or rasp-core,
/// narrowed to `wanted` when it names any.
pub(crate) fn rasp_dependents<'m>(
    metadata: &'m Metadata,
    wanted: &[String],
) -> Result<Vec<&'m Package>, String> {
    let members = metadata.workspace_packages();
    for name in wanted {
        if !members.iter().any(|p| p.name.as_str() == name) {
            return Err(format!("`{name}` is not a package of this workspace"));
        }
    }
    Ok(members
        .into_iter()
        .filter(|p| wanted.is_empty() || wanted.iter().any(|w| w == p.name.as_str()))
        .filter(|p| {
            p.dependencies.iter().any(|d| {
                d.kind == cargo_metadata::DependencyKind::Normal
                    && RASP_CRATES.contains(&d.name.as_str())
            })
        })
        .collect())
}

/// The name of `package`'s library as Rust code spells it.
fn library_target(package: &Package) -> Option<String> {
    package
        .targets
        .iter()
        .find(|t| {
            t.kind
                .iter()
                .any(|k| matches!(k, TargetKind::Lib | TargetKind::RLib))
        })
        .map(|t| t.name.replace('-', "_"))
}

fn features_by_package<'m>(
    audited: &[&'m Package],
    selection: &Selection,
) -> Result<BTreeMap<&'m str, Vec<String>>, String> {
    let mut by_package: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for package in audited {
        let features = if selection.all_features {
            package.features.keys().cloned().collect()
        } else {
            Vec::new()
        };
        by_package.insert(package.name.as_str(), features);
    }
    for feature in &selection.features {
        match feature.split_once('/') {
            Some((package, name)) => {
                let Some(list) = by_package.get_mut(package) else {
                    return Err(format!(
                        "feature `{feature}` names a package that is not audited"
                    ));
                };
                list.push(name.to_owned());
            }
            None => {
                let mut found = false;
                for package in audited {
                    if package.features.contains_key(feature.as_str()) {
                        found = true;
                        by_package
                            .entry(package.name.as_str())
                            .or_default()
                            .push(feature.clone());
                    }
                }
                if !found {
                    return Err(format!("no audited package has a feature `{feature}`"));
                }
            }
        }
    }
    Ok(by_package)
}

/// One harness per audited workspace and selection, so audits sharing a
/// target directory neither overwrite each other's sources nor race on the
/// same binary.
fn harness_name(root: &Path, manifest: &str) -> String {
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    // FNV-1a: stable across toolchains, unlike `DefaultHasher`.
    let hash = root
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .chain(manifest.as_bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
        });
    format!("rasp-audit-{clean}-{:08x}", hash as u32)
}

/// The harness's `[dependencies]` table and `main.rs`.
fn harness_sources(
    audited: &[&Package],
    features: &BTreeMap<&str, Vec<String>>,
    rasp_core: &Package,
    selection: &Selection,
) -> (String, String) {
    let mut manifest = String::new();
    let mut main = String::from(
        "//! Generated by `cargo xtask audit-sinks`: links the audited crates and prints their registry.\n\n",
    );
    for (index, package) in audited.iter().enumerate() {
        let alias = format!("audited_{index}");
        let dir = package
            .manifest_path
            .parent()
            .expect("a manifest path has a parent");
        let features = &features[package.name.as_str()];
        let _ = writeln!(
            manifest,
            "{alias} = {{ package = {}, path = {}, default-features = {}, features = {:?} }}",
            toml_string(package.name.as_str()),
            toml_string(dir.as_str()),
            !selection.no_default_features,
            features,
        );
        let _ = writeln!(main, "extern crate {alias} as _; // {}", package.name);
    }
    if !audited.iter().any(|p| p.name.as_str() == "rasp-core") {
        let source = match &rasp_core.source {
            None => {
                let dir = rasp_core
                    .manifest_path
                    .parent()
                    .expect("a manifest path has a parent");
                format!("path = {}", toml_string(dir.as_str()))
            }
            Some(_) => format!("version = \"={}\"", rasp_core.version),
        };
        let _ = writeln!(manifest, "rasp-core = {{ {source} }}");
    }
    manifest.push_str("serde_json = \"1\"\n");
    main.push_str(&HARNESS_MAIN.replace("__SCHEMA__", SCHEMA));
    (manifest, main)
}

fn write_harness(
    dir: &Path,
    name: &str,
    dependencies: &str,
    main: &str,
    workspace_root: &Path,
) -> Result<(), String> {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| format!("cannot create {}: {e}", src.display()))?;
    let manifest = format!(
        "# Generated by `cargo xtask audit-sinks`; rewritten on every run.\n\
         [package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         # Not a member of the audited workspace.\n[workspace]\n\n[dependencies]\n{dependencies}"
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    write_if_changed(&src.join("main.rs"), main)?;
    // The audited workspace's lock file pins the same versions its own
    // builds use, and lets the harness build without refreshing the index.
    let lock = workspace_root.join("Cargo.lock");
    if lock.exists() {
        let text = std::fs::read_to_string(&lock)
            .map_err(|e| format!("cannot read {}: {e}", lock.display()))?;
        write_if_changed(&dir.join("Cargo.lock"), &text)?;
    }
    Ok(())
}

/// Leaves unchanged files untouched so cargo's freshness check holds.
fn write_if_changed(path: &Path, text: &str) -> Result<(), String> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn toml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}

/// The fixed part of the harness: prints the registry in the sink-map
/// schema, whose tag replaces `__SCHEMA__`.
const HARNESS_MAIN: &str = r#"
use rasp_core::registry;

fn main() {
    let sinks: Vec<serde_json::Value> = registry::sinks()
        .into_iter()
        .map(|site| {
            serde_json::json!({
                "kind": site.class().as_str(),
                "id": site.id(),
                "fn_path": site.fn_path(),
                "file": site.file(),
                "line": site.line(),
                "guarded": site.guarded(),
                "guard": site.guard().as_str(),
            })
        })
        .collect();
    let escape_hatches: Vec<serde_json::Value> = registry::escape_hatches()
        .into_iter()
        .map(|hatch| {
            serde_json::json!({
                "reason": hatch.reason,
                "class": hatch.class.as_str(),
                "module": hatch.module,
                "file": hatch.file,
                "line": hatch.line,
                "column": hatch.column,
            })
        })
        .collect();
    let map = serde_json::json!({
        "schema": "__SCHEMA__",
        "sinks": sinks,
        "escape_hatches": escape_hatches,
    });
    println!("{map}");
}
"#;
