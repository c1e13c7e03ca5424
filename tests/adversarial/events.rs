//! Attacks on the evidence and the event streams: flooding them so that
//! other attackers' traces are pushed out, deduplication defeated, or the
//! log pipeline drowned. Each flood goes through a real guarded sink (or
//! the real entry check) inside a request context; the tests read what an
//! operator would see: the evidence files, the `rasp::security` events and
//! the counters.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, MutexGuard, OnceLock};
use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use rasp::fs::{FsError, Root};
use rasp::{Decision, Reason, RequestContext, SourceMeta, policy};
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Holds the suite's lock, with no policy installed: the policy is
/// process-wide.
fn policy_lock() -> MutexGuard<'static, ()> {
    crate::serial()
}

fn install(text: &str) {
    let policy = policy::load_str(text).unwrap_or_else(|e| panic!("{e}"));
    policy::install(policy).unwrap_or_else(|e| panic!("{e}"));
}

static QUERY: SourceMeta = SourceMeta {
    kind: "http.query",
    fn_path: "adversarial::events::query",
    file: file!(),
    line: line!(),
};

/// One request from `ip` whose query parameter is `input`.
fn request(id: &str, ip: [u8; 4], route: &str, input: &str) -> Arc<RequestContext> {
    let ctx = RequestContext::builder()
        .request_id(id)
        .route(route)
        .client_ip(IpAddr::from(ip))
        .user("mallory")
        .build();
    ctx.record_input(&QUERY, input.as_bytes());
    ctx
}

/// The search handler: splices the query into SQL, checked by rasp.
fn search(ctx: &Arc<RequestContext>, input: &str) -> Result<rasp::CheckedSql, rasp::Blocked> {
    ctx.scope(|| rasp::sql(format!("SELECT * FROM items WHERE name = '{input}'")))
}

const INJECTION: &str = "x' OR '1'='1";

type Fields = BTreeMap<String, String>;

thread_local! {
    /// Events captured on this thread, while `events_of` runs.
    static CAPTURED: RefCell<Option<Vec<Fields>>> = const { RefCell::new(None) };
}

/// Records `rasp::security` events into the capturing thread's list.
struct Capture;

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != rasp::event::TARGET {
            return;
        }
        let mut fields = Fields::new();
        event.record(&mut Visitor(&mut fields));
        CAPTURED.with(|c| {
            if let Some(events) = c.borrow_mut().as_mut() {
                events.push(fields);
            }
        });
    }
}

/// Events on `rasp::security` raised on this thread while `f` runs.
///
/// The subscriber is process-wide where possible: a thread-local one races
/// with the interest cache of callsites first hit on other threads. If
/// another module of the suite installed the global subscriber first, a
/// thread-local one is the fallback.
fn events_of<R>(f: impl FnOnce() -> R) -> (R, Vec<Fields>) {
    static GLOBAL: OnceLock<bool> = OnceLock::new();
    let global = *GLOBAL.get_or_init(|| {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Capture))
            .is_ok()
    });
    CAPTURED.with(|c| *c.borrow_mut() = Some(Vec::new()));
    let out = if global {
        f()
    } else {
        tracing::subscriber::with_default(tracing_subscriber::registry().with(Capture), f)
    };
    let events = CAPTURED.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (out, events)
}

/// Counter values by `name{label=value,…}`, labels sorted.
fn counters(recorder: &DebuggingRecorder) -> BTreeMap<String, u64> {
    recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| {
            let key = key.key();
            let mut labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            let DebugValue::Counter(n) = value else {
                return None;
            };
            Some((format!("{}{{{}}}", key.name(), labels.join(",")), n))
        })
        .collect()
}

/// The sum of the `rasp.event.suppressed` counts `events` report.
fn suppressed_in(events: &[&Fields]) -> u64 {
    events
        .iter()
        .filter_map(|e| e.get("rasp.event.suppressed")?.parse::<u64>().ok())
        .sum()
}

