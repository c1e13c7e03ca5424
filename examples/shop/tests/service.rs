//! The shop through real HTTP on 127.0.0.1: protected, one attack per
//! endpoint is refused with a 403 and a benign request is served; with the
//! guards off, the same attacks really leak data.

use std::net::SocketAddr;

use rasp_example_shop::Shop;

/// Serves a fresh shop on an ephemeral loopback port.
async fn serve(protected: bool) -> String {
    rasp_example_shop::install_policy().expect("the shop's policy is valid");
    let shop = Shop::open(protected).await.expect("seed the shop");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            shop.router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("server");
    });
    format!("http://{addr}")
}

/// Input that turns the product search into a dump of every API key.
const UNION: &str = "zzz' UNION SELECT api_key FROM users --";

async fn get(url: String) -> (u16, String) {
    let res = reqwest::get(url).await.expect("request");
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

#[tokio::test]
async fn protected_search_serves_benign_and_refuses_injection() {
    let base = serve(true).await;
    let (status, body) = get(format!("{base}/search?q=kett")).await;
    assert_eq!((status, body.as_str()), (200, r#"["kettle"]"#));
    let (status, body) = get(format!("{base}/search?q={}", encode(UNION))).await;
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("key-admin"), "{body}");
}

#[tokio::test]
async fn protected_download_serves_benign_and_refuses_traversal() {
    let base = serve(true).await;
    let (status, body) = get(format!("{base}/files/manual.txt")).await;
    assert_eq!((status, body.as_str()), (200, "kettle manual\n"));
    let (status, body) = get(format!("{base}/files/..%2Fsecret.txt")).await;
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("shop secret"), "{body}");
}

#[tokio::test]
async fn unprotected_shop_really_is_vulnerable() {
    let base = serve(false).await;
    let (status, body) = get(format!("{base}/search?q={}", encode(UNION))).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("key-admin-91c2"), "{body}");
    let (status, body) = get(format!("{base}/files/..%2Fsecret.txt")).await;
    assert_eq!((status, body.as_str()), (200, "shop secret\n"));
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

/// Input that adds a command reading a file outside the shop's exports.
const CHAINED: &str = "r; cat secret.txt; echo ";

#[tokio::test]
async fn protected_export_serves_benign_and_refuses_command_injection() {
    let base = serve(true).await;
    let (status, body) = get(format!("{base}/export?name=march")).await;
    assert_eq!((status, body.as_str()), (200, "exported\n"));
    let (status, body) = get(format!("{base}/export?name={}", encode(CHAINED))).await;
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("shop secret"), "{body}");
}

#[tokio::test]
async fn unprotected_export_runs_the_injected_command() {
    let base = serve(false).await;
    let (status, body) = get(format!("{base}/export?name={}", encode(CHAINED))).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("shop secret"), "{body}");
}

/// Posts a login form; redirects are returned, not followed.
async fn login(base: &str, name: &str, key: &str, next: &str) -> (u16, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let body = format!(
        "name={}&key={}&next={}",
        encode(name),
        encode(key),
        encode(next)
    );
    let res = client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default();
    (status, location)
}

/// Logs in as `admin` without the key.
const BYPASS: &str = "admin' --";
const EVIL: &str = "https://evil.example/phish";

#[tokio::test]
async fn protected_login_serves_benign_and_refuses_bypass_and_open_redirect() {
    let base = serve(true).await;
    let ok = login(&base, "ann", "key-ann-7f3a", "/orders").await;
    assert_eq!(ok, (303, "/orders".to_owned()));
    let partner = login(
        &base,
        "ann",
        "key-ann-7f3a",
        "https://partner.shop.example/a",
    )
    .await;
    assert_eq!(partner, (303, "https://partner.shop.example/a".to_owned()));
    assert_eq!(login(&base, "ann", "wrong", "/").await.0, 401);
    assert_eq!(login(&base, BYPASS, "x", "/").await.0, 403);
    assert_eq!(login(&base, "ann", "key-ann-7f3a", EVIL).await.0, 403);
}

#[tokio::test]
async fn unprotected_login_is_bypassed_and_redirects_anywhere() {
    let base = serve(false).await;
    assert_eq!(login(&base, BYPASS, "x", "/").await, (303, "/".to_owned()));
    let open = login(&base, "ann", "key-ann-7f3a", EVIL).await;
    assert_eq!(open, (303, EVIL.to_owned()));
}
