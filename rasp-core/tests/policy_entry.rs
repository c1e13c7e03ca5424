//! Entry rules: block lists, GCRA rate limits and the detection circuit
//! breaker, decided by `policy::entry::evaluate` on real request contexts.

mod policy_support;

use std::net::IpAddr;
use std::time::Duration;

use rasp_core::Decision;
use rasp_core::check::check;
use rasp_core::policy::{self, PolicyError, entry};

use policy_support::*;

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn evaluate(request: &Request<'_>) -> Decision {
    entry::evaluate(&context(request, &[]))
}

fn with_entry(body: &str) -> String {
    format!("schema_version = 1\nrevision = 1\nmode = \"block\"\n{body}")
}

#[test]
fn without_entry_rules_every_request_enters() {
    let _lock = policy_lock();
    assert_eq!(evaluate(&Request::default()), Decision::Allow);
    install(&with_entry(""));
    assert_eq!(
        evaluate(&Request {
            ip: ip("203.0.113.9"),
            ..Request::default()
        }),
        Decision::Allow
    );
}

#[test]
fn block_lists_refuse_matching_requesters() {
    let _lock = policy_lock();
    install(&with_entry(
        r#"
        [allow]
        users = ["pentest"]
        [entry]
        block_ips = ["203.0.113.0/24", "2001:db8::/32"]
        block_users = ["mallory"]
        block_tenants = ["suspended"]
        "#,
    ));
    capture_events();
    for request in [
        Request {
            ip: ip("203.0.113.77"),
            ..Request::default()
        },
        Request {
            ip: ip("2001:db8::1"),
            ..Request::default()
        },
        Request {
            user: Some("mallory"),
            ..Request::default()
        },
        Request {
            tenant: Some("suspended"),
            ..Request::default()
        },
    ] {
        assert_eq!(evaluate(&request), Decision::Block);
    }
    let events = take_events();
    assert_eq!(events.len(), 4);
    assert!(
        events
            .iter()
            .all(|e| e["event.name"] == "rasp.entry.blocked"
                && e["rasp.entry.rule"] == "block_list"
                && e["rasp.policy.revision"] == "1")
    );
    for request in [
        Request::default(),
        Request {
            ip: ip("203.0.114.1"),
            user: Some("mallory2"),
            tenant: Some("active"),
            ..Request::default()
        },
        // The allowlist wins over the block list.
        Request {
            ip: ip("203.0.113.77"),
            user: Some("pentest"),
            ..Request::default()
        },
    ] {
        assert_eq!(evaluate(&request), Decision::Allow);
    }
}

#[test]
fn rate_limits_throttle_per_requester() {
    let _lock = policy_lock();
    install(&with_entry(
        r#"
        [entry]
        [[entry.rate_limits]]
        key = "ip"
        per_minute = 1
        burst = 3
        [[entry.rate_limits]]
        key = "user"
        per_second = 1000
        "#,
    ));
    let alice = Request {
        ip: ip("198.51.100.1"),
        ..Request::default()
    };
    let bob = Request {
        ip: ip("198.51.100.2"),
        ..Request::default()
    };
    for _ in 0..3 {
        assert_eq!(evaluate(&alice), Decision::Allow);
    }
    assert_eq!(evaluate(&alice), Decision::Throttle);
    assert_eq!(evaluate(&alice), Decision::Throttle);
    // Another address has its own budget; no address, no ip limit.
    assert_eq!(evaluate(&bob), Decision::Allow);
    for _ in 0..10 {
        assert_eq!(evaluate(&Request::default()), Decision::Allow);
    }
    // A reload starts the budgets afresh.
    install(&with_entry(
        r#"
        [entry]
        [[entry.rate_limits]]
        key = "ip"
        per_minute = 1
        burst = 3
        "#,
    ));
    assert_eq!(evaluate(&alice), Decision::Allow);
}

