//! `cargo xtask audit-sinks` on a real workspace: a fixture workspace with a
//! path dependency on this repository's `rasp`, one `#[rasp::sink]` and one
//! `trust_unchecked!`, audited by the real xtask binary through a real
//! harness build. Nothing in the fixture references the app crate, so every
//! registration seen here proves the harness linked it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// This repository's root (the facade crate `rasp`).
fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
}

const APP_LIB: &str = r#"//! Audit fixture: one sink, one escape hatch.

use rasp::{Blocked, SqlSafe, Tainted};

/// The fixture's error type.
#[derive(Debug)]
pub struct AppError(pub Blocked);

impl From<Blocked> for AppError {
    fn from(blocked: Blocked) -> Self {
        AppError(blocked)
    }
}

/// Runs SQL.
#[rasp::sink(kind = "sql", guard(sql), id = "fixture.db.execute")]
pub fn execute(sql: impl SqlSafe) -> Result<usize, AppError> {
    Ok(sql.sink_text().map_or(0, <[u8]>::len))
}

/// Builds SQL from a string: left to the runtime check.
pub fn search(term: Tainted<String>) -> Result<usize, AppError> {
    execute(rasp::trust_unchecked!(
        term.map(|t| format!("SELECT 1 WHERE name = '{t}'")),
        rasp::Sql,
        "fixture: string-built SQL left to the runtime check"
    ))
}
"#;

/// Calls of runtime-checked guards, which the registry cannot show.
const CALLS_LIB: &str = r#"//! Audit fixture: runtime-checked call sites and a generic helper.

use rasp::log::line;
use rasp::{Blocked, CheckedSql, SqlSafe, Tainted};

/// Counts rows with string-built SQL, checked at run time.
pub fn count(table: &str) -> Result<CheckedSql, Blocked> {
    rasp::sql(format!("SELECT count(*) FROM {table}"))
}

/// A log line built from text, checked at run time.
pub fn login_line(user: &str) -> Result<String, Blocked> {
    Ok(line(format!("login by {user}"))?.to_string())
}

/// Runs a statement.
#[rasp::sink(kind = "sql", guard(sql), id = "fixture.calls.run")]
pub fn run(sql: impl SqlSafe) -> Result<usize, Blocked> {
    Ok(sql.sink_text().map_or(0, <[u8]>::len))
}

/// Vouches for any string-like statement: one escape hatch in the
/// registry, one instance per caller.
pub fn run_vouched<T: Into<String>>(statement: Tainted<T>) -> Result<usize, Blocked> {
    run(rasp::trust_unchecked!(
        statement.map(Into::<String>::into),
        rasp::Sql,
        "fixture: statements from our own migrations"
    ))
}

/// First caller of the helper.
pub fn migrate(name: Tainted<String>) -> Result<usize, Blocked> {
    run_vouched(name)
}

/// Second caller of the helper.
pub fn migrate_fixed(name: Tainted<&'static str>) -> Result<usize, Blocked> {
    run_vouched(name)
}
"#;

/// A binary: the harness links only libraries, so only the scan sees it.
const CALLS_MAIN: &str = r#"//! Audit fixture: an escape hatch in a binary.

fn vouch(term: rasp::Tainted<String>) -> usize {
    fixture_calls::run(rasp::trust_unchecked!(
        term,
        rasp::Sql,
        "fixture: a binary's own escape hatch"
    ))
    .unwrap_or(0)
}

fn main() {
    let _ = vouch;
}
"#;

/// The handlers of docs/getting-started.md, in the same shape, without the
/// web framework and the database: what a service following the guide
/// gives the audit.
const GUIDE_LIB: &str = r#"//! Audit fixture: the getting-started guide's handlers.

use rasp::{Blocked, CheckedSql, Dialect, Tainted};

/// The search form (`TaintedQuery<Search>` in the guide).
pub struct Search {
    /// The search term.
    pub q: String,
}

/// Stands in for the pool: returns the statement it would run.
pub struct Db;

impl Db {
    fn fetch_all(&self, sql: CheckedSql) -> Vec<String> {
        vec![sql.as_str().to_owned()]
    }
}

