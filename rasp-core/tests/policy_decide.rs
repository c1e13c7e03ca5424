//! Decisions under a policy, through the real sink check: precedence of
//! routes, sink ids, classes and the global mode; allowlists; the canary;
//! fail-closed detectors; masking and the revision in events.

mod policy_support;

use std::net::IpAddr;

use rasp_core::check::{check, check_with, counts};
use rasp_core::detect::Finding;
use rasp_core::policy::in_canary;
use rasp_core::telemetry::Rule;
use rasp_core::{Mode, Reason};

use policy_support::*;

/// Whether an attack at `site` is blocked during `request`, and the one
/// detection event it produced.
fn run_attack(site: &'static rasp_core::SinkSite, request: &Request<'_>) -> (bool, Fields) {
    capture_events();
    let (input, text) = if site.class() == rasp_core::SinkClass::Shell {
        (SHELL_ATTACK, attack_shell())
    } else {
        (ATTACK, attack_sql())
    };
    let ctx = context(request, &[input]);
    let blocked = ctx.scope(|| check(site, text.as_bytes()).is_err());
    let mut events = take_events();
    assert_eq!(events.len(), 1, "{events:?}");
    (blocked, events.remove(0))
}

fn decision(site: &'static rasp_core::SinkSite, request: &Request<'_>) -> String {
    let (blocked, event) = run_attack(site, request);
    let action = event["rasp.action"].clone();
    assert_eq!(blocked, action == "block", "{event:?}");
    action
}

#[test]
fn without_a_policy_the_mode_decides_as_before() {
    let _lock = policy_lock();
    Mode::set(Mode::Monitor);
    let (blocked, event) = run_attack(&SQL, &Request::default());
    assert!(!blocked);
    assert_eq!(event["rasp.action"], "monitor");
    assert_eq!(event["rasp.policy.rule"], "no_policy");
    assert!(!event.contains_key("rasp.policy.revision"), "{event:?}");
    assert_eq!(event["rasp.input.excerpt"], "*' ** '*'='*");
    Mode::set(Mode::Block);
    let (blocked, event) = run_attack(&SQL, &Request::default());
    assert!(blocked);
    assert_eq!(event["event.name"], "rasp.sqli.blocked");
}

#[test]
fn the_policy_mode_overrides_the_process_mode() {
    let _lock = policy_lock();
    Mode::set(Mode::Block);
    install("schema_version = 1\nrevision = 7\nmode = \"monitor\"\n");
    let (blocked, event) = run_attack(&SQL, &Request::default());
    assert!(!blocked);
    assert_eq!(event["rasp.action"], "monitor");
    assert_eq!(event["rasp.policy.revision"], "7");
    assert_eq!(event["rasp.policy.rule"], "mode");
}

const LAYERED: &str = r#"
schema_version = 1
revision = 10
mode = "monitor"

[sinks.sql]
action = "block"

[sink_ids."policy_test.sql.reports"]
action = "monitor"

[routes."/export"]
action = "allow"

[routes."/login"]
action = "block"
"#;

#[test]
fn most_specific_rule_wins() {
    let _lock = policy_lock();
    install(LAYERED);
    let plain = Request::default();
    // Class rule over the global mode.
    assert_eq!(decision(&SQL, &plain), "block");
    assert_eq!(run_attack(&SQL, &plain).1["rasp.policy.rule"], "class");
    // Global mode for a class without a rule.
    assert_eq!(decision(&SHELL, &plain), "monitor");
    // Sink id over its class.
    assert_eq!(decision(&SQL_REPORTS, &plain), "monitor");
    assert_eq!(
        run_attack(&SQL_REPORTS, &plain).1["rasp.policy.rule"],
        "sink"
    );
    // Route over sink id, class and mode.
    let login = Request {
        route: Some("/login"),
        ..Request::default()
    };
    assert_eq!(decision(&SQL_REPORTS, &login), "block");
    assert_eq!(decision(&SHELL, &login), "block");
    let export = Request {
        route: Some("/export"),
        ..Request::default()
    };
    let (blocked, event) = run_attack(&SQL, &export);
    assert!(!blocked);
    assert_eq!(event["rasp.action"], "allow");
    assert_eq!(event["event.name"], "rasp.sqli.allowed");
    assert_eq!(event["rasp.policy.rule"], "route");
    // An unlisted route falls through to the class.
    let other = Request {
        route: Some("/exports"),
        ..Request::default()
    };
    assert_eq!(decision(&SQL, &other), "block");
}

