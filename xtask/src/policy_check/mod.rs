//! `cargo xtask policy-check POLICY`: validates a policy file and shows what
//! it does to every sink registered in this build.
//!
//! The sinks listed are those of rasp's own integrations, which this binary
//! links; an application's own `#[rasp::sink]`s live in its binary, so ids
//! that match none of these are reported as warnings, not errors, unless
//! `--strict` is given or the file sets `strict = true`.
//!
//! With `--evidence FILE`, the detections recorded in an evidence log are
//! replayed against the policy ([`replay`]), and `--fail-on-change`
//! makes any changed decision a failure, for a rollout gate.

use std::path::PathBuf;

use lexopt::Arg::{Long, Value};
use lexopt::Parser;
use rasp_core::policy::{self, Policy};
use rasp_core::registry;

use crate::args;

mod replay;

/// Parsed command-line options of `policy-check`.
#[derive(Debug, PartialEq)]
pub(crate) struct Options {
    path: PathBuf,
    strict: bool,
    evidence: Option<PathBuf>,
    fail_on_change: bool,
}

impl Options {
    /// Parses `POLICY [--strict] [--evidence FILE] [--fail-on-change]`.
    pub(crate) fn parse(parser: &mut Parser) -> Result<Options, String> {
        let mut path = None;
        let mut strict = false;
        let mut evidence = None;
        let mut fail_on_change = false;
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
                    return Err(format!(
                        "unknown option `{}` for policy-check",
                        args::shown(&other)
                    ));
                }
            }
        }
        Ok(Options {
            path: path.ok_or("policy-check needs a policy file")?,
            strict,
            evidence,
            fail_on_change,
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
    // The registry of this build holds rasp's own integrations.
    link_integrations();
    print!("{}", report(&options.path, &policy));
    let mut ok = true;
    if let Some(evidence) = &options.evidence {
        let file = std::fs::File::open(evidence)
            .map_err(|e| format!("cannot read {}: {e}", evidence.display()))?;
        let replay = replay::replay(&policy, std::io::BufReader::new(file))
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
    let unknown = policy.unknown_sink_ids();
    if unknown.is_empty() {
        return Ok(ok);
    }
    let strict = options.strict || policy.strict();
    let level = if strict { "error" } else { "warning" };
    for id in &unknown {
        eprintln!("{level}: sink id `{id}` matches no sink registered in this build");
    }
    Ok(ok && !strict)
}

fn report(path: &std::path::Path, policy: &Policy) -> String {
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
    for site in registry::sinks() {
        let (action, canary, on_error) = policy.site_rule(site.id(), site.class());
        let note = if policy.sink_allowlisted(site.id()) {
            "allowlisted: always allowed"
        } else {
            ""
        };
        let row = format!(
            "{:<32} {:<9} {:<8} {:>5}%  {:<8}  {note}",
            site.id(),
            site.class().as_str(),
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

/// Makes sure the integrations' sink registrations are linked in: a crate
/// none of whose symbols is used is dropped by the linker, and its
/// `inventory` registrations with it.
fn link_integrations() {
    let sql: fn(&'static str) -> _ = rasp_sinks::sqlx::sql;
    let header: fn(&'static [u8]) -> _ = rasp_sinks::header::value;
    let redirect: fn(&'static [u8]) -> _ = rasp_sinks::redirect::location;
    std::hint::black_box((sql, header, redirect));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&mut Parser::from_args(args))
    }

    #[test]
    fn the_policy_file_alone_checks_leniently_without_a_replay() {
        assert_eq!(
            parse(&["policy.toml"]).unwrap(),
            Options {
                path: "policy.toml".into(),
                strict: false,
                evidence: None,
                fail_on_change: false,
            }
        );
    }

    #[test]
    fn every_option_is_read_before_or_after_the_file() {
        let expected = Options {
            path: "policy.toml".into(),
            strict: true,
            evidence: Some("evidence.jsonl".into()),
            fail_on_change: true,
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
    fn the_example_policy_resolves_for_every_integration() {
        let path = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/policy.toml"
        ));
        let policy = policy::load_file(&path).unwrap();
        link_integrations();
        let report = report(&path, &policy);
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
    fn strict_fails_on_unknown_sinks_and_invalid_files_fail() {
        let dir = std::env::temp_dir().join(format!("rasp-policy-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("policy.toml");
        std::fs::write(
            &path,
            "schema_version = 1\nrevision = 1\nmode = \"block\"\n[sink_ids.\"app.nowhere\"]\naction = \"monitor\"\n",
        )
        .unwrap();
        let options = |strict| Options {
            path: path.clone(),
            strict,
            evidence: None,
            fail_on_change: false,
        };
        assert_eq!(run(&options(false)), Ok(true));
        assert_eq!(run(&options(true)), Ok(false));
        std::fs::write(&path, "schema_version = 1\nrevision = 1\nmode = \"blok\"\n").unwrap();
        assert_eq!(run(&options(false)), Ok(false));
        std::fs::remove_dir_all(&dir).unwrap();
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
        let run_with = |mode: &str| {
            std::fs::write(
                &policy,
                format!("schema_version = 1\nrevision = 1\nmode = \"{mode}\"\n"),
            )
            .unwrap();
            run(&Options {
                path: policy.clone(),
                strict: false,
                evidence: Some(evidence.clone()),
                fail_on_change: true,
            })
        };
        assert_eq!(run_with("block"), Ok(true));
        assert_eq!(run_with("monitor"), Ok(false));
        let missing = Options {
            path: policy.clone(),
            strict: false,
            evidence: Some(dir.path().join("none.jsonl")),
            fail_on_change: false,
        };
        assert!(run(&missing).unwrap_err().contains("none.jsonl"));
    }
}
