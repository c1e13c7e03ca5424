//! Counters reported through the `metrics` facade, read back from
//! `metrics-util`'s debugging recorder, and their label sets.

mod policy_support;

use std::collections::BTreeMap;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use rasp_core::check::{check, check_with};
use rasp_core::detect::Finding;
use rasp_core::policy;
use rasp_core::telemetry::metrics as names;

use policy_support::*;

/// Counter values by `name{label=value,…}`, labels sorted.
fn counters(recorder: &DebuggingRecorder) -> BTreeMap<String, u64> {
    recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let mut labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            let DebugValue::Counter(n) = value else {
                panic!("only counters are reported")
            };
            (format!("{}{{{}}}", key.name(), labels.join(",")), n)
        })
        .collect()
}

fn panicking_detector(_: &[u8], _: &dyn rasp_core::detect::Needle) -> Option<Finding> {
    panic!("detector failure injected by the test")
}

#[test]
fn checks_detections_blocks_errors_and_reloads_are_counted() {
    let _lock = policy_lock();
    let recorder = DebuggingRecorder::new();
    metrics::with_local_recorder(&recorder, || {
        install(
            r#"
            schema_version = 1
            revision = 1
            mode = "block"
            [sinks.shell]
            action = "monitor"
            on_error = "closed"
            [allow]
            users = ["scanner"]
            "#,
        );
        assert!(policy::load_str("revision = ").is_err());
        let stale = policy::load_str("schema_version = 1\nrevision = 0\nmode = \"block\"\n");
        assert!(policy::install(stale.unwrap()).is_err());

        let ctx = context(&Request::default(), &[ATTACK, SHELL_ATTACK, "Ann"]);
        ctx.scope(|| {
            assert!(check(&SQL, b"SELECT 1 WHERE a = 'Ann'").is_ok());
            assert!(check(&SQL, attack_sql().as_bytes()).is_err());
            assert!(check(&SQL, attack_sql().as_bytes()).is_err());
            assert!(check(&SHELL, attack_shell().as_bytes()).is_ok());
            assert!(check_with(&SHELL, b"cat Ann", panicking_detector).is_err());
            assert!(check_with(&SQL, b"SELECT 'Ann'", panicking_detector).is_ok());
        });
        let scanner = Request {
            user: Some("scanner"),
            ..Request::default()
        };
        let ctx = context(&scanner, &[ATTACK]);
        ctx.scope(|| assert!(check(&SQL, attack_sql().as_bytes()).is_ok()));
    });

    let expected: BTreeMap<String, u64> = [
        (format!("{}{{sink_kind=sql}}", names::CHECKS), 5),
        (format!("{}{{sink_kind=shell}}", names::CHECKS), 2),
        (
            format!(
                "{}{{action=block,rule=class,sink_kind=sql}}",
                names::DETECTIONS
            ),
            0,
        ),
        (
            format!(
                "{}{{action=block,rule=mode,sink_kind=sql}}",
                names::DETECTIONS
            ),
            2,
        ),
        (
            format!(
                "{}{{action=monitor,rule=class,sink_kind=shell}}",
                names::DETECTIONS
            ),
            1,
        ),
        (
            format!(
                "{}{{action=allow,rule=allowlist,sink_kind=sql}}",
                names::DETECTIONS
            ),
            1,
        ),
        (format!("{}{{sink_kind=sql}}", names::BLOCKS), 2),
        (format!("{}{{sink_kind=shell}}", names::BLOCKS), 1),
        (
            format!("{}{{action=block,sink_kind=shell}}", names::INTERNAL_ERRORS),
            1,
        ),
        (
            format!("{}{{action=allow,sink_kind=sql}}", names::INTERNAL_ERRORS),
            1,
        ),
        (format!("{}{{}}", names::RELOADS), 1),
        (format!("{}{{}}", names::RELOAD_FAILURES), 1),
        (
            format!(
                "{}{{outcome=emitted,stream=detection}}",
                names::SECURITY_EVENTS
            ),
            4,
        ),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .collect();
    assert_eq!(counters(&recorder), expected);
}

#[test]
fn labels_never_carry_request_data() {
    let _lock = policy_lock();
    let recorder = DebuggingRecorder::new();
    metrics::with_local_recorder(&recorder, || {
        install("schema_version = 1\nrevision = 1\nmode = \"monitor\"\n");
        let request = Request {
            id: Some("req-secret-id"),
            route: Some("/secret-route"),
            ip: Some("192.0.2.7".parse().unwrap()),
            user: Some("secret-user"),
            tenant: Some("secret-tenant"),
        };
        let ctx = context(&request, &[ATTACK]);
        ctx.scope(|| check(&SQL, attack_sql().as_bytes())).unwrap();
    });
    let allowed_labels = ["sink_kind", "action", "rule", "stream", "outcome"];
    let snapshot = recorder.snapshotter().snapshot().into_vec();
    assert!(!snapshot.is_empty());
    for (key, ..) in snapshot {
        for label in key.key().labels() {
            assert!(allowed_labels.contains(&label.key()), "{label:?}");
            for secret in ["secret", "192.0.2.7", "OR", "req-"] {
                assert!(!label.value().contains(secret), "{label:?}");
            }
        }
    }
}

#[test]
fn entry_decisions_are_counted_by_action_and_rule() {
    let _lock = policy_lock();
    let recorder = DebuggingRecorder::new();
    metrics::with_local_recorder(&recorder, || {
        install(
            "schema_version = 1\nrevision = 1\nmode = \"block\"\n[entry]\nblock_users = [\"mallory\"]\n\
             [[entry.rate_limits]]\nkey = \"user\"\nper_minute = 1\n",
        );
        let request = |user| Request {
            user: Some(user),
            ..Request::default()
        };
        for user in ["mallory", "ann", "ann", "ann"] {
            policy::entry::evaluate(&context(&request(user), &[]));
        }
    });
    let counters = counters(&recorder);
    assert_eq!(
        counters[&format!("{}{{action=block,rule=block_list}}", names::ENTRY_DECISIONS)],
        1
    );
    assert_eq!(
        counters[&format!(
            "{}{{action=throttle,rule=rate_limit}}",
            names::ENTRY_DECISIONS
        )],
        2
    );
}
