//! Shell command injection against real `sh` processes.
//!
//! `greeter` echoes a `name` query parameter through `sh -c "echo {name}"`
//! (and `sh -c "echo \"{name}\""`). Each attack input writes a marker file
//! in a fresh temporary directory: without rasp the file appears; with
//! `rasp::process::shell` the same request is refused with `Blocked` and
//! no file is written, for `std::process` and for `tokio::process`. Benign
//! look-alikes — a quote sanitized for the shell, `;` inside the quotes the
//! sanitizer wrote, dashes, file names with spaces passed as arguments —
//! run and print what they should.

use std::path::{Path, PathBuf};
use std::process::Output;

use rasp::process::{Command, shell};
use rasp::{Blocked, Reason, Tainted};
use tempfile::TempDir;

struct Request {
    name: String,
}

impl Request {
    fn new(name: &str) -> Self {
        Request {
            name: name.to_owned(),
        }
    }
}

#[derive(Debug)]
enum AppError {
    Refused(Blocked),
    Io(std::io::Error),
}

impl From<Blocked> for AppError {
    fn from(blocked: Blocked) -> Self {
        AppError::Refused(blocked)
    }
}

impl From<std::io::Error> for AppError {
    fn from(err: std::io::Error) -> Self {
        AppError::Io(err)
    }
}

impl AppError {
    fn blocked(self) -> Blocked {
        match self {
            AppError::Refused(blocked) => blocked,
            AppError::Io(err) => panic!("expected a refusal, got {err}"),
        }
    }
}

#[rasp::source(kind = "http.query")]
fn name_param(req: &Request) -> String {
    req.name.clone()
}

/// Where the application splices the name into its script.
#[derive(Debug, Clone, Copy)]
enum Template {
    /// `echo {name}`
    Bare,
    /// `echo "{name}"`
    DoubleQuoted,
}

impl Template {
    fn script(self, name: &str) -> String {
        match self {
            Template::Bare => format!("echo {name}"),
            Template::DoubleQuoted => format!("echo \"{name}\""),
        }
    }
}

/// The name as a script built by string formatting gets it: through the
/// escape hatch, named and audited, and left to the runtime check.
fn legacy(name: rasp::Tainted<String>) -> String {
    rasp::trust_unchecked!(
        name,
        rasp::Shell,
        "legacy script template, left to the runtime check"
    )
    .into_inner()
}

/// The greeter as written without rasp.
#[allow(clippy::disallowed_methods, reason = "the unguarded baseline")]
fn greet_unguarded(template: Template, req: &Request, marker: &Path) -> Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(template.script(&req.name))
        .env("MARKER", marker)
        .output()
        .expect("sh runs")
}

#[rasp::protect(route = "/greet")]
fn greet(template: Template, req: &Request, marker: &Path) -> Result<Output, AppError> {
    let script = shell(template.script(&legacy(name_param(req))))?;
    Ok(script.std().env("MARKER", marker).output()?)
}

#[rasp::protect(route = "/greet")]
async fn greet_async(template: Template, req: &Request, marker: &Path) -> Result<Output, AppError> {
    let script = shell(template.script(&legacy(name_param(req))))?;
    Ok(script.tokio().env("MARKER", marker).output().await?)
}

/// Each attack writes `$MARKER`, in its own way.
const ATTACKS: &[(Template, &str, Reason)] = &[
    (Template::Bare, "x; touch $MARKER", Reason::ShellOperator),
    (Template::Bare, "x && touch $MARKER", Reason::ShellOperator),
    (Template::Bare, "x | tee $MARKER", Reason::ShellOperator),
    (Template::Bare, "x\ntouch $MARKER", Reason::ShellOperator),
    (Template::Bare, "x > $MARKER", Reason::ShellOperator),
    (
        Template::Bare,
        "$(touch $MARKER)",
        Reason::CommandSubstitution,
    ),
    (
        Template::Bare,
        "`touch $MARKER`",
        Reason::CommandSubstitution,
    ),
    (
        Template::DoubleQuoted,
        "$(touch $MARKER)",
        Reason::CommandSubstitution,
    ),
    (
        Template::DoubleQuoted,
        "`touch $MARKER`",
        Reason::CommandSubstitution,
    ),
    (
        Template::DoubleQuoted,
        "x\"; touch $MARKER; echo \"",
        Reason::BreaksLiteral,
    ),
];