#[test]
fn allowlists_force_allow() {
    let _lock = policy_lock();
    install(
        r#"
        schema_version = 1
        revision = 1
        mode = "block"
        [allow]
        routes = ["/healthz"]
        sinks = ["policy_test.shell"]
        ips = ["10.20.0.0/16", "fd00::/8"]
        users = ["scanner"]
        tenants = ["qa"]
        [routes."/healthz"]
        action = "block"
        "#,
    );
    let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
    let allowed = [
        Request {
            route: Some("/healthz"),
            ..Request::default()
        },
        Request {
            ip: ip("10.20.255.1"),
            ..Request::default()
        },
        Request {
            ip: ip("fd12:3456::1"),
            ..Request::default()
        },
        Request {
            user: Some("scanner"),
            ..Request::default()
        },
        Request {
            tenant: Some("qa"),
            ..Request::default()
        },
    ];
    for request in &allowed {
        let (blocked, event) = run_attack(&SQL, request);
        assert!(!blocked);
        assert_eq!(event["rasp.action"], "allow");
        assert_eq!(event["rasp.policy.rule"], "allowlist");
    }
    assert_eq!(decision(&SHELL, &Request::default()), "allow");
    let blocked = [
        Request::default(),
        Request {
            ip: ip("10.21.0.1"),
            ..Request::default()
        },
        Request {
            user: Some("scanner2"),
            tenant: Some("prod"),
            route: Some("/healthz/x"),
            ..Request::default()
        },
    ];
    for request in &blocked {
        assert_eq!(decision(&SQL, request), "block");
    }
}

#[test]
fn canary_blocks_a_share_of_requests_that_no_request_id_steers() {
    let _lock = policy_lock();
    install(
        r#"
        schema_version = 1
        revision = 1
        mode = "block"
        canary = 10
        "#,
    );
    // Distinct ids, and one id chosen for every request: a client's id
    // moves nothing, the server's draw decides.
    let distinct: Vec<String> = (0..2_000).map(|i| format!("req-{i:08x}")).collect();
    let chosen = vec!["req-chosen-by-the-client".to_owned(); 2_000];
    for ids in [distinct, chosen] {
        let mut blocked = 0;
        for id in &ids {
            capture_events();
            let request = Request {
                id: Some(id),
                ..Request::default()
            };
            let ctx = context(&request, &[ATTACK]);
            let was_blocked = ctx.scope(|| check(&SQL, attack_sql().as_bytes()).is_err());
            assert_eq!(was_blocked, in_canary(&ctx, 10), "{id}");
            let event = take_events().remove(0);
            if was_blocked {
                blocked += 1;
                assert_eq!(event["rasp.policy.rule"], "mode");
            } else {
                assert_eq!(event["rasp.action"], "monitor");
                assert_eq!(event["rasp.policy.rule"], Rule::Canary.as_str());
            }
            // The draw belongs to the request: asked again, it decides alike.
            let again = ctx.scope(|| check(&SQL, attack_sql().as_bytes()).is_err());
            assert_eq!(again, was_blocked);
            assert!(!in_canary(&ctx, 0) && in_canary(&ctx, 100));
        }
        // Binomial(2000, 0.1): mean 200, standard deviation 13.4; this
        // bound is six of them, so it cannot flake.
        assert!((120..=280).contains(&blocked), "{blocked} of 2000 blocked");
    }
}

#[test]
fn canary_applies_to_rules_that_set_it() {
    let _lock = policy_lock();
    install(
        r#"
        schema_version = 1
        revision = 1
        mode = "block"
        [sinks.shell]
        canary = 0
        [routes."/beta"]
        canary = 100
        "#,
    );
    assert_eq!(decision(&SQL, &Request::default()), "block");
    assert_eq!(decision(&SHELL, &Request::default()), "monitor");
    let beta = Request {
        route: Some("/beta"),
        ..Request::default()
    };
    assert_eq!(decision(&SHELL, &beta), "block");
}

fn panicking_detector(_: &[u8], _: &dyn rasp_core::detect::Needle) -> Option<Finding> {
    panic!("detector failure injected by the test")
}

fn failing_check(site: &'static rasp_core::SinkSite) -> Result<(), rasp_core::Blocked> {
    let ctx = context(&Request::default(), &[ATTACK]);
    ctx.scope(|| check_with(site, attack_sql().as_bytes(), panicking_detector))
}

