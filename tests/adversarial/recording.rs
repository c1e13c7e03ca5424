//! Recording: every input of a request under `RaspLayer` is recorded and
//! checked, whatever extractor the handler uses and however many inputs
//! the request carries; past the input limits the request is refused, or
//! (when the limits say `monitor`) counted and reported.
//!
//! The app under test uses axum's plain extractors (`Query`, `Path`,
//! `Form`, `Json`, `HeaderMap`) and splices their values into SQL with
//! `format!`, then runs it through the guarded SQLite sink. Each attack is
//! sent over real HTTP on 127.0.0.1 and must fail (403 and a blocked
//! event, or 413 past the limits); its benign twin must get 200.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use rasp::axum::{BlockedResponse, RaspLayer, TaintedJson};
use rasp::{Blocked, Dialect, InputLimits, OnExceeded};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::SqlitePool;
use sqlx::sqlite::SqlitePoolOptions;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Rewrites `WHERE name = '…'` into a condition true for every row.
const ATTACK: &str = "nobody' OR '1'='1";

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

/// The app's mistake: request text spliced into SQL.
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
    Query(q): Query<ByName>,
) -> Result<Json<Vec<String>>, AppError> {
    secrets_of(&pool, &q.name).await
}

async fn by_path(
    State(pool): State<SqlitePool>,
    Path(name): Path<String>,
) -> Result<Json<Vec<String>>, AppError> {
    secrets_of(&pool, &name).await
}

async fn by_form(
    State(pool): State<SqlitePool>,
    Form(q): Form<ByName>,
) -> Result<Json<Vec<String>>, AppError> {
    secrets_of(&pool, &q.name).await
}

#[derive(Deserialize)]
struct Nested {
    filter: Filter,
}

#[derive(Deserialize)]
struct Filter {
    name: String,
}

async fn by_json(
    State(pool): State<SqlitePool>,
    Json(q): Json<Nested>,
) -> Result<Json<Vec<String>>, AppError> {
    secrets_of(&pool, &q.filter.name).await
}

async fn by_header(
    State(pool): State<SqlitePool>,
    headers: HeaderMap,
) -> Result<Json<Vec<String>>, AppError> {
    let name = headers
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    secrets_of(&pool, name).await
}

