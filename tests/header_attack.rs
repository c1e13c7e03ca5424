//! Header injection against a real HTTP server on 127.0.0.1.
//!
//! `shop.test` echoes a `lang` query parameter into a `Set-Cookie` header
//! and a `name` parameter into `Content-Disposition`. Its server writes
//! header values as raw bytes (see `loopback_http`). Without rasp, a
//! decoded `%0d%0a` in the input splits the response: the client sees a
//! second `Set-Cookie: admin=1`, or a body of the attacker's choosing; a
//! `;` adds a `Domain=` attribute to the shop's cookie. `http::HeaderValue`
//! alone refuses the line break but not the cookie attribute. With
//! `rasp::header` the same requests are refused with 400, while values
//! with tabs, `=`, percent signs and non-ASCII letters pass.

mod loopback_http;

use std::net::SocketAddr;
use std::sync::LazyLock;

use cookie::Cookie;
use http::HeaderValue;
use loopback_http::{AppError, Received, Request, Response, Server, get, query, respond};

#[rasp::source(kind = "http.query")]
fn lang_param(req: &Request) -> String {
    req.param("lang")
}

#[rasp::source(kind = "http.query")]
fn name_param(req: &Request) -> String {
    req.param("name")
}

fn lang_cookie(lang: &str) -> String {
    format!("lang={lang}; Path=/; HttpOnly")
}

fn disposition(name: &str) -> String {
    format!("attachment; filename=\"{name}\"")
}

#[rasp::protect(route = "/lang")]
fn set_lang(req: &Request) -> Result<Response, AppError> {
    let cookie = rasp::header::set_cookie(lang_param(req).map(|lang| lang_cookie(&lang)))?;
    Ok(Response::new(200, "language saved").header("Set-Cookie", cookie.as_bytes()))
}

#[rasp::protect(route = "/download")]
fn download(req: &Request) -> Result<Response, AppError> {
    let value = rasp::header::value(name_param(req).map(|name| disposition(&name)))?;
    Ok(Response::new(200, "file").header("Content-Disposition", value.as_bytes()))
}

/// Validation by `http` alone, without rasp.
fn set_lang_with_http_only(req: &Request) -> Response {
    match HeaderValue::from_str(&lang_cookie(&req.param("lang"))) {
        Ok(value) => Response::new(200, "language saved").header("Set-Cookie", value.as_bytes()),
        Err(err) => Response::new(500, err.to_string()),
    }
}

fn shop(req: &Request) -> Response {
    match req.path.as_str() {
        // The handlers as written without rasp.
        "/unsafe/lang" => Response::new(200, "language saved")
            .header("Set-Cookie", lang_cookie(&req.param("lang"))),
        "/unsafe/download" => Response::new(200, "file")
            .header("Content-Disposition", disposition(&req.param("name"))),
        "/http-only/lang" => set_lang_with_http_only(req),
        "/lang" => respond(set_lang(req)),
        "/download" => respond(download(req)),
        path => Response::new(404, format!("no page {path}")),
    }
}

static SHOP: LazyLock<Server> = LazyLock::new(|| Server::start(shop));

fn shop_addr() -> SocketAddr {
    SHOP.addr
}

fn request(route: &str, name: &str, value: &str) -> Received {
    get(
        shop_addr(),
        "shop.test",
        &format!("{route}?{}", query(name, value)),
    )
}

/// Cookies the client would store, parsed as the `cookie` crate parses them.
fn cookies(response: &Received) -> Vec<Cookie<'static>> {
    response
        .all("Set-Cookie")
        .into_iter()
        .map(|v| Cookie::parse(v).expect("a cookie the client accepts"))
        .collect()
}

const SPLITS: &[&str] = &["en\r\nSet-Cookie: admin=1", "en\nSet-Cookie: admin=1"];

const COOKIE_ATTRIBUTE: &str = "en; Domain=shop.test; Max-Age=315360000";

const BODY_SPLIT: &str = "x\r\n\r\n<script>alert(document.cookie)</script>";

#[test]
fn without_rasp_the_response_is_split() {
    for lang in SPLITS {
        let response = request("/unsafe/lang", "lang", lang);
        let jar = cookies(&response);
        assert!(
            jar.iter().any(|c| (c.name(), c.value()) == ("admin", "1")),
            "{lang:?}: {jar:?}"
        );
    }
    let response = request("/unsafe/download", "name", BODY_SPLIT);
    assert!(response.body.starts_with("<script>"), "{:?}", response.body);
}

#[test]
fn without_rasp_a_cookie_attribute_is_added() {
    let response = request("/unsafe/lang", "lang", COOKIE_ATTRIBUTE);
    let [cookie] = &cookies(&response)[..] else {
        panic!("one cookie expected: {response:?}");
    };
    assert_eq!(cookie.value(), "en");
    assert_eq!(cookie.domain(), Some("shop.test"));
}

#[test]
fn http_alone_refuses_line_breaks_but_not_cookie_attributes() {
    for lang in SPLITS {
        let response = request("/http-only/lang", "lang", lang);
        assert_eq!(response.status, 500, "{lang:?}");
        assert!(cookies(&response).is_empty());
    }
    let response = request("/http-only/lang", "lang", COOKIE_ATTRIBUTE);
    assert_eq!(response.status, 200);
    assert_eq!(cookies(&response)[0].domain(), Some("shop.test"));
}

#[test]
fn with_rasp_the_injection_is_refused() {
    for lang in SPLITS {
        let response = request("/lang", "lang", lang);
        assert_eq!(response.status, 400, "{lang:?}");
        assert_eq!(response.body, "blocked: splits_header");
        assert!(cookies(&response).is_empty());
    }
    let response = request("/lang", "lang", COOKIE_ATTRIBUTE);
    assert_eq!(response.status, 400);
    assert_eq!(response.body, "blocked: cookie_attribute");
    assert!(cookies(&response).is_empty());

    let response = request("/download", "name", BODY_SPLIT);
    assert_eq!(response.status, 400);
    assert_eq!(response.body, "blocked: splits_header");
    assert_eq!(response.first("Content-Disposition"), None);
}

#[test]
fn with_rasp_look_alikes_pass() {
    for (lang, value) in [("en-GB", "en-GB"), ("YWJj==", "YWJj=="), ("a=b=c", "a=b=c")] {
        let response = request("/lang", "lang", lang);
        assert_eq!(response.status, 200, "{lang:?}: {}", response.body);
        let [cookie] = &cookies(&response)[..] else {
            panic!("one cookie expected: {response:?}");
        };
        assert_eq!((cookie.name(), cookie.value()), ("lang", value));
        assert_eq!(cookie.domain(), None);
        assert_eq!(cookie.http_only(), Some(true));
    }
    for name in [
        "q3\treport.pdf",
        "%0d%0aSet-Cookie: admin=1",
        "r\u{e9}sum\u{e9}; version 2.pdf",
    ] {
        let response = request("/download", "name", name);
        assert_eq!(response.status, 200, "{name:?}: {}", response.body);
        assert_eq!(
            response.all("Content-Disposition"),
            [disposition(name)],
            "{name:?}"
        );
        assert!(response.all("Set-Cookie").is_empty());
    }
}