fn marker() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let marker = dir.path().join("pwned");
    (dir, marker)
}

#[test]
fn without_rasp_the_attacks_run_commands() {
    for &(template, input, _) in ATTACKS {
        let (_dir, marker) = marker();
        greet_unguarded(template, &Request::new(input), &marker);
        assert!(marker.exists(), "{template:?} {input:?} wrote no marker");
    }
}

#[test]
fn with_rasp_the_attacks_are_refused() {
    for &(template, input, reason) in ATTACKS {
        let (_dir, marker) = marker();
        let blocked = greet(template, &Request::new(input), &marker)
            .unwrap_err()
            .blocked();
        assert_eq!(blocked.sink_id, "process.shell", "{input:?}");
        assert_eq!(blocked.reason, reason, "{template:?} {input:?}");
        assert!(!marker.exists(), "{template:?} {input:?} wrote the marker");
    }
}

#[tokio::test]
async fn with_rasp_the_attacks_are_refused_under_tokio() {
    for &(template, input, reason) in ATTACKS {
        let (_dir, marker) = marker();
        let blocked = greet_async(template, &Request::new(input), &marker)
            .await
            .unwrap_err()
            .blocked();
        assert_eq!(blocked.reason, reason, "{template:?} {input:?}");
        assert!(!marker.exists(), "{template:?} {input:?} wrote the marker");
    }
}

#[test]
fn plain_names_run() {
    let (_dir, marker) = marker();
    for (template, name) in [
        (Template::Bare, "ann"),
        (Template::Bare, "a-b"),
        (Template::DoubleQuoted, "Ann Smith"),
        (Template::DoubleQuoted, "R&D; the lab"),
    ] {
        let out = greet(template, &Request::new(name), &marker).unwrap();
        assert_eq!(out.stdout, format!("{name}\n").as_bytes());
    }
}

// ---------------------------------------------------------------------------
// Text escaped for HTML, formatted into a script.

/// HTML output (it displays, for templates) formatted into a script: the
/// escaping means nothing to `sh`, which reads `&lt;` as `&` then `lt;`.
#[rasp::protect(route = "/greet-html")]
fn greet_html_escaped(req: &Request, marker: &Path) -> Result<Output, AppError> {
    let name = name_param(req).sanitize::<rasp::Html>();
    Ok(shell(format!("echo {name}"))?
        .std()
        .env("MARKER", marker)
        .output()?)
}

/// The same, without rasp.
#[allow(clippy::disallowed_methods, reason = "the unguarded baseline")]
fn greet_html_escaped_unguarded(req: &Request, marker: &Path) -> Output {
    let mut name = String::new();
    <rasp::Html as rasp::Sanitize>::write_escaped(&req.name, &mut name).unwrap();
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("echo {name}"))
        .env("MARKER", marker)
        .output()
        .expect("sh runs")
}

#[test]
fn html_escaped_text_in_a_script_is_refused() {
    let input = "< touch $MARKER >";
    let (_without, written) = marker();
    greet_html_escaped_unguarded(&Request::new(input), &written);
    assert!(written.exists(), "without rasp, `&lt; touch` runs touch");

    let (_with, refused) = marker();
    let blocked = greet_html_escaped(&Request::new(input), &refused)
        .unwrap_err()
        .blocked();
    assert_eq!(blocked.reason, Reason::ShellOperator);
    assert!(!refused.exists(), "the escaped input ran under sh");

    // Escaped text without shell operators is still just text.
    let out = greet_html_escaped(&Request::new("Ann"), &refused).unwrap();
    assert_eq!(out.stdout, b"Ann\n");
}

// ---------------------------------------------------------------------------
// Sanitized words and argument vectors.

#[rasp::protect(route = "/greet-quoted")]
fn greet_quoted(req: &Request) -> Result<Output, AppError> {
    let name = name_param(req).sanitize::<rasp::Shell>();
    Ok(shell(rasp::compose!(rasp::Shell, "echo {}", name))?
        .std()
        .output()?)
}