/// The guide's string-built search, checked at run time.
pub async fn search(db: &Db, search: Tainted<Search>) -> Result<Vec<String>, Blocked> {
    // The text stays tainted until the guarded sink, which checks it.
    let sql = rasp::sql_for(
        Dialect::Sqlite,
        search.map(|s| format!("SELECT name FROM products WHERE name LIKE '%{}%' ORDER BY name", s.q)),
    )?;
    Ok(db.fetch_all(sql))
}

/// A category the service picked from its own list, vouched for.
pub fn category(db: &Db, name: Tainted<String>) -> Result<Vec<String>, Blocked> {
    let sql = rasp::trust_unchecked!(
        name.map(|n| format!("SELECT name FROM products WHERE category = '{n}'")),
        rasp::Sql,
        "fixture: categories come from our own list"
    );
    Ok(db.fetch_all(rasp::sql(sql.into_inner())?))
}

/// A queue message.
pub struct Message {
    /// Its text.
    pub body: String,
}

/// The attribute makes the return value a `rasp::Tainted<String>`.
#[rasp::source(kind = "queue.message")]
fn product_name(message: &Message) -> String {
    message.body.clone()
}

/// One message is one "request": its own context, route and request id.
#[rasp::protect(route = "queue:discontinue")]
pub async fn discontinue(db: &Db, message: &Message) -> Result<usize, Blocked> {
    let name = product_name(message);
    let sql = rasp::sql(name.map(|n| format!("UPDATE products SET active = 0 WHERE name = '{n}'")))?;
    Ok(db.fetch_all(sql).len())
}
"#;

/// The fixture workspace, written once per test process. It lives under
/// cargo's test temp dir, at a fixed place, so its harness and build are
/// reused from one test run to the next.
fn fixture() -> &'static Path {
    static FIXTURE: OnceLock<PathBuf> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit-fixture");
        let rasp = repo_root().display().to_string();
        let files = [
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"app\", \"calls\", \"guide\", \"quiet\"]\nresolver = \"3\"\n"
                    .to_owned(),
            ),
            (
                "app/Cargo.toml",
                format!(
                    "[package]\nname = \"fixture-app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
                     [dependencies]\nrasp = {{ path = {rasp:?} }}\n"
                ),
            ),
            ("app/src/lib.rs", APP_LIB.to_owned()),
            (
                "quiet/Cargo.toml",
                format!(
                    "[package]\nname = \"fixture-quiet\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
                     [dependencies]\nrasp = {{ path = {rasp:?} }}\n"
                ),
            ),
            ("quiet/src/lib.rs", "//! Depends on rasp, registers nothing.\n".to_owned()),
            ("calls/Cargo.toml", calls_manifest()),
            ("calls/src/lib.rs", CALLS_LIB.to_owned()),
            ("calls/src/main.rs", CALLS_MAIN.to_owned()),
            (
                "guide/Cargo.toml",
                format!(
                    "[package]\nname = \"fixture-guide\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
                     [dependencies]\nrasp = {{ path = {rasp:?}, features = [\"sqlx\"] }}\n"
                ),
            ),
            ("guide/src/lib.rs", GUIDE_LIB.to_owned()),
        ];
        write_workspace(&root, &files);
        root
    })
}

/// Writes `files` under `root`, leaving unchanged files untouched so cargo
/// reuses their builds, with this repository's lock file: the same
/// versions, resolvable offline.
fn write_workspace(root: &Path, files: &[(&str, String)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).unwrap();
        }
    }
    let lock = root.join("Cargo.lock");
    if !lock.exists() {
        std::fs::copy(repo_root().join("Cargo.lock"), &lock).unwrap();
    }
}

/// The `fixture-calls` package's manifest.
fn calls_manifest() -> String {
    format!(
        "[package]\nname = \"fixture-calls\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [dependencies]\nrasp = {{ path = {:?}, features = [\"sqlx\", \"log\"] }}\n",
        repo_root().display().to_string()
    )
}

