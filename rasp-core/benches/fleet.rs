//! What the fleet tier (`[fleet]`, Redis) adds to entry evaluation: the same
//! entry rules locally only, with the shared block lists (read from the
//! local copy), with one and two shared rate limits (one Redis round trip
//! each), and during an outage (fail-open, in the back-off).
//!
//! `RASP_TEST_REDIS_URL=redis://127.0.0.1:6379 cargo bench -p rasp-core
//! --features redis --bench fleet`. Without the variable only the local and
//! outage rows run.

use std::hint::black_box;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rasp_core::RequestContext;
use rasp_core::policy::Policy;

/// Quotas no benchmark run exhausts, so every request takes the full path.
const RATE_LIMITS: &str = r#"
[entry]
block_users = ["mallory"]
[[entry.rate_limits]]
key = "ip"
per_second = 1000000000
"#;
const USER_RATE_LIMIT: &str = r#"
[[entry.rate_limits]]
key = "user"
per_second = 1000000000
"#;

fn policy(fleet: Option<(&str, &str)>, entry: &str) -> Policy {
    let fleet = fleet.map_or(String::new(), |(url, prefix)| {
        format!("[fleet]\nredis_url = \"{url}\"\nkey_prefix = \"{prefix}\"\n")
    });
    Policy::from_toml(&format!(
        "schema_version = 1\nrevision = 1\nmode = \"block\"\n{fleet}{entry}"
    ))
    .unwrap()
}

fn context() -> Arc<RequestContext> {
    RequestContext::builder()
        .client_ip("198.51.100.60".parse::<IpAddr>().unwrap())
        .user("ann")
        .tenant("acme")
        .build()
}

fn fleet(c: &mut Criterion) {
    let ctx = context();
    let mut group = c.benchmark_group("fleet");
    group.measurement_time(Duration::from_secs(3));

    let local = policy(None, RATE_LIMITS);
    group.bench_function("local_only", |b| {
        b.iter(|| local.evaluate_entry(black_box(&ctx)))
    });

    let down = policy(
        Some(("redis://127.0.0.1:1", "rasp-bench:down:")),
        RATE_LIMITS,
    );
    group.bench_function("redis_down_fail_open", |b| {
        b.iter(|| down.evaluate_entry(black_box(&ctx)))
    });

    match std::env::var("RASP_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => {
            let prefix = format!("rasp-bench:{}:", std::process::id());
            let shared = Some((url.as_str(), prefix.as_str()));
            let lists = policy(shared, "[entry]\nblock_users = [\"mallory\"]\n");
            group.bench_function("shared_block_lists", |b| {
                b.iter(|| lists.evaluate_entry(black_box(&ctx)))
            });
            let one = policy(shared, RATE_LIMITS);
            group.bench_function("shared_block_lists_one_shared_rate_limit", |b| {
                b.iter(|| one.evaluate_entry(black_box(&ctx)))
            });
            let two = policy(shared, &format!("{RATE_LIMITS}{USER_RATE_LIMIT}"));
            group.bench_function("shared_block_lists_two_shared_rate_limits", |b| {
                b.iter(|| two.evaluate_entry(black_box(&ctx)))
            });
            clean_up(&url, &prefix);
        }
        _ => println!("RASP_TEST_REDIS_URL is not set: shared rows skipped"),
    }
    group.finish();
}

/// Deletes the rate-limit keys the run left (they would expire anyway).
fn clean_up(url: &str, prefix: &str) {
    let Ok(mut connection) = redis::Client::open(url).and_then(|c| c.get_connection()) else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut connection)
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(keys).query(&mut connection);
    }
}

criterion_group!(benches, fleet);
criterion_main!(benches);
