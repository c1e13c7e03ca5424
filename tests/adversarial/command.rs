//! Commands that run their arguments, and option injection, against real
//! programs behind real HTTP on 127.0.0.1.
//!
//! The service runs tools for its users with a query parameter `q` spliced
//! into the command: into an `sh -c` script (raw, or quoted with rasp's
//! shell sanitizer, which makes it one word but cannot make it data), or
//! into an argument vector; `TaintedQuery` records the query. Each
//! attack puts `q` where the program runs or interprets it — the command a
//! wrapper runs (`timeout 5 {q}`), code an interpreter runs
//! (`python3 -c {q}`), `find -exec`, `tar`'s `--to-command` — or starts an
//! option with it. Without rasp the same command writes a marker file,
//! which proves that the program really runs the value; with rasp the
//! request is refused with 403 and no marker appears. Each benign twin
//! places a value in a data position of the same program and is served.
//! Programs missing from the machine are skipped, and the skip is printed.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rasp::axum::{RaspLayer, TaintedQuery};
use rasp::process::{Command, shell};
use rasp::{Blocked, Reason, Sanitize, Shell};
use serde::Deserialize;

/// How the service builds one command from `q`.
#[derive(Debug, Clone, Copy)]
enum Build {
    /// An `sh -c` script; `{}` is replaced by `q` as it is, `{q}` by `q`
    /// quoted for the shell.
    Script(&'static str),
    /// An argument vector; `{}` is replaced by `q`.
    Argv(&'static [&'static str]),
}

impl Build {
    fn script(template: &str, q: &str) -> String {
        // The shell sanitizer's word, as `Sanitized` holds it.
        let mut quoted = String::new();
        if Shell::needs_escaping(q) {
            Shell::write_escaped(q, &mut quoted).expect("writing to a String");
        } else {
            quoted.push_str(q);
        }
        template.replace("{q}", &quoted).replace("{}", q)
    }

    fn argv(words: &[&str], q: &str) -> Vec<String> {
        words.iter().map(|w| w.replace("{}", q)).collect()
    }

    /// Runs the command as written without rasp.
    #[allow(clippy::disallowed_methods, reason = "the unguarded baseline")]
    fn run_unguarded(self, q: &str, dir: &Path) -> Output {
        let mut command = match self {
            Build::Script(template) => {
                let mut c = std::process::Command::new("sh");
                c.arg("-c").arg(Self::script(template, q));
                c
            }
            Build::Argv(words) => {
                let argv = Self::argv(words, q);
                let mut c = std::process::Command::new(&argv[0]);
                c.args(&argv[1..]);
                c
            }
        };
        command.current_dir(dir).output().expect("the program runs")
    }

    /// Runs the command through rasp's guard.
    fn run(self, q: &str, dir: &Path) -> Result<Output, Blocked> {
        let mut command = match self {
            Build::Script(template) => shell(Self::script(template, q))?.command(),
            Build::Argv(words) => {
                let argv = Self::argv(words, q);
                // The program is fixed by the route table.
                let mut command = Command::new(words[0]);
                for word in &argv[1..] {
                    command.arg(word.clone());
                }
                command
            }
        };
        let output = command
            .current_dir(dir)
            .std()?
            .output()
            .expect("the program runs");
        Ok(output)
    }

    /// The program the command needs installed.
    fn needs(self) -> &'static str {
        match self {
            Build::Script(template) => {
                let words: Vec<&str> = template.split_whitespace().collect();
                [
                    "python3", "perl", "awk", "tar", "find", "xargs", "stdbuf", "setsid",
                ]
                .into_iter()
                .find(|p| words.contains(p))
                .unwrap_or("sh")
            }
            Build::Argv(words) => words[0],
        }
    }
}

/// Attacks: where `q` lands, and a `q` that writes `./pwned` if the program
/// runs it.
const ATTACKS: &[(Build, &str, Reason)] = &[
    (
        Build::Script("timeout 5 {} pwned"),
        "touch",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("timeout -s KILL 5 {q} pwned"),
        "touch",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("nice -n 5 {} pwned"),
        "touch",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("nohup {} pwned"),
        "touch",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("env LANG=C {} pwned"),
        "touch",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("/usr/bin/env {q} pwned"),
        "touch",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("echo pwned | xargs {}"),
        "touch",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("stdbuf -oL {} pwned"),
        "touch",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("setsid -w {} pwned"),
        "touch",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("timeout 5 nice {} pwned"),
        "touch",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("find . -maxdepth 0 -exec {} pwned ';'"),
        "touch",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("python3 -c {q}"),
        "open(\"pwned\", \"w\")",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("perl -e {q}"),
        "open(F, \">pwned\")",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("awk {q} /dev/null"),
        "BEGIN { printf \"\" > \"pwned\" }",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("tar -cf out.tar --checkpoint=1 --checkpoint-action=exec={q} notes.txt"),
        "touch pwned",
        Reason::ChoosesCommand,
    ),
    (
        Build::Script("sh -c {q}"),
        "touch pwned",
        Reason::SpansTokens,
    ),
    // An option that makes the program write a file of the attacker's
    // choosing: `sort -o FILE`.
    (
        Build::Script("sort {} /dev/null"),
        "-opwned",
        Reason::OptionInjection,
    ),
    (
        Build::Script("sort {q} /dev/null"),
        "--output=pwned",
        Reason::OptionInjection,
    ),
    (
        Build::Argv(&["timeout", "5", "{}", "pwned"]),
        "touch",
        Reason::ChoosesCommand,
    ),
    (
        Build::Argv(&["python3", "-c", "{}"]),
        "open('pwned', 'w')",
        Reason::ChoosesCommand,
    ),
    (
        Build::Argv(&["find", ".", "-maxdepth", "0", "-exec", "{}", "pwned", ";"]),
        "touch",
        Reason::ChoosesCommand,
    ),
    (
        Build::Argv(&["sort", "{}", "/dev/null"]),
        "-opwned",
        Reason::OptionInjection,
    ),
];