#[test]
fn a_flood_of_guard_refusals_is_counted_in_full_but_reported_in_bounded_events() {
    let _lock = policy_lock();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("files")).unwrap();
    std::fs::write(dir.path().join("files/report.txt"), "ok").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "s3cret").unwrap();
    let root = Root::new(dir.path().join("files")).unwrap();
    // A policy as a service ships it: `[events]` left at its defaults.
    install("schema_version = 1\nrevision = 1\nmode = \"block\"\n");
    rasp::event::flush_suppressed();

    const FLOOD: u64 = 5_000;
    let recorder = DebuggingRecorder::new();
    let (_, events) = events_of(|| {
        metrics::with_local_recorder(&recorder, || {
            // The query as sent, percent-encoded; the handler decodes it,
            // so the recorded input is not in the path and the guard's own
            // confinement refuses it.
            let ctx = request(
                "req-flood-7",
                [203, 0, 113, 70],
                "/download",
                "..%2fsecret.txt",
            );
            ctx.scope(|| {
                for _ in 0..FLOOD {
                    match root.read("../secret.txt") {
                        Err(FsError::Refused(blocked)) => {
                            assert_eq!(blocked.reason, Reason::LeavesRoot)
                        }
                        other => panic!("the traversal was not refused: {other:?}"),
                    }
                }
            });
            // The benign twin: a file inside the root is served.
            let ctx = request("req-ok", [198, 51, 100, 5], "/download", "report.txt");
            assert_eq!(ctx.scope(|| root.read("report.txt")).unwrap(), b"ok");
            rasp::event::flush_suppressed();
        })
    });

    let refused: Vec<_> = events
        .iter()
        .filter(|e| e["event.name"] == "rasp.guard.refused")
        .collect();
    // The defaults: 10 events a window, then one per 100 repeats.
    assert!(
        !refused.is_empty() && refused.len() as u64 <= 10 + FLOOD / 100,
        "{} refusal events for {FLOOD} refusals",
        refused.len()
    );
    for event in &refused {
        assert_eq!(event["rasp.request.id"], "req-flood-7");
        assert_eq!(event["http.route"], "/download");
        assert_eq!(event["client.address"], "203.0.113.70");
        assert_eq!(event["user.id"], "mallory");
        assert_eq!(event["rasp.sink.id"], "fs.root");
        assert_eq!(event["rasp.reason"], "leaves_root");
    }
    // Every refusal is accounted for: emitted, or carried in a count.
    let summaries: Vec<_> = events
        .iter()
        .filter(|e| {
            e["event.name"] == "rasp.event.suppressed" && e["rasp.event.stream"] == "refusal"
        })
        .collect();
    assert_eq!(
        refused.len() as u64 + suppressed_in(&refused) + suppressed_in(&summaries),
        FLOOD
    );
    let counters = counters(&recorder);
    assert_eq!(
        counters["rasp_guard_refusals_total{sink_kind=path}"], FLOOD,
        "the metric counts every refusal"
    );
    let emitted = counters["rasp_security_events_total{outcome=emitted,stream=refusal}"];
    let suppressed = counters["rasp_security_events_total{outcome=suppressed,stream=refusal}"];
    assert_eq!(
        (emitted, emitted + suppressed),
        (refused.len() as u64, FLOOD)
    );
}