#[test]
fn detector_failures_fail_open_unless_the_policy_says_closed() {
    let _lock = policy_lock();
    let before = counts();
    assert_eq!(failing_check(&SQL), Ok(()));

    install(
        r#"
        schema_version = 1
        revision = 1
        mode = "monitor"
        [sinks.sql]
        on_error = "closed"
        [sink_ids."policy_test.sql.reports"]
        on_error = "open"
        "#,
    );
    capture_events();
    let blocked = failing_check(&SQL).unwrap_err();
    assert_eq!(blocked.reason, Reason::DetectorFailed);
    assert_eq!(blocked.sink_id, "policy_test.sql");
    let events = take_events();
    assert_eq!(events[0]["event.name"], "rasp.internal_error");
    assert!(events[0]["message"].contains("fail-closed"), "{events:?}");
    assert_eq!(failing_check(&SQL_REPORTS), Ok(()));
    assert_eq!(failing_check(&SHELL), Ok(()));
    let after = counts();
    assert!(after.internal_errors >= before.internal_errors + 4);
    assert!(after.blocks > before.blocks);
}

#[test]
fn masking_controls_what_events_say_about_the_input() {
    let _lock = policy_lock();
    let policy = |excerpt: &str, revision: u64| {
        format!(
            "schema_version = 1\nrevision = {revision}\nmode = \"block\"\n[events]\nexcerpt = \"{excerpt}\"\n"
        )
    };
    install(&policy("length-only", 1));
    let (_, event) = run_attack(&SQL, &Request::default());
    assert_eq!(event["rasp.input.length"], ATTACK.len().to_string());
    assert!(!event.contains_key("rasp.input.excerpt"), "{event:?}");

    install(&policy("off", 2));
    let (_, event) = run_attack(&SQL, &Request::default());
    assert!(!event.contains_key("rasp.input.length"), "{event:?}");
    assert!(!event.contains_key("rasp.input.excerpt"), "{event:?}");
    assert_eq!(event["rasp.policy.revision"], "2");

    install(&policy("masked", 3));
    let (_, event) = run_attack(&SQL, &Request::default());
    assert_eq!(event["rasp.input.excerpt"], "*' ** '*'='*");
    assert!(!event.contains_key("rasp.input.length"), "{event:?}");
    // No raw input in any field.
    assert!(event.values().all(|v| !v.contains("OR '1'")), "{event:?}");
}

#[test]
fn benign_text_is_never_affected_by_the_policy() {
    let _lock = policy_lock();
    install(LAYERED);
    capture_events();
    let ctx = context(&Request::default(), &["Ann"]);
    ctx.scope(|| check(&SQL, b"SELECT * FROM t WHERE name = 'Ann'"))
        .unwrap();
    assert!(take_events().is_empty());
}

/// The sink site and the request context cache what the policy says about
/// them; every install must invalidate both, including for a request that
/// is already running.
#[test]
fn a_new_policy_replaces_every_cached_decision() {
    let _lock = policy_lock();
    let request = Request {
        route: Some("/orders"),
        ip: Some(IpAddr::from([198, 51, 100, 9])),
        ..Request::default()
    };
    let ctx = context(&request, &[ATTACK]);
    let blocked = || ctx.scope(|| check(&SQL, attack_sql().as_bytes()).is_err());
    let policy = |revision: u64, extra: &str| {
        format!("schema_version = 1\nrevision = {revision}\nmode = \"block\"\n{extra}")
    };
    install(&policy(1, ""));
    assert!(blocked());
    assert!(blocked(), "a cached decision is the same decision");
    install(&policy(
        2,
        "[sink_ids.\"policy_test.sql\"]\naction = \"monitor\"\n",
    ));
    assert!(!blocked(), "the sink's cached rule was replaced");
    install(&policy(3, ""));
    assert!(blocked());
    install(&policy(4, "[routes.\"/orders\"]\naction = \"monitor\"\n"));
    assert!(
        !blocked(),
        "the running request's cached route rule was replaced"
    );
    install(&policy(5, "[allow]\nips = [\"198.51.100.0/24\"]\n"));
    assert!(
        !blocked(),
        "the running request's cached allowlisting was replaced"
    );
    install(&policy(6, ""));
    assert!(blocked());
    // A policy that is not installed decides from its own rules, whatever
    // the caches hold for the installed one.
    let other =
        rasp_core::policy::load_str(&policy(7, "[routes.\"/orders\"]\naction = \"allow\"\n"))
            .unwrap();
    assert_eq!(
        other.decide(&SQL, &ctx).decision,
        rasp_core::Decision::Allow
    );
    assert!(
        blocked(),
        "deciding with another policy left the installed one's answer intact"
    );
    assert_eq!(
        other
            .decide_at("policy_test.sql", rasp_core::SinkClass::Sql, &ctx)
            .decision,
        rasp_core::Decision::Allow
    );
}
