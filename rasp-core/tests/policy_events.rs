//! Detection events under a policy: repeats deduplicated and sampled with
//! their counts kept, and the evidence log of blocked attacks.

mod policy_support;

use std::net::IpAddr;
use std::time::Duration;

use rasp_core::check::check;
use rasp_core::policy::{self, PolicyError};
use serde_json::Value;

use policy_support::*;

fn attack(request: &Request<'_>) -> bool {
    let ctx = context(request, &[ATTACK]);
    ctx.scope(|| check(&SQL, attack_sql().as_bytes()).is_err())
}

fn from(ip: [u8; 4]) -> Request<'static> {
    Request {
        route: Some("/orders"),
        ip: Some(IpAddr::from(ip)),
        user: Some("ann"),
        ..Request::default()
    }
}

const DEDUP: &str = r#"
schema_version = 1
revision = 1
mode = "block"
[events]
dedup_window_secs = 60
max_per_window = 2
sample_every = 5
"#;

#[test]
fn repeated_detections_are_deduplicated_sampled_and_counted() {
    let _lock = policy_lock();
    capture_events();
    install(DEDUP);
    take_events();
    let scanner = from([203, 0, 113, 7]);
    // 2 reported, then 11 repeats: the 5th and 10th are sampled, 1 is left.
    for _ in 0..13 {
        assert!(
            attack(&scanner),
            "suppressing an event never changes the decision"
        );
    }
    let events = take_events();
    let suppressed: Vec<Option<&str>> = events
        .iter()
        .map(|e| {
            assert_eq!(e["event.name"], "rasp.sqli.blocked");
            e.get("rasp.event.suppressed").map(String::as_str)
        })
        .collect();
    assert_eq!(suppressed, [None, None, Some("4"), Some("4")]);

    // Another client's attack is not hidden behind the scanner's.
    assert!(attack(&from([198, 51, 100, 1])));
    assert_eq!(take_events().len(), 1);

    // The pending repeat is reported when the policy changes.
    install(&DEDUP.replace("revision = 1", "revision = 2"));
    let summaries: Vec<_> = take_events()
        .into_iter()
        .filter(|e| e["event.name"] == "rasp.event.suppressed")
        .collect();
    assert_eq!(summaries.len(), 1, "{summaries:?}");
    assert_eq!(summaries[0]["rasp.event.suppressed"], "1");
    assert_eq!(summaries[0]["rasp.sink.id"], "policy_test.sql");
    assert_eq!(summaries[0]["rasp.action"], "block");
    rasp_core::event::flush_suppressed();
    assert!(take_events().is_empty(), "a count is reported once");
}

#[test]
fn a_window_of_zero_reports_every_detection() {
    let _lock = policy_lock();
    capture_events();
    install(&DEDUP.replace("dedup_window_secs = 60", "dedup_window_secs = 0"));
    take_events();
    for _ in 0..20 {
        attack(&from([203, 0, 113, 8]));
    }
    assert_eq!(take_events().len(), 20);
}

#[test]
fn event_settings_out_of_range_name_their_key() {
    let bad = |extra: &str| match policy::load_str(&format!(
        "schema_version = 1\nrevision = 1\nmode = \"block\"\n{extra}"
    )) {
        Err(PolicyError::Invalid { key, .. }) => key,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        bad("[events]\nmax_per_window = 0\n"),
        "events.max_per_window"
    );
    assert_eq!(
        bad("[events]\ndedup_window_secs = 100000\n"),
        "events.dedup_window_secs"
    );
    assert_eq!(
        bad("[evidence]\npath = \"e.jsonl\"\nqueue = 0\n"),
        "evidence.queue"
    );
    assert_eq!(bad("[evidence]\npath = \"\"\n"), "evidence.path");
    assert_eq!(
        bad("[evidence]\npath = \"e.jsonl\"\nmax_file_mb = 0\n"),
        "evidence.max_file_mb"
    );
    assert_eq!(
        bad("[evidence]\npath = \"e.jsonl\"\nmax_rotated_files = 0\n"),
        "evidence.max_rotated_files"
    );
    assert_eq!(
        bad("[evidence]\npath = \"e.jsonl\"\nmax_per_key = 0\n"),
        "evidence.max_per_key"
    );
    assert_eq!(
        bad("[evidence]\npath = \"e.jsonl\"\nkey_window_secs = 100000\n"),
        "evidence.key_window_secs"
    );
}