/// Benign twins: the same programs, `q` in a data position.
const BENIGN: &[(Build, &str, &str)] = &[
    (
        Build::Script("timeout 5 grep -- {} notes.txt"),
        "touch",
        "touch me\n",
    ),
    (
        Build::Script("timeout 5 grep -F -- {q} notes.txt"),
        "-x",
        "a -x b\n",
    ),
    (
        Build::Script("nice -n 5 grep -c {} notes.txt"),
        "touch",
        "1\n",
    ),
    (
        Build::Script("find . -name {}"),
        "notes.txt",
        "./notes.txt\n",
    ),
    (
        Build::Script("python3 -c 'import sys; print(sys.argv[1])' {q}"),
        "open('x')",
        "open('x')\n",
    ),
    (
        Build::Script("awk -v w={q} '$0 ~ w' notes.txt"),
        "touch",
        "touch me\n",
    ),
    (Build::Script("grep -c -- {} notes.txt"), "-x", "1\n"),
    (Build::Script("ls -- {}"), "-opwned", "-opwned\n"),
    (
        Build::Argv(&["timeout", "5", "grep", "--", "{}", "notes.txt"]),
        "touch",
        "touch me\n",
    ),
    (
        Build::Argv(&["find", ".", "-name", "{}"]),
        "notes.txt",
        "./notes.txt\n",
    ),
];

#[derive(Deserialize)]
struct Params {
    case: usize,
    q: String,
    benign: Option<bool>,
}

struct Service {
    dir: PathBuf,
}

/// Runs one tool with `q`; 403 when rasp refuses it. The service vouches
/// for its query, the mistake rasp's run-time check exists for.
async fn tool(
    State(service): State<Arc<Service>>,
    TaintedQuery(params): TaintedQuery<Params>,
) -> Response {
    let p =
        rasp::trust_unchecked!(params, rasp::Shell, "the tools validate their input").into_inner();
    let build = if p.benign == Some(true) {
        BENIGN[p.case].0
    } else {
        ATTACKS[p.case].0
    };
    match build.run(&p.q, &service.dir) {
        Ok(out) => (StatusCode::OK, out.stdout).into_response(),
        Err(blocked) => (StatusCode::FORBIDDEN, blocked.reason.as_str()).into_response(),
    }
}

async fn serve(dir: PathBuf) -> String {
    let app = Router::new()
        .route("/tools", get(tool))
        .with_state(Arc::new(Service { dir }))
        .layer(RaspLayer::new());
    crate::serve(app).await
}

fn installed(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("notes.txt"), "a -x b\ntouch me\n").expect("notes");
    std::fs::write(dir.path().join("-opwned"), "").expect("a file named like an option");
    dir
}

async fn get_tool(base: &str, case: usize, q: &str, benign: bool) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(format!("{base}/tools"))
        .query(&[
            ("case", case.to_string()),
            ("q", q.to_owned()),
            ("benign", benign.to_string()),
        ])
        .send()
        .await
        .expect("response");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

#[test]
fn without_rasp_the_attacks_run_what_the_input_says() {
    let _serial = crate::serial();
    for &(build, q, _) in ATTACKS {
        if !installed(build.needs()) {
            eprintln!("skipped, not installed: {}", build.needs());
            continue;
        }
        let dir = workdir();
        build.run_unguarded(q, dir.path());
        assert!(
            dir.path().join("pwned").exists(),
            "{build:?} with {q:?} wrote no marker"
        );
    }
}

#[tokio::test]
async fn with_rasp_the_attacks_are_refused_over_http() {
    let _serial = crate::serial();
    for (case, &(build, q, reason)) in ATTACKS.iter().enumerate() {
        if !installed(build.needs()) {
            eprintln!("skipped, not installed: {}", build.needs());
            continue;
        }
        let dir = workdir();
        let base = serve(dir.path().to_owned()).await;
        let (status, body) = get_tool(&base, case, q, false).await;
        assert_eq!(status, 403, "{build:?} with {q:?}: {body}");
        assert_eq!(body, reason.as_str(), "{build:?} with {q:?}");
        assert!(
            !dir.path().join("pwned").exists(),
            "{build:?} with {q:?} wrote the marker"
        );
    }
}

#[tokio::test]
async fn with_rasp_values_in_data_positions_are_served() {
    let _serial = crate::serial();
    for (case, &(build, q, expected)) in BENIGN.iter().enumerate() {
        if !installed(build.needs()) {
            eprintln!("skipped, not installed: {}", build.needs());
            continue;
        }
        let dir = workdir();
        let base = serve(dir.path().to_owned()).await;
        let (status, body) = get_tool(&base, case, q, true).await;
        assert_eq!(status, 200, "{build:?} with {q:?}: {body}");
        assert_eq!(body, expected, "{build:?} with {q:?}");
        assert!(!dir.path().join("pwned").exists());
    }
}