#[allow(
    clippy::disallowed_methods,
    reason = "runs the xtask binary with fixed arguments"
)]
/// Runs xtask's `command` on the workspace at `root`, sharing this
/// repository's target directory so the fixture's dependencies are built
/// once.
fn xtask(command: &str, root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg(command)
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .args(args)
        .env("CARGO_TARGET_DIR", repo_root().join("target"))
        .output()
        .expect("the xtask binary runs")
}

/// `audit-sinks` on the fixture.
fn audit(args: &[&str]) -> Output {
    xtask("audit-sinks", fixture(), args)
}

/// The 1-based lines of `text` holding `needle`.
fn lines_of(text: &str, needle: &str) -> Vec<u64> {
    (1..)
        .zip(text.lines())
        .filter(|(_, line)| line.contains(needle))
        .map(|(number, _)| number)
        .collect()
}

fn stdout_of(output: Output) -> String {
    assert!(
        output.status.success(),
        "audit-sinks failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Absolute paths vary between machines; snapshots show placeholders.
fn redact(text: &str) -> String {
    text.replace(&fixture().display().to_string(), "[fixture]")
        .replace(&repo_root().display().to_string(), "[rasp]")
}

fn audited_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| stdout_of(audit(&["--package", "fixture-app", "--format", "json"])))
}

#[test]
fn json_map_lists_the_linked_sink_and_escape_hatch() {
    let json = audited_json();
    let map: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(map["schema"], "rasp.sink-map/2");
    assert_eq!(map["sinks"][0]["id"], "fixture.db.execute");
    assert_eq!(
        map["sinks"][0]["file"], "app/src/lib.rs",
        "workspace-relative path"
    );
    assert_eq!(map["escape_hatches"][0]["file"], "app/src/lib.rs");
    insta::assert_snapshot!("fixture_json", redact(json));
}

#[test]
fn sarif_is_valid_2_1_0_and_fingerprints_by_sink_id() {
    let sarif = stdout_of(audit(&["--package", "fixture-app", "--format", "sarif"]));
    insta::assert_snapshot!("fixture_sarif", redact(&sarif));

    let log: serde_sarif::sarif::Sarif =
        serde_json::from_str(&sarif).expect("serde-sarif reads it back");
    assert_eq!(log.version, "2.1.0");
    assert!(
        log.schema
            .as_deref()
            .is_some_and(|s| s.contains("sarif-2.1.0"))
    );
    let run = &log.runs[0];
    let rules = run.tool.driver.rules.as_ref().unwrap();
    let sql = rules
        .iter()
        .find(|r| r.id == "rasp/sink/sql")
        .expect("a rule per sink kind");
    let properties = sql.properties.as_ref().unwrap();
    assert!(
        properties
            .tags
            .as_ref()
            .unwrap()
            .contains(&"security".to_owned())
    );
    assert_eq!(properties.additional_properties["security-severity"], "9.8");

    let results = run.results.as_ref().unwrap();
    assert_eq!(results.len(), 2, "one sink and one escape hatch");
    for result in results {
        assert!(result.message.text.is_some());
        let rule = result.rule_id.as_ref().unwrap();
        assert!(rules.iter().any(|r| &r.id == rule), "{rule} is declared");
        let location = result.locations.as_ref().unwrap()[0]
            .physical_location
            .as_ref()
            .unwrap();
        let uri = location
            .artifact_location
            .as_ref()
            .unwrap()
            .uri
            .as_deref()
            .unwrap();
        assert_eq!(uri, "app/src/lib.rs");
        let line = location.region.as_ref().unwrap().start_line.unwrap();
        assert!(line > 0);
        let fingerprint = &result.partial_fingerprints.as_ref().unwrap()["raspSinkId/v1"];
        assert!(
            !fingerprint.contains(&line.to_string()),
            "no line in {fingerprint}"
        );
    }
    // Round trip: what serde-sarif writes back is the same document.
    let again: serde_json::Value = serde_json::to_value(&log).unwrap();
    assert_eq!(
        again,
        serde_json::from_str::<serde_json::Value>(&sarif).unwrap()
    );
}

