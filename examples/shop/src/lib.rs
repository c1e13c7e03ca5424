//! A small shop whose handlers make the mistakes rasp exists for: they vouch
//! for request input with `rasp::trust_unchecked!` and splice it into SQL
//! and file paths. Protected, the guarded sinks refuse the attacks at run
//! time with a 403; unprotected (the same handlers with plain `sqlx` and
//! `std::fs`), the attacks really work.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rasp::axum::{BlockedResponse, RaspLayer, TaintedForm, TaintedPath, TaintedQuery};
use rasp::{Blocked, Dialect, Tainted};
use serde::Deserialize;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

const SCHEMA: &str = "
    CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL);
    INSERT INTO products (name, price) VALUES ('kettle', 30), ('teapot', 25), ('mug', 8);
    CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, api_key TEXT NOT NULL);
    INSERT INTO users (name, api_key) VALUES ('ann', 'key-ann-7f3a'), ('admin', 'key-admin-91c2');
";

/// The shop's data: a seeded SQLite file and a `files/` folder in a
/// temporary directory removed when the shop is dropped.
#[derive(Clone)]
pub struct Shop {
    pool: SqlitePool,
    files: PathBuf,
    root: rasp::fs::Root,
    protected: bool,
    dir: Arc<tempfile::TempDir>,
}

impl Shop {
    /// Creates and seeds the shop's database and files. `protected` chooses
    /// the guarded sinks; `false` runs the same handlers through plain
    /// `sqlx` and `std::fs`, really vulnerable.
    pub async fn open(protected: bool) -> Result<Shop, Box<dyn std::error::Error + Send + Sync>> {
        let dir = tempfile::tempdir()?;
        let files = dir.path().join("files");
        std::fs::create_dir(&files)?;
        std::fs::create_dir(dir.path().join("exports"))?;
        std::fs::write(files.join("manual.txt"), "kettle manual\n")?;
        // Outside the download folder: what a traversal would reach.
        std::fs::write(dir.path().join("secret.txt"), "shop secret\n")?;
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("shop.db"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new().connect_with(options).await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        Ok(Shop {
            pool,
            root: rasp::fs::Root::new(&files)?,
            files,
            protected,
            dir: Arc::new(dir),
        })
    }

    /// The shop's routes. Protected, they run under [`RaspLayer`], which
    /// records every request's input for the guarded sinks; unprotected,
    /// without it, as a service that never heard of rasp.
    pub fn router(self) -> Router {
        let protected = self.protected;
        let routes = Router::new()
            .route("/search", get(search))
            .route("/files/{*path}", get(download))
            .route("/export", get(export))
            .route("/login", post(login));
        let routes = if protected {
            routes.layer(RaspLayer::new())
        } else {
            routes
        };
        // Outside the layer: a fixed answer with no input and no sink, the
        // baseline a load benchmark compares the guarded routes with.
        routes.route("/health", get(health)).with_state(self)
    }
}

/// `GET /health`: `ok`, touching neither the database nor any sink.
async fn health() -> &'static str {
    "ok"
}

/// The shop's policy (`policy.toml`, block mode), built in.
const POLICY: &str = include_str!("../policy.toml");

/// Installs the shop's block-mode policy for every later decision.
pub fn install_policy() -> Result<u64, rasp::policy::PolicyError> {
    rasp::policy::install(rasp::policy::load_str(POLICY)?)
}

/// What a handler can fail with.
#[derive(Debug)]
enum ShopError {
    Blocked(Blocked),
    NotFound,
    Internal(String),
}

impl From<Blocked> for ShopError {
    fn from(blocked: Blocked) -> Self {
        ShopError::Blocked(blocked)
    }
}

impl From<sqlx::Error> for ShopError {
    fn from(err: sqlx::Error) -> Self {
        ShopError::Internal(err.to_string())
    }
}

impl IntoResponse for ShopError {
    fn into_response(self) -> Response {
        match self {
            ShopError::Blocked(blocked) => BlockedResponse(blocked).into_response(),
            ShopError::NotFound => StatusCode::NOT_FOUND.into_response(),
            ShopError::Internal(err) => (StatusCode::INTERNAL_SERVER_ERROR, err).into_response(),
        }
    }
}

