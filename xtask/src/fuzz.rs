//! `cargo xtask fuzz`: seed every fuzz target with the project's own
//! corpora, then run each for a bounded time.
//!
//! libFuzzer finds its way much faster from real cases than from nothing:
//! every labelled case of `tests/corpus/*.jsonl` becomes a seed of its
//! detector's target, in the byte layout that target splits (`input`,
//! `0xFF`, sink text; the SQL target takes a dialect byte first), and every
//! policy file the project ships (examples, and the TOML blocks of
//! `docs/policy.md`) seeds the policy parser. Seeds are written beside what
//! the fuzzer found before (`fuzz/corpus/<target>/`, ignored by git), so a
//! long local run keeps its progress and a CI run starts from the seeds.
//!
//! Targets build with `cargo fuzz` (installed with
//! `cargo install cargo-fuzz --locked`). The workspace forbids `unsafe`, so
//! the address sanitizer has little to find; the targets build without it
//! and with debug assertions, which is what catches a detector's broken
//! invariant. `RUSTC_BOOTSTRAP=1` lets the pinned stable toolchain accept
//! the instrumentation flags cargo-fuzz passes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use lexopt::Arg::Long;
use lexopt::Parser;

use crate::args;
use crate::eval::{Case, Class, read_corpus};

/// The fuzz targets of `fuzz/Cargo.toml`, with what seeds each.
const TARGETS: [(&str, Seeds); 9] = [
    ("sql_detector", Seeds::Corpus(Class::Sqli)),
    ("shell_detector", Seeds::Corpus(Class::Shell)),
    ("path_detector", Seeds::Corpus(Class::Path)),
    ("ssrf_detector", Seeds::Corpus(Class::Ssrf)),
    ("redirect_detector", Seeds::Corpus(Class::Redirect)),
    ("header_detector", Seeds::Corpus(Class::Header)),
    ("log_detector", Seeds::Corpus(Class::Log)),
    ("html_detector", Seeds::Corpus(Class::Xss)),
    ("policy_file", Seeds::Policies),
];

/// Where a target's seeds come from.
#[derive(Debug, Clone, Copy)]
enum Seeds {
    /// The corpus cases of one class.
    Corpus(Class),
    /// The policy files the project ships.
    Policies,
}

/// What `fuzz` was asked to do.
#[derive(Debug)]
pub(crate) struct Options {
    seconds: u64,
    targets: Vec<&'static str>,
    seed_only: bool,
}

impl Options {
    /// Parses the arguments after `fuzz`.
    pub(crate) fn parse(parser: &mut Parser) -> Result<Options, String> {
        let mut options = Options {
            seconds: 30,
            targets: Vec::new(),
            seed_only: false,
        };
        while let Some(arg) = args::next(parser)? {
            match arg {
                Long("seconds") => {
                    let text = args::value(parser, "--seconds")?;
                    options.seconds = text.parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                        format!("`--seconds` expects a positive number, got `{text}`")
                    })?;
                }
                Long("target") => {
                    let name = args::value(parser, "--target")?;
                    let target = TARGETS
                        .iter()
                        .map(|(t, _)| *t)
                        .find(|t| *t == name)
                        .ok_or_else(|| {
                            let known: Vec<&str> = TARGETS.iter().map(|(t, _)| *t).collect();
                            format!(
                                "unknown fuzz target `{name}` (expected one of {})",
                                known.join(", ")
                            )
                        })?;
                    options.targets.push(target);
                }
                Long("seed-only") => options.seed_only = true,
                other => {
                    return Err(format!(
                        "unknown option `{}` for `fuzz`",
                        args::shown(&other)
                    ));
                }
            }
        }
        if options.targets.is_empty() {
            options.targets = TARGETS.iter().map(|(t, _)| *t).collect();
        }
        Ok(options)
    }
}

