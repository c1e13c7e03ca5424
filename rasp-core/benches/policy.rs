//! What an installed policy adds to a sink check: the same checks with and
//! without a policy, in the same run.
//!
//! `cargo bench -p rasp-core --bench policy`. A detection-free check never
//! reads the policy; a detection reads one snapshot and resolves the
//! allowlists, the route, the sink id and the class from it.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use rasp_core::check::check;
use rasp_core::class::SinkClass;
use rasp_core::sink::{Guard, SinkSite};
use rasp_core::{Mode, RequestContext, SourceMeta, policy};

static SITE: SinkSite = SinkSite::new(
    "bench.sql",
    SinkClass::Sql,
    "bench::query",
    file!(),
    line!(),
    &["sql"],
    Guard::RuntimeChecked,
);

static SRC: SourceMeta = SourceMeta {
    kind: "bench.input",
    ..SourceMeta::MANUAL
};

const SQL: &str = "SELECT u.id, u.name, u.email, o.total, o.status FROM users u \
    JOIN orders o ON o.user_id = u.id WHERE u.name = 'Ann -- the admin' \
    AND o.status = 'shipped' ORDER BY o.created_at DESC LIMIT 50 OFFSET 100";
const PRESENT: &str = "Ann -- the admin";
const ATTACK: &str = "x' OR '1'='1";

/// The smallest policy: the global mode only.
/// Event deduplication is off here so that these measure the decision
/// alone; `full_policy_events` adds it.
const MINIMAL: &str =
    "schema_version = 1\nrevision = 1\nmode = \"monitor\"\n[events]\ndedup_window_secs = 0\n";

/// A realistic policy: every lookup the decision path makes has entries,
/// none of which allows this request. Monitor everywhere, so both runs
/// measure the same outcome.
const POLICY: &str = r#"
schema_version = 1
revision = 1
mode = "monitor"
canary = 100
[allow]
routes = ["/healthz", "/metrics"]
sinks = ["reports.export"]
ips = ["10.0.0.0/8", "fd00::/8"]
users = ["scanner"]
tenants = ["qa"]
[sinks.sql]
action = "monitor"
on_error = "closed"
[sinks.shell]
action = "block"
[sink_ids."bench.sql"]
action = "monitor"
[sink_ids."reports.query"]
action = "block"
[routes."/orders"]
canary = 50
[routes."/admin"]
action = "monitor"
[events]
dedup_window_secs = 0
"#;

/// The full policy with event deduplication (the default window) and, given
/// a path, an evidence log of every monitored detection: what a detection
/// costs with everything on.
fn with_events(evidence: Option<&std::path::Path>) -> String {
    let evidence = evidence.map_or(String::new(), |path| {
        format!(
            "[evidence]\npath = {:?}\ninclude_monitored = true\nqueue = 65536\n",
            path.display().to_string()
        )
    });
    POLICY.replace(
        "dedup_window_secs = 0\n",
        &format!("dedup_window_secs = 60\n{evidence}"),
    )
}

fn context(input: &str) -> Arc<RequestContext> {
    let ctx = RequestContext::builder()
        .route("/orders")
        .client_ip([192, 0, 2, 1].into())
        .user("ann")
        .tenant("acme")
        .build();
    assert!(ctx.record_input(&SRC, input.as_bytes()));
    ctx
}

fn with_and_without_policy(c: &mut Criterion) {
    let sql = SQL.as_bytes();
    let attack_sql = SQL.replace(PRESENT, ATTACK);
    Mode::set(Mode::Monitor);
    let mut group = c.benchmark_group("policy");
    let dir = tempfile::tempdir().unwrap();
    let dedup = with_events(None);
    let evidence = with_events(Some(&dir.path().join("evidence.jsonl")));
    for (label, text) in [
        ("no_policy", None),
        ("minimal_policy", Some(MINIMAL)),
        ("full_policy", Some(POLICY)),
        ("full_policy_dedup", Some(dedup.as_str())),
        ("full_policy_dedup_evidence", Some(evidence.as_str())),
    ] {
        policy::uninstall();
        if let Some(text) = text {
            policy::install(policy::load_str(text).unwrap()).unwrap();
        }
        context(PRESENT).scope(|| {
            group.bench_function(format!("{label}/benign"), |b| {
                b.iter(|| check(&SITE, black_box(sql)))
            });
        });
        context(ATTACK).scope(|| {
            assert!(check(&SITE, attack_sql.as_bytes()).is_ok());
            group.bench_function(format!("{label}/injection_monitor"), |b| {
                b.iter(|| check(&SITE, black_box(attack_sql.as_bytes())))
            });
        });
    }
    policy::uninstall();
    Mode::set(Mode::Block);
    group.finish();
}

/// Entry rules of a realistic policy: block lists, two rate limits and a
/// circuit breaker, none of which refuses the benchmarked request.
const ENTRY: &str = r#"
schema_version = 1
revision = 2
mode = "block"
[entry]
block_ips = ["203.0.113.0/24"]
block_users = ["mallory"]
[[entry.rate_limits]]
key = "ip"
per_second = 1000000000
[[entry.rate_limits]]
key = "user"
per_second = 1000000000
[entry.circuit_breaker]
key = "ip"
detections = 5
window_secs = 60
open_secs = 300
"#;

fn entry_evaluation(c: &mut Criterion) {
    let ctx = context(PRESENT);
    let mut group = c.benchmark_group("entry");
    policy::uninstall();
    group.bench_function("no_policy", |b| {
        b.iter(|| policy::entry::evaluate(black_box(&ctx)))
    });
    policy::install(policy::load_str(ENTRY).unwrap()).unwrap();
    group.bench_function("block_lists_rate_limits_breaker", |b| {
        b.iter(|| policy::entry::evaluate(black_box(&ctx)))
    });
    policy::uninstall();
    group.finish();
}

criterion_group!(benches, with_and_without_policy, entry_evaluation);
criterion_main!(benches);