#[test]
fn table_is_sorted_and_shows_guard_status() {
    let table = stdout_of(audit(&["--package", "fixture-app"]));
    let row = table
        .lines()
        .find(|l| l.starts_with("sql"))
        .expect("the sql sink row");
    for cell in [
        "fixture.db.execute",
        "fixture_app::execute",
        "app/src/lib.rs:",
        "sql",
        "typed",
    ] {
        assert!(row.contains(cell), "{cell} in {row}");
    }
    assert!(table.contains("asserted") && table.contains("fixture: string-built SQL"));
}

#[test]
fn zero_registrations_is_an_error() {
    let output = audit(&["--package", "fixture-quiet"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no registrations"), "{stderr}");
}

#[test]
fn baseline_of_another_schema_or_garbage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut old: serde_json::Value = serde_json::from_str(audited_json()).unwrap();
    old["schema"] = "rasp.sink-map/0".into();
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "old.json",
            serde_json::to_vec(&old).unwrap(),
            "is not `rasp.sink-map/2`",
        ),
        (
            "binary.json",
            vec![0xff, 0xfe, 0, 0x1b, b'{'],
            "cannot read the baseline",
        ),
        (
            "truncated.json",
            br#"{"schema": "rasp.sink-map/2", "sinks": ["#.to_vec(),
            "EOF",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let output = audit(
            &["--package", "fixture-app", "--format", "json", "--baseline"]
                .into_iter()
                .chain([path.to_str().unwrap(), "--check"])
                .collect::<Vec<_>>(),
        );
        assert_eq!(output.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

#[test]
fn a_crate_without_registrations_is_named() {
    let output = audit(&["--format", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("`fixture-quiet` registers no sink"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("`fixture-app` registers no sink"),
        "{stderr}"
    );
}

#[test]
fn check_fails_on_drift_and_says_how_to_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let current: serde_json::Value = serde_json::from_str(audited_json()).unwrap();
    let write = |name: &str, map: &serde_json::Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_string(map).unwrap()).unwrap();
        path.display().to_string()
    };

    let same = write("same.json", &current);
    let output = audit(&[
        "--package",
        "fixture-app",
        "--format",
        "json",
        "--baseline",
        &same,
        "--check",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The baseline predates the escape hatch and knew a sink that is gone.
    let mut stale = current.clone();
    stale["escape_hatches"] = serde_json::json!([]);
    let mut gone = stale["sinks"][0].clone();
    gone["id"] = "fixture.db.removed".into();
    stale["sinks"].as_array_mut().unwrap().push(gone);
    let stale = write("stale.json", &stale);
    let output = audit(&[
        "--package",
        "fixture-app",
        "--format",
        "json",
        "--baseline",
        &stale,
        "--check",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("new escape hatch"), "{stderr}");
    assert!(
        stderr.contains("`fixture.db.removed`") && stderr.contains("disappeared"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cargo xtask audit-sinks --manifest-path")
            && stderr.contains("--format json --output"),
        "{stderr}"
    );

    // Without --check the same drift is reported but does not fail.
    let output = audit(&[
        "--package",
        "fixture-app",
        "--format",
        "json",
        "--baseline",
        &stale,
    ]);
    assert!(output.status.success());
}

#[test]
#[allow(
    clippy::disallowed_methods,
    reason = "runs chromium on a generated page"
)]
fn html_report_renders_in_headless_chromium() {
    let html = stdout_of(audit(&["--package", "fixture-app", "--format", "html"]));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external assets"
    );
    let required = std::env::var("RASP_TEST_CHROMIUM").is_ok_and(|v| v == "1");
    let Some(chromium) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())
    else {
        assert!(
            !required,
            "RASP_TEST_CHROMIUM=1 but no chromium in /usr/bin"
        );
        eprintln!(
            "skipped: chromium is not installed (apt-get install -y chromium; RASP_TEST_CHROMIUM=1 to require it)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let url = format!("file://{}", page.display());
    let run = |extra: &[&str]| {
        let profile = tempfile::tempdir().unwrap();
        let output = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(&url)
            .output()
            .expect("chromium starts");
        assert!(
            output.status.success(),
            "chromium: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    };

    let dom = String::from_utf8(run(&["--dump-dom"]).stdout).unwrap();
    for text in [
        "fixture.db.execute",
        "fixture_app::execute",
        "app/src/lib.rs",
        "fixture: string-built SQL",
    ] {
        assert!(dom.contains(text), "{text} in the rendered DOM");
    }

    let shot = dir.path().join("report.png");
    run(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1200,800",
    ]);
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let bytes = &pixels[..frame.buffer_size()];
    let mean = bytes.iter().map(|b| f64::from(*b)).sum::<f64>() / bytes.len() as f64;
    let variance = bytes
        .iter()
        .map(|b| (f64::from(*b) - mean).powi(2))
        .sum::<f64>()
        / bytes.len() as f64;
    assert!(
        variance > 100.0,
        "the screenshot is blank (variance {variance:.1})"
    );
}

fn calls_json() -> &'static serde_json::Value {
    static JSON: OnceLock<serde_json::Value> = OnceLock::new();
    JSON.get_or_init(|| {
        let json = stdout_of(audit(&["--package", "fixture-calls", "--format", "json"]));
        serde_json::from_str(&json).unwrap()
    })
}

/// The call sites of `map` whose `call` (or `via` helper) is `call`.
fn sites_of<'m>(map: &'m serde_json::Value, call: &str) -> Vec<&'m serde_json::Value> {
    map["call_sites"]
        .as_array()
        .expect("a call_sites array")
        .iter()
        .filter(|site| site["call"] == call || site["via"] == call)
        .collect()
}

#[test]
fn the_scan_lists_guard_calls_binary_hatches_and_helper_callers() {
    let map = calls_json();
    let located = |site: &serde_json::Value| {
        (
            site["file"].as_str().unwrap().to_owned(),
            site["line"].as_u64().unwrap(),
            site["fn_path"].as_str().unwrap().to_owned(),
            site["class"].as_str().unwrap().to_owned(),
        )
    };

    // (a) `rasp::sql(format!(..))` in a library fn.
    let sql = sites_of(map, "rasp::sql");
    assert_eq!(sql.len(), 1, "{sql:?}");
    assert_eq!(sql[0]["site"], "runtime-checked");
    assert_eq!(
        located(sql[0]),
        (
            "calls/src/lib.rs".to_owned(),
            lines_of(CALLS_LIB, "rasp::sql(format!")[0],
            "fixture_calls::count".to_owned(),
            "sql".to_owned()
        )
    );
    assert_eq!(sql[0]["column"], 5);

    // (b) `line(..)` after `use rasp::log::line;`.
    let log = sites_of(map, "rasp::log::line");
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        located(log[0]),
        (
            "calls/src/lib.rs".to_owned(),
            lines_of(CALLS_LIB, "Ok(line(")[0],
            "fixture_calls::login_line".to_owned(),
            "log".to_owned()
        )
    );

    // (c) The binary's escape hatch, which the registry cannot list.
    let in_main: Vec<_> = sites_of(map, "trust_unchecked!")
        .into_iter()
        .filter(|site| site["file"] == "calls/src/main.rs")
        .collect();
    assert_eq!(in_main.len(), 1, "{in_main:?}");
    assert_eq!(
        located(in_main[0]),
        (
            "calls/src/main.rs".to_owned(),
            lines_of(CALLS_MAIN, "rasp::trust_unchecked!")[0],
            "fixture_calls::vouch".to_owned(),
            "sql".to_owned()
        )
    );
    assert_eq!(in_main[0]["reason"], "fixture: a binary's own escape hatch");
    assert!(
        map["escape_hatches"]
            .as_array()
            .unwrap()
            .iter()
            .all(|hatch| hatch["file"] != "calls/src/main.rs"),
        "the registry does not see binaries"
    );

    // (d) The generic helper's hatch: once in the registry, once per caller
    // in the scan, and not twice at the helper.
    let helper_hatch: Vec<_> = map["escape_hatches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|hatch| hatch["file"] == "calls/src/lib.rs")
        .collect();
    assert_eq!(helper_hatch.len(), 1, "{helper_hatch:?}");
    let callers = sites_of(map, "run_vouched");
    let caller_lines = lines_of(CALLS_LIB, "    run_vouched(name)");
    assert_eq!(
        callers.iter().map(|c| located(c)).collect::<Vec<_>>(),
        [
            (
                "calls/src/lib.rs".to_owned(),
                caller_lines[0],
                "fixture_calls::migrate".to_owned(),
                "sql".to_owned()
            ),
            (
                "calls/src/lib.rs".to_owned(),
                caller_lines[1],
                "fixture_calls::migrate_fixed".to_owned(),
                "sql".to_owned()
            ),
        ]
    );
    for caller in &callers {
        assert_eq!(caller["site"], "exit");
        assert_eq!(caller["matched"], "helper-call");
        assert_eq!(
            caller["reason"],
            "fixture: statements from our own migrations"
        );
    }
    assert_eq!(map["call_sites"].as_array().unwrap().len(), 5);
    insta::assert_snapshot!(
        "fixture_call_sites",
        serde_json::to_string_pretty(&map["call_sites"]).unwrap()
    );
}

#[test]
fn call_sites_show_in_the_table_and_sarif() {
    let table = stdout_of(audit(&["--package", "fixture-calls"]));
    assert!(
        table.contains("5 runtime-checked call sites and unregistered escape hatches"),
        "{table}"
    );
    let row = table
        .lines()
        .find(|l| l.contains("rasp::log::line") && l.starts_with("calls/src/lib.rs:"))
        .unwrap_or_else(|| panic!("no log call row in\n{table}"));
    for cell in [
        "fixture_calls::login_line",
        "path",
        "log",
        "runtime-checked",
    ] {
        assert!(row.contains(cell), "{cell} in {row}");
    }

    let sarif = stdout_of(audit(&["--package", "fixture-calls", "--format", "sarif"]));
    let log: serde_sarif::sarif::Sarif = serde_json::from_str(&sarif).unwrap();
    let run = &log.runs[0];
    let rules = run.tool.driver.rules.as_ref().unwrap();
    for rule in [
        "rasp/call-site/sql",
        "rasp/call-site/log",
        "rasp/escape-hatch",
    ] {
        assert!(rules.iter().any(|r| r.id == rule), "{rule}");
    }
    let results = run.results.as_ref().unwrap();
    let fingerprints: Vec<&str> = results
        .iter()
        .map(|r| r.partial_fingerprints.as_ref().unwrap()["raspSinkId/v1"].as_str())
        .collect();
    assert!(
        fingerprints.contains(&"call-site:calls/src/lib.rs:fixture_calls::count:rasp::sql#1"),
        "{fingerprints:?}"
    );
    let mut unique = fingerprints.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), fingerprints.len(), "{fingerprints:?}");
}

