//! A small shop whose handlers make the mistakes rasp exists for: they
//! splice request input into SQL, a file path, a shell script, an outbound
//! URL, a `Location`, a cookie, a page and an audit log line.
//!
//! Protected, the shop builds SQL, the path, the script and the cookie with
//! rasp's span-exact macros (`rasp::sql!`, `path!`, `shell!`, `header!`),
//! which judge exactly the bytes each input wrote, and it vouches for the
//! rest with `rasp::trust_unchecked!` (the mistake), so the guarded sinks
//! find those inputs verbatim in what they are handed. Either way the
//! attacks are refused at run time with a 403, and the policy's entry
//! rules throttle login guessing. Unprotected (the same handlers with
//! `format!`, plain `sqlx`, `std::fs`, `std::process`, `reqwest`, `http`
//! and file writes, without `RaspLayer`), the attacks really work.
//!
//! | route | sink class | protected sink |
//! |---|---|---|
//! | `GET /search?q=` | sql | `rasp::sql!` (span-exact) |
//! | `GET /files/{*path}` | path | `rasp::path!` under a `rasp::fs::Root` (span-exact) |
//! | `GET /export?name=` | shell | `rasp::shell!` (span-exact) |
//! | `GET /avatar?url=` | url (SSRF) | `rasp::http::GuardedClient` |
//! | `POST /login` (`name`, `key`, `next`) | sql, redirect, log; entry rate limit | `rasp::sql!` (span-exact), `RedirectPolicy`, `rasp::log::line` |
//! | `GET /profile?name=&bio=` | html | `rasp::html::raw` in an askama page |
//! | `GET /lang?lang=` | header | `rasp::header!` (span-exact) |
//! | `GET /health` | none | none |

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rasp::axum::{BlockedResponse, InstalledPolicy, RaspLayer};
use rasp::{Blocked, Tainted};

mod db;
mod handlers;

use db::Database;

/// Where the shop fetches avatars from unless told otherwise.
pub const AVATAR_HOST: &str = "avatars.shop.example";

/// How the shop is set up. [`Options::new`] gives the defaults.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Guarded sinks, `RaspLayer` and entry rules (`true`), or plain sinks
    /// and no layer (`false`, really vulnerable).
    pub protected: bool,
    /// PostgreSQL to use instead of a SQLite file (`postgres://…`). The
    /// shop creates a schema of its own there and drops it on
    /// [`Shop::close`].
    pub database_url: Option<String>,
    /// The one host the avatar fetch is meant to reach, and the only
    /// internal one the protected shop's client may reach.
    pub avatar_host: String,
    /// Where [`Options::avatar_host`] resolves to, like a hosts file entry:
    /// a stand-in CDN on this machine. `None` uses DNS.
    pub avatar_addr: Option<SocketAddr>,
    /// The audit log file (appended to). `None`: `audit.log` in the shop's
    /// temporary folder.
    pub audit_log: Option<PathBuf>,
}

impl Options {
    /// SQLite, avatars from [`AVATAR_HOST`] through DNS, the audit log in
    /// the shop's temporary folder.
    pub fn new(protected: bool) -> Options {
        Options {
            protected,
            database_url: None,
            avatar_host: AVATAR_HOST.to_owned(),
            avatar_addr: None,
            audit_log: None,
        }
    }
}

/// What opening the shop can fail with.
pub type OpenError = Box<dyn std::error::Error + Send + Sync>;

/// The shop's data: a seeded database, a `files/` folder and an audit log,
/// in a temporary directory removed when the last clone is dropped.
#[derive(Clone)]
pub struct Shop {
    db: Database,
    // Shared rather than owned: axum clones the state for every request,
    // and a clone should not allocate.
    files: Arc<Path>,
    root: rasp::fs::Root,
    avatars: Avatars,
    audit_log: Arc<AuditLog>,
    protected: bool,
    dir: Arc<tempfile::TempDir>,
}

/// The avatar fetch's client: guarded with the avatar host allowlisted
/// (on its default port; a pinned address supplies the stand-in's port),
/// or plain.
#[derive(Clone)]
enum Avatars {
    Guarded {
        client: rasp::http::GuardedClient,
        /// The CDN's name: an avatar URL naming it is fetched from the
        /// CDN at a URL the shop writes.
        host: Arc<str>,
    },
    Plain(reqwest::Client),
}

