//! Fleet state in Redis (`[fleet]`, feature `redis`): rate limits and block
//! lists shared by two independently compiled policies, as two instances of
//! a service would, against the real server named by `RASP_TEST_REDIS_URL`;
//! and the fail modes when Redis is unreachable, silent, or goes away and
//! comes back mid-run (through a TCP relay the test stops and restarts).

mod policy_support;

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use rasp_core::Decision;
use rasp_core::policy::{Policy, PolicyError};
use rasp_core::telemetry::metrics as names;

use policy_support::*;

/// The Redis server under test, or `None` (and a printed reason) to skip.
fn redis_url(test: &str) -> Option<String> {
    match std::env::var("RASP_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            println!(
                "skipped {test}: RASP_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379)"
            );
            None
        }
    }
}

/// A key prefix no other test or run shares; its keys are deleted on drop.
struct Namespace {
    prefix: String,
    connection: redis::Connection,
}

impl Namespace {
    fn new(url: &str, test: &str) -> Namespace {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let prefix = format!(
            "rasp-test:{}:{nanos}:{}:{test}:",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let connection = redis::Client::open(url)
            .unwrap()
            .get_connection_with_timeout(Duration::from_secs(2))
            .unwrap();
        Namespace { prefix, connection }
    }

    fn keys(&mut self) -> Vec<String> {
        redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut self.connection)
            .unwrap()
    }

    fn add(&mut self, list: &str, member: &[u8]) {
        let _: i64 = redis::cmd("SADD")
            .arg(format!("{}block:{list}", self.prefix))
            .arg(member)
            .query(&mut self.connection)
            .unwrap();
    }

    fn remove(&mut self, list: &str, member: &[u8]) {
        let _: i64 = redis::cmd("SREM")
            .arg(format!("{}block:{list}", self.prefix))
            .arg(member)
            .query(&mut self.connection)
            .unwrap();
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let keys = self.keys();
        if !keys.is_empty() {
            let _: i64 = redis::cmd("DEL")
                .arg(keys)
                .query(&mut self.connection)
                .unwrap_or(0);
        }
    }
}

fn policy(url: &str, prefix: &str, fleet: &str, entry: &str) -> Policy {
    Policy::from_toml(&format!(
        "schema_version = 1\nrevision = 1\nmode = \"block\"\n\
         [fleet]\nredis_url = \"{url}\"\nkey_prefix = \"{prefix}\"\n{fleet}\n{entry}"
    ))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn from(ip: &str) -> Request<'static> {
    Request {
        ip: Some(ip.parse::<IpAddr>().unwrap()),
        ..Request::default()
    }
}

fn decide(policy: &Policy, request: &Request<'_>) -> Decision {
    policy.evaluate_entry(&context(request, &[]))
}