/// Reads the `user` cookie by hand, percent-decoding it as cookie jars do.
async fn by_cookie(
    State(pool): State<SqlitePool>,
    headers: HeaderMap,
) -> Result<Json<Vec<String>>, AppError> {
    let cookies = headers
        .get("cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let name = cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == "user")
        .map(|(_, value)| {
            url::form_urlencoded::parse(format!("v={}", value.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    secrets_of(&pool, &name).await
}

/// Binds the name: any text is fine here, quotes included.
async fn bound(
    State(pool): State<SqlitePool>,
    Query(q): Query<ByName>,
) -> Result<Json<Vec<String>>, AppError> {
    let rows = sqlx::query_scalar("SELECT secret FROM users WHERE name = ?")
        .bind(q.name)
        .fetch_all(&pool)
        .await?;
    Ok(Json(rows))
}

/// The body's length, as the handler received it.
async fn body_len(body: axum::body::Bytes) -> String {
    body.len().to_string()
}

/// The tainting extractor, under the layer: parses once, still checked.
async fn tainted_json(
    State(pool): State<SqlitePool>,
    TaintedJson(q): TaintedJson<Nested>,
) -> Result<Json<Vec<String>>, AppError> {
    let name = rasp::trust_unchecked!(q.map(|q| q.filter.name), rasp::Sql, "vouched").into_inner();
    secrets_of(&pool, &name).await
}

async fn database() -> SqlitePool {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    sqlx::raw_sql(
        "CREATE TABLE users (name TEXT NOT NULL, secret TEXT NOT NULL);
         INSERT INTO users VALUES ('ann', 'ann-secret'), ('bob', 'bob-secret'),
             ('O''Brien', 'obrien-secret');",
    )
    .execute(&pool)
    .await
    .expect("schema");
    pool
}

async fn serve(layer: RaspLayer) -> String {
    let app = Router::new()
        .route("/query", get(by_query))
        .route("/path/{name}", get(by_path))
        .route("/form", post(by_form))
        .route("/json", post(by_json))
        .route("/header", get(by_header))
        .route("/cookie", get(by_cookie))
        .route("/bound", get(bound))
        .route("/len", post(body_len))
        .route("/tainted-json", post(tainted_json))
        .with_state(database().await)
        .layer(layer);
    crate::serve(app).await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("response");
    let status = StatusCode::from_u16(response.status().as_u16()).expect("status");
    let body = response.text().await.expect("body");
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    (status, value)
}

// ---------------------------------------------------------------- events

type Fields = BTreeMap<String, String>;

/// The security events of this thread's requests (the tests run on a
/// current-thread runtime, so server and client share the thread).
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<Fields>>>);

impl Events {
    fn capture() -> (Events, tracing::subscriber::DefaultGuard) {
        let events = Events::default();
        let subscriber = tracing_subscriber::registry().with(events.clone());
        (events, tracing::subscriber::set_default(subscriber))
    }

    fn take(&self) -> Vec<Fields> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// Takes the events and asserts one is named `name`; returns it.
    #[track_caller]
    fn expect(&self, name: &str) -> Fields {
        let events = self.take();
        events
            .iter()
            .find(|e| e.get("event.name").is_some_and(|n| n == name))
            .cloned()
            .unwrap_or_else(|| panic!("no {name} event in {events:?}"))
    }
}

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Events {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == rasp::event::TARGET {
            let mut fields = Fields::new();
            event.record(&mut Visitor(&mut fields));
            self.0.lock().unwrap().push(fields);
        }
    }
}

#[track_caller]
fn assert_rows((status, body): (StatusCode, Value), rows: &[&str]) {
    assert_eq!(status, StatusCode::OK, "body: {body}");
    assert_eq!(body, json!(rows));
}

#[track_caller]
fn assert_blocked((status, body): (StatusCode, Value), events: &Events) {
    assert_eq!(status, StatusCode::FORBIDDEN, "body: {body}");
    let event = events.expect("rasp.sqli.blocked");
    assert_eq!(event["rasp.action"], "block");
}

#[track_caller]
fn assert_too_large((status, body): (StatusCode, Value), events: &Events, limit: &str) {
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "body: {body}");
    assert_eq!(body["error"], "too_large");
    let event = events.expect("rasp.limits.exceeded");
    assert_eq!(event["rasp.limit"], limit);
    assert_eq!(event["rasp.action"], "block");
    assert_eq!(
        event["rasp.request.id"],
        body["request_id"].as_str().unwrap()
    );
}

/// `n` distinct dummy pairs, then `name`, form-encoded.
fn padded(n: usize, name: &str) -> String {
    let mut text: String = (0..n).map(|i| format!("p{i}=v{i}&")).collect();
    text.push_str("name=");
    text.extend(url::form_urlencoded::byte_serialize(name.as_bytes()));
    text
}

// ---------------------------------------------------------------- tests

/// Handlers with axum's own extractors are protected by the layer alone.
#[tokio::test]
async fn plain_extractors_are_protected_by_the_layer() {
    let _serial = crate::serial();
    let (events, _guard) = Events::capture();
    let base = serve(RaspLayer::new()).await;
    let http = client();
    let encoded: String = url::form_urlencoded::byte_serialize(ATTACK.as_bytes()).collect();

    assert_rows(
        send(http.get(format!("{base}/query?name=ann"))).await,
        &["ann-secret"],
    );
    assert_blocked(
        send(http.get(format!("{base}/query?name={encoded}"))).await,
        &events,
    );

    assert_rows(
        send(http.get(format!("{base}/path/bob"))).await,
        &["bob-secret"],
    );
    let in_path = ATTACK.replace(' ', "%20").replace('\'', "%27");
    assert_blocked(
        send(http.get(format!("{base}/path/{in_path}"))).await,
        &events,
    );

    assert_rows(
        send(http.post(format!("{base}/form")).form(&[("name", "ann")])).await,
        &["ann-secret"],
    );
    assert_blocked(
        send(http.post(format!("{base}/form")).form(&[("name", ATTACK)])).await,
        &events,
    );

    assert_rows(
        send(
            http.post(format!("{base}/json"))
                .json(&json!({ "filter": { "name": "bob" } })),
        )
        .await,
        &["bob-secret"],
    );
    // Escaped in the document, unescaped by the parser: recorded unescaped.
    let escaped = r#"{ "filter": { "name": "nobody\u0027 OR \u00271\u0027=\u00271" } }"#;
    assert_blocked(
        send(
            http.post(format!("{base}/json"))
                .header("content-type", "application/json")
                .body(escaped),
        )
        .await,
        &events,
    );

    assert_rows(
        send(http.get(format!("{base}/header")).header("x-user", "ann")).await,
        &["ann-secret"],
    );
    assert_blocked(
        send(http.get(format!("{base}/header")).header("x-user", ATTACK)).await,
        &events,
    );

    assert_rows(
        send(
            http.get(format!("{base}/cookie"))
                .header("cookie", "sid=1; user=bob"),
        )
        .await,
        &["bob-secret"],
    );
    assert_blocked(
        send(
            http.get(format!("{base}/cookie"))
                .header("cookie", format!("sid=1; user={encoded}")),
        )
        .await,
        &events,
    );
}

/// Quotes in a value are not an attack where the app binds it: the layer
/// records `O'Brien` and the bound statement runs.
#[tokio::test]
async fn the_benign_twin_with_a_quote_passes() {
    let _serial = crate::serial();
    let (events, _guard) = Events::capture();
    let base = serve(RaspLayer::new()).await;
    let http = client();
    assert_rows(
        send(
            http.get(format!("{base}/bound"))
                .query(&[("name", "O'Brien")]),
        )
        .await,
        &["obrien-secret"],
    );
    assert_rows(
        send(
            http.post(format!("{base}/json"))
                .json(&json!({ "filter": { "name": "Ann -- the admin" } })),
        )
        .await,
        &[],
    );
    assert!(events.take().is_empty(), "no events for benign requests");
}

/// Dummy pairs before the real one no longer push it out of the checks:
/// with 32 and 1,000 of them the injection is blocked; with 20,000 the
/// request is past the input limits and refused before the handler runs.
#[tokio::test]
async fn padding_never_lets_the_injection_run() {
    let _serial = crate::serial();
    let (events, _guard) = Events::capture();
    let base = serve(RaspLayer::new()).await;
    let http = client();
    for n in [32, 1_000] {
        let url = format!("{base}/query?{}", padded(n, ATTACK));
        assert_blocked(send(http.get(url)).await, &events);
        let url = format!("{base}/query?{}", padded(n, "ann"));
        assert_rows(send(http.get(url)).await, &["ann-secret"]);
    }
    for n in [32, 1_000, 20_000] {
        let form = |name| {
            http.post(format!("{base}/form"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(padded(n, name))
        };
        if n == 20_000 {
            assert_too_large(send(form(ATTACK)).await, &events, "max_inputs");
            // Refused before the handler: the benign twin too, by design.
            assert_too_large(send(form("ann")).await, &events, "max_inputs");
        } else {
            assert_blocked(send(form(ATTACK)).await, &events);
            assert_rows(send(form("ann")).await, &["ann-secret"]);
        }
    }
    // JSON: 20,000 keys before the real one.
    let mut doc: serde_json::Map<String, Value> = (0..20_000)
        .map(|i| (format!("k{i}"), Value::String(format!("v{i}"))))
        .collect();
    doc.insert("filter".to_owned(), json!({ "name": ATTACK }));
    assert_too_large(
        send(http.post(format!("{base}/json")).json(&doc)).await,
        &events,
        "max_inputs",
    );
}

/// The same pair repeated 20,000 times is recorded once: the request is
/// handled in linear time, and the injection after it is blocked.
#[tokio::test]
async fn repeated_pairs_are_recorded_once_and_fast() {
    let _serial = crate::serial();
    let (events, _guard) = Events::capture();
    let base = serve(RaspLayer::new()).await;
    let http = client();
    let repeated = |name: &str| {
        let mut body = "p=v&".repeat(20_000);
        body.push_str("name=");
        body.extend(url::form_urlencoded::byte_serialize(name.as_bytes()));
        body
    };
    let start = Instant::now();
    let response = send(
        http.post(format!("{base}/form"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(repeated(ATTACK)),
    )
    .await;
    let took = start.elapsed();
    assert_blocked(response, &events);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_rows(
        send(
            http.post(format!("{base}/form"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(repeated("bob")),
        )
        .await,
        &["bob-secret"],
    );
}

/// A body over the layer's body limit is refused (413) by default; with
/// limits that monitor it reaches the handler unchanged, reported.
#[tokio::test]
async fn a_body_over_the_limit_is_refused_or_reported() {
    let _serial = crate::serial();
    let (events, _guard) = Events::capture();
    let small = InputLimits {
        max_body_bytes: 1024,
        ..InputLimits::default()
    };
    let base = serve(RaspLayer::new().input_limits(small)).await;
    let http = client();
    let filler = "x".repeat(4096);
    let attack = json!({ "pad": filler, "filter": { "name": ATTACK } });
    assert_too_large(
        send(http.post(format!("{base}/json")).json(&attack)).await,
        &events,
        "max_body_bytes",
    );
    // Within the limit the same handler is served.
    assert_rows(
        send(
            http.post(format!("{base}/json"))
                .json(&json!({ "filter": { "name": "ann" } })),
        )
        .await,
        &["ann-secret"],
    );

    let monitor = InputLimits {
        on_exceeded: OnExceeded::Monitor,
        ..small
    };
    let base = serve(RaspLayer::new().input_limits(monitor)).await;
    let (status, body) = send(
        http.post(format!("{base}/len"))
            .header("content-type", "text/plain")
            .body(filler.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!(4096), "handed on whole");
    let event = events.expect("rasp.limits.exceeded");
    assert_eq!(event["rasp.limit"], "max_body_bytes");
    assert_eq!(event["rasp.action"], "monitor");
}

/// `TaintedJson` under the layer leaves recording to the layer (the body
/// is parsed once, into the handler's type) and is still checked.
#[tokio::test]
async fn tainted_json_under_the_layer_is_still_checked() {
    let _serial = crate::serial();
    let (events, _guard) = Events::capture();
    let base = serve(RaspLayer::new()).await;
    let http = client();
    assert_rows(
        send(
            http.post(format!("{base}/tainted-json"))
                .json(&json!({ "filter": { "name": "ann" } })),
        )
        .await,
        &["ann-secret"],
    );
    assert_blocked(
        send(
            http.post(format!("{base}/tainted-json"))
                .json(&json!({ "filter": { "name": ATTACK } })),
        )
        .await,
        &events,
    );
}