/// A login-guessing budget on `/login` leaves browsing alone, and the
/// route it is judged by is the template the server matched: a request
/// with no known route spends no route-scoped budget, so an unrouted path
/// cannot be used to drain someone else's.
#[test]
fn a_rate_limit_can_be_scoped_to_routes() {
    let _lock = policy_lock();
    install(&with_entry(
        r#"
        [entry]
        [[entry.rate_limits]]
        key = "ip"
        per_minute = 1
        burst = 2
        routes = ["/login", "/users/{id}/password"]
        "#,
    ));
    let on = |route| Request {
        ip: ip("198.51.100.7"),
        route: Some(route),
        ..Request::default()
    };
    for _ in 0..20 {
        assert_eq!(evaluate(&on("/search")), Decision::Allow);
    }
    assert_eq!(evaluate(&on("/login")), Decision::Allow);
    assert_eq!(evaluate(&on("/users/{id}/password")), Decision::Allow);
    assert_eq!(evaluate(&on("/login")), Decision::Throttle);
    assert_eq!(evaluate(&on("/users/{id}/password")), Decision::Throttle);
    // A path the client wrote is not a template; nothing matched, nothing spent.
    assert_eq!(evaluate(&on("/users/7/password")), Decision::Allow);
    let unrouted = Request {
        ip: ip("198.51.100.7"),
        ..Request::default()
    };
    assert_eq!(evaluate(&unrouted), Decision::Allow);
    assert_eq!(evaluate(&on("/search")), Decision::Allow);
}

#[test]
fn the_circuit_breaker_opens_after_repeated_detections() {
    let _lock = policy_lock();
    install(&with_entry(
        r#"
        [entry]
        [entry.circuit_breaker]
        key = "ip"
        detections = 3
        window_secs = 60
        open_secs = 1
        "#,
    ));
    let attacker = Request {
        ip: ip("192.0.2.66"),
        ..Request::default()
    };
    let neighbour = Request {
        ip: ip("192.0.2.67"),
        ..Request::default()
    };
    let attack = |request: &Request<'_>| {
        let ctx = context(request, &[ATTACK]);
        assert!(ctx.scope(|| check(&SQL, attack_sql().as_bytes())).is_err());
    };
    for _ in 0..2 {
        attack(&attacker);
        assert_eq!(evaluate(&attacker), Decision::Allow);
    }
    attack(&neighbour);
    attack(&attacker);
    capture_events();
    assert_eq!(evaluate(&attacker), Decision::Block);
    assert_eq!(take_events()[0]["rasp.entry.rule"], "circuit_breaker");
    assert_eq!(evaluate(&neighbour), Decision::Allow);
    // Open for one second, then the requester starts a fresh window.
    std::thread::sleep(Duration::from_millis(1_100));
    assert_eq!(evaluate(&attacker), Decision::Allow);
    attack(&attacker);
    assert_eq!(evaluate(&attacker), Decision::Allow);
}

#[test]
fn monitor_action_reports_without_refusing() {
    let _lock = policy_lock();
    install(&with_entry(
        r#"
        [entry]
        action = "monitor"
        block_users = ["mallory"]
        "#,
    ));
    capture_events();
    let mallory = Request {
        user: Some("mallory"),
        ..Request::default()
    };
    assert_eq!(evaluate(&mallory), Decision::Monitor);
    assert_eq!(take_events()[0]["event.name"], "rasp.entry.monitored");
}

