//! Open redirects against a real HTTP server on 127.0.0.1.
//!
//! `shop.test` redirects to its `next` query parameter after login. A
//! browser-like client (WHATWG URL resolution, a host map for DNS) follows
//! the redirects. Without rasp, crafted `next` values land the user on
//! `evil.test`; with `rasp::redirect::location` the same requests are
//! refused with 400 before any `Location` is sent, while same-site targets
//! that look like URLs still redirect, a policy lets a partner host
//! through, and a target sanitized for redirects stays on the site.

mod loopback_http;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::LazyLock;

use loopback_http::{AppError, Received, Request, Response, Server, get, query, respond};
use rasp::RedirectSafe;
use rasp::redirect::RedirectPolicy;
use url::Url;

#[rasp::source(kind = "http.query")]
fn next_param(req: &Request) -> String {
    req.param("next")
}

/// The partner the shop sends users to after a joint checkout.
static POLICY: LazyLock<RedirectPolicy> =
    LazyLock::new(|| RedirectPolicy::same_site().allow_host("partner.test"));

#[rasp::protect(route = "/login")]
fn login(req: &Request) -> Result<Response, AppError> {
    let next = next_param(req);
    let location = rasp::redirect::location(next)?;
    Ok(Response::new(302, "").header("Location", location.as_bytes()))
}

#[rasp::protect(route = "/partner/login")]
fn partner_login(req: &Request) -> Result<Response, AppError> {
    let next = next_param(req);
    let location = POLICY.location(next)?;
    Ok(Response::new(302, "").header("Location", location.as_bytes()))
}

/// A redirect sink of the application's own, guarded by the macro.
#[rasp::sink(kind = "redirect", guard(to))]
fn see_other(to: impl RedirectSafe) -> Result<Response, AppError> {
    let target = to.sink_text().unwrap_or(b"/").to_vec();
    Ok(Response::new(302, "").header("Location", target))
}

#[rasp::protect(route = "/sanitized/login")]
fn sanitized_login(req: &Request) -> Result<Response, AppError> {
    see_other(next_param(req).sanitize::<rasp::Redirect>())
}

fn shop(req: &Request) -> Response {
    match req.path.as_str() {
        // The handler as written without rasp.
        "/unsafe/login" => Response::new(302, "").header("Location", req.param("next")),
        "/login" => respond(login(req)),
        "/partner/login" => respond(partner_login(req)),
        "/sanitized/login" => respond(sanitized_login(req)),
        path => Response::new(200, format!("shop.test page {path}")),
    }
}

fn evil(req: &Request) -> Response {
    Response::new(200, format!("evil.test fake login at {}", req.path))
}

fn partner(req: &Request) -> Response {
    Response::new(200, format!("partner.test page {}", req.path))
}

/// The three sites, started once for all tests.
static SITES: LazyLock<HashMap<&'static str, Server>> = LazyLock::new(|| {
    HashMap::from([
        ("shop.test", Server::start(shop)),
        ("evil.test", Server::start(evil)),
        ("partner.test", Server::start(partner)),
    ])
});

fn address(host: &str) -> SocketAddr {
    SITES
        .get(host)
        .map(|s| s.addr)
        .unwrap_or_else(|| panic!("no site {host}"))
}

/// Visits `start` like a browser: follows up to five redirects, resolving
/// each `Location` against the current URL. Stops at the first response
/// that is not a redirect, or at a target that is not `http`.
fn visit(start: &str) -> (Url, Received) {
    let mut url = Url::parse(start).expect("a valid start URL");
    for _ in 0..5 {
        let host = url.host_str().expect("an http URL has a host").to_owned();
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let response = get(address(&host), &host, &target);
        let Some(location) = response
            .first("Location")
            .filter(|_| response.status == 302)
        else {
            return (url, response);
        };
        let next = url
            .join(&location)
            .expect("a Location the browser can resolve");
        if next.scheme() != "http" {
            return (next, response);
        }
        url = next;
    }
    panic!("too many redirects");
}

fn login_url(route: &str, next: &str) -> String {
    format!("http://shop.test{route}?{}", query("next", next))
}

/// `next` values that send the user to `evil.test`, each in a spelling
/// that browsers accept and naive filters miss.
const OFF_SITE: &[&str] = &[
    "http://evil.test/login",
    "HTTP://EVIL.TEST/login",
    "//evil.test/login",
    "/\\evil.test/login",
    "\\\\evil.test/login",
    "/\t/evil.test/login",
    "\t//evil.test/login",
    "http://shop.test@evil.test/login",
];