fn evidence_policy(path: &std::path::Path, revision: u64, extra: &str) -> String {
    format!(
        "schema_version = 1\nrevision = {revision}\nmode = \"block\"\n\
         [routes.\"/reports\"]\naction = \"monitor\"\n\
         [evidence]\npath = {:?}\n{extra}",
        path.display().to_string()
    )
}

fn lines(path: &std::path::Path) -> Vec<Value> {
    assert!(policy::flush_evidence(Duration::from_secs(10)));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn blocked_attacks_are_recorded_masked_and_monitored_ones_on_request() {
    let _lock = policy_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.jsonl");
    install(&evidence_policy(&path, 1, ""));
    let before = policy::status();
    let request = Request {
        id: Some("req-42"),
        tenant: Some("acme"),
        ..from([203, 0, 113, 9])
    };
    assert!(attack(&request));
    let monitored = Request {
        route: Some("/reports"),
        ..from([203, 0, 113, 9])
    };
    assert!(!attack(&monitored));
    let records = lines(&path);
    assert_eq!(records.len(), 1, "only the blocked attack: {records:?}");
    let r = &records[0];
    assert_eq!(r["event.name"], "rasp.sqli.blocked");
    assert_eq!(r["rasp.action"], "block");
    assert_eq!(r["rasp.sink.id"], "policy_test.sql");
    assert_eq!(r["rasp.sink.kind"], "sql");
    assert_eq!(r["rasp.policy.revision"], 1);
    assert_eq!(r["rasp.policy.rule"], "mode");
    assert_eq!(r["rasp.request.id"], "req-42");
    assert_eq!(r["http.route"], "/orders");
    assert_eq!(r["client.address"], "203.0.113.9");
    assert_eq!(r["user.id"], "ann");
    assert_eq!(r["rasp.tenant.id"], "acme");
    assert_eq!(r["rasp.input.excerpt"], "*' ** '*'='*");
    assert!(r["timestamp"].as_str().unwrap().ends_with('Z'));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains(ATTACK),
        "the raw input never reaches the log"
    );

    install(&evidence_policy(&path, 2, "include_monitored = true\n"));
    assert!(!attack(&monitored));
    let records = lines(&path);
    assert_eq!(records.len(), 2, "the same file continues: {records:?}");
    assert_eq!(records[1]["rasp.action"], "monitor");
    assert_eq!(records[1]["http.route"], "/reports");
    assert_eq!(records[1]["rasp.policy.rule"], "route");
    let after = policy::status();
    assert_eq!(after.evidence_written - before.evidence_written, 2);
    assert_eq!(after.evidence_dropped, before.evidence_dropped);
}

