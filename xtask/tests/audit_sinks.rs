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

/// The fixture workspace, written once per test process. It lives under
/// cargo's test temp dir, at a fixed place, so its harness and build are
/// reused from one test run to the next.
fn fixture() -> &'static Path {
    static FIXTURE: OnceLock<PathBuf> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit-fixture");
        let rasp = repo_root().display().to_string();
        let files = [
            ("Cargo.toml", "[workspace]\nmembers = [\"app\", \"quiet\"]\nresolver = \"3\"\n".to_owned()),
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
        ];
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                std::fs::write(&path, text).unwrap();
            }
        }
        // The same versions as this repository, resolvable offline.
        let lock = root.join("Cargo.lock");
        if !lock.exists() {
            std::fs::copy(repo_root().join("Cargo.lock"), &lock).unwrap();
        }
        root
    })
}

#[allow(
    clippy::disallowed_methods,
    reason = "runs the xtask binary with fixed arguments"
)]
/// Runs the xtask binary on the fixture, sharing this repository's target
/// directory so the fixture's dependencies are built once.
fn audit(args: &[&str]) -> Output {
    let manifest = fixture().join("Cargo.toml");
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("audit-sinks")
        .arg("--manifest-path")
        .arg(&manifest)
        .args(args)
        .env("CARGO_TARGET_DIR", repo_root().join("target"))
        .output()
        .expect("the xtask binary runs")
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
    assert_eq!(map["schema"], "rasp.sink-map/1");
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
            "is not `rasp.sink-map/1`",
        ),
        (
            "binary.json",
            vec![0xff, 0xfe, 0, 0x1b, b'{'],
            "cannot read the baseline",
        ),
        (
            "truncated.json",
            br#"{"schema": "rasp.sink-map/1", "sinks": ["#.to_vec(),
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
