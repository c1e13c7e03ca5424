//! `cargo xtask audit-sinks`: the sink map of a workspace, as a table, JSON,
//! SARIF or HTML, and a CI gate against a saved baseline.
//!
//! The map is read from the registry of a linked program (see [`harness`]),
//! so it lists exactly what a binary built from the audited crates with the
//! same features registers: `#[rasp::sink]`s, guarded integration entry
//! points and `trust_unchecked!` uses, including those of dependencies such
//! as rasp-sinks. The registry names each guard once, where rasp defines
//! it; where the application calls the runtime-checked ones, and the
//! escape hatches a linked library cannot show, come from reading the
//! sources ([`scan`]).

use std::path::PathBuf;

use lexopt::Arg::{Long, Short};
use lexopt::Parser;

use crate::args;

mod baseline;
mod harness;
mod html;
pub(crate) mod map;
mod policy;
mod sarif;
mod scan;
mod selection;
mod severity;
mod table;

pub(crate) use harness::gather;
pub(crate) use map::SinkMap;
pub(crate) use selection::Selection;

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
#[derive(Debug)]
pub(crate) struct Options {
    selection: Selection,
    format: Format,
    output: Option<PathBuf>,
    baseline: Option<PathBuf>,
    check: bool,
    policy: Option<PathBuf>,
}

impl Options {
    /// Parses the arguments after `audit-sinks`.
    pub(crate) fn parse(parser: &mut Parser) -> Result<Options, String> {
        let mut options = Options {
            selection: Selection::default(),
            format: Format::Table,
            output: None,
            baseline: None,
            check: false,
            policy: None,
        };
        while let Some(arg) = args::next(parser)? {
            // Named as typed, so a missing value is reported under the
            // spelling the user wrote (`-p` or `--package`).
            let flag = args::shown(&arg);
            match arg {
                Long("format") => {
                    options.format = match args::value(parser, &flag)?.as_str() {
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
                Short('o') | Long("output") => {
                    options.output = Some(args::value(parser, &flag)?.into());
                }
                Long("baseline") => options.baseline = Some(args::value(parser, &flag)?.into()),
                Long("check") => options.check = true,
                Long("policy") => options.policy = Some(args::value(parser, &flag)?.into()),
                _ => {
                    if !options.selection.read(&flag, parser)? {
                        return Err(format!("unknown option `{flag}` for audit-sinks"));
                    }
                }
            }
        }
        Ok(options)
    }
}

/// Runs the audit; `Ok(false)` when `--check` finds drift from the baseline.
pub(crate) fn run(options: &Options) -> Result<bool, String> {
    let mut gathered = harness::gather(&options.selection)?;
    gathered.map.call_sites = scan::call_sites(
        &gathered.metadata,
        &options.selection.packages,
        &gathered.map.escape_hatches,
    )?;
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
                "audit-sinks: {} sinks, {} escape hatches, {} call sites from {} -> {}",
                map.sinks.len(),
                map.escape_hatches.len(),
                map.call_sites.len(),
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
    refresh.extend(options.selection.args.iter().cloned());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&mut Parser::from_args(args))
    }