#[test]
fn an_evidence_path_that_cannot_be_written_keeps_the_policy_in_force() {
    let _lock = policy_lock();
    install("schema_version = 1\nrevision = 5\nmode = \"monitor\"\n");
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("evidence.jsonl");
    let text = every_event(&evidence_policy(&missing, 6, ""));
    match policy::install(policy::load_str(&text).unwrap()) {
        Err(PolicyError::Invalid { key, message }) => {
            assert_eq!(key, "evidence.path");
            assert!(message.contains("no-such-dir"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(policy::status().revision, Some(5));
    assert!(
        !attack(&from([203, 0, 113, 10])),
        "the monitor policy still decides"
    );
}

#[test]
fn a_full_evidence_file_is_rotated() {
    let _lock = policy_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.jsonl");
    install(&evidence_policy(
        &path,
        1,
        "max_file_mb = 1\nqueue = 65536\nmax_per_key = 1000000\n",
    ));
    attack(&from([203, 0, 113, 11]));
    assert_eq!(lines(&path).len(), 1);
    // Enough records for 1.5 MiB: exactly one rotation.
    let line_len = std::fs::metadata(&path).unwrap().len() as usize;
    let total = 3 * 512 * 1024 / line_len;
    for _ in 1..total {
        attack(&from([203, 0, 113, 11]));
    }
    let current = lines(&path).len();
    let old = dir.path().join("evidence.jsonl.1");
    let rotated = std::fs::read_to_string(&old)
        .expect("the full file was rotated")
        .lines()
        .count();
    assert_eq!(
        current + rotated,
        total,
        "no record lost across the rotation"
    );
    assert!(std::fs::metadata(&old).unwrap().len() <= 1024 * 1024);
    assert!(rotated > current, "the old file holds the first MiB");
}

/// Every line of the log and its rotated files, oldest first, after a
/// flush.
fn all_lines(path: &std::path::Path) -> Vec<Value> {
    assert!(policy::flush_evidence(Duration::from_secs(30)));
    let mut files: Vec<std::path::PathBuf> = (1..10)
        .map(|n| std::path::PathBuf::from(format!("{}.{n}", path.display())))
        .filter(|p| p.exists())
        .collect();
    files.reverse();
    files.push(path.to_owned());
    files
        .iter()
        .flat_map(|file| {
            std::fs::read_to_string(file)
                .unwrap()
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect()
}

fn is_summary(line: &Value) -> bool {
    line["event.name"] == "rasp.evidence.suppressed"
}

/// The `rasp.evidence.suppressed` counts the log reports, in records and
/// summary lines.
fn reported_suppressed(lines: &[Value]) -> u64 {
    lines
        .iter()
        .filter_map(|l| l.get("rasp.evidence.suppressed")?.as_u64())
        .sum()
}

/// `after - before` of the evidence counters: (written, dropped,
/// overwritten, suppressed).
fn evidence_delta(before: &policy::PolicyStatus) -> (u64, u64, u64, u64) {
    let after = policy::status();
    (
        after.evidence_written - before.evidence_written,
        after.evidence_dropped - before.evidence_dropped,
        after.evidence_overwritten - before.evidence_overwritten,
        after.evidence_suppressed - before.evidence_suppressed,
    )
}

#[test]
fn a_flood_from_one_client_cannot_push_out_another_clients_evidence() {
    let _lock = policy_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.jsonl");
    install(&evidence_policy(
        &path,
        1,
        "max_file_mb = 1\nmax_rotated_files = 1\nmax_per_key = 50\nqueue = 65536\n\
         [events]\ndedup_window_secs = 60\n",
    ));
    let before = policy::status();
    // Enough records for several MiB: without a per-key quota the flood
    // rotates the victim's record out of both files.
    const FLOOD: u64 = 12_000;
    let flood = from([203, 0, 113, 66]);
    for _ in 0..FLOOD {
        assert!(attack(&flood));
    }
    let victim = Request {
        id: Some("victim-1"),
        ..from([198, 51, 100, 23])
    };
    assert!(attack(&victim));
    let lines = all_lines(&path);
    let (written, dropped, overwritten, suppressed) = evidence_delta(&before);

    let records: Vec<&Value> = lines.iter().filter(|l| !is_summary(l)).collect();
    assert!(
        records
            .iter()
            .any(|r| r["rasp.request.id"] == "victim-1" && r["client.address"] == "198.51.100.23"),
        "the second client's record survives the flood"
    );
    assert_eq!(
        records.len(),
        51,
        "50 of the flood's records, and the victim's"
    );
    assert_eq!((written, dropped, overwritten), (51, 0, 0));
    // The books balance: every record sent is on disk, overwritten,
    // suppressed or dropped, and every suppressed one is reported.
    assert_eq!(
        records.len() as u64 + overwritten + suppressed + (dropped - overwritten),
        FLOOD + 1
    );
    assert_eq!(suppressed, FLOOD - 50);
    assert_eq!(reported_suppressed(&lines), suppressed);
    let summary = lines
        .iter()
        .find(|l| is_summary(l))
        .expect("a summary line");
    assert_eq!(summary["client.address"], "203.0.113.66");
    assert_eq!(summary["rasp.sink.id"], "policy_test.sql");
    assert_eq!(summary["rasp.reason"], "breaks_literal");
}

#[test]
fn records_deleted_by_rotation_are_counted_and_reported() {
    let _lock = policy_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.jsonl");
    install(&evidence_policy(
        &path,
        1,
        "max_file_mb = 1\nmax_rotated_files = 2\nmax_per_key = 1000000\nqueue = 65536\n\
         [events]\ndedup_window_secs = 60\n",
    ));
    attack(&from([203, 0, 113, 12]));
    let line_len = std::fs::metadata({
        assert!(policy::flush_evidence(Duration::from_secs(10)));
        &path
    })
    .unwrap()
    .len();
    let before = policy::status();
    // About 4.5 MiB of records: 3 files kept, at least one deleted.
    let sent = 9 * 512 * 1024 / line_len;
    for _ in 0..sent {
        attack(&from([203, 0, 113, 12]));
    }
    let lines = all_lines(&path);
    let (written, dropped, overwritten, suppressed) = evidence_delta(&before);
    assert!(
        std::path::Path::new(&format!("{}.2", path.display())).exists()
            && !std::path::Path::new(&format!("{}.3", path.display())).exists(),
        "two rotated files are kept"
    );
    assert!(overwritten > 0, "the oldest file was deleted");
    assert_eq!(suppressed, 0);
    assert!(
        dropped >= overwritten,
        "overwritten records count as dropped"
    );
    // On disk: the first record, and what is left of the flood.
    assert_eq!(
        lines.len() as u64 + overwritten + (dropped - overwritten),
        sent + 1
    );
    assert_eq!(written, sent - (dropped - overwritten));
}

#[test]
fn colliding_event_keys_keep_their_own_deduplication() {
    let _lock = policy_lock();
    capture_events();
    install(DEDUP);
    take_events();
    // More requesters than the old table had slots: in a direct-mapped
    // table of 256 slots some of them collide and evict each other on
    // every event, so each of their repeats was emitted.
    let clients: Vec<Request<'static>> = (0..300u16)
        .map(|i| from([10, 9, (i >> 8) as u8, i as u8]))
        .collect();
    for _ in 0..4 {
        for client in &clients {
            assert!(attack(client));
        }
    }
    let events = take_events();
    let detections = events
        .iter()
        .filter(|e| e["event.name"] == "rasp.sqli.blocked")
        .count();
    // 2 per key and window (`max_per_window = 2`), none of the repeats
    // reaching the 5th (`sample_every = 5`).
    assert_eq!(detections, 2 * clients.len());
}

#[test]
fn suppressed_counts_reach_the_log_when_its_policy_goes() {
    let _lock = policy_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.jsonl");
    install(&evidence_policy(&path, 1, "max_per_key = 2\n"));
    for _ in 0..7 {
        assert!(attack(&from([203, 0, 113, 77])));
    }
    // No flush: the writer stops when no policy names the log any more,
    // and writes the pending counts first.
    policy::uninstall();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if lines.len() == 3 {
            assert!(is_summary(&lines[2]), "{lines:?}");
            assert_eq!(lines[2]["rasp.evidence.suppressed"], 5);
            assert_eq!(lines[2]["client.address"], "203.0.113.77");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{lines:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