#[test]
fn invalid_entry_rules_name_their_key() {
    let key = |body: &str| match policy::load_str(&with_entry(body)).unwrap_err() {
        PolicyError::Parse { key, .. } | PolicyError::Invalid { key, .. } => key,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        key("[entry]\n[[entry.rate_limits]]\nkey = \"ip\"\n"),
        "entry.rate_limits[0]"
    );
    assert_eq!(
        key("[entry]\n[[entry.rate_limits]]\nkey = \"ip\"\nper_second = 1\nper_minute = 1\n"),
        "entry.rate_limits[0]"
    );
    assert_eq!(
        key("[entry]\n[[entry.rate_limits]]\nkey = \"ip\"\nper_second = 0\n"),
        "entry.rate_limits[0].per_second"
    );
    assert_eq!(
        key("[entry]\n[[entry.rate_limits]]\nkey = \"ip\"\nper_second = 5\nburst = 0\n"),
        "entry.rate_limits[0].burst"
    );
    assert_eq!(
        key("[entry]\n[[entry.rate_limits]]\nkey = \"session\"\nper_second = 5\n"),
        "entry.rate_limits[0].key"
    );
    assert_eq!(
        key("[entry]\n[[entry.rate_limits]]\nkey = \"ip\"\nper_second = 5\nroutes = []\n"),
        "entry.rate_limits[0].routes"
    );
    assert_eq!(
        key("[entry]\n[[entry.rate_limits]]\nkey = \"ip\"\nper_second = 5\nroutes = [\"login\"]\n"),
        "entry.rate_limits[0].routes"
    );
    assert_eq!(
        key(
            "[entry.circuit_breaker]\nkey = \"ip\"\ndetections = 0\nwindow_secs = 1\nopen_secs = 1\n"
        ),
        "entry.circuit_breaker.detections"
    );
    assert_eq!(
        key(
            "[entry.circuit_breaker]\nkey = \"ip\"\ndetections = 1\nwindow_secs = 1\nopen_secs = 99999999999\n"
        ),
        "entry.circuit_breaker.open_secs"
    );
    assert_eq!(
        key("[entry.circuit_breaker]\nkey = \"ip\"\ndetections = 1\nwindow_secs = 1\n"),
        "entry.circuit_breaker"
    );
    assert_eq!(
        key("[entry]\nblock_ips = [\"nope\"]\n"),
        "entry.block_ips[0]"
    );
    assert_eq!(
        key("[entry]\nblock_users = [\"\"]\n"),
        "entry.block_users[0]"
    );
    assert_eq!(key("[entry]\nactions = \"block\"\n"), "entry.actions");
    assert_eq!(key("[entry]\nipv6_prefix = 0\n"), "entry.ipv6_prefix");
    assert_eq!(key("[entry]\nipv6_prefix = 129\n"), "entry.ipv6_prefix");
    assert_eq!(key("[entry]\nmax_tracked = 0\n"), "entry.max_tracked");
}

#[test]
fn ipv6_requesters_are_counted_by_network() {
    let _lock = policy_lock();
    install(&with_entry(
        r#"
        [entry]
        [[entry.rate_limits]]
        key = "ip"
        per_minute = 1
        burst = 2
        "#,
    ));
    let from = |address: &str| Request {
        ip: ip(address),
        ..Request::default()
    };
    // Every address of one /64 is one requester.
    assert_eq!(evaluate(&from("2001:db8:7:7::1")), Decision::Allow);
    assert_eq!(evaluate(&from("2001:db8:7:7::2")), Decision::Allow);
    for n in 3..50 {
        let address = format!("2001:db8:7:7:{n:x}::{n:x}");
        assert_eq!(evaluate(&from(&address)), Decision::Throttle, "{address}");
    }
    assert_eq!(evaluate(&from("2001:db8:7:8::1")), Decision::Allow);
    // An IPv4 address and its IPv4-mapped IPv6 form are one requester.
    assert_eq!(evaluate(&from("192.0.2.9")), Decision::Allow);
    assert_eq!(evaluate(&from("::ffff:192.0.2.9")), Decision::Allow);
    assert_eq!(evaluate(&from("192.0.2.9")), Decision::Throttle);
    // Configurable: per /128, each address has its own budget.
    install(&with_entry(
        r#"
        [entry]
        ipv6_prefix = 128
        [[entry.rate_limits]]
        key = "ip"
        per_minute = 1
        "#,
    ));
    assert_eq!(evaluate(&from("2001:db8:7:7::1")), Decision::Allow);
    assert_eq!(evaluate(&from("2001:db8:7:7::2")), Decision::Allow);
    assert_eq!(evaluate(&from("2001:db8:7:7::1")), Decision::Throttle);
}