    #[test]
    fn no_options_audit_the_current_workspace_as_a_table() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.selection.manifest_path, None);
        assert!(o.selection.packages.is_empty());
        assert!(o.selection.features.is_empty());
        assert!(!o.selection.all_features);
        assert!(!o.selection.no_default_features);
        assert_eq!(o.format, Format::Table);
        assert_eq!((o.output, o.baseline, o.policy), (None, None, None));
        assert!(!o.check);
        assert!(o.selection.args.is_empty());
    }

    #[test]
    fn every_option_is_read() {
        let o = parse(&[
            "--manifest-path",
            "ws/Cargo.toml",
            "--package",
            "app",
            "-p",
            "web",
            "--features",
            "a,b c",
            "-F",
            "web/tls",
            "--all-features",
            "--no-default-features",
            "--format",
            "sarif",
            "--output",
            "out/map.sarif",
            "--baseline",
            "base.json",
            "--check",
            "--policy",
            "policy.toml",
        ])
        .unwrap();
        assert_eq!(
            o.selection.manifest_path,
            Some(PathBuf::from("ws/Cargo.toml"))
        );
        assert_eq!(o.selection.packages, ["app", "web"]);
        assert_eq!(o.selection.features, ["a", "b", "c", "web/tls"]);
        assert!(o.selection.all_features);
        assert!(o.selection.no_default_features);
        assert_eq!(o.format, Format::Sarif);
        assert_eq!(o.output, Some(PathBuf::from("out/map.sarif")));
        assert_eq!(o.baseline, Some(PathBuf::from("base.json")));
        assert!(o.check);
        assert_eq!(o.policy, Some(PathBuf::from("policy.toml")));
        assert_eq!(
            parse(&["-o", "map.txt"]).unwrap().output,
            Some("map.txt".into())
        );
    }

    #[test]
    fn values_may_be_attached_with_an_equals_sign() {
        let o = parse(&[
            "--manifest-path=ws/Cargo.toml",
            "--package=app",
            "--features=a,b",
            "--format=json",
            "--output=map.json",
            "--baseline=base.json",
            "--policy=policy.toml",
        ])
        .unwrap();
        assert_eq!(
            o.selection.manifest_path,
            Some(PathBuf::from("ws/Cargo.toml"))
        );
        assert_eq!(o.selection.packages, ["app"]);
        assert_eq!(o.selection.features, ["a", "b"]);
        assert_eq!(o.format, Format::Json);
        assert_eq!(o.output, Some(PathBuf::from("map.json")));
        assert_eq!(o.baseline, Some(PathBuf::from("base.json")));
        assert_eq!(o.policy, Some(PathBuf::from("policy.toml")));
    }

    #[test]
    fn every_format_is_known_and_others_are_refused() {
        for (name, format) in [
            ("table", Format::Table),
            ("json", Format::Json),
            ("sarif", Format::Sarif),
            ("html", Format::Html),
        ] {
            assert_eq!(parse(&["--format", name]).unwrap().format, format);
        }
        assert_eq!(
            parse(&["--format", "xml"]).unwrap_err(),
            "unknown format `xml`: expected table, json, sarif or html"
        );
    }

    #[test]
    fn selection_args_are_passed_on_in_order_and_in_long_form() {
        let o = parse(&[
            "-p",
            "app",
            "--format",
            "json",
            "--manifest-path=ws/Cargo.toml",
            "--no-default-features",
            "-F",
            "a,b",
            "--check",
            "--package=web",
            "--all-features",
        ])
        .unwrap();
        assert_eq!(
            o.selection.args,
            [
                "--package",
                "app",
                "--manifest-path",
                "ws/Cargo.toml",
                "--no-default-features",
                "--features",
                "a,b",
                "--package",
                "web",
                "--all-features",
            ]
        );
    }

    #[test]
    fn unknown_options_are_refused() {
        for arg in ["--nope", "--nope=1", "-x", "stray"] {
            let shown = arg.split('=').next().unwrap();
            assert_eq!(
                parse(&["--check", arg]).unwrap_err(),
                format!("unknown option `{shown}` for audit-sinks")
            );
        }
        // A plain flag takes no value.
        assert!(parse(&["--check=yes"]).unwrap_err().contains("--check"));
    }

    #[test]
    fn a_missing_value_is_named_as_typed() {
        for flag in [
            "--manifest-path",
            "--package",
            "-p",
            "--features",
            "-F",
            "--format",
            "--output",
            "-o",
            "--baseline",
            "--policy",
        ] {
            assert_eq!(
                parse(&["--check", flag]).unwrap_err(),
                format!("`{flag}` needs a value")
            );
        }
    }
}
