//! rasp in an axum app, through real HTTP: servers on 127.0.0.1 with
//! `axum::serve` and `ConnectInfo`, driven by `reqwest`.
//!
//! The app under test makes the mistake rasp exists for: it vouches for
//! request input with `trust_unchecked!` and splices it into SQL with
//! `format!`. Every input kind (query, path, JSON body, form, header,
//! cookie) must reach the guarded SQLite sink, run when benign and be
//! refused with a 403 when it changes the statement.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rasp::axum::{
    BlockedResponse, ClientAddrPolicy, EntryDecision, Identity, IpBlocklist, PerIpRateLimit, Quota,
    RaspLayer, Refusal, TaintedCookies, TaintedForm, TaintedHeaders, TaintedJson, TaintedPath,
    TaintedQuery,
};
use rasp::{Blocked, ContextFutureExt, Dialect, RequestContext, Tainted};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::SqlitePool;
use sqlx::sqlite::SqlitePoolOptions;

const SCHEMA: &str = "
    CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, pin TEXT NOT NULL, secret TEXT NOT NULL);
    INSERT INTO users (id, name, pin, secret) VALUES
        (1, 'ann', '1111', 'ann-secret'),
        (2, 'bob', '2222', 'bob-secret'),
        (3, 'admin', '9999', 'admin-secret');
";

/// Input that rewrites `WHERE name = '…'` into a condition true for every row.
const TAUTOLOGY: &str = "nobody' OR '1'='1";

// ---------------------------------------------------------------- the app

#[derive(Debug)]
enum AppError {
    Blocked(Blocked),
    Db(sqlx::Error),
}

impl From<Blocked> for AppError {
    fn from(blocked: Blocked) -> Self {
        AppError::Blocked(blocked)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        AppError::Db(err)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Blocked(blocked) => BlockedResponse(blocked).into_response(),
            AppError::Db(err) => {
                (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response()
            }
        }
    }
}

/// The app's mistake: it takes the tainted value out unchecked.
fn vouched(value: Tainted<String>) -> String {
    rasp::trust_unchecked!(value, rasp::Sql, "the app believes its input is clean").into_inner()
}

/// Secrets of the users named `name`, through the guarded sink.
async fn secrets_of(pool: &SqlitePool, name: &str) -> Result<Json<Vec<String>>, AppError> {
    let sql = format!("SELECT secret FROM users WHERE name = '{name}'");
    let checked = rasp::sql_for(Dialect::Sqlite, sql)?;
    Ok(Json(sqlx::query_scalar(checked).fetch_all(pool).await?))
}

#[derive(Deserialize)]
struct ByName {
    name: String,
}

async fn by_query(
    State(pool): State<SqlitePool>,
    TaintedQuery(query): TaintedQuery<ByName>,
) -> Result<Json<Vec<String>>, AppError> {
    secrets_of(&pool, &vouched(query.map(|q| q.name))).await
}

/// `Result<_, BlockedResponse>` and `?` on the guarded call, no app error type.
async fn by_path(
    State(pool): State<SqlitePool>,
    TaintedPath(name): TaintedPath<String>,
) -> Result<Json<Vec<String>>, BlockedResponse> {
    let sql = format!("SELECT secret FROM users WHERE name = '{}'", vouched(name));
    let checked = rasp::sql_for(Dialect::Sqlite, sql)?;
    let rows = sqlx::query_scalar(checked).fetch_all(&pool).await;
    Ok(Json(rows.expect("the checked statement runs")))
}

#[derive(Deserialize)]
struct Search {
    filter: Filter,
}

#[derive(Deserialize)]
struct Filter {
    names: Vec<String>,
}

/// The attack sits in a nested array of the JSON body.
async fn by_json(
    State(pool): State<SqlitePool>,
    TaintedJson(search): TaintedJson<Search>,
) -> Result<Json<Vec<String>>, AppError> {
    let names = vouched(search.map(|s| s.filter.names.join("', '")));
    let sql = format!("SELECT secret FROM users WHERE name IN ('{names}')");
    let checked = rasp::sql_for(Dialect::Sqlite, sql)?;
    Ok(Json(sqlx::query_scalar(checked).fetch_all(&pool).await?))
}

#[derive(Deserialize)]
struct Login {
    name: String,
    pin: String,
}