/// Runs `fuzz`; `Ok(false)` when a target crashed.
pub(crate) fn run(options: &Options) -> Result<bool, String> {
    let root = workspace_root();
    let cases = corpus_cases(&root)?;
    let policies = shipped_policies(&root)?;
    for &target in &options.targets {
        let seeds = seeds_of(target, &cases, &policies);
        let dir = root.join("fuzz/corpus").join(target);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        for (name, bytes) in &seeds {
            let path = dir.join(name);
            fs::write(&path, bytes)
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        }
        println!("{target}: {} seeds in {}", seeds.len(), dir.display());
    }
    if options.seed_only {
        return Ok(true);
    }

    let mut build = cargo_fuzz(&root);
    build.args(["build", "--sanitizer", "none", "--debug-assertions"]);
    if options.targets.len() == 1 {
        build.arg(options.targets[0]);
    }
    if !status_of(build, "cargo fuzz build")? {
        return Ok(false);
    }
    let mut failed = Vec::new();
    for &target in &options.targets {
        println!("\n==> fuzzing {target} for {} s", options.seconds);
        let mut run = cargo_fuzz(&root);
        run.args(["run", "--sanitizer", "none", "--debug-assertions", target])
            .arg(root.join("fuzz/corpus").join(target))
            .arg("--")
            .arg(format!("-max_total_time={}", options.seconds))
            // A fixed seed: from the same seeds, a run explores the same
            // inputs in the same order, so a failure in CI replays here.
            .arg("-seed=1")
            // Quiet: libFuzzer's status lines every few thousand runs would
            // bury the one line that matters.
            .args(["-print_final_stats=1", "-verbosity=0"]);
        if !status_of(run, &format!("cargo fuzz run {target}"))? {
            failed.push(target);
        }
    }
    if failed.is_empty() {
        println!(
            "\nfuzz: {} targets ran {} s each without a failure",
            options.targets.len(),
            options.seconds
        );
        Ok(true)
    } else {
        eprintln!(
            "\nfuzz: {} failed; the inputs that broke them are in fuzz/artifacts/<target>/ \
             (replay one with `cargo fuzz run --sanitizer none <target> <file>`)",
            failed.join(", ")
        );
        Ok(false)
    }
}

/// `cargo fuzz …` run from the workspace root, with the pinned stable
/// toolchain allowed to take the instrumentation flags.
#[expect(
    clippy::disallowed_methods,
    reason = "a fixed cargo command of the developer's own, no request input"
)]
fn cargo_fuzz(root: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(root)
        .env("RUSTC_BOOTSTRAP", "1")
        .arg("fuzz");
    command
}

fn status_of(mut command: Command, what: &str) -> Result<bool, String> {
    let status = command.status().map_err(|e| {
        format!("cannot run `{what}`: {e} (install it with `cargo install cargo-fuzz --locked`)")
    })?;
    Ok(status.success())
}

