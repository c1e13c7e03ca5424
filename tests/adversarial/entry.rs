//! Attacks on this surface; see the suite's overview in `main.rs`.
//!
//! Entry rules and the canary: what decides whether a request is refused
//! must be something no client can choose. Each test installs a policy
//! (process-wide, so each test holds the suite's lock while it runs), serves an axum app on 127.0.0.1, and attacks it over real HTTP.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rasp::axum::{BlockedResponse, ClientAddrPolicy, InstalledPolicy, RaspLayer, TaintedQuery};
use rasp::{Blocked, Dialect, Reason, RequestContext, Tainted};
use serde::Deserialize;
use sqlx::SqlitePool;
use sqlx::sqlite::SqlitePoolOptions;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Holds the suite's lock, with no policy installed.
fn policy_lock() -> MutexGuard<'static, ()> {
    crate::serial()
}

fn install(text: &str) {
    let policy = rasp::policy::load_str(text).expect("valid policy");
    rasp::policy::install(policy).expect("installed");
}

/// Input that turns `WHERE name = '…'` into a condition true for every row.
const TAUTOLOGY: &str = "nobody' OR '1'='1";

#[derive(Deserialize)]
struct ByName {
    name: String,
}

/// The app's mistake, the one rasp exists for: tainted input spliced into
/// SQL with `format!` after an unchecked vouch.
async fn by_query(
    State(pool): State<SqlitePool>,
    TaintedQuery(query): TaintedQuery<ByName>,
) -> Result<String, BlockedResponse> {
    let name: Tainted<String> = query.map(|q| q.name);
    let name =
        rasp::trust_unchecked!(name, rasp::Sql, "the app believes its input is clean").into_inner();
    let sql = format!("SELECT secret FROM users WHERE name = '{name}'");
    let checked = rasp::sql_for(Dialect::Sqlite, sql)?;
    let rows: Vec<String> = sqlx::query_scalar(checked)
        .fetch_all(&pool)
        .await
        .expect("the checked statement runs");
    Ok(rows.join(","))
}

#[derive(Debug)]
struct Refused(Blocked);

impl From<Blocked> for Refused {
    fn from(blocked: Blocked) -> Self {
        Refused(blocked)
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        BlockedResponse(self.0).into_response()
    }
}

/// A handler protected by the macro as well as by the layer.
#[rasp::protect]
async fn protected_hello() -> Result<&'static str, Refused> {
    Ok("hello")
}

async fn database() -> SqlitePool {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    sqlx::raw_sql(
        "CREATE TABLE users (name TEXT NOT NULL, secret TEXT NOT NULL);
         INSERT INTO users VALUES ('ann', 'ann-secret'), ('bob', 'bob-secret');",
    )
    .execute(&pool)
    .await
    .expect("schema");
    pool
}

