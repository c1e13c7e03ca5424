//! Attacks on outbound requests to allowlisted internal hosts and on the
//! confinement of a file root.
//!
//! - **SSRF.** An avatar service behind `RaspLayer` fetches user avatars
//!   through a `GuardedClient` that allowlists its own CDN
//!   (`avatars.shop.example`, pinned to a server on 127.0.0.1). A second
//!   internal service on another port of the same host holds a secret.
//!   The outsider sends real HTTP requests to the avatar service and tries
//!   to reach the secret through the allowlisted name.
//! - **Files.** A thread swaps a directory inside a `Root` for a link to
//!   the outside in a tight loop while readers go through the root: the
//!   symlink race that a check-then-open confinement loses.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use rasp::axum::{RaspLayer, TaintedQuery};
use rasp::fs::{FsError, Root};
use rasp::http::{Error, GuardedClient};

// ---- SSRF to other ports of an allowlisted host --------------------------

/// The allowlisted avatar CDN's name, pinned to a loopback server.
const CDN: &str = "avatars.shop.example";
const AVATAR: &str = "PNG-AVATAR";
const SECRET: &str = "internal-secret-7f3a";

/// A loopback server answering `body` on every path, counting requests.
struct Upstream {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl Upstream {
    async fn start(body: &'static str) -> Upstream {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let app = Router::new().fallback(get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async move { body }
        }));
        Upstream {
            addr: serve(app).await,
            hits,
        }
    }

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

/// What the avatar service answered: status and body.
async fn fetch(client: &reqwest::Client, url: String) -> (u16, String) {
    let response = client.get(&url).send().await.expect(&url);
    let status = response.status().as_u16();
    (status, response.text().await.expect(&url))
}

/// The avatar service: `GET /avatar?url=` fetches a URL the user gives,
/// `GET /avatar?name=` fetches `name` from the CDN at a URL the service
/// writes itself. The query's extractor records its values as the
/// request's inputs; the handler then trusts them blindly (the bug).
async fn avatar_service(client: GuardedClient) -> SocketAddr {
    let app = Router::new()
        .route(
            "/avatar",
            get(
                move |TaintedQuery(q): TaintedQuery<HashMap<String, String>>| {
                    let client = client.clone();
                    let q =
                        rasp::trust_unchecked!(q, rasp::Url, "the avatar service trusts its query")
                            .into_inner();
                    async move {
                        let target = match (q.get("url"), q.get("name")) {
                            (Some(url), _) => url.clone(),
                            (None, Some(name)) => format!("http://{CDN}/avatars/{name}"),
                            (None, None) => return (StatusCode::BAD_REQUEST, String::new()),
                        };
                        match client.get(target).send().await {
                            Ok(response) => {
                                (StatusCode::OK, response.text().await.unwrap_or_default())
                            }
                            Err(Error::Refused(blocked)) => {
                                (StatusCode::FORBIDDEN, blocked.reason.as_str().to_owned())
                            }
                            Err(err) => (StatusCode::BAD_GATEWAY, err.to_string()),
                        }
                    }
                },
            ),
        )
        .layer(RaspLayer::new());
    serve(app).await
}

fn outsider() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a reqwest client")
}