async fn by_form(
    State(pool): State<SqlitePool>,
    TaintedForm(login): TaintedForm<Login>,
) -> Result<Json<Vec<String>>, AppError> {
    let (name, pin) = vouched(login.map(|l| format!("{}\n{}", l.name, l.pin)))
        .split_once('\n')
        .map(|(n, p)| (n.to_owned(), p.to_owned()))
        .expect("joined above");
    let sql = format!("SELECT secret FROM users WHERE name = '{name}' AND pin = '{pin}'");
    let checked = rasp::sql_for(Dialect::Sqlite, sql)?;
    Ok(Json(sqlx::query_scalar(checked).fetch_all(&pool).await?))
}

async fn by_header(
    State(pool): State<SqlitePool>,
    headers: TaintedHeaders,
) -> Result<Json<Vec<String>>, AppError> {
    let name = headers.get("x-user").map(vouched).unwrap_or_default();
    secrets_of(&pool, &name).await
}

async fn by_cookie(
    State(pool): State<SqlitePool>,
    cookies: TaintedCookies,
) -> Result<Json<Vec<String>>, AppError> {
    let name = cookies.get("user").map(vouched).unwrap_or_default();
    secrets_of(&pool, &name).await
}

/// Protected and checked by axum's own handler diagnostics at once.
#[rasp::protect]
#[axum::debug_handler]
async fn protected(
    State(pool): State<SqlitePool>,
    TaintedQuery(query): TaintedQuery<ByName>,
) -> Result<Json<Vec<String>>, AppError> {
    secrets_of(&pool, &vouched(query.map(|q| q.name))).await
}

/// What the request context of this request holds.
#[derive(Debug, Serialize, Deserialize)]
struct ContextView {
    request_id: String,
    route: Option<String>,
    client_ip: Option<String>,
    inputs: Vec<String>,
    dropped: u64,
}

impl ContextView {
    fn of(ctx: &RequestContext) -> ContextView {
        ContextView {
            request_id: ctx.request_id().to_owned(),
            route: ctx.route().map(str::to_owned),
            client_ip: ctx.client_ip().map(|ip| ip.to_string()),
            inputs: ctx
                .inputs()
                .map(|i| String::from_utf8_lossy(i.bytes()).into_owned())
                .collect(),
            dropped: ctx.dropped_inputs(),
        }
    }

    fn current() -> Option<ContextView> {
        RequestContext::with_current(|ctx| ctx.map(ContextView::of))
    }
}

/// Records the query, lets other requests run, then reports its context.
async fn context(TaintedQuery(_query): TaintedQuery<Value>) -> Json<Option<ContextView>> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    tokio::task::yield_now().await;
    Json(ContextView::current())
}

/// Reads a header, then reports the context.
async fn context_with_header(headers: TaintedHeaders) -> Json<Option<ContextView>> {
    let _ = headers.get("x-odd");
    Json(ContextView::current())
}

/// The context as seen from spawned tasks, with and without carrying it.
async fn spawned(TaintedQuery(_query): TaintedQuery<Value>) -> Json<Value> {
    let carried = tokio::spawn(async { ContextView::current() }.in_current_context());
    let bare = tokio::spawn(async { ContextView::current() });
    let carried = carried.await.expect("task");
    let bare = bare.await.expect("task");
    Json(json!({ "carried": carried, "bare": bare.is_some() }))
}

async fn hello() -> &'static str {
    "hello"
}

async fn database() -> SqlitePool {
    // One connection: every connection to `:memory:` is its own database.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    sqlx::raw_sql(SCHEMA).execute(&pool).await.expect("schema");
    pool
}

async fn app(layer: RaspLayer<impl rasp::axum::EntryGuard>) -> Router {
    Router::new()
        .route("/users", get(by_query))
        .route("/users/{name}", get(by_path))
        .route("/search", post(by_json))
        .route("/login", post(by_form))
        .route("/me/header", get(by_header))
        .route("/me/cookie", get(by_cookie))
        .route("/protected", get(protected))
        .route("/context", get(context))
        .route("/context/header", get(context_with_header))
        .route("/spawned", get(spawned))
        .route("/hello", get(hello))
        .with_state(database().await)
        .layer(layer)
}

/// Serves `app` on an ephemeral loopback port, with the TCP peer available.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("server");
    });
    format!("http://{addr}")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// The status and the JSON body of `request`.
async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("response");
    let status = StatusCode::from_u16(response.status().as_u16()).expect("status");
    let body = response.text().await.expect("body");
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    (status, value)
}

