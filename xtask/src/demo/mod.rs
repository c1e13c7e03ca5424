//! `cargo xtask demo`: the example shop built twice, without rasp and with
//! it, sent the same benign requests and real attacks for every sink class,
//! and a table of what each build did.
//!
//! The unprotected build is judged by the attacks' real effects (the
//! admin's API key in a body, a file read, a marker file written by an
//! injected command, a hit on an internal stand-in server, an off-site
//! `Location`, a `<script>` in the page, a cookie attribute, a forged audit
//! line, unlimited guessing); the protected build by rasp's answer (a 403
//! or 429 naming the request id) and the security event of that id. The
//! demo fails when an attack gets through the protected build, a benign
//! request is refused, or an attack shows no effect on the unprotected
//! build (then the demo would prove nothing). See docs/demo.md.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lexopt::Arg::Long;
use lexopt::Parser;

use crate::args;
use crate::shop::{self, Running, Variant};

mod http;
mod outcome;
mod report;
mod scenario;

use http::StandIn;
use outcome::{Cell, Expected, Observed};
use scenario::Scenario;

/// What the metadata stand-in hands out, like a cloud metadata service.
const METADATA_SECRET: &str =
    r#"{"AccessKeyId":"ASIA-STAND-IN","SecretAccessKey":"stand-in-secret"}"#;

/// The shop's default avatar host (`rasp_example_shop::AVATAR_HOST`),
/// pinned to the CDN stand-in with `--avatar-addr`.
const AVATAR_HOST: &str = "avatars.shop.example";

/// `cargo xtask demo` options.
#[derive(Debug)]
pub(crate) struct Options {
    release: bool,
    report: Option<PathBuf>,
}

impl Options {
    /// Parses `[--debug] [--report FILE]`.
    pub(crate) fn parse(parser: &mut Parser) -> Result<Options, String> {
        let mut options = Options {
            release: true,
            report: None,
        };
        while let Some(arg) = args::next(parser)? {
            match arg {
                Long("debug") => options.release = false,
                Long("report") => {
                    let file = args::value_or(parser, "--report needs a file")?;
                    options.report = Some(PathBuf::from(file));
                }
                other => {
                    return Err(format!("unknown option `{}` for demo", args::shown(&other)));
                }
            }
        }
        Ok(options)
    }
}

/// One row of the results.
#[derive(Debug)]
pub(crate) struct Row {
    /// 1-based position.
    pub(crate) n: usize,
    /// The scenario.
    pub(crate) scenario: Scenario,
    /// What the unprotected build did.
    pub(crate) unprotected: Cell,
    /// What the protected build did.
    pub(crate) protected: Cell,
}

impl Row {
    /// Whether both builds did what the demo expects.
    pub(crate) fn passed(&self) -> bool {
        self.unprotected.as_expected && self.protected.as_expected
    }
}