#[rasp::protect(route = "/show")]
fn show_file(req: &Request, dir: &Path) -> Result<Output, AppError> {
    let file = name_param(req);
    Ok(Command::new("cat")
        .arg("--")
        .arg_tainted(file)
        .current_dir(dir)
        .std()?
        .output()?)
}

#[rasp::protect(route = "/show-async")]
async fn show_file_async(req: &Request, dir: &Path) -> Result<Output, AppError> {
    let file = name_param(req);
    Ok(Command::new("cat")
        .arg("--")
        .arg_tainted(file)
        .current_dir(dir)
        .tokio()?
        .output()
        .await?)
}

#[rasp::protect(route = "/count")]
fn count_lines(req: &Request, dir: &Path) -> Result<Output, AppError> {
    // Data reaches the script as a positional parameter, never as text.
    let file = name_param(req);
    Ok(shell("wc -l < \"$1\"")?
        .command()
        .arg_tainted(file)
        .current_dir(dir)
        .std()?
        .output()?)
}

#[test]
fn sanitized_names_run_as_one_word() {
    for (name, shown) in [
        ("O'Brien", "O'Brien"),
        ("semi;colon", "semi;colon"),
        ("$(touch x)", "$(touch x)"),
        ("a  b", "a  b"),
        ("it's `here`", "it's `here`"),
    ] {
        let out = greet_quoted(&Request::new(name)).unwrap();
        assert_eq!(out.stdout, format!("{shown}\n").as_bytes(), "{name:?}");
    }
}

#[test]
fn file_names_pass_as_arguments() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("q3 report.txt"), "one\ntwo\n").unwrap();
    std::fs::write(dir.path().join("x; touch pwned"), "odd\n").unwrap();
    let out = show_file(&Request::new("q3 report.txt"), dir.path()).unwrap();
    assert_eq!(out.stdout, b"one\ntwo\n");
    let out = show_file(&Request::new("x; touch pwned"), dir.path()).unwrap();
    assert_eq!(out.stdout, b"odd\n");
    let out = count_lines(&Request::new("q3 report.txt"), dir.path()).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
    assert!(!dir.path().join("pwned").exists());
}

#[tokio::test]
async fn file_names_pass_as_arguments_under_tokio() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("q3 report.txt"), "one\n").unwrap();
    let out = show_file_async(&Request::new("q3 report.txt"), dir.path())
        .await
        .unwrap();
    assert_eq!(out.stdout, b"one\n");
}

#[rasp::protect(route = "/list")]
fn list(req: &Request, dir: &Path) -> Result<Output, AppError> {
    // The application forgot `--`: a name starting with `-` would be an option.
    let name = name_param(req);
    Ok(Command::new("ls")
        .arg_tainted(name)
        .current_dir(dir)
        .std()?
        .output()?)
}

#[test]
fn option_injection_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-b"), "").unwrap();
    let out = list(&Request::new("a-b"), dir.path()).unwrap();
    assert_eq!(out.stdout, b"a-b\n");
    for option in ["--help", "-la", "--output=/tmp/x"] {
        let blocked = list(&Request::new(option), dir.path())
            .unwrap_err()
            .blocked();
        assert_eq!(blocked.reason, Reason::OptionInjection, "{option:?}");
        assert_eq!(blocked.sink_id, "process.command.arg");
    }
}

#[test]
fn tainted_values_are_accepted_only_as_arguments() {
    // Compile-time half: `Command::new(tainted)` and `shell(tainted)` do not
    // compile (tests/ui/fail/shell_*). Here the run-time half: a tainted
    // value in a shell's script position is refused, whatever it holds;
    // after the script it is a positional parameter.
    for (script, reason) in [
        ("id; touch x", Reason::ShellOperator),
        ("id", Reason::ChoosesCommand),
    ] {
        let value = Tainted::new(String::from(script), &rasp::SourceMeta::MANUAL);
        let blocked = Command::new("sh")
            .arg("-c")
            .arg_tainted(value)
            .std()
            .unwrap_err();
        assert_eq!(blocked.reason, reason, "{script:?}");
    }
    let value = Tainted::new(String::from("a; b"), &rasp::SourceMeta::MANUAL);
    let out = Command::new("sh")
        .arg("-c")
        .arg("echo \"$1\"")
        .arg("sh")
        .arg_tainted(value)
        .std()
        .unwrap()
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"a; b\n");
}