#[test]
fn check_fails_on_a_new_call_site_and_not_on_moved_code() {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit-fixture-drift");
    let write = |lib: String| {
        write_workspace(
            &root,
            &[
                (
                    "Cargo.toml",
                    "[workspace]\nmembers = [\"calls\"]\nresolver = \"3\"\n".to_owned(),
                ),
                ("calls/Cargo.toml", calls_manifest()),
                ("calls/src/lib.rs", lib),
                ("calls/src/main.rs", CALLS_MAIN.to_owned()),
            ],
        );
    };
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let baseline = baseline.to_str().unwrap();
    let check = || xtask("audit-sinks", &root, &["--baseline", baseline, "--check"]);

    write(CALLS_LIB.to_owned());
    let saved = xtask(
        "audit-sinks",
        &root,
        &["--format", "json", "--output", baseline],
    );
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );

    // Lines inserted above every call site: the same sites.
    write(format!("\n\n\n{CALLS_LIB}"));
    let moved = check();
    let stderr = String::from_utf8_lossy(&moved.stderr);
    assert!(moved.status.success(), "{stderr}");
    assert!(stderr.contains("the sink map matches"), "{stderr}");

    // A new string-built statement.
    let added = format!(
        "{CALLS_LIB}\n/// Empties a table.\npub fn purge(table: &str) -> Result<CheckedSql, Blocked> {{\n    rasp::sql(format!(\"DELETE FROM {{table}}\"))\n}}\n"
    );
    let line = lines_of(&added, "DELETE FROM")[0];
    write(added);
    let drifted = check();
    let stderr = String::from_utf8_lossy(&drifted.stderr);
    assert_eq!(drifted.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: new runtime-checked call site `rasp::sql` (sql) in `fixture_calls::purge` at calls/src/lib.rs:{line}:5"
        )),
        "{stderr}"
    );
    assert_eq!(stderr.matches("error: new").count(), 1, "{stderr}");
}

