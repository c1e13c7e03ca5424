//! Project tasks: `cargo xtask <command>`.
//!
//! ```text
//! cargo xtask eval --corpus FILE [--class CLASS] [--results FILE] [--misses N]
//!                  [--min-recall R] [--max-fpr F]
//! cargo xtask policy-check POLICY [--strict] [--evidence FILE [--fail-on-change]]
//!                          [--manifest-path PATH] [--package P]... [--features F] [--all-features]
//! cargo xtask audit-sinks [--manifest-path PATH] [--package P]... [--features F] [--all-features]
//!                         [--format table|json|sarif|html] [--output FILE] [--baseline FILE] [--check]
//!                         [--policy FILE]
//! cargo xtask demo [--debug] [--report FILE]
//! cargo xtask fuzz [--seconds N] [--target T]... [--seed-only]
//! cargo xtask bench [--rounds N] [--duration SECS] [--connections N] [--threads N] [--no-pin] [--check]
//! cargo xtask bench --instructions [--requests N] [--check] [--fail-above PCT]
//! ```

use std::process::ExitCode;

use lexopt::Arg;

mod args;
mod audit;
mod bench;
mod demo;
mod eval;
mod fuzz;
mod policy_check;
mod shop;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  eval    measure the detectors on a labelled corpus (JSON lines)
          --corpus FILE      the corpus to read (required)
          --class CLASS      only this class: sqli, shell, path or ssrf
          --results FILE     write one JSON line per evaluated case
          --misses N         print up to N false negatives and N false positives per class
          --reps N           timed detector calls per case (default 64)
          --min-recall R     fail when an evaluated class has recall below R
          --max-fpr F        fail when an evaluated class has a false-positive rate above F
  audit-sinks
          list every sink and trust_unchecked! use of the workspace crates
          that depend on rasp, and every call of a runtime-checked guard in
          their sources (see docs/audit.md)
          --manifest-path PATH   the workspace to audit (default: the current one)
          --package P            audit only P (repeatable)
          --features F           features to enable: `f` or `crate/f`, comma-separated
          --all-features         enable every feature of the audited crates
          --no-default-features  disable their default features
          --policy FILE          add each sink's action under this policy file
          --format FORMAT        table (default), json, sarif or html
          --output FILE          write the report to FILE instead of stdout
          --baseline FILE        compare with a saved JSON map
          --check                fail on new runtime-checked sinks or call sites, new escape
                                 hatches or vanished sinks (baseline default:
                                 audit/baseline.json)
  demo    build the example shop with and without rasp, send both the same benign
          requests and real attacks for every sink class, print what each build did
          (see docs/demo.md); fails if an attack gets through rasp or a benign
          request is refused
          --debug            debug builds instead of release builds
          --report FILE      the HTML report (default: target/rasp-demo/report.html)
  fuzz    seed every fuzz target with the project's corpora and policy files, then run
          each with cargo-fuzz for a bounded time (see docs/fuzzing.md); fails on a crash
          --seconds N        time per target (default 30)
          --target T         only this target (repeatable)
          --seed-only        write the seeds to fuzz/corpus/<target>/ and stop
  bench   load the example shop with and without rasp under wrk and compare
          throughput and latency (release builds, loopback; see docs/benchmarks.md)
          --rounds N         rounds, each variant and endpoint once per round (default 5)
          --duration SECS    length of each wrk run (default 5)
          --connections N    wrk connections (default 16)
          --threads N        wrk threads (default 1)
          --no-pin           do not pin wrk and the shops to separate CPUs with taskset
          --check            fail when rasp costs more than 2 % of throughput or p99
          --instructions     count instructions per request under callgrind instead
                             (deterministic; needs valgrind)
          --requests N       requests in the long series of --instructions (default 200)
          --fail-above PCT   with --instructions --check: fail above this share (default 2)
  policy-check POLICY
          validate a policy file and print the action it resolves for every
          sink of the application, read as audit-sinks reads it
          --manifest-path, --package, --features, --all-features, --no-default-features
                             select the application, as for audit-sinks
          --strict           fail when the policy names sink ids the application lacks
          --evidence FILE    replay the detections of an evidence log (JSON lines) and show
                             which decisions the policy would change
          --fail-on-change   fail when the replay changes any recorded decision
";

fn main() -> ExitCode {
    match run(&mut lexopt::Parser::from_env()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs the command the arguments name; `Ok(false)` when it ran and failed.
fn run(parser: &mut lexopt::Parser) -> Result<bool, String> {
    let command = match args::next(parser)? {
        Some(Arg::Value(command)) => command.to_string_lossy().into_owned(),
        Some(Arg::Short('h') | Arg::Long("help")) | None => {
            print!("{USAGE}");
            return Ok(true);
        }
        Some(other) => return Err(unknown_command(&args::shown(&other))),
    };
    match command.as_str() {
        "eval" => eval::Options::parse(parser).and_then(|options| eval::run(&options)),
        "audit-sinks" => audit::Options::parse(parser).and_then(|options| audit::run(&options)),
        "bench" => bench::Options::parse(parser).and_then(|options| bench::run(&options)),
        "fuzz" => fuzz::Options::parse(parser).and_then(|options| fuzz::run(&options)),
        "demo" => demo::Options::parse(parser).and_then(|options| demo::run(&options)),
        "policy-check" => {
            policy_check::Options::parse(parser).and_then(|options| policy_check::run(&options))
        }
        other => Err(unknown_command(other)),
    }
}

fn unknown_command(name: &str) -> String {
    format!("unknown command `{name}`\n\n{USAGE}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(args: &[&str]) -> Result<bool, String> {
        run(&mut lexopt::Parser::from_args(args))
    }

    #[test]
    fn help_and_no_command_print_the_usage() {
        assert_eq!(run_with(&[]), Ok(true));
        assert_eq!(run_with(&["--help"]), Ok(true));
        assert_eq!(run_with(&["-h"]), Ok(true));
    }

    #[test]
    fn unknown_commands_and_options_are_errors() {
        let err = run_with(&["nope"]).unwrap_err();
        assert!(err.starts_with("unknown command `nope`\n\nusage:"), "{err}");
        let err = run_with(&["--fast"]).unwrap_err();
        assert!(err.starts_with("unknown command `--fast`"), "{err}");
        assert_eq!(
            run_with(&["bench", "--fast"]).unwrap_err(),
            "unknown option `--fast` for bench"
        );
        assert_eq!(
            run_with(&["policy-check", "--nope"]).unwrap_err(),
            "unknown option `--nope` for policy-check"
        );
    }
}
