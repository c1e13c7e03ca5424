//! Server-side request forgery against a real metadata service on
//! 127.0.0.1.
//!
//! An axum server stands in for a cloud metadata service: it hands out a
//! secret at `/latest/meta-data/iam/security-credentials/` and counts who
//! asked. A second server stands in for an attacker's public host that
//! answers `302` towards the metadata service. A plain `reqwest` client
//! fetches the secret through every attacker URL; a
//! `rasp::http::GuardedClient` refuses every one of them (by the spelling
//! of the host, by the address a name resolves to, on the redirect hop)
//! before a single request reaches the secret, and reports each refusal.
//! Allowlisted internal calls and URLs whose path an input fills still
//! work.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::thread::ThreadId;
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use rasp::http::{Error, GuardedClient, url};
use rasp::{Reason, RequestContext, SinkClass, SourceMeta};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

const SECRET: &str = "AKIAEXAMPLE:wJalrXUtnFEMI/K7MDENG";
const CREDENTIALS: &str = "/latest/meta-data/iam/security-credentials/";

static WEBHOOK: SourceMeta = SourceMeta {
    kind: "http.body",
    fn_path: "tests::webhook_url",
    file: file!(),
    line: line!(),
};

/// A server on a loopback port, counting the requests its handler answered.
struct Server {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl Server {
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// The metadata service: the secret to whoever asks, plus a health route
/// that internal callers legitimately use.
async fn metadata_service() -> Server {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let app = Router::new()
        .route(
            CREDENTIALS,
            get(move || async move {
                counter.fetch_add(1, Ordering::SeqCst);
                SECRET
            }),
        )
        .route("/health", get(|| async { "ok" }));
    Server {
        addr: serve(app).await,
        hits,
    }
}

/// The attacker's host: `/go?to=URL` answers `302 Found` to `URL`.
async fn redirector() -> Server {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let app = Router::new().route(
        "/go",
        get(
            move |Query(q): Query<std::collections::HashMap<String, String>>| async move {
                counter.fetch_add(1, Ordering::SeqCst);
                let mut headers = HeaderMap::new();
                let to = q.get("to").cloned().unwrap_or_default();
                headers.insert(header::LOCATION, to.parse().expect("a header value"));
                (StatusCode::FOUND, headers)
            },
        ),
    );
    Server {
        addr: serve(app).await,
        hits,
    }
}

/// The public-looking name of the attacker's host.
const ATTACKER_HOST: &str = "cdn.attacker.example";

/// URLs an attacker submits to reach the metadata service on `port`.
fn attacker_urls(port: u16) -> Vec<String> {
    [
        format!("http://127.0.0.1:{port}"),
        format!("http://2130706433:{port}"),
        format!("http://0x7f.1:{port}"),
        format!("http://0177.0.0.1:{port}"),
        format!("http://[::ffff:127.0.0.1]:{port}"),
        format!("http://localhost:{port}"),
        format!("http://127.1:{port}"),
        format!("http://trusted.example@127.0.0.1:{port}"),
    ]
    .into_iter()
    .map(|base| format!("{base}{CREDENTIALS}"))
    .collect()
}

/// A public-looking URL that redirects to `target`.
fn redirecting_url(redirector: &Server, target: &str) -> String {
    format!(
        "http://{ATTACKER_HOST}:{}/go?to={}",
        redirector.addr.port(),
        url::form_urlencoded::byte_serialize(target.as_bytes()).collect::<String>()
    )
}

/// Every redirect an attacker can make towards the metadata service.
fn redirect_targets(port: u16) -> Vec<String> {
    [
        format!("http://127.0.0.1:{port}{CREDENTIALS}"),
        format!("http://localhost:{port}{CREDENTIALS}"),
        format!("http://[::ffff:7f00:1]:{port}{CREDENTIALS}"),
    ]
    .into()
}

fn plain_client(redirector: &Server) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .resolve(ATTACKER_HOST, redirector.addr)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a reqwest client")
}

/// The guarded client of an application that talks to the attacker's
/// host (it stands on loopback here, so it is allowlisted like a partner
/// would be) and to nothing else internal.
fn guarded_client(redirector: &Server) -> GuardedClient {
    GuardedClient::builder()
        .resolve(ATTACKER_HOST, &[redirector.addr])
        .allow_internal(&format!("{ATTACKER_HOST}:{}", redirector.addr.port()))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a guarded client")
}

#[track_caller]
fn expect_refused<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) -> rasp::Blocked {
    match result {
        Err(Error::Refused(blocked)) => {
            assert_eq!(blocked.class, SinkClass::Url, "{what}");
            blocked
        }
        other => panic!("expected a refusal for {what}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_plain_client_hands_over_the_secret() {
    let metadata = metadata_service().await;
    let redirector = redirector().await;
    let client = plain_client(&redirector);
    let mut urls = attacker_urls(metadata.addr.port());
    for target in redirect_targets(metadata.addr.port()) {
        urls.push(redirecting_url(&redirector, &target));
    }
    for (n, url) in urls.iter().enumerate() {
        let response = client.get(url).send().await.expect(url);
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.text().await.expect(url), SECRET, "{url}");
        assert_eq!(metadata.hits(), n + 1, "{url}");
    }
}

#[tokio::test]
async fn a_guarded_client_refuses_every_attacker_url() {
    SecurityEvents::install();
    let metadata = metadata_service().await;
    let redirector = redirector().await;
    let client = guarded_client(&redirector);
    // One client of its own: refusal events are deduplicated per sink,
    // reason and client (10 a minute by default), so this test's 8 + 2
    // refusals are all reported whatever the other tests refuse meanwhile.
    let ctx = RequestContext::builder()
        .client_ip([192, 0, 2, 201].into())
        .build();
    ctx.instrument(async {
        for url in attacker_urls(metadata.addr.port()) {
            let blocked = expect_refused(client.get(&url).send().await, &url);
            assert_eq!(blocked.reason, Reason::InternalAddress, "{url}");
            assert_eq!(blocked.sink_id, "reqwest.request", "{url}");
        }
        for url in ["file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO"] {
            let blocked = expect_refused(client.get(url).send().await, url);
            assert_eq!(blocked.reason, Reason::DangerousScheme, "{url}");
        }
    })
    .await;
    assert_eq!(metadata.hits(), 0, "a request reached the secret");
    assert_eq!(SecurityEvents::refusals(), attacker_urls(0).len() + 2);
}

#[tokio::test]
async fn a_tainted_url_goes_in_as_is_and_is_refused() {
    let metadata = metadata_service().await;
    let client = GuardedClient::new().expect("a guarded client");
    for url in attacker_urls(metadata.addr.port()) {
        let ctx = RequestContext::new();
        ctx.record_input(&WEBHOOK, url.as_bytes());
        let target = rasp::Tainted::new(url.clone(), &WEBHOOK);
        let result = ctx.instrument(client.get(target).send()).await;
        let blocked = expect_refused(result, &url);
        assert_eq!(blocked.reason, Reason::InternalAddress, "{url}");
    }
    assert_eq!(metadata.hits(), 0);
}

#[tokio::test]
async fn a_guarded_client_checks_every_redirect_hop() {
    let metadata = metadata_service().await;
    let redirector = redirector().await;
    let client = guarded_client(&redirector);
    let targets = redirect_targets(metadata.addr.port());
    for target in &targets {
        let url = redirecting_url(&redirector, target);
        let blocked = expect_refused(client.get(&url).send().await, &url);
        assert_eq!(blocked.reason, Reason::InternalAddress, "{url}");
    }
    // The first hop was made, the second refused.
    assert_eq!(redirector.hits(), targets.len());
    assert_eq!(metadata.hits(), 0, "a redirect reached the secret");
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_when_connecting() {
    // The name gives nothing away; only its answer does, as with a
    // rebinding name or an attacker's zone that answers 127.0.0.1.
    let metadata = metadata_service().await;
    let client = GuardedClient::builder()
        .resolve("status.partner-cdn.example", &[metadata.addr])
        .build()
        .expect("a guarded client");
    let url = format!(
        "http://status.partner-cdn.example:{}{CREDENTIALS}",
        metadata.addr.port()
    );
    assert!(url::Url::parse(&url).is_ok());
    let blocked = expect_refused(client.get(&url).send().await, &url);
    assert_eq!(blocked.reason, Reason::InternalAddress);
    // A public address in the same answer does not launder the internal one.
    let client = GuardedClient::builder()
        .resolve(
            "mixed.partner-cdn.example",
            &[SocketAddr::from(([93, 184, 216, 34], 80)), metadata.addr],
        )
        .build()
        .expect("a guarded client");
    let url = format!("http://mixed.partner-cdn.example:{}/", metadata.addr.port());
    expect_refused(client.get(&url).send().await, &url);
    assert_eq!(metadata.hits(), 0);
}

#[tokio::test]
async fn allowlisted_internal_calls_go_through() {
    let metadata = metadata_service().await;
    let port = metadata.addr.port();
    let client = GuardedClient::builder()
        .allow_internal(&format!("127.0.0.1:{port}"))
        .allow_internal(&format!("localhost:{port}"))
        .build()
        .expect("a guarded client");
    for url in [
        format!("http://127.0.0.1:{port}/health"),
        format!("http://localhost:{port}/health"),
    ] {
        let response = client.get(&url).send().await.expect(&url);
        assert_eq!(response.text().await.expect(&url), "ok", "{url}");
    }
    // The same host on another port is still internal.
    let url = format!("http://127.0.0.1:{}/health", port.wrapping_add(1).max(1));
    expect_refused(client.get(&url).send().await, &url);
}

#[tokio::test]
async fn an_input_cannot_choose_an_allowlisted_internal_host() {
    let metadata = metadata_service().await;
    let port = metadata.addr.port();
    let client = GuardedClient::builder()
        .allow_internal(&format!("127.0.0.1:{port}"))
        .build()
        .expect("a guarded client");
    let submitted = format!("http://2130706433:{port}{CREDENTIALS}");
    let ctx = RequestContext::new();
    ctx.record_input(&WEBHOOK, submitted.as_bytes());
    let result = ctx
        .instrument(async { client.get(&submitted).send().await })
        .await;
    let blocked = expect_refused(result, &submitted);
    assert_eq!(blocked.reason, Reason::InternalAddress);
    assert_eq!(metadata.hits(), 0);
}

#[tokio::test]
async fn inputs_in_the_path_of_an_allowlisted_base_pass() {
    let metadata = metadata_service().await;
    let port = metadata.addr.port();
    let client = GuardedClient::builder()
        .allow_internal(&format!("127.0.0.1:{port}"))
        .build()
        .expect("a guarded client");
    for input in ["health", "@169.254.169.254", "..\\@localhost", "x?y=//evil"] {
        let ctx = RequestContext::new();
        ctx.record_input(&WEBHOOK, input.as_bytes());
        let text = format!("http://127.0.0.1:{port}/items/{input}?view=full");
        let checked = ctx.scope(|| url(&text)).expect(input);
        assert_eq!(checked.as_url().port(), Some(port), "{input}");
        let tainted = rasp::Tainted::new(input.to_owned(), &WEBHOOK);
        let target = rasp::compose!(
            rasp::Url,
            "http://127.0.0.1:{}/items/{}",
            port,
            tainted.sanitize::<rasp::Url>()
        );
        let request = ctx.scope(|| client.get(target));
        let response = ctx.instrument(request.send()).await.expect(input);
        assert_eq!(response.status(), 404, "{input}");
    }
    assert_eq!(metadata.hits(), 0);
}

/// `rasp.guard.refused` events, each with the thread that emitted it.
///
/// The subscriber is process-wide: a thread-local one races with the
/// interest cache of callsites first hit by tests on other threads.
struct SecurityEvents(Mutex<Vec<ThreadId>>);

static EVENTS: SecurityEvents = SecurityEvents(Mutex::new(Vec::new()));

impl SecurityEvents {
    fn install() {
        static INSTALLED: Once = Once::new();
        INSTALLED.call_once(|| {
            let subscriber = tracing_subscriber::registry().with(&EVENTS);
            tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
        });
    }

    /// Refusals reported on the current thread (the thread of a
    /// single-threaded `#[tokio::test]`).
    fn refusals() -> usize {
        let me = std::thread::current().id();
        let events = EVENTS.0.lock().unwrap_or_else(|p| p.into_inner());
        events.iter().filter(|t| **t == me).count()
    }
}

struct EventName(bool);

impl Visit for EventName {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "event.name" && value == "rasp.guard.refused" {
            self.0 = true;
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for &'static SecurityEvents {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != rasp::event::TARGET {
            return;
        }
        let mut name = EventName(false);
        event.record(&mut name);
        if name.0 {
            let mut events = self.0.lock().unwrap_or_else(|p| p.into_inner());
            events.push(std::thread::current().id());
        }
    }
}