#[test]
fn policy_check_validates_sink_ids_against_the_application() {
    let dir = tempfile::tempdir().unwrap();
    let policy = |id: &str| {
        let path = dir.path().join(format!("{id}.toml"));
        std::fs::write(
            &path,
            format!(
                "schema_version = 1\nrevision = 1\nmode = \"monitor\"\n\n[sink_ids.\"{id}\"]\naction = \"block\"\n"
            ),
        )
        .unwrap();
        path.display().to_string()
    };
    let check = |path: &str, strict: bool| {
        let mut args = vec![path, "--package", "fixture-app"];
        if strict {
            args.push("--strict");
        }
        xtask("policy-check", fixture(), &args)
    };

    let known = policy("fixture.db.execute");
    let output = check(&known, true);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("matches no sink"), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let row = stdout
        .lines()
        .find(|l| l.starts_with("fixture.db.execute "))
        .unwrap_or_else(|| panic!("no row for the fixture's sink in\n{stdout}"));
    assert_eq!(
        row.split_whitespace().take(3).collect::<Vec<_>>(),
        ["fixture.db.execute", "sql", "block"]
    );

    let misspelled = policy("fixture.db.exectue");
    let message = "sink id `fixture.db.exectue` matches no sink of the application; \
                   the closest is `fixture.db.execute`";
    let output = check(&misspelled, false);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("warning: {message}")), "{stderr}");
    let output = check(&misspelled, true);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("error: {message}")), "{stderr}");
}