fn workspace_root() -> PathBuf {
    // xtask's manifest sits one directory below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Every case of every corpus of `tests/corpus`, with the class it names.
fn corpus_cases(root: &Path) -> Result<Vec<(Class, Case)>, String> {
    let dir = root.join("tests/corpus");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| format!("cannot list `{}`: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let name = file.display().to_string();
        for (line, case) in read_corpus(&name)? {
            let class = Class::parse(&case.class)
                .ok_or_else(|| format!("{name}:{line}: unknown class `{}`", case.class))?;
            cases.push((class, case));
        }
    }
    Ok(cases)
}

/// The policy files the project ships: the examples, and each TOML block
/// of the policy reference.
fn shipped_policies(root: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut policies = Vec::new();
    for file in ["examples/policy.toml", "examples/shop/policy.toml"] {
        let path = root.join(file);
        let text = fs::read(&path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        policies.push((file.replace('/', "-"), text));
    }
    let reference = root.join("docs/policy.md");
    let text = fs::read_to_string(&reference)
        .map_err(|e| format!("cannot read `{}`: {e}", reference.display()))?;
    for (index, block) in toml_blocks(&text).into_iter().enumerate() {
        policies.push((format!("docs-policy-{index}.toml"), block.into_bytes()));
    }
    Ok(policies)
}

/// The bodies of the ```` ```toml ```` fenced blocks of a Markdown text.
fn toml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        let fence = line.trim_start();
        match &mut current {
            None if fence.starts_with("```toml") => current = Some(String::new()),
            Some(block) if fence.starts_with("```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// The seed files of `target`: a file name and its bytes each.
fn seeds_of(
    target: &str,
    cases: &[(Class, Case)],
    policies: &[(String, Vec<u8>)],
) -> Vec<(String, Vec<u8>)> {
    let Some((_, seeds)) = TARGETS.iter().find(|(t, _)| *t == target) else {
        return Vec::new();
    };
    match *seeds {
        Seeds::Policies => policies.to_vec(),
        Seeds::Corpus(class) => cases
            .iter()
            .filter(|(c, _)| *c == class)
            .map(|(_, case)| {
                (
                    format!("seed-{}", file_safe(&case.id)),
                    seed_bytes(class, case),
                )
            })
            .collect(),
    }
}

/// A case in the layout the detector targets split: the input, a `0xFF`
/// (a byte that never occurs in UTF-8 text, so it cannot be confused with
/// either part), then the sink text; the SQL target reads a dialect byte
/// first, in the order of its `DIALECTS` table.
fn seed_bytes(class: Class, case: &Case) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(case.input.len() + case.template.len() + 2);
    if class == Class::Sqli {
        let dialect = match case.dialect.as_deref() {
            Some("sqlite") => 1,
            Some("postgres") => 2,
            Some("mysql") => 3,
            _ => 0,
        };
        bytes.push(dialect);
    }
    bytes.extend_from_slice(case.input.as_bytes());
    bytes.push(0xFF);
    bytes.extend_from_slice(case.template.as_bytes());
    bytes
}

fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&mut Parser::from_args(args))
    }

    #[test]
    fn options_have_defaults_and_are_checked() {
        let o = parse(&[]).unwrap();
        assert_eq!(
            (o.seconds, o.targets.len(), o.seed_only),
            (30, TARGETS.len(), false)
        );
        let o = parse(&[
            "--seconds",
            "5",
            "--target",
            "sql_detector",
            "--target=policy_file",
            "--seed-only",
        ])
        .unwrap();
        assert_eq!(
            (o.seconds, o.targets, o.seed_only),
            (5, vec!["sql_detector", "policy_file"], true)
        );
        assert_eq!(
            parse(&["--seconds"]).unwrap_err(),
            "`--seconds` needs a value"
        );
        assert!(parse(&["--target"]).unwrap_err().contains("needs a value"));
        assert!(
            parse(&["--seconds", "0"])
                .unwrap_err()
                .contains("positive number")
        );
        assert!(
            parse(&["--target", "nope"])
                .unwrap_err()
                .contains("unknown fuzz target `nope`")
        );
        assert_eq!(
            parse(&["--fast"]).unwrap_err(),
            "unknown option `--fast` for `fuzz`"
        );
        assert!(parse(&["--seed-only=yes"]).is_err());
    }

    #[test]
    fn every_fuzz_target_is_listed_and_seeded() {
        let root = workspace_root();
        let manifest = fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap();
        let declared: Vec<&str> = manifest
            .lines()
            .filter_map(|l| l.strip_prefix("name = \""))
            .filter_map(|l| l.strip_suffix('"'))
            .filter(|name| *name != "rasp-fuzz")
            .collect();
        let mut listed: Vec<&str> = TARGETS.iter().map(|(t, _)| *t).collect();
        let mut declared_sorted = declared.clone();
        listed.sort_unstable();
        declared_sorted.sort_unstable();
        assert_eq!(
            listed, declared_sorted,
            "fuzz/Cargo.toml and TARGETS disagree"
        );

        let cases = corpus_cases(&root).unwrap();
        let policies = shipped_policies(&root).unwrap();
        assert!(policies.len() > 2, "docs/policy.md has TOML blocks");
        for (target, _) in TARGETS {
            let seeds = seeds_of(target, &cases, &policies);
            assert!(seeds.len() >= 3, "{target} has only {} seeds", seeds.len());
            let mut names: Vec<&str> = seeds.iter().map(|(n, _)| n.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), seeds.len(), "{target}: seed names collide");
        }
    }

    #[test]
    fn seeds_split_back_into_input_and_text() {
        let case: Case = serde_json::from_str(
            r#"{"id":"x/1","class":"sqli","dialect":"mysql","template":"SELECT 'a''","input":"a'","attack":true}"#,
        )
        .unwrap();
        let bytes = seed_bytes(Class::Sqli, &case);
        assert_eq!(bytes[0], 3, "MySQL is the fourth dialect of the target");
        let cut = memchr::memchr(0xFF, &bytes[1..]).unwrap();
        assert_eq!(&bytes[1..=cut], b"a'");
        assert_eq!(&bytes[cut + 2..], b"SELECT 'a''");
        assert_eq!(file_safe(&case.id), "x_1");
        let shell = seed_bytes(Class::Shell, &case);
        assert_eq!(shell[..2], *b"a'");
    }

    #[test]
    fn toml_blocks_are_cut_at_their_fences() {
        let md = "text\n```toml\nmode = \"block\"\n```\n```rust\nfn x() {}\n```\n  ```toml\n[sql]\n  ```\n";
        assert_eq!(toml_blocks(md), ["mode = \"block\"\n", "[sql]\n"]);
    }
}