#[test]
fn a_full_table_throttles_newcomers_and_says_so() {
    let _lock = policy_lock();
    install(&with_entry(
        r#"
        [entry]
        max_tracked = 200
        [[entry.rate_limits]]
        key = "ip"
        per_minute = 1
        burst = 3
        "#,
    ));
    capture_events();
    let abuser = Request {
        ip: ip("198.51.100.66"),
        ..Request::default()
    };
    for _ in 0..3 {
        assert_eq!(evaluate(&abuser), Decision::Allow);
    }
    assert_eq!(evaluate(&abuser), Decision::Throttle);
    // More distinct networks than the table holds, several sweeps' worth.
    let mut admitted = 0;
    for n in 0..10_000u32 {
        let address = format!("2001:db8:{:x}:{:x}::1", n >> 16, n & 0xffff);
        let request = Request {
            ip: ip(&address),
            ..Request::default()
        };
        if evaluate(&request) == Decision::Allow {
            admitted += 1;
        }
    }
    assert_eq!(evaluate(&abuser), Decision::Throttle, "still throttled");
    // 199 networks fit with a burst of three each; the others shared one
    // overflow budget of three.
    assert!(admitted <= 199 * 3 + 3, "{admitted} of the flood admitted");
    let events = take_events();
    let full: Vec<_> = events
        .iter()
        .filter(|e| e["event.name"] == "rasp.entry.table_full")
        .collect();
    assert_eq!(full.len(), 1, "one report per period: {full:?}");
    assert_eq!(full[0]["rasp.entry.table"], "rate_limit");
    assert_eq!(full[0]["rasp.entry.capacity"], "200");
}

#[test]
fn the_example_policy_entry_rules_apply() {
    let _lock = policy_lock();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/policy.toml");
    policy::install(policy::load_file(path).unwrap()).unwrap();
    let blocked = Request {
        ip: ip("203.0.113.5"),
        ..Request::default()
    };
    assert_eq!(evaluate(&blocked), Decision::Block);
    // Allowlisted in the example's `[allow] ips`.
    let internal = Request {
        ip: ip("10.20.1.1"),
        ..Request::default()
    };
    assert_eq!(evaluate(&internal), Decision::Allow);
}

#[test]
fn a_full_breaker_table_keeps_its_open_circuits_and_says_so() {
    let _lock = policy_lock();
    install(&with_entry(
        r#"
        [entry]
        max_tracked = 5
        [entry.circuit_breaker]
        key = "ip"
        detections = 2
        window_secs = 60
        open_secs = 60
        "#,
    ));
    let from = |n: u32| Request {
        ip: ip(&format!("192.0.2.{n}")),
        ..Request::default()
    };
    let attack = |request: &Request<'_>| {
        let ctx = context(request, &[ATTACK]);
        assert!(ctx.scope(|| check(&SQL, attack_sql().as_bytes())).is_err());
    };
    // The attacker's circuit opens first; then more attackers than the
    // table holds.
    attack(&from(1));
    attack(&from(1));
    capture_events();
    for n in 2..40 {
        attack(&from(n));
    }
    assert_eq!(evaluate(&from(1)), Decision::Block, "still shut out");
    let events = take_events();
    let full: Vec<_> = events
        .iter()
        .filter(|e| e["event.name"] == "rasp.entry.table_full")
        .collect();
    assert_eq!(full.len(), 1, "{events:?}");
    assert_eq!(full[0]["rasp.entry.table"], "circuit_breaker");
    assert_eq!(full[0]["rasp.entry.capacity"], "5");
}
