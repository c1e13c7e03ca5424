//! Installing and reloading policies: monotonic revisions, strict sink ids,
//! last-known-good on invalid files, and reloads racing live checks.

mod policy_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rasp_core::check::check;
use rasp_core::policy::{self, PolicyError};

use policy_support::*;

/// A policy; events are never deduplicated, so every check's event can be
/// matched with its decision.
fn policy_text(revision: u64, mode: &str) -> String {
    every_event(&format!(
        "schema_version = 1\nrevision = {revision}\nmode = \"{mode}\"\n"
    ))
}

#[test]
fn revisions_only_move_forward() {
    let _lock = policy_lock();
    let before = policy::status();
    install(&policy_text(5, "block"));
    // The same revision again is a no-op reload, not a rollback.
    install(&policy_text(5, "block"));
    let stale = policy::load_str(&policy_text(4, "monitor")).unwrap();
    let err = policy::install(stale).unwrap_err();
    assert_eq!(
        err,
        PolicyError::StaleRevision {
            installed: 5,
            offered: 4
        }
    );
    let status = policy::status();
    assert_eq!(status.revision, Some(5));
    assert_eq!(status.reloads, before.reloads + 2);
    assert_eq!(status.reload_failures, before.reload_failures + 1);
    assert!(status.last_error.unwrap().contains("lower than"));
    assert_eq!(policy::current().unwrap().revision(), 5);

    install(&policy_text(6, "monitor"));
    assert_eq!(policy::status().last_error, None);
    // After an uninstall, decisions fall back to the mode and any revision
    // may be installed.
    policy::uninstall();
    assert!(policy::current().is_none());
    assert_eq!(policy::status().revision, None);
    install(&policy_text(1, "block"));
}

#[test]
fn unknown_sink_ids_warn_or_fail_under_strict() {
    let _lock = policy_lock();
    capture_events();
    let text = |strict: bool, revision: u64| {
        format!(
            "schema_version = 1\nrevision = {revision}\nmode = \"monitor\"\n\
             strict = {strict}\n[sink_ids.\"policy_test.sql\"]\naction = \"block\"\n\
             [sink_ids.\"policy_test.sqll\"]\naction = \"block\"\n[allow]\nsinks = [\"gone.sink\"]\n"
        )
    };
    let loose = policy::load_str(&text(false, 1)).unwrap();
    assert_eq!(loose.unknown_sink_ids(), ["gone.sink", "policy_test.sqll"]);
    policy::install(loose).unwrap();
    let events = take_events();
    let warning = events
        .iter()
        .find(|e| e["event.name"] == "rasp.policy.unknown_sinks")
        .expect("a warning event");
    assert_eq!(
        warning["rasp.policy.unknown_sinks"],
        "gone.sink, policy_test.sqll"
    );

    let strict = policy::load_str(&text(true, 2)).unwrap();
    let err = policy::install(strict).unwrap_err();
    assert_eq!(
        err,
        PolicyError::UnknownSinks {
            ids: vec!["gone.sink".into(), "policy_test.sqll".into()]
        }
    );
    assert_eq!(policy::status().revision, Some(1));
    let events = take_events();
    assert!(
        events
            .iter()
            .any(|e| e["event.name"] == "rasp.policy.reload_failed"
                && e["error"].contains("policy_test.sqll")),
        "{events:?}"
    );
}

#[test]
fn an_invalid_file_keeps_the_last_good_policy() {
    let _lock = policy_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, policy_text(3, "monitor")).unwrap();
    assert_eq!(policy::reload_file(&path), Ok(3));

    capture_events();
    std::fs::write(&path, "schema_version = 1\nrevision = 4\nmode = \"blok\"\n").unwrap();
    let err = policy::reload_file(&path).unwrap_err();
    assert!(
        matches!(&err, PolicyError::Parse { key, .. } if key == "mode"),
        "{err:?}"
    );
    let status = policy::status();
    assert_eq!(status.revision, Some(3));
    assert!(status.last_error.as_deref().unwrap().contains("`mode`"));
    let events = take_events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["event.name"], "rasp.policy.reload_failed");
    assert_eq!(events[0]["rasp.policy.revision"], "3");

    // Decisions still follow revision 3.
    let (blocked, event) = {
        let ctx = context(&Request::default(), &[ATTACK]);
        let blocked = ctx.scope(|| check(&SQL, attack_sql().as_bytes()).is_err());
        (blocked, take_events().remove(0))
    };
    assert!(!blocked);
    assert_eq!(event["rasp.policy.revision"], "3");

    std::fs::remove_file(&path).unwrap();
    assert!(matches!(
        policy::reload_file(&path),
        Err(PolicyError::Io { .. })
    ));
    assert_eq!(policy::status().revision, Some(3));
}