/// Serves the app behind `layer` on a loopback port.
async fn serve(layer: RaspLayer<InstalledPolicy>) -> String {
    let app = Router::new()
        .route("/users", get(by_query))
        .route("/hello", get(protected_hello))
        .with_state(database().await)
        .layer(layer);
    crate::serve(app).await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// The canary bucket the old scheme gave a request id: FNV-1a (64-bit)
/// modulo 100. The attacker computes it to pick ids outside the canary.
fn fnv_bucket(id: &str) -> u64 {
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    hash % 100
}

/// `count` request ids whose old bucket is at least `percent`: outside a
/// canary of `percent` % under the old scheme.
fn ids_outside_the_old_canary(percent: u64, count: usize) -> Vec<String> {
    (0u64..)
        .map(|i| format!("attacker-{i}"))
        .filter(|id| fnv_bucket(id) >= percent)
        .take(count)
        .collect()
}

/// Sends the injection (or the benign twin) with each id; counts refusals.
async fn refused(base: &str, ids: &[String], name: &str) -> usize {
    let http = client();
    let mut refused = 0;
    for id in ids {
        let response = http
            .get(format!("{base}/users"))
            .query(&[("name", name)])
            .header("x-request-id", id)
            .send()
            .await
            .expect("response");
        match response.status().as_u16() {
            200 => {}
            403 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    refused
}

#[tokio::test]
async fn chosen_request_ids_do_not_steer_the_canary() {
    let _lock = policy_lock();
    install("schema_version = 1\nrevision = 1\nmode = \"block\"\ncanary = 50\n");
    let base = serve(RaspLayer::new().entry_guard(InstalledPolicy::new())).await;

    let ids = ids_outside_the_old_canary(50, 200);
    let blocked = refused(&base, &ids, TAUTOLOGY).await;
    // Binomial(200, 0.5): mean 100, standard deviation 7.1; 20 % to 80 %
    // is more than eight of them, so this cannot flake. Under the old
    // scheme these ids got every injection through (0 blocked).
    assert!(
        (40..=160).contains(&blocked),
        "{blocked} of 200 chosen-id injections blocked"
    );
    assert_eq!(refused(&base, &ids, "ann").await, 0, "benign twin");

    install("schema_version = 1\nrevision = 2\nmode = \"block\"\ncanary = 10\n");
    let ids = ids_outside_the_old_canary(10, 200);
    let blocked = refused(&base, &ids, TAUTOLOGY).await;
    // Binomial(200, 0.1): mean 20; all 200 through has odds 0.9^200 (1e-9).
    assert!(
        (1..=60).contains(&blocked),
        "{blocked} of 200 chosen-id injections blocked at a 10 % canary"
    );
    assert_eq!(refused(&base, &ids, "ann").await, 0, "benign twin");
    rasp::policy::uninstall();
}

/// A job or serverless handler protected with the macro alone, no web
/// layer: the caller opens a context with what it knows of the requester.
#[rasp::protect]
fn run_job(_payload: &str) -> Result<&'static str, Refused> {
    Ok("done")
}

#[rasp::protect]
async fn run_job_async(_payload: &str) -> Result<&'static str, Refused> {
    Ok("done")
}

fn as_user(user: &str) -> Arc<RequestContext> {
    RequestContext::builder().user(user).build()
}

#[tokio::test]
async fn protect_alone_applies_block_lists_and_rate_limits() {
    let _lock = policy_lock();
    install(
        r#"
        schema_version = 1
        revision = 3
        mode = "block"
        [entry]
        block_users = ["mallory"]
        [[entry.rate_limits]]
        key = "user"
        per_minute = 1
        burst = 2
        "#,
    );
    let refusal = |result: Result<&str, Refused>| result.err().map(|Refused(b)| b.reason);

    // The block list, sync and async.
    let mallory = as_user("mallory");
    assert_eq!(
        refusal(mallory.scope(|| run_job("x"))),
        Some(Reason::RefusedAtEntry)
    );
    let refused = as_user("mallory").instrument(run_job_async("x")).await;
    assert_eq!(refusal(refused), Some(Reason::RefusedAtEntry));

    // The rate limit: two calls, then throttled; another user unaffected.
    for _ in 0..2 {
        assert_eq!(refusal(as_user("alice").scope(|| run_job("x"))), None);
    }
    assert_eq!(
        refusal(as_user("alice").scope(|| run_job("x"))),
        Some(Reason::Throttled)
    );
    let throttled = as_user("alice").instrument(run_job_async("x")).await;
    assert_eq!(refusal(throttled), Some(Reason::Throttled));
    assert_eq!(refusal(as_user("bob").scope(|| run_job("x"))), None);
    assert_eq!(
        refusal(as_user("bob").instrument(run_job_async("x")).await),
        None
    );
    let message = as_user("alice")
        .scope(|| run_job("x"))
        .unwrap_err()
        .0
        .to_string();
    assert!(message.contains("at entry"), "{message}");
    rasp::policy::uninstall();
}

#[tokio::test]
async fn a_protected_handler_behind_the_layer_spends_one_budget_per_request() {
    let _lock = policy_lock();
    install(
        r#"
        schema_version = 1
        revision = 4
        mode = "block"
        [[entry.rate_limits]]
        key = "ip"
        per_minute = 1
        burst = 3
        "#,
    );
    let base = serve(RaspLayer::new().entry_guard(InstalledPolicy::new())).await;
    let http = client();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = http
            .get(format!("{base}/hello"))
            .send()
            .await
            .expect("response");
        statuses.push(response.status().as_u16());
    }
    // Asked twice per request, the budget of three would end after two.
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    rasp::policy::uninstall();
}

/// Collects the `event.name` of every `rasp::security` event.
#[derive(Clone, Default)]
struct EventNames(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for EventNames {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        struct Name(Option<String>);
        impl Visit for Name {
            fn record_str(&mut self, field: &Field, value: &str) {
                if field.name() == "event.name" {
                    self.0 = Some(value.to_owned());
                }
            }
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                if field.name() == "event.name" {
                    self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
                }
            }
        }
        if event.metadata().target() != rasp::event::TARGET {
            return;
        }
        let mut name = Name(None);
        event.record(&mut name);
        if let Some(name) = name.0 {
            self.0.lock().expect("names").push(name);
        }
    }
}