/// Polls `decide` until it returns `want` or `within` passes.
fn eventually(within: Duration, mut decide: impl FnMut() -> Decision, want: Decision) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if decide() == want {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

const PER_IP_5_PER_MINUTE: &str = "[[entry.rate_limits]]\nkey = \"ip\"\nper_minute = 5";

#[test]
fn two_instances_share_one_rate_limit_budget() {
    let Some(url) = redis_url("two_instances_share_one_rate_limit_budget") else {
        return;
    };
    let mut ns = Namespace::new(&url, "budget");
    let a = policy(&url, &ns.prefix, "timeout_ms = 500", PER_IP_5_PER_MINUTE);
    let b = policy(&url, &ns.prefix, "timeout_ms = 500", PER_IP_5_PER_MINUTE);
    let client = from("198.51.100.20");
    // Each instance's local tier alone would allow 5: 10 between them.
    let allowed = (0..20)
        .map(|i| decide(if i % 2 == 0 { &a } else { &b }, &client))
        .filter(|d| *d == Decision::Allow)
        .count();
    assert_eq!(
        allowed, 5,
        "the fleet allows the budget once, not once per instance"
    );
    assert_eq!(decide(&a, &client), Decision::Throttle);
    assert_eq!(decide(&b, &client), Decision::Throttle);
    // Another requester has a budget of its own.
    assert_eq!(decide(&b, &from("198.51.100.21")), Decision::Allow);

    // One key per requester, named by a hash: no address in clear.
    let keys = ns.keys();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for key in &keys {
        assert!(!key.contains("198.51.100"), "{key}");
        let hash = key.strip_prefix(&format!("{}rl:0:", ns.prefix)).unwrap();
        assert_eq!(hash.len(), 16);
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
        let ttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query(&mut ns.connection)
            .unwrap();
        assert!(
            ttl > 0 && ttl <= 61_000,
            "the key expires with the budget: {ttl}"
        );
    }
}

#[test]
fn a_request_the_local_tier_refuses_never_reaches_redis() {
    let Some(url) = redis_url("a_request_the_local_tier_refuses_never_reaches_redis") else {
        return;
    };
    let Ok(upstream) = upstream(&url) else {
        println!("skipped: the relay test needs a plain redis:// URL");
        return;
    };
    let ns = Namespace::new(&url, "local_first");
    let relay = Relay::start(&upstream);
    let a = policy(
        &relay.url(),
        &ns.prefix,
        "timeout_ms = 500",
        PER_IP_5_PER_MINUTE,
    );
    let client = from("198.51.100.30");
    // A flood on one instance: its local tier refuses all but 5.
    let allowed = (0..50)
        .filter(|_| decide(&a, &client) == Decision::Allow)
        .count();
    assert_eq!(allowed, 5);
    // Only those 5 were sent to Redis (one more if the server had to be
    // sent the script first).
    let calls = relay.evalsha.load(Ordering::SeqCst);
    assert!(
        (5..=6).contains(&calls),
        "{calls} script calls for 5 allowed requests"
    );
}

#[test]
fn shared_block_lists_block_on_every_instance() {
    let Some(url) = redis_url("shared_block_lists_block_on_every_instance") else {
        return;
    };
    let mut ns = Namespace::new(&url, "block");
    ns.add("ip", b"198.51.100.7");
    ns.add("ip", b"203.0.113.0/24");
    ns.add("ip", b"not an address");
    ns.add("ip", b"\xff\xfe");
    ns.add("user", b"mallory");
    ns.add("tenant", b"suspended");
    let fleet = "timeout_ms = 1000\nrefresh_ms = 100";
    let a = policy(&url, &ns.prefix, fleet, "");
    let b = policy(
        &url,
        &ns.prefix,
        fleet,
        "[entry]\nblock_users = [\"trudy\"]",
    );
    let user = |name: &'static str| Request {
        user: Some(name),
        ..Request::default()
    };
    let tenant = Request {
        tenant: Some("suspended"),
        ..Request::default()
    };
    // IPv4-mapped IPv6 is the same client.
    for request in [
        from("198.51.100.7"),
        from("203.0.113.200"),
        from("::ffff:198.51.100.7"),
        user("mallory"),
        tenant,
    ] {
        for instance in [&a, &b] {
            assert_eq!(decide(instance, &request), Decision::Block);
        }
    }
    assert_eq!(decide(&a, &from("198.51.100.8")), Decision::Allow);
    assert_eq!(decide(&a, &user("trudy")), Decision::Allow);
    assert_eq!(
        decide(&b, &user("trudy")),
        Decision::Block,
        "local lists still apply"
    );

    // Changes reach every instance within a refresh period.
    ns.remove("user", b"mallory");
    ns.add("user", b"eve");
    for instance in [&a, &b] {
        let within = Duration::from_secs(3);
        assert!(eventually(
            within,
            || decide(instance, &user("mallory")),
            Decision::Allow
        ));
        assert!(eventually(
            within,
            || decide(instance, &user("eve")),
            Decision::Block
        ));
    }
}