/// Even revisions block, odd ones monitor: any check that pairs a revision
/// with the other action saw half of one policy and half of another.
fn expected_action(revision: u64) -> &'static str {
    if revision.is_multiple_of(2) {
        "block"
    } else {
        "monitor"
    }
}

#[test]
fn reloads_racing_checks_are_atomic_and_counted() {
    let _lock = policy_lock();
    const RELOADS: u64 = 1_000;
    const CHECKERS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, policy_text(1, expected_action(1))).unwrap();
    policy::reload_file(&path).unwrap();
    let before = policy::status();
    let internal_before = rasp_core::check::counts().internal_errors;

    let stop = Arc::new(AtomicBool::new(false));
    let checked = Arc::new(AtomicU64::new(0));
    let checkers: Vec<_> = (0..CHECKERS)
        .map(|_| {
            let stop = Arc::clone(&stop);
            let checked = Arc::clone(&checked);
            std::thread::spawn(move || {
                capture_events();
                let ctx = context(&Request::default(), &[ATTACK]);
                let sql = attack_sql();
                let mut last_revision = 0;
                while !stop.load(Ordering::Relaxed) {
                    let blocked = ctx.scope(|| check(&SQL, sql.as_bytes()).is_err());
                    let events = take_events();
                    assert_eq!(events.len(), 1, "{events:?}");
                    let event = &events[0];
                    let revision: u64 = event["rasp.policy.revision"].parse().unwrap();
                    let action = &event["rasp.action"];
                    assert_eq!(action, expected_action(revision), "{event:?}");
                    assert_eq!(blocked, action == "block", "{event:?}");
                    // A thread never sees an older policy after a newer one.
                    assert!(
                        revision >= last_revision,
                        "{revision} after {last_revision}"
                    );
                    last_revision = revision;
                    checked.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    let (mut valid, mut invalid) = (0u64, 0u64);
    let mut revision = 1;
    let started = std::time::Instant::now();
    for i in 0..RELOADS {
        let text = match i % 4 {
            // Not TOML at all.
            1 => "mode = = \"block\"".to_owned(),
            // Well-formed, wrong value.
            2 => policy_text(revision + 1, "block").replace("[events]", "canary = 150\n[events]"),
            // A rollback attempt.
            3 if revision > 1 => policy_text(revision - 1, expected_action(revision - 1)),
            _ => {
                revision += 1;
                policy_text(revision, expected_action(revision))
            }
        };
        std::fs::write(&path, text).unwrap();
        match policy::reload_file(&path) {
            Ok(installed) => {
                assert_eq!(installed, revision);
                valid += 1;
            }
            Err(_) => invalid += 1,
        }
        assert_eq!(policy::status().revision, Some(revision));
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for checker in checkers {
        checker.join().expect("no check failed");
    }
    eprintln!(
        "{RELOADS} reloads ({valid} installed, {invalid} refused) in {elapsed:?} \
         while {CHECKERS} threads ran {} checks, each with its one event",
        checked.load(Ordering::Relaxed)
    );

    let after = policy::status();
    assert_eq!(valid + invalid, RELOADS);
    assert_eq!(after.reloads - before.reloads, valid);
    assert_eq!(after.reload_failures - before.reload_failures, invalid);
    assert!(invalid >= RELOADS / 2 - 1, "{invalid}");
    assert_eq!(rasp_core::check::counts().internal_errors, internal_before);
    assert!(
        checked.load(Ordering::Relaxed) > CHECKERS as u64,
        "checks ran"
    );
}