#[test]
fn a_service_following_the_guide_has_its_call_sites_and_exits_listed() {
    let json = stdout_of(audit(&["--package", "fixture-guide", "--format", "json"]));
    let map: serde_json::Value = serde_json::from_str(&json).unwrap();
    let sites: Vec<(String, u64, String, String)> = map["call_sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|site| {
            assert_eq!(site["file"], "guide/src/lib.rs");
            assert_eq!(site["class"], "sql");
            (
                site["call"].as_str().unwrap().to_owned(),
                site["line"].as_u64().unwrap(),
                site["fn_path"].as_str().unwrap().to_owned(),
                site["site"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let at = |needle: &str| lines_of(GUIDE_LIB, needle)[0];
    let checked = |call: &str, line, fn_path: &str| {
        (
            call.to_owned(),
            line,
            fn_path.to_owned(),
            "runtime-checked".to_owned(),
        )
    };
    assert_eq!(
        sites,
        [
            // Text kept tainted into the guard.
            checked(
                "rasp::sql_for",
                at("rasp::sql_for("),
                "fixture_guide::search"
            ),
            checked(
                "rasp::sql",
                at("rasp::sql(sql.into_inner())"),
                "fixture_guide::category"
            ),
            // In a `#[rasp::protect]` fn, as written.
            checked(
                "rasp::sql",
                at("rasp::sql(name.map("),
                "fixture_guide::discontinue"
            ),
        ]
    );
    // The vouched category is a linked library's hatch: the registry's.
    let hatches = map["escape_hatches"].as_array().unwrap();
    assert_eq!(hatches.len(), 1, "{hatches:?}");
    assert_eq!(hatches[0]["file"], "guide/src/lib.rs");
    assert_eq!(hatches[0]["class"], "sql");
    assert_eq!(
        hatches[0]["line"].as_u64(),
        Some(at("rasp::trust_unchecked!("))
    );
}