/// A policy whose fleet Redis is at `url`, failing `mode`, with a shared
/// rate limit that no test reaches.
fn unreachable_policy(url: &str, mode: &str, timeout_ms: u64) -> Policy {
    policy(
        url,
        "rasp-test:unreachable:",
        &format!("timeout_ms = {timeout_ms}\non_error = \"{mode}\""),
        "[[entry.rate_limits]]\nkey = \"ip\"\nper_second = 1000",
    )
}

fn fleet_errors(recorder: &DebuggingRecorder) -> u64 {
    recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == names::FLEET_ERRORS)
        .map(|(.., value)| match value {
            DebugValue::Counter(n) => n,
            _ => 0,
        })
        .sum()
}

#[test]
fn a_closed_port_applies_the_fail_mode_at_once() {
    for (mode, want) in [("open", Decision::Allow), ("closed", Decision::Throttle)] {
        let policy = unreachable_policy("redis://127.0.0.1:1", mode, 50);
        let recorder = DebuggingRecorder::new();
        capture_events();
        metrics::with_local_recorder(&recorder, || {
            for _ in 0..20 {
                let start = Instant::now();
                assert_eq!(decide(&policy, &from("198.51.100.40")), want, "{mode}");
                assert!(start.elapsed() < Duration::from_millis(250), "{mode}");
            }
        });
        // Repeated refusals are deduplicated; the rest are counted.
        rasp_core::event::flush_suppressed();
        // One attempt (the first read of the block lists), then the
        // back-off: the outage is counted and reported once, not once per
        // request.
        // (A second probe only if the loop outlived the back-off.)
        let errors = fleet_errors(&recorder);
        assert!((1..=2).contains(&errors), "{mode}: {errors}");
        let events = take_events();
        let unavailable: Vec<_> = events
            .iter()
            .filter(|e| e["event.name"] == "rasp.fleet.unavailable")
            .collect();
        assert_eq!(unavailable.len(), 1, "{events:?}");
        assert_eq!(unavailable[0]["rasp.fleet.op"], "block_list");
        let refused: u64 = events
            .iter()
            .filter(|e| {
                e.get("rasp.entry.rule").map(String::as_str) == Some("fleet_unavailable")
                    || (e["event.name"] == "rasp.event.suppressed"
                        && e.get("rasp.reason").map(String::as_str) == Some("fleet_unavailable")
                        && e.get("client.address").map(String::as_str) == Some("198.51.100.40"))
            })
            .map(|e| {
                let suppressed = e
                    .get("rasp.event.suppressed")
                    .map_or(0, |n| n.parse().unwrap());
                // A refusal event stands for itself and the repeats before
                // it; a summary only for the repeats.
                suppressed + u64::from(e["event.name"] != "rasp.event.suppressed")
            })
            .sum();
        assert_eq!(refused, if mode == "closed" { 20 } else { 0 });
    }
}

#[test]
fn a_silent_server_costs_at_most_the_timeout() {
    // Accepts connections (the kernel does) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", silent.local_addr().unwrap());
    for (mode, want) in [("open", Decision::Allow), ("closed", Decision::Throttle)] {
        let policy = unreachable_policy(&url, mode, 100);
        let start = Instant::now();
        assert_eq!(decide(&policy, &from("198.51.100.41")), want);
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(90), "{mode}: {waited:?}");
        assert!(waited < Duration::from_millis(1000), "{mode}: {waited:?}");
        // During the back-off no request waits.
        let start = Instant::now();
        assert_eq!(decide(&policy, &from("198.51.100.41")), want);
        assert!(start.elapsed() < Duration::from_millis(90), "{mode}");
    }
}