fn query(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// An allowlist entry without a port: the CDN name resolves to the CDN's
/// loopback address (the pinned address carries the CDN's port, used when
/// the URL names none), and the secret service listens on another port of
/// the same address.
async fn cdn_client(cdn: &Upstream, entry: &str) -> GuardedClient {
    GuardedClient::builder()
        .allow_internal(entry)
        .resolve(CDN, &[cdn.addr])
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a guarded client")
}

#[tokio::test]
async fn an_allowlisted_host_does_not_open_its_other_ports() {
    let _serial = crate::serial();
    let cdn = Upstream::start(AVATAR).await;
    let secret = Upstream::start(SECRET).await;
    let service = avatar_service(cdn_client(&cdn, CDN).await).await;
    let client = outsider();
    let base = format!("http://{service}/avatar");

    // Benign twin: the service's own URL on the CDN's default port.
    let benign = fetch(&client, format!("{base}?name=ann.png")).await;
    assert_eq!(benign, (200, AVATAR.to_owned()));
    assert_eq!(cdn.hits(), 1);

    // The attack: the allowlisted name, the secret service's port.
    let port = secret.addr.port();
    for attack in [
        format!("http://{CDN}:{port}/secret"),
        format!("http://{}:{port}/secret", CDN.to_uppercase()),
        format!("http://{CDN}.:{port}/secret"),
        format!("http://x@{CDN}:{port}/secret"),
    ] {
        let (status, body) = fetch(&client, format!("{base}?url={}", query(&attack))).await;
        assert_eq!(status, 403, "{attack}: {body}");
        assert!(!body.contains(SECRET), "{attack}");
    }
    assert_eq!(secret.hits(), 0, "the secret service was reached");

    // The application itself is held to the same port.
    let app = cdn_client(&cdn, CDN).await;
    let own = app.get(format!("http://{CDN}:{port}/secret")).send().await;
    assert!(matches!(own, Err(Error::Refused(_))), "{own:?}");
    assert_eq!(secret.hits(), 0);
}

#[tokio::test]
async fn an_input_cannot_name_an_allowlisted_host_even_on_its_port() {
    let _serial = crate::serial();
    let cdn = Upstream::start(AVATAR).await;
    let service = avatar_service(cdn_client(&cdn, CDN).await).await;
    let client = outsider();
    let base = format!("http://{service}/avatar");
    // The whole URL is the input: the user, not the service, chose the
    // internal host. Each spelling of it is refused.
    for attack in [
        format!("http://{CDN}/avatars/ann.png"),
        format!("http://{CDN}:80/avatars/ann.png"),
        format!("HTTP://{}/avatars/ann.png", CDN.to_uppercase()),
    ] {
        let (status, body) = fetch(&client, format!("{base}?url={}", query(&attack))).await;
        assert_eq!(
            (status, body.as_str()),
            (403, "controls_authority"),
            "{attack}"
        );
    }
    assert_eq!(cdn.hits(), 0, "an input reached the allowlisted host");
    // An input in the path of the service's own URL still passes.
    let benign = fetch(&client, format!("{base}?name={}", query("ann.png"))).await;
    assert_eq!(benign, (200, AVATAR.to_owned()));
    assert_eq!(cdn.hits(), 1);
}

#[tokio::test]
async fn every_port_is_an_explicit_opt_in() {
    let _serial = crate::serial();
    let cdn = Upstream::start(AVATAR).await;
    let other = Upstream::start(SECRET).await;
    let url = format!("http://{CDN}:{}/x", other.addr.port());
    let exact = cdn_client(&cdn, &format!("{CDN}:{}", cdn.addr.port())).await;
    assert!(matches!(
        exact.get(&url).send().await,
        Err(Error::Refused(_))
    ));
    assert_eq!(other.hits(), 0);
    let any = cdn_client(&cdn, &format!("{CDN}:*")).await;
    let body = any.get(&url).send().await.expect(&url).text().await;
    assert_eq!(body.expect(&url), SECRET);
    assert_eq!(other.hits(), 1);
}

#[tokio::test]
async fn a_public_redirect_cannot_bounce_onto_an_allowlisted_host() {
    let _serial = crate::serial();
    let cdn = Upstream::start(AVATAR).await;
    // The attacker's host answers 302 to the allowlisted CDN.
    let target = format!("http://{CDN}/avatars/ann.png");
    let redirector = serve(Router::new().fallback(get(move || {
        let target = target.clone();
        async move { (StatusCode::FOUND, [(axum::http::header::LOCATION, target)]) }
    })))
    .await;
    let client = GuardedClient::builder()
        .allow_internal(CDN)
        .resolve(CDN, &[cdn.addr])
        // Allowlisted only so that the loopback redirector stands in for
        // a public host; it is another host than the CDN.
        .allow_internal(&format!("hooks.attacker.example:{}", redirector.port()))
        .resolve("hooks.attacker.example", &[redirector])
        .build()
        .expect("a guarded client");
    let url = format!("http://hooks.attacker.example:{}/go", redirector.port());
    let hop = client.get(&url).send().await;
    assert!(matches!(hop, Err(Error::Refused(_))), "{hop:?}");
    assert_eq!(cdn.hits(), 0);
    // Benign twin: the CDN itself, called by the application.
    let body = client
        .get(format!("http://{CDN}/avatars/ann.png"))
        .send()
        .await;
    assert_eq!(body.expect("the CDN").text().await.expect("a body"), AVATAR);
}

// ---- Symlink races against a file root -----------------------------------

const OUTSIDE: &str = "outside-secret-c41d";
const INSIDE: &str = "inside-public";
/// How long each race runs.
const RACE: Duration = Duration::from_secs(2);

/// A root holding `dir/file.txt`, and next to it, outside the root, a
/// directory holding a secret `file.txt` of the same name.
struct Arena {
    _tmp: tempfile::TempDir,
    files: std::path::PathBuf,
    outside: std::path::PathBuf,
}

fn arena() -> Arena {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let files = tmp.path().join("files");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(files.join("dir")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(files.join("dir/file.txt"), INSIDE).unwrap();
    std::fs::write(outside.join("file.txt"), OUTSIDE).unwrap();
    Arena {
        _tmp: tmp,
        files,
        outside,
    }
}

/// Until `stop`, swaps `files/dir` between the real directory and a link
/// to the outside directory, each swap one atomic `rename`. Returns how
/// many swaps it made.
#[cfg(unix)]
fn swapper(arena: &Arena, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    let dir = arena.files.join("dir");
    let link = arena.files.join("dir.link");
    let staged = arena.files.join("dir.staged");
    std::os::unix::fs::symlink(&arena.outside, &link).unwrap();
    std::thread::spawn(move || {
        let mut swaps = 0;
        while !stop.load(Ordering::Relaxed) {
            // dir (directory) -> staged, link -> dir: now a link out.
            std::fs::rename(&dir, &staged).unwrap();
            std::fs::rename(&link, &dir).unwrap();
            // dir (link) -> link, staged -> dir: a directory again.
            std::fs::rename(&dir, &link).unwrap();
            std::fs::rename(&staged, &dir).unwrap();
            swaps += 2;
        }
        swaps
    })
}

/// What the readers saw: reads of the inside file, reads of the outside
/// secret, and refusals or errors.
#[derive(Debug, Default)]
struct Tally {
    inside: usize,
    escaped: usize,
    refused: usize,
}

impl Tally {
    fn count(&mut self, read: Result<Vec<u8>, FsError>) {
        match read {
            Ok(bytes) if bytes == OUTSIDE.as_bytes() => self.escaped += 1,
            Ok(bytes) => {
                assert_eq!(bytes, INSIDE.as_bytes());
                self.inside += 1;
            }
            Err(_) => self.refused += 1,
        }
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_swapped_in_after_the_check_is_not_followed() {
    let _serial = crate::serial();
    let arena = arena();
    let root = Root::new(&arena.files).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = swapper(&arena, Arc::clone(&stop));
    let mut tally = Tally::default();
    let deadline = Instant::now() + RACE;
    while Instant::now() < deadline {
        tally.count(root.read("dir/file.txt"));
        tally.count(root.open("dir/file.txt").and_then(|mut file| {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut bytes)?;
            Ok(bytes)
        }));
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swaps.join().expect("the swapper");
    eprintln!("std race: {tally:?} in {swaps} swaps");
    assert_eq!(tally.escaped, 0, "reads escaped the root: {tally:?}");
    // The race was real: both sides of the swap were seen.
    assert!(swaps > 100, "{swaps} swaps");
    assert!(tally.inside > 0 && tally.refused > 0, "{tally:?}");
    // Benign twin, once the swapping stops: the file inside is read.
    assert_eq!(root.read("dir/file.txt").unwrap(), INSIDE.as_bytes());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_swapped_in_after_the_check_is_not_followed_under_tokio() {
    let _serial = crate::serial();
    let arena = arena();
    let root = Root::new(&arena.files).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = swapper(&arena, Arc::clone(&stop));
    let mut tally = Tally::default();
    let deadline = Instant::now() + RACE;
    while Instant::now() < deadline {
        tally.count(root.tokio().read("dir/file.txt").await);
        let opened = root.tokio().open("dir/file.txt").await;
        tally.count(match opened {
            Ok(mut file) => {
                let mut bytes = Vec::new();
                tokio::io::AsyncReadExt::read_to_end(&mut file, &mut bytes)
                    .await
                    .map(|_| bytes)
                    .map_err(FsError::Io)
            }
            Err(err) => Err(err),
        });
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swaps.join().expect("the swapper");
    eprintln!("tokio race: {tally:?} in {swaps} swaps");
    assert_eq!(tally.escaped, 0, "reads escaped the root: {tally:?}");
    assert!(swaps > 100, "{swaps} swaps");
    assert!(tally.inside > 0 && tally.refused > 0, "{tally:?}");
    let benign = root.tokio().read("dir/file.txt").await.unwrap();
    assert_eq!(benign, INSIDE.as_bytes());
}

#[cfg(unix)]
#[test]
fn every_operation_is_confined_beneath_the_root() {
    let _serial = crate::serial();
    let arena = arena();
    let root = Root::new(&arena.files).unwrap();
    // A directory link to the outside, planted by another writer of the
    // root; and a link that stays inside, which is followed.
    std::os::unix::fs::symlink(&arena.outside, arena.files.join("out")).unwrap();
    std::os::unix::fs::symlink("dir", arena.files.join("alias")).unwrap();
    let refused = |result: Result<(), FsError>, what: &str| {
        let err = result.expect_err(what);
        assert!(err.blocked().is_some(), "{what}: {err:?}");
    };
    refused(root.read("out/file.txt").map(drop), "read");
    refused(root.open("out/file.txt").map(drop), "open");
    refused(root.write("out/file.txt", "owned"), "write");
    refused(root.create("out/new.txt").map(drop), "create");
    let append = rasp::fs::OpenOptions::new().append(true).clone();
    refused(
        root.open_with("out/file.txt", &append).map(drop),
        "open_with",
    );
    refused(root.remove_file("out/file.txt"), "remove_file");
    refused(root.create_dir_all("out/sub"), "create_dir_all");
    refused(root.read_dir("out").map(drop), "read_dir");
    assert_eq!(
        std::fs::read_to_string(arena.outside.join("file.txt")).unwrap(),
        OUTSIDE
    );
    let names: Vec<_> = std::fs::read_dir(&arena.outside).unwrap().collect();
    assert_eq!(names.len(), 1, "something was created outside");
    // Benign twins: the same operations inside, through the inside link.
    assert_eq!(root.read_to_string("alias/file.txt").unwrap(), INSIDE);
    root.write("alias/new.txt", "fresh").unwrap();
    root.open_with("alias/new.txt", &append).unwrap();
    root.create_dir_all("alias/sub").unwrap();
    let listed = root.read_dir("dir").unwrap().count();
    assert_eq!(listed, 3);
    root.remove_file("alias/new.txt").unwrap();
    // Removing the planted link removes the link, not what it points to.
    root.remove_file("out").unwrap();
    assert!(arena.outside.join("file.txt").exists());
}

#[tokio::test]
async fn a_redirect_loop_stops_at_the_limit() {
    let _serial = crate::serial();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    // An internal service that redirects to itself forever, except for
    // `/once`, which redirects to `/done` once.
    let looping = serve(
        Router::new()
            .route(
                "/once",
                get(|| async { (StatusCode::FOUND, [(axum::http::header::LOCATION, "/done")]) }),
            )
            .route("/done", get(|| async { "done" }))
            .fallback(get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async {
                    (
                        StatusCode::FOUND,
                        [(axum::http::header::LOCATION, "/again")],
                    )
                }
            })),
    )
    .await;
    let client = GuardedClient::builder()
        .allow_internal(&format!("127.0.0.1:{}", looping.port()))
        .max_redirects(3)
        .build()
        .expect("a guarded client");
    let url = format!("http://{looping}/start");
    let result = client.get(&url).send().await;
    assert!(matches!(result, Err(Error::Request(_))), "{result:?}");
    // The first request and three redirects, not one more.
    assert_eq!(hits.load(Ordering::SeqCst), 4);
    // Benign twin: a redirect within the limit is followed.
    let url = format!("http://{looping}/once");
    let response = client.get(&url).send().await.expect(&url);
    assert_eq!(response.text().await.expect(&url), "done");
}