// A current-thread runtime (the default of `#[tokio::test]`): the server's
// tasks run on this thread, under this thread's subscriber.
#[tokio::test]
async fn a_flood_of_addresses_does_not_switch_the_rate_limit_off() {
    let _lock = policy_lock();
    let names = EventNames::default();
    let _subscriber =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(names.clone()));
    install(
        r#"
        schema_version = 1
        revision = 5
        mode = "block"
        [entry]
        max_tracked = 300
        [[entry.rate_limits]]
        key = "ip"
        per_minute = 1
        burst = 5
        "#,
    );
    // A proxy on loopback forwards the client address, so one test client
    // can speak from many addresses.
    let behind_proxy =
        ClientAddrPolicy::default().trusted_proxies(["127.0.0.0/8".parse().expect("net")]);
    let layer = RaspLayer::new()
        .client_addr(behind_proxy)
        .entry_guard(InstalledPolicy::new());
    let base = serve(layer).await;
    let http = client();
    let status_from = |from: String| {
        let request = http
            .get(format!("{base}/users"))
            .query(&[("name", "ann")])
            .header("x-forwarded-for", from);
        async move { request.send().await.expect("response").status().as_u16() }
    };

    let abuser = "198.51.100.66".to_owned();
    let mut before = 0;
    for _ in 0..50 {
        before += usize::from(status_from(abuser.clone()).await == 429);
    }
    assert_eq!(before, 45, "the burst of five, then throttled");

    // One /64 is one requester however many addresses it uses.
    let mut same_net = 0;
    for n in 0..120u32 {
        let from = format!("2001:db8:aa:1:{:x}:{:x}::1", n >> 8, n & 0xff);
        same_net += usize::from(status_from(from).await == 429);
    }
    assert_eq!(same_net, 115, "one /64, one budget of five");

    // More distinct networks than the table tracks.
    let mut flood_through = 0;
    for n in 0..1_200u32 {
        let from = format!("2001:db8:{:x}:{:x}::1", 0x100 + (n >> 16), n & 0xffff);
        flood_through += usize::from(status_from(from).await == 200);
    }
    let mut after = 0;
    for _ in 0..50 {
        after += usize::from(status_from(abuser.clone()).await == 429);
    }
    // One token a minute: a slow run may have earned the abuser one more.
    assert!(after >= 49, "the abuser is still throttled: {after} of 50");
    // Each network sent one request: the 298 the table still had room for
    // (it holds the abuser and the /64 too) passed, and the rest shared
    // one overflow budget of five.
    assert!(
        flood_through <= 298 + 5,
        "{flood_through} of 1200 flood requests admitted"
    );
    let names = names.0.lock().expect("names").clone();
    assert!(
        names.iter().any(|n| n == "rasp.entry.table_full"),
        "table pressure is reported: {names:?}"
    );
    rasp::policy::uninstall();
}

// A current-thread runtime: the servers, the client and every task share
// one thread, so a request that held the thread would stall all the others.
#[tokio::test]
async fn a_stalled_redis_costs_one_timeout_and_holds_up_no_other_request() {
    let _lock = policy_lock();
    let plain = crate::serve(Router::new().route("/ping", get(|| async { "pong" }))).await;
    for (revision, mode, want) in [(6, "open", 200), (7, "closed", 429)] {
        // Accepts connections (the kernel does) and never answers.
        let stalled = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let redis = stalled.local_addr().expect("addr");
        install(&format!(
            r#"
            schema_version = 1
            revision = {revision}
            mode = "block"
            [fleet]
            redis_url = "redis://{redis}"
            timeout_ms = 300
            on_error = "{mode}"
            [[entry.rate_limits]]
            key = "ip"
            per_second = 1000
            "#
        ));
        let base = serve(RaspLayer::new().entry_guard(InstalledPolicy::new())).await;
        let protected = tokio::spawn(async move {
            let start = std::time::Instant::now();
            let status = client()
                .get(format!("{base}/hello"))
                .send()
                .await
                .expect("response")
                .status()
                .as_u16();
            (status, start.elapsed())
        });
        // While that request waits on Redis, another one is served.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let start = std::time::Instant::now();
        let pong = client()
            .get(format!("{plain}/ping"))
            .send()
            .await
            .expect("response")
            .status()
            .as_u16();
        let other = start.elapsed();
        let (status, waited) = protected.await.expect("request task");
        assert_eq!(pong, 200);
        assert!(
            other < Duration::from_millis(200),
            "{mode}: another request waited {other:?} behind the Redis call"
        );
        assert_eq!(status, want, "{mode}");
        // One timeout for the whole exchange (connect, handshake, script),
        // plus HTTP on loopback.
        assert!(
            (Duration::from_millis(280)..Duration::from_millis(700)).contains(&waited),
            "{mode}: the request took {waited:?}"
        );
        drop(stalled);
    }
    rasp::policy::uninstall();
}