#[test]
fn fleet_keys_are_validated() {
    let compile = |fleet: &str| {
        Policy::from_toml(&format!(
            "schema_version = 1\nrevision = 1\nmode = \"block\"\n[fleet]\n{fleet}"
        ))
    };
    let key_of = |fleet: &str| match compile(fleet) {
        Err(PolicyError::Invalid { key, .. }) => key,
        other => panic!("{fleet}: {other:?}"),
    };
    let url = "redis_url = \"redis://127.0.0.1:6379\"\n";
    assert!(compile(url).is_ok());
    assert_eq!(
        key_of("redis_url = \"http://user:hunter2@h\""),
        "fleet.redis_url"
    );
    assert_eq!(key_of(&format!("{url}timeout_ms = 0")), "fleet.timeout_ms");
    assert_eq!(
        key_of(&format!("{url}timeout_ms = 60000")),
        "fleet.timeout_ms"
    );
    assert_eq!(key_of(&format!("{url}refresh_ms = 1")), "fleet.refresh_ms");
    assert_eq!(
        key_of(&format!("{url}key_prefix = \"\"")),
        "fleet.key_prefix"
    );
    assert_eq!(
        key_of(&format!("{url}key_prefix = \"a b\"")),
        "fleet.key_prefix"
    );
    assert_eq!(
        key_of(&format!("{url}key_prefix = \"a\\nb\"")),
        "fleet.key_prefix"
    );
    let error = compile("redis_url = \"http://user:hunter2@h\"").unwrap_err();
    assert!(!error.to_string().contains("hunter2"), "{error}");
    assert!(!format!("{:?}", compile(url).unwrap()).contains("6379"));
    // Unknown keys are refused like everywhere else in the policy.
    assert!(matches!(
        compile(&format!("{url}timeout = 5")),
        Err(PolicyError::Parse { .. })
    ));
}

/// A TCP relay to Redis that can be stopped (every connection cut, the
/// port closed) and started again on the same port.
struct Relay {
    port: u16,
    upstream: String,
    running: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: Option<thread::JoinHandle<()>>,
    /// `EVALSHA` commands relayed to the server.
    evalsha: Arc<AtomicU64>,
}

impl Relay {
    fn start(upstream: &str) -> Relay {
        let mut relay = Relay {
            port: 0,
            upstream: upstream.to_owned(),
            running: Arc::new(AtomicBool::new(false)),
            streams: Arc::default(),
            acceptor: None,
            evalsha: Arc::default(),
        };
        relay.resume();
        relay
    }

    fn resume(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        self.port = listener.local_addr().unwrap().port();
        self.running.store(true, Ordering::SeqCst);
        let (running, streams, upstream, evalsha) = (
            self.running.clone(),
            self.streams.clone(),
            self.upstream.clone(),
            self.evalsha.clone(),
        );
        self.acceptor = Some(thread::spawn(move || {
            for client in listener.incoming() {
                if !running.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut live = streams.lock().unwrap();
                live.push(client.try_clone().unwrap());
                live.push(server.try_clone().unwrap());
                drop(live);
                pipe(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    Some(evalsha.clone()),
                );
                pipe(server, client, None);
            }
        }));
    }

