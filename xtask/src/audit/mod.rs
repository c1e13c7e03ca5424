//! `cargo xtask audit-sinks`: the sink map of a workspace, as a table, JSON,
//! SARIF or HTML, and a CI gate against a saved baseline.
//!
//! The map is read from the registry of a linked program (see [`harness`]),
//! so it lists exactly what a binary built from the audited crates with the
//! same features registers: `#[rasp::sink]`s, guarded integration entry
//! points and `trust_unchecked!` uses, including those of dependencies such
//! as rasp-sinks.

use std::path::PathBuf;

mod baseline;
mod harness;
mod html;
mod map;
mod policy;
mod sarif;
mod severity;
mod table;

use harness::Selection;
use map::SinkMap;

/// Where `--check` looks when no `--baseline` is given, relative to the
/// workspace root.
const DEFAULT_BASELINE: &str = "audit/baseline.json";

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Sarif,
    Html,
}

/// Parsed command-line options of `audit-sinks`.
pub(crate) struct Options {
    selection: Selection,
    format: Format,
    output: Option<PathBuf>,
    baseline: Option<PathBuf>,
    check: bool,
    policy: Option<PathBuf>,
    /// The selection flags as given, repeated in the advice of a failed check.
    selection_args: Vec<String>,
}

impl Options {
    pub(crate) fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options {
            selection: Selection::default(),
            format: Format::Table,
            output: None,
            baseline: None,
            check: false,
            policy: None,
            selection_args: Vec::new(),
        };
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => {
                    (flag.to_owned(), Some(value.to_owned()))
                }
                _ => (arg.clone(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("`{flag}` needs a value"))
            };
            match flag.as_str() {
                "--manifest-path" => {
                    let path = value()?;
                    options
                        .selection_args
                        .extend(["--manifest-path".into(), path.clone()]);
                    options.selection.manifest_path = Some(path.into());
                }
                "-p" | "--package" => {
                    let package = value()?;
                    options
                        .selection_args
                        .extend(["--package".into(), package.clone()]);
                    options.selection.packages.push(package);
                }
                "-F" | "--features" => {
                    let features = value()?;
                    options
                        .selection_args
                        .extend(["--features".into(), features.clone()]);
                    options.selection.features.extend(
                        features
                            .split([',', ' '])
                            .filter(|f| !f.is_empty())
                            .map(str::to_owned),
                    );
                }
                "--all-features" => {
                    options.selection_args.push(flag.clone());
                    options.selection.all_features = true;
                }
                "--no-default-features" => {
                    options.selection_args.push(flag.clone());
                    options.selection.no_default_features = true;
                }
                "--format" => {
                    options.format = match value()?.as_str() {
                        "table" => Format::Table,
                        "json" => Format::Json,
                        "sarif" => Format::Sarif,
                        "html" => Format::Html,
                        other => {
                            return Err(format!(
                                "unknown format `{other}`: expected table, json, sarif or html"
                            ));
                        }
                    }
                }
                "-o" | "--output" => options.output = Some(value()?.into()),
                "--baseline" => options.baseline = Some(value()?.into()),
                "--check" => options.check = true,
                "--policy" => options.policy = Some(value()?.into()),
                other => return Err(format!("unknown option `{other}` for audit-sinks")),
            }
        }
        Ok(options)
    }
}

/// Runs the audit; `Ok(false)` when `--check` finds drift from the baseline.
pub(crate) fn run(options: &Options) -> Result<bool, String> {
    let mut gathered = harness::gather(&options.selection)?;
    if let Some(path) = &options.policy {
        policy::annotate(&mut gathered.map, path)?;
    }
    let map = &gathered.map;
    let rendered = match options.format {
        Format::Table => table::render(map),
        Format::Json => map.to_json(),
        Format::Sarif => sarif::render(map),
        Format::Html => html::render(map, &gathered.crates),
    };
    match &options.output {
        Some(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            std::fs::write(path, rendered)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!(
                "audit-sinks: {} sinks, {} escape hatches from {} -> {}",
                map.sinks.len(),
                map.escape_hatches.len(),
                gathered.crates.join(", "),
                path.display()
            );
        }
        None => print!("{rendered}"),
    }

    let baseline_path = match (&options.baseline, options.check) {
        (Some(path), _) => path.clone(),
        (None, true) => gathered.workspace_root.join(DEFAULT_BASELINE),
        (None, false) => return Ok(true),
    };
    let text = std::fs::read_to_string(&baseline_path)
        .map_err(|e| format!("cannot read the baseline {}: {e}", baseline_path.display()))?;
    let baseline =
        SinkMap::from_json(&text).map_err(|e| format!("{}: {e}", baseline_path.display()))?;
    let drift = baseline::compare(&baseline, map);
    for note in &drift.notes {
        eprintln!("note: {note}");
    }
    for failure in &drift.failures {
        eprintln!(
            "{}: {failure}",
            if options.check { "error" } else { "warning" }
        );
    }
    if drift.failures.is_empty() && drift.notes.is_empty() {
        eprintln!(
            "audit-sinks: the sink map matches {}",
            baseline_path.display()
        );
        return Ok(true);
    }
    let mut refresh = vec!["cargo xtask audit-sinks".to_owned()];
    refresh.extend(options.selection_args.iter().cloned());
    refresh.push(format!(
        "--format json --output {}",
        baseline_path.display()
    ));
    eprintln!(
        "the sink map differs from {}; after reviewing the changes above, run locally:\n    {}\nand commit the new baseline",
        baseline_path.display(),
        refresh.join(" ")
    );
    Ok(!options.check || drift.failures.is_empty())
}