/// The audit log file; the lock keeps each line whole.
struct AuditLog {
    path: PathBuf,
    lock: std::sync::Mutex<()>,
}

impl Shop {
    /// Creates and seeds the shop with the default [`Options`]. `protected`
    /// chooses the guarded sinks; `false` runs the same handlers through
    /// plain sinks, really vulnerable.
    pub async fn open(protected: bool) -> Result<Shop, OpenError> {
        Shop::open_with(Options::new(protected)).await
    }

    /// Creates and seeds the shop as `options` say.
    pub async fn open_with(options: Options) -> Result<Shop, OpenError> {
        let dir = tempfile::tempdir()?;
        let files = dir.path().join("files");
        std::fs::create_dir(&files)?;
        std::fs::create_dir(dir.path().join("exports"))?;
        std::fs::write(files.join("manual.txt"), "kettle manual\n")?;
        // Outside the download folder: what a traversal would reach.
        std::fs::write(dir.path().join("secret.txt"), "shop secret\n")?;
        let db = Database::open(options.database_url.as_deref(), dir.path()).await?;
        let audit_log = options
            .audit_log
            .clone()
            .unwrap_or_else(|| dir.path().join("audit.log"));
        Ok(Shop {
            db,
            root: rasp::fs::Root::new(&files)?,
            files: files.into(),
            avatars: avatar_client(&options)?,
            audit_log: Arc::new(AuditLog {
                path: audit_log,
                lock: std::sync::Mutex::new(()),
            }),
            protected: options.protected,
            dir: Arc::new(dir),
        })
    }

    /// The audit log file the shop appends to.
    pub fn audit_log(&self) -> &Path {
        &self.audit_log.path
    }

    /// The folder holding `files/`, `exports/` and the SQLite file.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Closes the database, dropping the shop's PostgreSQL schema.
    pub async fn close(&self) -> Result<(), OpenError> {
        Ok(self.db.close().await?)
    }

    /// The shop's routes. Protected, they run under [`RaspLayer`], which
    /// records every request's input for the guarded sinks, and under the
    /// installed policy's entry rules (its rate limit names `/login`);
    /// unprotected, without any layer, as a service that never heard of
    /// rasp.
    pub fn router(self) -> Router {
        let routes = Router::new()
            .route("/search", get(handlers::search))
            .route("/files/{*path}", get(handlers::download))
            .route("/export", get(handlers::export))
            .route("/avatar", get(handlers::avatar))
            .route("/profile", get(handlers::profile))
            .route("/lang", get(handlers::lang));
        let login = Router::new().route("/login", post(handlers::login));
        let routes = if self.protected {
            // The policy's entry rules apply to every route (under the
            // plain layer, `#[rasp::protect]` applies them); its login
            // budget names `/login` in `routes`, so browsing stays
            // unlimited while guessing keys is throttled.
            routes
                .layer(RaspLayer::new())
                .merge(login.layer(RaspLayer::new().entry_guard(InstalledPolicy::new())))
        } else {
            routes.merge(login)
        };
        // Outside the layer: a fixed answer with no input and no sink, the
        // baseline a load benchmark compares the guarded routes with.
        routes
            .route("/health", get(handlers::health))
            .with_state(self)
    }
}

/// How long an avatar fetch may take; the stand-in servers answer at once.
const AVATAR_TIMEOUT: Duration = Duration::from_secs(5);

fn avatar_client(options: &Options) -> Result<Avatars, OpenError> {
    let pinned: Vec<SocketAddr> = options.avatar_addr.into_iter().collect();
    if options.protected {
        let client = rasp::http::GuardedClient::builder()
            .allow_internal(&options.avatar_host)
            .resolve(&options.avatar_host, &pinned)
            .timeout(AVATAR_TIMEOUT)
            .build()?;
        Ok(Avatars::Guarded {
            client,
            host: options.avatar_host.as_str().into(),
        })
    } else {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .timeout(AVATAR_TIMEOUT);
        if !pinned.is_empty() {
            builder = builder.resolve_to_addrs(&options.avatar_host, &pinned);
        }
        Ok(Avatars::Plain(builder.build()?))
    }
}