/// The deliberate mistake: the raw text is taken out of its `Tainted`
/// wrapper unchecked, so only the run-time check stands between it and the
/// sink.
fn vouched(value: Tainted<String>) -> String {
    rasp::trust_unchecked!(value, "the shop believes its input is clean").into_inner()
}

#[derive(Deserialize)]
struct Search {
    q: String,
}

/// `GET /search?q=`: product names matching `q`, the SQL built with
/// `format!` (the bug).
async fn search(
    State(shop): State<Shop>,
    TaintedQuery(query): TaintedQuery<Search>,
) -> Result<Json<Vec<String>>, ShopError> {
    let q = vouched(query.map(|s| s.q));
    let sql = format!("SELECT name FROM products WHERE name LIKE '%{q}%'");
    let rows = if shop.protected {
        let checked = rasp::sql_for(Dialect::Sqlite, sql)?;
        sqlx::query_scalar(checked).fetch_all(&shop.pool).await?
    } else {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(&shop.pool)
            .await?
    };
    Ok(Json(rows))
}

/// `GET /files/{*path}`: a download under `files/`, the path joined as
/// given (the bug).
async fn download(
    State(shop): State<Shop>,
    TaintedPath(path): TaintedPath<String>,
) -> Result<Vec<u8>, ShopError> {
    let path = vouched(path);
    if shop.protected {
        shop.root.read(&path).map_err(|err| match err.blocked() {
            Some(blocked) => ShopError::Blocked(*blocked),
            None => ShopError::NotFound,
        })
    } else {
        std::fs::read(shop.files.join(&path)).map_err(|_| ShopError::NotFound)
    }
}

#[derive(Deserialize)]
struct Export {
    name: String,
}

/// `GET /export?name=`: writes an order report to `exports/<name>.csv`
/// through `sh -c`, the name spliced into the script (the bug).
async fn export(
    State(shop): State<Shop>,
    TaintedQuery(query): TaintedQuery<Export>,
) -> Result<String, ShopError> {
    let name = vouched(query.map(|e| e.name));
    let script = format!("echo 'order report' > exports/{name}.csv; echo exported");
    let mut command = if shop.protected {
        rasp::process::shell(script)?.std()
    } else {
        // The unguarded path on purpose: this is the bug the guard prevents.
        #[allow(clippy::disallowed_methods)]
        let mut command = std::process::Command::new("sh");
        command.arg("-c").arg(script);
        command
    };
    command.current_dir(shop.dir.path());
    // The shell blocks; keep it off the async workers.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .map_err(|err| ShopError::Internal(err.to_string()))?
        .map_err(|err| ShopError::Internal(err.to_string()))?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[derive(Deserialize)]
struct Login {
    name: String,
    key: String,
    next: String,
}

/// Where a login may send the browser besides the shop itself.
const PARTNER_HOST: &str = "partner.shop.example";

/// `POST /login` (form): checks the user's API key with SQL built by
/// `format!`, then redirects to `next` as given (both bugs).
async fn login(
    State(shop): State<Shop>,
    TaintedForm(form): TaintedForm<Login>,
) -> Result<Response, ShopError> {
    // Joined and split so one unchecked vouch covers the whole form.
    let joined = vouched(form.map(|l| format!("{}\n{}\n{}", l.name, l.key, l.next)));
    let mut parts = joined.splitn(3, '\n');
    let (name, key, next) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let sql = format!("SELECT name FROM users WHERE name = '{name}' AND api_key = '{key}'");
    let user: Option<String> = if shop.protected {
        let checked = rasp::sql_for(Dialect::Sqlite, sql)?;
        sqlx::query_scalar(checked)
            .fetch_optional(&shop.pool)
            .await?
    } else {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_optional(&shop.pool)
            .await?
    };
    if user.is_none() {
        return Ok(StatusCode::UNAUTHORIZED.into_response());
    }
    let location = if shop.protected {
        rasp::redirect::RedirectPolicy::same_site()
            .allow_host(PARTNER_HOST)
            .location(next)
            .map_err(|err| match err.blocked() {
                Some(blocked) => ShopError::Blocked(*blocked),
                None => ShopError::Internal(err.to_string()),
            })?
            .into()
    } else {
        axum::http::HeaderValue::from_str(next)
            .map_err(|err| ShopError::Internal(err.to_string()))?
    };
    Ok((
        StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, location)],
    )
        .into_response())
}