/// `next` values that look like URLs but stay on the shop:
/// `(next, where the browser lands)`.
const SAME_SITE: &[(&str, &str)] = &[
    (
        "/search?q=http%3A%2F%2Fevil.test",
        "/search?q=http%3A%2F%2Fevil.test",
    ),
    ("/search?q=//evil.test/login", "/search?q=//evil.test/login"),
    ("/files/a//b", "/files/a//b"),
    ("/items/42", "/items/42"),
    ("/@evil.test", "/@evil.test"),
    ("/orders?tab=items#top", "/orders?tab=items"),
];

fn landed(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

#[test]
fn without_rasp_the_user_lands_on_the_attackers_site() {
    for next in OFF_SITE {
        let (url, page) = visit(&login_url("/unsafe/login", next));
        assert_eq!(url.host_str(), Some("evil.test"), "{next:?}");
        assert_eq!(page.body, "evil.test fake login at /login", "{next:?}");
    }
    let (url, _) = visit(&login_url(
        "/unsafe/login",
        "javascript:alert(document.domain)",
    ));
    assert_eq!(url.as_str(), "javascript:alert(document.domain)");
}

#[test]
fn with_rasp_the_redirect_is_refused() {
    for next in OFF_SITE {
        let (url, page) = visit(&login_url("/login", next));
        assert_eq!(url.host_str(), Some("shop.test"), "{next:?}");
        assert_eq!(page.status, 400, "{next:?}");
        assert_eq!(page.body, "blocked: off_site_redirect", "{next:?}");
        assert_eq!(page.first("Location"), None);
    }
    let (_, page) = visit(&login_url("/login", "javascript:alert(document.domain)"));
    assert_eq!(page.status, 400);
    assert_eq!(page.body, "blocked: script_scheme");
}

#[test]
fn with_rasp_same_site_targets_still_redirect() {
    for (next, expected) in SAME_SITE {
        let (url, page) = visit(&login_url("/login", next));
        assert_eq!(url.host_str(), Some("shop.test"), "{next:?}");
        assert_eq!(page.status, 200, "{next:?}: {}", page.body);
        assert_eq!(landed(&url), *expected);
        // The unprotected handler agrees: these were never attacks.
        let (plain, _) = visit(&login_url("/unsafe/login", next));
        assert_eq!(plain, url);
    }
}

#[test]
fn a_policy_lets_the_partner_host_through() {
    let (url, page) = visit(&login_url("/partner/login", "http://partner.test/welcome"));
    assert_eq!(url.host_str(), Some("partner.test"));
    assert_eq!(page.body, "partner.test page /welcome");

    for next in ["http://evil.test/login", "http://partner.test@evil.test/"] {
        let (url, page) = visit(&login_url("/partner/login", next));
        assert_eq!(url.host_str(), Some("shop.test"), "{next:?}");
        assert_eq!(page.body, "blocked: off_site_redirect", "{next:?}");
    }
}

#[test]
fn a_target_sanitized_for_redirects_stays_on_the_site() {
    for next in OFF_SITE {
        let (url, page) = visit(&login_url("/sanitized/login", next));
        assert_eq!(url.host_str(), Some("shop.test"), "{next:?}");
        assert_eq!(page.status, 200, "{next:?}: {}", page.body);
    }
    let (url, _) = visit(&login_url("/sanitized/login", "//evil.test/login"));
    assert_eq!(url.path(), "/%2Fevil.test/login");
}

/// A `next` that ends the `Location` header and adds one of its own.
const HEADER_SPLIT: &str = "/account\r\nSet-Cookie: session=attacker";

#[test]
fn without_rasp_a_line_break_in_a_relative_target_adds_a_header() {
    let page = get(
        address("shop.test"),
        "shop.test",
        &format!("/unsafe/login?{}", query("next", HEADER_SPLIT)),
    );
    assert_eq!(page.status, 302);
    assert_eq!(page.first("Location").as_deref(), Some("/account"));
    assert_eq!(
        page.first("Set-Cookie").as_deref(),
        Some("session=attacker")
    );
}

#[test]
fn with_rasp_a_line_break_in_a_relative_target_is_a_detection() {
    for next in [HEADER_SPLIT, "/account\nX-Injected: 1", "/a\rb"] {
        let page = get(
            address("shop.test"),
            "shop.test",
            &format!("/login?{}", query("next", next)),
        );
        assert_eq!(page.status, 400, "{next:?}");
        assert_eq!(page.body, "blocked: splits_header", "{next:?}");
        assert_eq!(page.first("Location"), None);
        assert_eq!(page.first("Set-Cookie"), None);
    }
    // Percent-encoded line breaks are data of the same relative target.
    let (url, page) = visit(&login_url("/login", "/search?q=a%0D%0Ab"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(landed(&url), "/search?q=a%0D%0Ab");
}