/// Asserts a default 403 that says nothing about rasp's internals.
#[track_caller]
fn assert_forbidden((status, body): (StatusCode, Value)) {
    assert_eq!(status, StatusCode::FORBIDDEN, "body: {body}");
    assert_eq!(body["error"], "forbidden");
    let text = body.to_string();
    for internal in ["sql", "sink", "secret", "OR", "injection"] {
        assert!(!text.contains(internal), "{internal:?} leaked in {text}");
    }
}

#[track_caller]
fn assert_secrets((status, body): (StatusCode, Value), expected: &[&str]) {
    assert_eq!(status, StatusCode::OK, "body: {body}");
    assert_eq!(body, json!(expected));
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn query_input_runs_when_benign_and_is_blocked_when_it_rewrites_the_sql() {
    let base = serve(app(RaspLayer::new()).await).await;
    let http = client();
    let url = format!("{base}/users");
    assert_secrets(
        send(http.get(&url).query(&[("name", "ann")])).await,
        &["ann-secret"],
    );
    assert_secrets(send(http.get(&url).query(&[("name", "nobody")])).await, &[]);
    assert_forbidden(send(http.get(&url).query(&[("name", TAUTOLOGY)])).await);
}

#[tokio::test]
async fn path_input_is_blocked_through_blocked_response_and_question_mark() {
    let base = serve(app(RaspLayer::new()).await).await;
    let http = client();
    assert_secrets(
        send(http.get(format!("{base}/users/bob"))).await,
        &["bob-secret"],
    );
    // Percent-encoded in the URL, decoded by the router: the decoded text
    // is what is recorded and what reaches the SQL.
    let attack = format!("{base}/users/nobody'%20OR%20'1'='1");
    assert_forbidden(send(http.get(attack)).await);
}

#[tokio::test]
async fn nested_json_strings_are_recorded_and_blocked() {
    let base = serve(app(RaspLayer::new()).await).await;
    let http = client();
    let url = format!("{base}/search");
    let benign = json!({ "filter": { "names": ["ann", "bob"] } });
    assert_secrets(
        send(http.post(&url).json(&benign)).await,
        &["ann-secret", "bob-secret"],
    );
    let attack = json!({ "filter": { "names": ["ann", "x') OR 1=1 --"] } });
    assert_forbidden(send(http.post(&url).json(&attack)).await);
    // axum's own rejections still apply: no JSON content type, 415.
    let (status, _) = send(http.post(&url).body(benign.to_string())).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn form_fields_are_recorded_and_blocked() {
    let base = serve(app(RaspLayer::new()).await).await;
    let http = client();
    let url = format!("{base}/login");
    assert_secrets(
        send(http.post(&url).form(&[("name", "admin"), ("pin", "9999")])).await,
        &["admin-secret"],
    );
    assert_secrets(
        send(http.post(&url).form(&[("name", "admin"), ("pin", "0000")])).await,
        &[],
    );
    // The classic login bypass through the pin field.
    let attack = [("name", "admin"), ("pin", "' OR '1'='1")];
    assert_forbidden(send(http.post(&url).form(&attack)).await);
}

#[tokio::test]
async fn header_and_cookie_values_are_recorded_when_read_and_blocked() {
    let base = serve(app(RaspLayer::new()).await).await;
    let http = client();
    let header = format!("{base}/me/header");
    assert_secrets(
        send(http.get(&header).header("x-user", "ann")).await,
        &["ann-secret"],
    );
    assert_forbidden(send(http.get(&header).header("x-user", TAUTOLOGY)).await);
    let cookie = format!("{base}/me/cookie");
    assert_secrets(
        send(http.get(&cookie).header("cookie", "theme=dark; user=bob")).await,
        &["bob-secret"],
    );
    assert_forbidden(
        send(
            http.get(&cookie)
                .header("cookie", format!("user={TAUTOLOGY}")),
        )
        .await,
    );
}

#[tokio::test]
async fn protected_debug_handler_shares_the_layer_context() {
    let base = serve(app(RaspLayer::new()).await).await;
    let http = client();
    let url = format!("{base}/protected");
    assert_secrets(
        send(http.get(&url).query(&[("name", "ann")])).await,
        &["ann-secret"],
    );
    assert_forbidden(send(http.get(&url).query(&[("name", TAUTOLOGY)])).await);
}

#[tokio::test]
async fn context_carries_route_request_id_client_and_inputs() {
    let base = serve(app(RaspLayer::new()).await).await;
    let http = client();
    let (status, body) = send(
        http.get(format!("{base}/context"))
            .query(&[("q", "books & more")])
            .header("x-request-id", "req-42"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let view: ContextView = serde_json::from_value(body).expect("context view");
    assert_eq!(view.request_id, "req-42");
    assert_eq!(view.route.as_deref(), Some("/context"));
    assert_eq!(view.client_ip.as_deref(), Some("127.0.0.1"));
    // The layer records the query, then every header value.
    assert_eq!(view.inputs[..2], ["q", "books & more"]);
    assert!(
        view.inputs.iter().any(|i| i == "req-42"),
        "{:?}",
        view.inputs
    );

    // A request id that is not a plausible id is replaced by a generated one.
    let forged = "x".repeat(4000);
    let (_, body) = send(
        http.get(format!("{base}/context"))
            .header("x-request-id", &forged),
    )
    .await;
    let view: ContextView = serde_json::from_value(body).expect("context view");
    assert!(!view.request_id.is_empty() && view.request_id != forged);
}

#[tokio::test]
async fn the_403_names_the_request_id_and_nothing_else() {
    let base = serve(app(RaspLayer::new()).await).await;
    let (status, body) = send(
        client()
            .get(format!("{base}/users"))
            .query(&[("name", TAUTOLOGY)])
            .header("x-request-id", "trace-7"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({ "error": "forbidden", "request_id": "trace-7" })
    );
}

#[tokio::test]
async fn many_inputs_are_all_recorded_and_monitored_caps_never_fail_the_request() {
    let base = serve(app(RaspLayer::new()).await).await;
    let http = client();
    // 500 distinct parameters: within the default caps, all are recorded.
    let pairs: Vec<(String, String)> = (0..500)
        .map(|i| (format!("k{i}"), format!("v{i}")))
        .collect();
    let (status, body) = send(http.get(format!("{base}/context")).query(&pairs)).await;
    assert_eq!(status, StatusCode::OK);
    let view: ContextView = serde_json::from_value(body).expect("context view");
    assert!(view.inputs.len() >= 1000, "{}", view.inputs.len());
    assert_eq!(view.dropped, 0);
    // Caps that monitor keep 64 inputs, count the rest, and let it run.
    let limits = rasp::InputLimits {
        max_inputs: 64,
        on_exceeded: rasp::OnExceeded::Monitor,
        ..rasp::InputLimits::default()
    };
    let monitored = serve(app(RaspLayer::new().input_limits(limits)).await).await;
    let (status, body) = send(http.get(format!("{monitored}/context")).query(&pairs)).await;
    assert_eq!(status, StatusCode::OK);
    let view: ContextView = serde_json::from_value(body).expect("context view");
    assert_eq!(view.inputs.len(), 64);
    assert!(view.dropped >= 1);
    // A header value that is not UTF-8 is read (lossily), not refused.
    let odd = reqwest::header::HeaderValue::from_bytes(b"caf\xe9 cr\xe8me").expect("obs-text");
    let (status, body) = send(
        http.get(format!("{base}/context/header"))
            .header("x-odd", odd),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let view: ContextView = serde_json::from_value(body).expect("context view");
    assert!(
        view.inputs.iter().any(|i| i == "caf\u{fffd} cr\u{fffd}me"),
        "{:?}",
        view.inputs
    );
}

#[tokio::test]
async fn spawned_work_sees_the_context_only_when_carried() {
    let base = serve(app(RaspLayer::new()).await).await;
    let (status, body) = send(
        client()
            .get(format!("{base}/spawned"))
            .query(&[("q", "carried")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["carried"]["inputs"][0], "q");
    assert_eq!(body["carried"]["inputs"][1], "carried");
    assert_eq!(body["bare"], json!(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_never_see_each_others_context() {
    let base = serve(app(RaspLayer::new()).await).await;
    let http = client();
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..200 {
        let http = http.clone();
        let url = format!("{base}/context");
        requests.spawn(async move {
            let token = format!("token-{i:03}");
            let (status, body) = send(http.get(url).query(&[("only", &token)])).await;
            (token, status, body)
        });
    }
    let mut ids = BTreeSet::new();
    while let Some(done) = requests.join_next().await {
        let (token, status, body) = done.expect("request task");
        assert_eq!(status, StatusCode::OK);
        let view: ContextView = serde_json::from_value(body).expect("context view");
        assert_eq!(view.inputs[..2], ["only".to_owned(), token]);
        assert!(ids.insert(view.request_id), "request ids are distinct");
    }
    assert_eq!(ids.len(), 200);
}

#[tokio::test]
async fn a_blocked_client_address_gets_403_before_the_handler() {
    let blocklist = IpBlocklist::new(["127.0.0.1/32".parse().expect("net")]);
    let base = serve(app(RaspLayer::new().entry_guard(blocklist)).await).await;
    let (status, body) = send(client().get(format!("{base}/hello"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "forbidden");
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let blocked = || IpBlocklist::new(["192.0.2.0/24".parse().expect("net")]);
    let http = client();
    // By default the forwarding header is the client's word, and ignored.
    let base = serve(app(RaspLayer::new().entry_guard(blocked())).await).await;
    let (status, _) = send(
        http.get(format!("{base}/hello"))
            .header("x-forwarded-for", "192.0.2.9"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Behind a trusted proxy (here, loopback) the forwarded client counts.
    let behind_proxy =
        ClientAddrPolicy::default().trusted_proxies(["127.0.0.0/8".parse().expect("net")]);
    let layer = RaspLayer::new()
        .client_addr(behind_proxy)
        .entry_guard(blocked());
    let base = serve(app(layer).await).await;
    let (status, _) = send(
        http.get(format!("{base}/hello"))
            .header("x-forwarded-for", "192.0.2.9"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = send(
        http.get(format!("{base}/context"))
            .header("x-forwarded-for", "198.51.100.4, 127.0.0.5"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["client_ip"], "198.51.100.4");
}

#[tokio::test]
async fn over_the_rate_limit_gets_429_with_retry_after() {
    let quota = Quota::per_minute(NonZeroU32::new(2).expect("non-zero"));
    let base = serve(app(RaspLayer::new().entry_guard(PerIpRateLimit::new(quota))).await).await;
    let http = client();
    for _ in 0..2 {
        let (status, _) = send(http.get(format!("{base}/hello"))).await;
        assert_eq!(status, StatusCode::OK);
    }
    let response = http
        .get(format!("{base}/hello"))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    // One request regains its slot every 30 s.
    assert!((1..=30).contains(&retry_after), "retry-after {retry_after}");
    let body: Value = response.json().await.expect("json body");
    assert_eq!(body["error"], "too_many_requests");
}

#[tokio::test]
async fn a_custom_responder_renders_entry_and_handler_refusals() {
    let responder = |refusal: &Refusal, _ctx: Option<&RequestContext>| -> Response {
        let what = match refusal {
            Refusal::Attack(_) => "attack",
            Refusal::Denied => "denied",
            Refusal::Throttled { .. } => "throttled",
            _ => "other",
        };
        (StatusCode::IM_A_TEAPOT, what).into_response()
    };
    let only_hello_blocked = |ctx: &RequestContext| {
        if ctx.route() == Some("/hello") {
            EntryDecision::Block
        } else {
            EntryDecision::Allow
        }
    };
    let layer = RaspLayer::new()
        .entry_guard(only_hello_blocked)
        .responder(responder);
    let base = serve(app(layer).await).await;
    let http = client();
    let (status, body) = send(
        http.get(format!("{base}/users"))
            .query(&[("name", TAUTOLOGY)]),
    )
    .await;
    assert_eq!((status, body), (StatusCode::IM_A_TEAPOT, json!("attack")));
    let (status, body) = send(http.get(format!("{base}/hello"))).await;
    assert_eq!((status, body), (StatusCode::IM_A_TEAPOT, json!("denied")));
    assert_secrets(
        send(http.get(format!("{base}/users")).query(&[("name", "ann")])).await,
        &["ann-secret"],
    );
}

#[tokio::test]
async fn identified_users_reach_the_entry_guard() {
    // As a gateway that authenticated the caller would set it.
    let identify = |headers: &axum::http::HeaderMap, _: &axum::http::Extensions| Identity {
        user: headers
            .get("x-authenticated-user")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        tenant: None,
    };
    let no_mallory = |ctx: &RequestContext| {
        if ctx.user() == Some("mallory") {
            EntryDecision::Block
        } else {
            EntryDecision::Allow
        }
    };
    let layer = RaspLayer::new().identify(identify).entry_guard(no_mallory);
    let base = serve(app(layer).await).await;
    let http = client();
    let url = format!("{base}/hello");
    let (status, _) = send(http.get(&url).header("x-authenticated-user", "alice")).await;
    assert_eq!(status, StatusCode::OK);
    assert_forbidden(send(http.get(&url).header("x-authenticated-user", "mallory")).await);
}
