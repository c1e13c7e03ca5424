//! `cargo xtask policy-check POLICY`: validates a policy file and shows what
//! it does to every sink of the application.
//!
//! The application's sinks are read the way `audit-sinks` reads them: the
//! harness links the workspace's crates (selected with the same
//! `--manifest-path`, `--package`, `--features`, `--all-features` and
//! `--no-default-features`) and prints their registry, which holds the
//! application's `#[rasp::sink]`s and the integrations its features turn
//! on. A sink id the policy names that matches none of them is reported
//! with the closest known id, as a warning, or as an error under `--strict`
//! or when the file sets `strict = true`.
//!
//! With `--evidence FILE`, the detections recorded in an evidence log are
//! replayed against the policy ([`replay`]), and `--fail-on-change`
//! makes any changed decision a failure, for a rollout gate.

use std::path::{Path, PathBuf};

use lexopt::Arg::{Long, Value};
use lexopt::Parser;
use rasp_core::SinkClass;
use rasp_core::policy::{self, Policy};

use crate::args;
use crate::audit::{Selection, SinkMap, gather};

mod nearest_id;
mod replay;

/// Parsed command-line options of `policy-check`.
#[derive(Debug, PartialEq)]
pub(crate) struct Options {
    path: PathBuf,
    strict: bool,
    evidence: Option<PathBuf>,
    fail_on_change: bool,
    /// The application whose sinks the policy is checked against.
    selection: Selection,
}

impl Options {
    /// Parses `POLICY [--strict] [--evidence FILE] [--fail-on-change]`
    /// and the selection options of `audit-sinks`.
    pub(crate) fn parse(parser: &mut Parser) -> Result<Options, String> {
        let mut path = None;
        let mut strict = false;
        let mut evidence = None;
        let mut fail_on_change = false;
        let mut selection = Selection::default();
        while let Some(arg) = args::next(parser)? {
            match arg {
                Long("strict") => strict = true,
                Long("fail-on-change") => fail_on_change = true,
                Long("evidence") => {
                    let file = args::value_or(parser, "--evidence needs a file")?;
                    evidence = Some(PathBuf::from(file));
                }
                Value(_) if path.is_some() => {
                    return Err("policy-check takes one policy file".into());
                }
                // Kept as the OS gave it: a path need not be UTF-8.
                Value(file) => path = Some(PathBuf::from(file)),
                other => {
                    let flag = args::shown(&other);
                    if !selection.read(&flag, parser)? {
                        return Err(format!("unknown option `{flag}` for policy-check"));
                    }
                }
            }
        }
        Ok(Options {
            path: path.ok_or("policy-check needs a policy file")?,
            strict,
            evidence,
            fail_on_change,
            selection,
        })
    }
}

/// Runs the check; `Ok(false)` when the policy is invalid.
pub(crate) fn run(options: &Options) -> Result<bool, String> {
    let policy = match policy::load_file(&options.path) {
        Ok(policy) => policy,
        Err(error) => {
            eprintln!("{}: {error}", options.path.display());
            return Ok(false);
        }
    };
    let gathered = gather(&options.selection)?;
    check(options, &policy, &gathered.map)
}

/// Shows `policy` applied to the sinks of `map`, replays the evidence, and
/// reports the sink ids that match no sink of `map`.
fn check(options: &Options, policy: &Policy, map: &SinkMap) -> Result<bool, String> {
    print!("{}", report(&options.path, policy, map));
    let mut ok = true;
    if let Some(evidence) = &options.evidence {
        let file = std::fs::File::open(evidence)
            .map_err(|e| format!("cannot read {}: {e}", evidence.display()))?;
        let replay = replay::replay(policy, std::io::BufReader::new(file))
            .map_err(|e| format!("cannot read {}: {e}", evidence.display()))?;
        print!(
            "{}",
            replay::report(&replay, &evidence.display().to_string())
        );
        if options.fail_on_change && replay.changed() > 0 {
            eprintln!(
                "error: the policy changes {} recorded decisions (--fail-on-change)",
                replay.changed()
            );
            ok = false;
        }
    }
    let unknown = unknown_sink_ids(policy, map);
    if unknown.is_empty() {
        return Ok(ok);
    }
    let strict = options.strict || policy.strict();
    let level = if strict { "error" } else { "warning" };
    for message in &unknown {
        eprintln!("{level}: {message}");
    }
    Ok(ok && !strict)
}

/// One message per sink id `policy` names that no sink of `map` has.
fn unknown_sink_ids(policy: &Policy, map: &SinkMap) -> Vec<String> {
    // The registry of this process holds no sink (a test checks it), so
    // rasp-core's own list of ids it does not know is every id the policy
    // names.
    policy
        .unknown_sink_ids()
        .into_iter()
        .filter(|id| !map.sinks.iter().any(|sink| &sink.id == id))
        .map(|id| {
            let known = map.sinks.iter().map(|sink| sink.id.as_str());
            match nearest_id::nearest(&id, known) {
                Some(nearest) => format!(
                    "sink id `{id}` matches no sink of the application; the closest is `{nearest}`"
                ),
                None => format!("sink id `{id}` matches no sink of the application"),
            }
        })
        .collect()
}