/// The shop's policy (`policy.toml`: block mode, a login rate limit),
/// built in.
const POLICY: &str = include_str!("../policy.toml");

/// Installs the shop's policy for every later decision. A reinstall starts
/// the entry rules' budgets afresh.
pub fn install_policy() -> Result<u64, rasp::policy::PolicyError> {
    rasp::policy::install(rasp::policy::load_str(POLICY)?)
}

/// What a handler can fail with.
#[derive(Debug)]
enum ShopError {
    Blocked(Blocked),
    NotFound,
    BadGateway(String),
    Internal(String),
}

impl ShopError {
    /// A failure of the shop itself, answered with a 500 and its reason.
    fn internal(err: impl std::fmt::Display) -> ShopError {
        ShopError::Internal(err.to_string())
    }

    /// What a guard's error becomes: its refusal when it refused the input,
    /// else `otherwise` (the input was fine, the operation itself failed).
    fn refused_or(blocked: Option<&Blocked>, otherwise: ShopError) -> ShopError {
        match blocked {
            Some(blocked) => ShopError::Blocked(*blocked),
            None => otherwise,
        }
    }
}

impl From<Blocked> for ShopError {
    fn from(blocked: Blocked) -> Self {
        ShopError::Blocked(blocked)
    }
}

impl From<sqlx::Error> for ShopError {
    fn from(err: sqlx::Error) -> Self {
        ShopError::internal(err)
    }
}

impl From<rasp::header::HeaderError> for ShopError {
    fn from(err: rasp::header::HeaderError) -> Self {
        ShopError::refused_or(err.blocked(), ShopError::internal(&err))
    }
}

impl IntoResponse for ShopError {
    fn into_response(self) -> Response {
        match self {
            ShopError::Blocked(blocked) => BlockedResponse(blocked).into_response(),
            ShopError::NotFound => StatusCode::NOT_FOUND.into_response(),
            ShopError::BadGateway(err) => (StatusCode::BAD_GATEWAY, err).into_response(),
            ShopError::Internal(err) => (StatusCode::INTERNAL_SERVER_ERROR, err).into_response(),
        }
    }
}

// The deliberate mistake, one helper per sink class the shop feeds: the
// raw value is taken out of its `Tainted` wrapper unchecked, so only the
// run-time check stands between it and the sink. Each vouches for one
// class, and the sink audit lists each.

/// Vouched for SQL.
fn vouched_sql<T>(value: Tainted<T>) -> T {
    rasp::trust_unchecked!(value, rasp::Sql, "the shop believes its input is clean").into_inner()
}

/// Vouched for a file path.
fn vouched_path<T>(value: Tainted<T>) -> T {
    rasp::trust_unchecked!(value, rasp::Path, "the shop believes its input is clean").into_inner()
}

/// Vouched for a shell command line.
fn vouched_shell<T>(value: Tainted<T>) -> T {
    rasp::trust_unchecked!(value, rasp::Shell, "the shop believes its input is clean").into_inner()
}

/// Vouched for an outbound URL.
fn vouched_url<T>(value: Tainted<T>) -> T {
    rasp::trust_unchecked!(value, rasp::Url, "the shop believes its input is clean").into_inner()
}

/// Vouched for a redirect target.
fn vouched_redirect<T>(value: Tainted<T>) -> T {
    rasp::trust_unchecked!(
        value,
        rasp::Redirect,
        "the shop believes its input is clean"
    )
    .into_inner()
}

/// Vouched for HTML.
fn vouched_html<T>(value: Tainted<T>) -> T {
    rasp::trust_unchecked!(value, rasp::Html, "the shop believes its input is clean").into_inner()
}

/// Vouched for a log line.
fn vouched_log<T>(value: Tainted<T>) -> T {
    rasp::trust_unchecked!(value, rasp::Log, "the shop believes its input is clean").into_inner()
}

/// Vouched for a header value.
fn vouched_header<T>(value: Tainted<T>) -> T {
    rasp::trust_unchecked!(value, rasp::Header, "the shop believes its input is clean").into_inner()
}
