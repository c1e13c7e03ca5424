//! The block-list refresh thread of a `[fleet]` policy ends as soon as the
//! policy is dropped, not at the end of its refresh period. Alone in its
//! test binary, so that no other test's policy starts or stops a refresh
//! thread while this one counts them.
#![cfg(feature = "redis")]

use std::thread;
use std::time::{Duration, Instant};

use rasp_core::RequestContext;
use rasp_core::policy::Policy;

/// Threads of this process named like the block-list refresh thread (the
/// kernel keeps the first 15 bytes of a name).
fn refresh_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .flatten()
                .filter(|task| {
                    std::fs::read_to_string(task.path().join("comm"))
                        .is_ok_and(|name| name.trim_end() == "rasp-fleet-refr")
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_dropped_policy_stops_its_refresh_thread_at_once() {
    if !std::path::Path::new("/proc/self/task").exists() {
        println!("skipped: no /proc/self/task to count threads in");
        return;
    }
    // Nothing listens on port 1: the first read fails at once, and the
    // thread is started all the same.
    let policy = Policy::from_toml(
        "schema_version = 1\nrevision = 1\nmode = \"block\"\n\
         [fleet]\nredis_url = \"redis://127.0.0.1:1\"\nrefresh_ms = 3600000\n",
    )
    .unwrap();
    let ctx = RequestContext::builder()
        .client_ip("198.51.100.42".parse().unwrap())
        .build();
    policy.evaluate_entry(&ctx);
    // A thread names itself once it runs.
    let started = Instant::now();
    while refresh_threads() == 0 && started.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(refresh_threads(), 1, "the refresh thread runs");
    let dropped = Instant::now();
    drop(policy);
    // Its period is an hour; dropped, it ends within moments.
    while refresh_threads() > 0 && dropped.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        refresh_threads(),
        0,
        "the refresh thread of a dropped policy is still running"
    );
    assert!(
        dropped.elapsed() < Duration::from_secs(1),
        "{:?}",
        dropped.elapsed()
    );
}