fn report(path: &Path, policy: &Policy, map: &SinkMap) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: valid, revision {}, events excerpt {}{}",
        path.display(),
        policy.revision(),
        policy.masking().as_str(),
        if policy.strict() { ", strict" } else { "" }
    );
    let _ = writeln!(
        out,
        "\n{:<32} {:<9} {:<8} {:>6}  {:<8}  notes",
        "sink", "kind", "action", "canary", "on_error"
    );
    for sink in &map.sinks {
        let Some(class) = SinkClass::from_name(&sink.kind) else {
            let _ = writeln!(out, "{:<32} {:<9} unknown kind", sink.id, sink.kind);
            continue;
        };
        let (action, canary, on_error) = policy.site_rule(&sink.id, class);
        let note = if policy.sink_allowlisted(&sink.id) {
            "allowlisted: always allowed"
        } else {
            ""
        };
        let row = format!(
            "{:<32} {:<9} {:<8} {:>5}%  {:<8}  {note}",
            sink.id,
            class.as_str(),
            action.as_str(),
            canary,
            on_error.as_str()
        );
        let _ = writeln!(out, "{}", row.trim_end());
    }
    let routes = policy.route_rules();
    if !routes.is_empty() {
        let _ = writeln!(
            out,
            "\nroutes (override the sink actions above on these routes):"
        );
        for route in routes {
            let action = route.action.map_or("-", |a| a.as_str());
            let canary = route.canary.map_or("-".to_owned(), |c| format!("{c}%"));
            let note = if route.allowlisted {
                "allowlisted: always allowed"
            } else {
                ""
            };
            let row = format!(
                "  {:<30} action {:<8} canary {:<5} {note}",
                route.route, action, canary
            );
            let _ = writeln!(out, "{}", row.trim_end());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::map::{GuardStatus, SCHEMA, Sink};

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&mut Parser::from_args(args))
    }

    fn options(path: &Path, strict: bool) -> Options {
        Options {
            path: path.to_path_buf(),
            strict,
            evidence: None,
            fail_on_change: false,
            selection: Selection::default(),
        }
    }

    /// A map with one sink per `(kind, id)`.
    fn map(sinks: &[(&str, &str)]) -> SinkMap {
        SinkMap {
            schema: SCHEMA.to_owned(),
            sinks: sinks
                .iter()
                .map(|(kind, id)| Sink {
                    kind: (*kind).to_owned(),
                    id: (*id).to_owned(),
                    fn_path: "app::f".to_owned(),
                    file: "src/lib.rs".to_owned(),
                    line: 1,
                    guarded: vec![],
                    guard: GuardStatus::RuntimeChecked,
                    action: None,
                })
                .collect(),
            escape_hatches: vec![],
            call_sites: vec![],
        }
    }

    #[test]
    fn the_policy_file_alone_checks_leniently_without_a_replay() {
        assert_eq!(
            parse(&["policy.toml"]).unwrap(),
            options(Path::new("policy.toml"), false)
        );
    }

    #[test]
    fn every_option_is_read_before_or_after_the_file() {
        let expected = Options {
            evidence: Some("evidence.jsonl".into()),
            fail_on_change: true,
            ..options(Path::new("policy.toml"), true)
        };
        assert_eq!(
            parse(&[
                "policy.toml",
                "--strict",
                "--evidence",
                "evidence.jsonl",
                "--fail-on-change"
            ])
            .unwrap(),
            expected
        );
        assert_eq!(
            parse(&[
                "--fail-on-change",
                "--evidence",
                "evidence.jsonl",
                "--strict",
                "policy.toml"
            ])
            .unwrap(),
            expected
        );
    }

    #[test]
    fn the_application_is_selected_as_audit_sinks_selects_it() {
        let o = parse(&[
            "policy.toml",
            "--manifest-path",
            "app/Cargo.toml",
            "-p",
            "web",
            "--features=web/tls",
            "--all-features",
            "--no-default-features",
        ])
        .unwrap();
        assert_eq!(
            o.selection.manifest_path,
            Some(PathBuf::from("app/Cargo.toml"))
        );
        assert_eq!(o.selection.packages, ["web"]);
        assert_eq!(o.selection.features, ["web/tls"]);
        assert!(o.selection.all_features && o.selection.no_default_features);
        assert_eq!(
            parse(&["policy.toml", "--package"]).unwrap_err(),
            "`--package` needs a value"
        );
    }

    #[test]
    fn the_evidence_may_be_attached_with_an_equals_sign() {
        let o = parse(&["--evidence=logs/evidence.jsonl", "policy.toml"]).unwrap();
        assert_eq!(o.evidence, Some(PathBuf::from("logs/evidence.jsonl")));
        assert_eq!(o.path, PathBuf::from("policy.toml"));
    }

    #[test]
    fn unknown_options_missing_values_and_stray_files_are_refused() {
        for (arg, shown) in [("--nope", "--nope"), ("--nope=1", "--nope"), ("-s", "-s")] {
            assert_eq!(
                parse(&["policy.toml", arg]).unwrap_err(),
                format!("unknown option `{shown}` for policy-check")
            );
        }
        assert_eq!(
            parse(&["policy.toml", "--evidence"]).unwrap_err(),
            "--evidence needs a file"
        );
        assert_eq!(
            parse(&["a.toml", "b.toml"]).unwrap_err(),
            "policy-check takes one policy file"
        );
        assert_eq!(
            parse(&["--strict"]).unwrap_err(),
            "policy-check needs a policy file"
        );
        // A plain flag takes no value.
        assert!(
            parse(&["policy.toml", "--strict=yes"])
                .unwrap_err()
                .contains("--strict")
        );
    }

    #[test]
    fn this_process_registers_no_sink() {
        // `unknown_sink_ids` relies on it to see every id a policy names.
        assert!(rasp_core::registry::sinks().is_empty());
    }

    #[test]
    fn the_example_policy_resolves_for_every_sink_of_the_map() {
        let path = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/policy.toml"
        ));
        let policy = policy::load_file(&path).unwrap();
        let map = map(&[
            ("sql", "sqlx.query"),
            ("redirect", "http.redirect.location"),
        ]);
        let report = report(&path, &policy, &map);
        let row = |id: &str| {
            report
                .lines()
                .find(|l| l.starts_with(&format!("{id} ")))
                .unwrap_or_else(|| panic!("no row for {id} in\n{report}"))
                .split_whitespace()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            row("sqlx.query"),
            ["sqlx.query", "sql", "block", "100%", "closed"]
        );
        assert_eq!(
            row("http.redirect.location"),
            [
                "http.redirect.location",
                "redirect",
                "block",
                "100%",
                "open"
            ]
        );
        assert!(report.contains("/healthz"), "{report}");
    }

    #[test]
    fn ids_unknown_to_the_application_fail_only_when_strict() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        std::fs::write(
            &path,
            "schema_version = 1\nrevision = 1\nmode = \"block\"\n\
             [sink_ids.\"app.db.exectue\"]\naction = \"monitor\"\n\
             [sink_ids.\"app.db.execute\"]\naction = \"block\"\n",
        )
        .unwrap();
        let policy = policy::load_file(&path).unwrap();
        let map = map(&[("sql", "app.db.execute"), ("log", "log.line")]);
        assert_eq!(
            unknown_sink_ids(&policy, &map),
            [
                "sink id `app.db.exectue` matches no sink of the application; the closest is `app.db.execute`"
            ]
        );
        assert_eq!(check(&options(&path, false), &policy, &map), Ok(true));
        assert_eq!(check(&options(&path, true), &policy, &map), Ok(false));
        // `strict = true` in the file is the same as `--strict`.
        let strict = policy::load_str(&format!(
            "strict = true\n{}",
            std::fs::read_to_string(&path).unwrap()
        ))
        .unwrap();
        assert_eq!(check(&options(&path, false), &strict, &map), Ok(false));
        let known = self::map(&[("sql", "app.db.execute"), ("sql", "app.db.exectue")]);
        assert_eq!(check(&options(&path, true), &policy, &known), Ok(true));
    }

    #[test]
    fn an_invalid_file_fails_before_anything_is_built() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, "schema_version = 1\nrevision = 1\nmode = \"blok\"\n").unwrap();
        let options = Options {
            // Would fail with an error, not `Ok(false)`, if it were read.
            selection: Selection {
                manifest_path: Some(dir.path().join("missing/Cargo.toml")),
                ..Selection::default()
            },
            ..options(&path, false)
        };
        assert_eq!(run(&options), Ok(false));
    }

    #[test]
    fn fail_on_change_fails_only_when_a_recorded_decision_changes() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.toml");
        let evidence = dir.path().join("evidence.jsonl");
        std::fs::write(
            &evidence,
            "{\"rasp.action\":\"block\",\"rasp.sink.kind\":\"sql\",\"rasp.sink.id\":\"sqlx.query\",\"rasp.request.id\":\"r1\"}\n",
        )
        .unwrap();
        let map = map(&[("sql", "sqlx.query")]);
        let options = Options {
            evidence: Some(evidence.clone()),
            fail_on_change: true,
            ..options(&policy, false)
        };
        let check_with = |mode: &str| {
            let loaded = policy::load_str(&format!(
                "schema_version = 1\nrevision = 1\nmode = \"{mode}\"\n"
            ))
            .unwrap();
            check(&options, &loaded, &map)
        };
        assert_eq!(check_with("block"), Ok(true));
        assert_eq!(check_with("monitor"), Ok(false));
        let missing = Options {
            evidence: Some(dir.path().join("none.jsonl")),
            ..self::options(&policy, false)
        };
        let loaded =
            policy::load_str("schema_version = 1\nrevision = 1\nmode = \"block\"\n").unwrap();
        assert!(
            check(&missing, &loaded, &map)
                .unwrap_err()
                .contains("none.jsonl")
        );
    }
}