/// Runs the demo; `Ok(false)` when a row failed.
pub(crate) fn run(options: &Options) -> Result<bool, String> {
    let started = Instant::now();
    let mut binaries = Vec::new();
    for variant in Variant::ALL {
        eprintln!("demo: building the {} shop", variant.name());
        binaries.push((variant, shop::build(variant, options.release)?));
    }
    let built = started.elapsed();
    let running = Instant::now();
    let demo_dir = binaries[0]
        .1
        .parent()
        .and_then(Path::parent)
        .ok_or("the shop binary has no parent folder")?
        .to_path_buf();

    let cdn = StandIn::start("image/png", "PNG-AVATAR")?;
    let metadata = StandIn::start("application/json", METADATA_SECRET)?;
    let marker = demo_dir.join("shell-marker");
    let cdn_addr = cdn.addr().to_string();
    let mut shops = Vec::new();
    for (variant, binary) in &binaries {
        let audit_log = demo_dir.join(variant.name()).join("audit.log");
        remove(&audit_log)?;
        let audit_arg = audit_log.display().to_string();
        let args = ["--avatar-addr", &cdn_addr, "--audit-log", &audit_arg];
        // SQLite whatever the caller's environment says: the SQL payloads
        // are written for it.
        let envs = [("DATABASE_URL", ""), ("PORT", "")];
        let shop = Running::start(binary, &args, &envs)?;
        eprintln!("demo: {} shop on {}", variant.name(), shop.url());
        shops.push((*variant, shop, audit_log));
    }

    let setup = scenario::Setup {
        cdn: cdn.addr(),
        metadata: metadata.addr(),
        marker: &marker,
        avatar_host: AVATAR_HOST,
    };
    let scenarios = scenario::scenarios(&setup);
    let mut observed = Vec::with_capacity(scenarios.len());
    for (i, scenario) in scenarios.iter().enumerate() {
        let mut per_variant = Vec::new();
        for (variant, shop, audit_log) in &shops {
            let ids = request_ids(i + 1, *variant, scenario.requests.len());
            let seen = observe(scenario, shop, &ids, &metadata, &marker, audit_log)?;
            per_variant.push((ids, seen));
        }
        observed.push(per_variant);
    }

    let protected = shops
        .iter()
        .find(|(v, ..)| *v == Variant::Protected)
        .map(|(_, shop, _)| shop)
        .ok_or("no protected shop ran")?;
    // Events are written as the requests are refused; give the reader
    // thread a moment to have them all.
    std::thread::sleep(Duration::from_millis(200));
    let events = outcome::events(&protected.stderr());
    let rows: Vec<Row> = scenarios
        .into_iter()
        .zip(observed)
        .enumerate()
        .map(|(i, (scenario, mut per_variant))| {
            let (protected_ids, protected_seen) = per_variant.pop().unwrap_or_default();
            let (_, unprotected_seen) = per_variant.pop().unwrap_or_default();
            let verdict = outcome::verdict(&protected_seen, &protected_ids, &events);
            Row {
                n: i + 1,
                unprotected: outcome::unprotected_cell(
                    scenario.expected,
                    &scenario.check,
                    &unprotected_seen,
                ),
                protected: outcome::protected_cell(
                    scenario.expected,
                    &scenario.check,
                    &protected_seen,
                    &verdict,
                ),
                scenario,
            }
        })
        .collect();
    let ran = running.elapsed();
    drop(shops);

    print!("{}", report::table(&rows));
    let summary = report::Summary::of(&rows, built, ran);
    println!("{}", summary.line());
    let path = options
        .report
        .clone()
        .unwrap_or_else(|| demo_dir.join("report.html"));
    std::fs::write(&path, report::html(&rows, &summary)?)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("report: {}", path.display());
    Ok(summary.failed == 0)
}

/// `demo-07-p` for one request, `demo-26-p-03` for the third of a burst:
/// sent as `x-request-id`, so the 403 body and the events name them.
fn request_ids(n: usize, variant: Variant, count: usize) -> Vec<String> {
    let v = &variant.name()[..1];
    match count {
        1 => vec![format!("demo-{n:02}-{v}")],
        _ => (1..=count)
            .map(|k| format!("demo-{n:02}-{v}-{k:02}"))
            .collect(),
    }
}

/// Sends `scenario` to `shop` and records the effects around it.
fn observe(
    scenario: &Scenario,
    shop: &Running,
    ids: &[String],
    metadata: &StandIn,
    marker: &Path,
    audit_log: &Path,
) -> Result<Observed, String> {
    remove(marker)?;
    let hits = metadata.hits();
    let lines_before = read_lines(audit_log).len();
    let mut responses = Vec::new();
    for (request, id) in scenario.requests.iter().zip(ids) {
        responses.push(http::send(shop.addr(), request, id)?);
    }
    Ok(Observed {
        responses,
        internal_reached: metadata.hits() > hits,
        marker_written: marker.exists(),
        audit_lines: read_lines(audit_log)
            .into_iter()
            .skip(lines_before)
            .collect(),
    })
}

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Removes `path` if it exists.
fn remove(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {e}", path.display()))
        }
        _ => Ok(()),
    }
}

impl Expected {
    /// Whether a request of this kind is an attack.
    pub(crate) fn is_attack(self) -> bool {
        self == Expected::Attack
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_name_row_build_and_burst_position() {
        assert_eq!(request_ids(7, Variant::Protected, 1), ["demo-07-p"]);
        assert_eq!(
            request_ids(26, Variant::Unprotected, 2),
            ["demo-26-u-01", "demo-26-u-02"]
        );
    }

    #[test]
    fn options_reject_unknown_flags() {
        let parse = |args: &[&str]| Options::parse(&mut Parser::from_args(args));
        assert_eq!(
            parse(&["--fast"]).unwrap_err(),
            "unknown option `--fast` for demo"
        );
        assert_eq!(parse(&["--report"]).unwrap_err(), "--report needs a file");
        let options = parse(&["--debug"]).unwrap();
        assert!(!options.release);
        assert_eq!(options.report, None);
        let options = parse(&["--report=out.html"]).unwrap();
        assert!(options.release);
        assert_eq!(options.report, Some(PathBuf::from("out.html")));
    }
}