    /// Cuts every relayed connection and closes the port.
    fn stop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
        // Wakes the acceptor so that it sees the flag and drops the listener.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        self.acceptor.take().unwrap().join().unwrap();
        for stream in self.streams.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

/// Copies `from` to `to` until either closes, counting the `EVALSHA`
/// commands that pass when `evalsha` is set.
fn pipe(mut from: TcpStream, mut to: TcpStream, evalsha: Option<Arc<AtomicU64>>) {
    const NAME: &[u8] = b"EVALSHA";
    thread::spawn(move || {
        let mut buffer = [0; 16 * 1024];
        // The end of the previous read, so that a name split across two
        // reads is still counted once.
        let mut carry: Vec<u8> = Vec::new();
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if let Some(count) = &evalsha {
                        carry.extend_from_slice(&buffer[..n]);
                        let found = carry.windows(NAME.len()).filter(|w| *w == NAME).count();
                        count.fetch_add(found as u64, Ordering::SeqCst);
                        let keep = carry.len().min(NAME.len() - 1);
                        carry.drain(..carry.len() - keep);
                    }
                    if to.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

impl Drop for Relay {
    fn drop(&mut self) {
        if self.acceptor.is_some() {
            self.stop();
        }
    }
}

fn upstream(url: &str) -> io::Result<String> {
    let info = url
        .strip_prefix("redis://")
        .ok_or_else(|| io::Error::other("the relay test needs a redis:// URL"))?;
    let host = info.rsplit('@').next().unwrap_or(info);
    Ok(host.split('/').next().unwrap_or(host).to_owned())
}

#[test]
fn redis_going_away_mid_run_fails_per_mode_and_recovers() {
    let Some(url) = redis_url("redis_going_away_mid_run_fails_per_mode_and_recovers") else {
        return;
    };
    let Ok(upstream) = upstream(&url) else {
        println!("skipped: the relay test needs a plain redis:// URL");
        return;
    };
    let ns = Namespace::new(&url, "relay");
    let mut relay = Relay::start(&upstream);
    // Block lists are read once, on the first request, and stay fresh for
    // the whole test: only requests talk to Redis after that.
    let fleet = |mode: &str| format!("timeout_ms = 200\nrefresh_ms = 60000\non_error = \"{mode}\"");
    let entry = "[[entry.rate_limits]]\nkey = \"ip\"\nper_second = 1000";
    let closed = policy(&relay.url(), &ns.prefix, &fleet("closed"), entry);
    let open = policy(&relay.url(), &ns.prefix, &fleet("open"), entry);
    let client = from("198.51.100.50");
    capture_events();
    for instance in [&closed, &open] {
        assert_eq!(decide(instance, &client), Decision::Allow);
    }

    relay.stop();
    for (instance, want) in [(&closed, Decision::Throttle), (&open, Decision::Allow)] {
        let start = Instant::now();
        assert_eq!(decide(instance, &client), want);
        assert!(start.elapsed() < Duration::from_millis(500));
    }
    let events = take_events();
    assert!(
        events
            .iter()
            .any(|e| e["event.name"] == "rasp.fleet.unavailable"),
        "{events:?}"
    );

    relay.resume();
    for instance in [&closed, &open] {
        assert!(eventually(
            Duration::from_secs(5),
            || decide(instance, &client),
            Decision::Allow
        ));
    }
    let events = take_events();
    assert!(
        events
            .iter()
            .any(|e| e["event.name"] == "rasp.fleet.recovered"),
        "{events:?}"
    );
    // Recovered for good, not for one probe.
    for _ in 0..20 {
        assert_eq!(decide(&closed, &client), Decision::Allow);
    }
}

#[test]
fn extreme_quotas_and_hostile_ids_are_handled() {
    let Some(url) = redis_url("extreme_quotas_and_hostile_ids_are_handled") else {
        return;
    };
    let mut ns = Namespace::new(&url, "extreme");
    // A burst that refills over most of a year (the longest accepted); a
    // rate above the shared tier's resolution.
    let entry = "[[entry.rate_limits]]\nkey = \"user\"\nper_minute = 1\nburst = 500000\n\
                 [[entry.rate_limits]]\nkey = \"tenant\"\nper_second = 4000000000";
    let a = policy(
        &url,
        &ns.prefix,
        "timeout_ms = 500\non_error = \"closed\"",
        entry,
    );
    let too_long = entry.replace("500000", "4000000000");
    assert!(matches!(
        Policy::from_toml(&format!(
            "schema_version = 1\nrevision = 1\nmode = \"block\"\n{too_long}"
        )),
        Err(PolicyError::Invalid { key, .. }) if key == "entry.rate_limits[0].burst"
    ));
    let huge = "\u{0}\r\n*3\r\n$3\r\nDEL".repeat(100_000);
    let request = Request {
        user: Some(&huge),
        tenant: Some("ten\u{0}ant:with:colons"),
        ..Request::default()
    };
    for _ in 0..3 {
        assert_eq!(decide(&a, &request), Decision::Allow);
    }
    // The tenant's key lives about 2 ms (its budget refills in 1 µs): on a
    // busy machine it may be gone before it is listed or read.
    let keys = ns.keys();
    assert!(
        keys.iter().any(|key| key.contains("rl:0:")) && keys.len() <= 2,
        "{keys:?}"
    );
    for key in keys {
        assert_eq!(key.len(), ns.prefix.len() + "rl:0:".len() + 16, "{key}");
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query(&mut ns.connection)
            .unwrap();
        // -1 would be a key without expiry; -2, one expired since listed.
        assert!(
            ttl > 0 || (ttl == -2 && key.contains("rl:1:")),
            "{key}: {ttl}"
        );
    }
}

/// The entry decision through the asynchronous path, as the axum layer and
/// async `#[rasp::protect]` fns ask it, under the installed `policy`.
async fn admit(policy: Policy, request: &Request<'_>) -> Decision {
    rasp_core::policy::install(policy).unwrap();
    let decision = rasp_core::policy::entry::admission(&context(request, &[]))
        .decision()
        .await;
    rasp_core::policy::uninstall();
    decision
}

#[test]
fn the_async_path_shares_the_budget_through_redis() {
    let Some(url) = redis_url("the_async_path_shares_the_budget_through_redis") else {
        return;
    };
    let _lock = policy_lock();
    let ns = Namespace::new(&url, "async-budget");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = from("198.51.100.30");
    // Another instance, asking synchronously, spends the shared budget.
    let other = policy(&url, &ns.prefix, "timeout_ms = 500", PER_IP_5_PER_MINUTE);
    for _ in 0..5 {
        assert_eq!(decide(&other, &client), Decision::Allow);
    }
    let this = policy(&url, &ns.prefix, "timeout_ms = 500", PER_IP_5_PER_MINUTE);
    let ctx = context(&client, &[]);
    rasp_core::policy::install(this).unwrap();
    // Outside a tokio runtime there is nothing to await on: decided at once.
    let outside = rasp_core::policy::entry::admission(&context(&from("198.51.100.32"), &[]));
    assert!(
        matches!(
            outside,
            rasp_core::policy::entry::Admission::Decided(Decision::Allow)
        ),
        "{outside:?}"
    );
    let decision = runtime.block_on(async {
        let admission = rasp_core::policy::entry::admission(&ctx);
        assert!(
            matches!(admission, rasp_core::policy::entry::Admission::Pending(_)),
            "{admission:?}"
        );
        admission.decision().await
    });
    // Its local tier is fresh: only the shared budget can refuse.
    assert_eq!(decision, Decision::Throttle);
    assert!(ctx.entry_mark().evaluated());
    let fresh = from("198.51.100.31");
    let decision = runtime.block_on(async {
        rasp_core::policy::entry::admission(&context(&fresh, &[]))
            .decision()
            .await
    });
    assert_eq!(decision, Decision::Allow);
    rasp_core::policy::uninstall();
}

#[test]
fn a_silent_server_costs_an_async_caller_one_timeout_and_no_thread() {
    let _lock = policy_lock();
    // Accepts connections (the kernel does) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", silent.local_addr().unwrap());
    for (mode, want) in [("open", Decision::Allow), ("closed", Decision::Throttle)] {
        // One thread runs everything: a blocking wait would stop the ticker.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (decision, waited, ticks) = runtime.block_on(async {
            let ticks = Arc::new(AtomicU64::new(0));
            let ticker = {
                let ticks = Arc::clone(&ticks);
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        ticks.fetch_add(1, Ordering::Relaxed);
                    }
                })
            };
            let start = Instant::now();
            let decision = admit(unreachable_policy(&url, mode, 300), &from("198.51.100.43")).await;
            let waited = start.elapsed();
            ticker.abort();
            (decision, waited, ticks.load(Ordering::Relaxed))
        });
        assert_eq!(decision, want, "{mode}");
        // The whole exchange within one timeout: connecting, the client's
        // handshake commands and the reads all share it.
        assert!(waited >= Duration::from_millis(280), "{mode}: {waited:?}");
        assert!(waited < Duration::from_millis(550), "{mode}: {waited:?}");
        // The ticker ran all along: no thread was held.
        assert!(ticks >= 20, "{mode}: only {ticks} ticks in {waited:?}");
    }
}