#[test]
fn a_flood_of_refused_requests_at_entry_is_reported_in_bounded_events() {
    let _lock = policy_lock();
    install(
        "schema_version = 1\nrevision = 1\nmode = \"block\"\n\
         [entry]\nblock_ips = [\"203.0.113.0/24\"]\n",
    );
    rasp::event::flush_suppressed();
    const FLOOD: u64 = 3_000;
    let recorder = DebuggingRecorder::new();
    let (_, events) = events_of(|| {
        metrics::with_local_recorder(&recorder, || {
            for i in 0..FLOOD {
                let ctx = request(&format!("req-{i}"), [203, 0, 113, 71], "/login", "");
                assert_eq!(policy::entry::evaluate(&ctx), Decision::Block);
            }
            // The benign twin: another client enters.
            let ctx = request("req-ok", [198, 51, 100, 6], "/login", "");
            assert_eq!(policy::entry::evaluate(&ctx), Decision::Allow);
            rasp::event::flush_suppressed();
        })
    });
    let blocked: Vec<_> = events
        .iter()
        .filter(|e| e["event.name"] == "rasp.entry.blocked")
        .collect();
    assert!(
        !blocked.is_empty() && blocked.len() as u64 <= 10 + FLOOD / 100,
        "{} entry events for {FLOOD} refused requests",
        blocked.len()
    );
    assert!(blocked.iter().all(|e| e["client.address"] == "203.0.113.71"
        && e["http.route"] == "/login"
        && e["rasp.request.id"].starts_with("req-")));
    let summaries: Vec<_> = events
        .iter()
        .filter(|e| e["event.name"] == "rasp.event.suppressed" && e["rasp.event.stream"] == "entry")
        .collect();
    assert_eq!(
        blocked.len() as u64 + suppressed_in(&blocked) + suppressed_in(&summaries),
        FLOOD
    );
    let counters = counters(&recorder);
    assert_eq!(
        counters["rasp_entry_decisions_total{action=block,rule=block_list}"],
        FLOOD
    );
    let emitted = counters["rasp_security_events_total{outcome=emitted,stream=entry}"];
    let suppressed = counters["rasp_security_events_total{outcome=suppressed,stream=entry}"];
    assert_eq!(emitted + suppressed, FLOOD);
}

/// Every line of the evidence log and its rotated files, after a flush.
fn evidence_lines(path: &std::path::Path) -> Vec<Value> {
    assert!(policy::flush_evidence(Duration::from_secs(30)));
    let mut files: Vec<std::path::PathBuf> = (1..=8)
        .rev()
        .map(|n| std::path::PathBuf::from(format!("{}.{n}", path.display())))
        .collect();
    files.push(path.to_owned());
    files
        .iter()
        .filter_map(|file| std::fs::read_to_string(file).ok())
        .flat_map(|text| {
            text.lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect()
}

#[test]
fn an_sqli_flood_cannot_flush_another_attackers_evidence() {
    let _lock = policy_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.jsonl");
    // Small files, so that without per-key quotas the flood would rotate
    // everything else out within seconds.
    install(&format!(
        "schema_version = 1\nrevision = 1\nmode = \"block\"\n\
         [evidence]\npath = {:?}\nmax_file_mb = 1\nmax_rotated_files = 1\nqueue = 65536\n",
        path.display().to_string()
    ));
    let before = policy::status();

    const FLOOD: u64 = 10_000;
    for i in 0..FLOOD {
        let ctx = request(
            &format!("flood-{i}"),
            [203, 0, 113, 99],
            "/search",
            INJECTION,
        );
        assert!(search(&ctx, INJECTION).is_err(), "the flood is blocked");
    }
    let victim = request("victim-42", [192, 0, 2, 42], "/search", INJECTION);
    assert!(search(&victim, INJECTION).is_err());
    // The benign twin: an ordinary search passes and records nothing.
    let benign = request("benign-1", [192, 0, 2, 43], "/search", "garden chairs");
    assert!(search(&benign, "garden chairs").is_ok());

    let lines = evidence_lines(&path);
    let after = policy::status();
    let summary = |l: &&Value| l["event.name"] == "rasp.evidence.suppressed";
    let records: Vec<&Value> = lines.iter().filter(|l| !summary(l)).collect();
    assert!(
        records.iter().any(|r| r["rasp.request.id"] == "victim-42"),
        "the other attacker's evidence survives the flood"
    );
    assert!(records.iter().all(|r| r["rasp.request.id"] != "benign-1"));

    let overwritten = after.evidence_overwritten - before.evidence_overwritten;
    let suppressed = after.evidence_suppressed - before.evidence_suppressed;
    let dropped = after.evidence_dropped - before.evidence_dropped;
    assert!(suppressed > 0, "the flood used up its quota");
    assert_eq!(
        records.len() as u64 + overwritten + suppressed + (dropped - overwritten),
        FLOOD + 1,
        "every record sent is on disk, overwritten, suppressed or dropped"
    );
    let reported: u64 = lines
        .iter()
        .filter_map(|l| l.get("rasp.evidence.suppressed")?.as_u64())
        .sum();
    assert_eq!(reported, suppressed, "every suppressed record is reported");
}
