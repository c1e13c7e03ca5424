//! A search endpoint with a SQL injection bug, with and without rasp.
//!
//! The handler splices the search term into its SQL with `format!`. Run
//! unprotected (sqlx's `AssertSqlSafe`, the author vouching for the string)
//! a crafted term dumps every user's secret; run through `rasp::sql` inside
//! a request that recorded the term, the same statement is refused before it
//! reaches the database, while ordinary searches, quotes and all, still work.
//!
//! ```text
//! cargo run --example sql_search --features sqlx
//! ```
//!
//! Security events are printed to stderr (`RUST_LOG` overrides the filter).
//! Exits non-zero if the attack is not blocked or a benign search is.

use std::io::IsTerminal;
use std::process::ExitCode;

use sqlx::SqlitePool;
use sqlx::sqlite::SqlitePoolOptions;
use tracing_subscriber::EnvFilter;

/// An HTTP request, reduced to what the demo reads from it.
struct Request<'a> {
    query: &'a str,
}

/// Where the search term comes from: an HTTP query parameter. The attribute
/// turns the `String` into a `rasp::Tainted<String>` and records its text in
/// the current request, so guarded sinks can recognise it later.
#[rasp::source(kind = "http.query")]
fn search_term(req: &Request<'_>) -> String {
    req.query.to_owned()
}

const SEED: &str = r#"
    CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, secret TEXT NOT NULL);
    INSERT INTO users (name, email, secret) VALUES
        ('ann', 'ann@example.test', 'sk_live_ann_4f9a'),
        ('bob', 'bob@example.test', 'sk_live_bob_77c1'),
        ('Dwayne "The Rock" Johnson', 'rock@example.test', 'sk_live_rock_e3d0');
"#;

/// The three searches of the demo: what a user types into the search box.
const SEARCHES: [(&str, Expect); 3] = [
    ("ann", Expect::Allowed),
    (r#""The Rock""#, Expect::Allowed),
    ("' UNION SELECT name, secret FROM users --", Expect::Blocked),
];

#[derive(Clone, Copy, PartialEq)]
enum Expect {
    Allowed,
    Blocked,
}

/// The bug: the term is spliced into a string literal.
fn search_sql(term: &str) -> String {
    format!("SELECT name, email FROM users WHERE name LIKE '%{term}%'")
}

/// The handler as written without rasp: sqlx only runs a dynamic string
/// when its author asserts that it is safe.
#[allow(
    clippy::disallowed_types,
    reason = "the unprotected handler, shown for comparison"
)]
async fn search_unprotected(
    pool: &SqlitePool,
    term: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(search_sql(term)))
        .fetch_all(pool)
        .await
}

/// The same handler with rasp: `rasp::sql` checks the string instead.
async fn search(pool: &SqlitePool, term: &str) -> Result<Vec<(String, String)>, SearchError> {
    let sql = rasp::sql(search_sql(term))?;
    Ok(sqlx::query_as(sql).fetch_all(pool).await?)
}

#[derive(Debug)]
enum SearchError {
    Blocked(rasp::Blocked),
    Db(sqlx::Error),
}

impl From<rasp::Blocked> for SearchError {
    fn from(blocked: rasp::Blocked) -> Self {
        SearchError::Blocked(blocked)
    }
}

impl From<sqlx::Error> for SearchError {
    fn from(err: sqlx::Error) -> Self {
        SearchError::Db(err)
    }
}

/// One request: `#[rasp::protect]` opens the request context that the
/// source records into and the sink checks against.
#[rasp::protect(route = "/search")]
async fn serve(pool: &SqlitePool, req: &Request<'_>) -> Result<Vec<(String, String)>, SearchError> {
    // The handler's bug needs the raw text; parsing or binding would avoid
    // it, and rasp's runtime check is what catches it when nobody did.
    let term = rasp::trust_unchecked!(
        search_term(req),
        rasp::Sql,
        "demo: the string-built query below is the bug rasp catches"
    );
    search(pool, term.get()).await
}

/// "2 rows" or "4 rows, 3 secrets leaked".
fn describe(rows: &[(String, String)]) -> String {
    let leaked = rows
        .iter()
        .filter(|(_, v)| v.starts_with("sk_live_"))
        .count();
    let plural = if rows.len() == 1 { "" } else { "s" };
    match leaked {
        0 => format!("{} row{plural}", rows.len()),
        n => format!("{} row{plural}, {n} secrets leaked", rows.len()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<ExitCode, sqlx::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("rasp::security=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    // One connection that never expires: an in-memory database lives as
    // long as its connection.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect("sqlite::memory:")
        .await?;
    sqlx::raw_sql(SEED).execute(&pool).await?;

    let mut failures = 0;
    println!(
        "{:<44} {:<28} protected by rasp",
        "search term", "unprotected"
    );
    println!("{}", "-".repeat(110));
    for (term, expect) in SEARCHES {
        let unprotected = match search_unprotected(&pool, term).await {
            Ok(rows) => describe(&rows),
            Err(err) => format!("error: {err}"),
        };
        let protected = serve(&pool, &Request { query: term }).await;
        let (shown, as_expected) = match (&protected, expect) {
            (Ok(rows), Expect::Allowed) => (describe(rows), true),
            (Err(SearchError::Blocked(b)), Expect::Blocked) => (format!("BLOCKED: {b}"), true),
            (Ok(rows), Expect::Blocked) => (format!("NOT BLOCKED: {}", describe(rows)), false),
            (Err(SearchError::Blocked(b)), Expect::Allowed) => {
                (format!("WRONGLY BLOCKED: {b}"), false)
            }
            (Err(SearchError::Db(err)), _) => (format!("database error: {err}"), false),
        };
        if !as_expected {
            failures += 1;
        }
        println!("{term:<44} {unprotected:<28} {shown}");
    }

    if failures > 0 {
        eprintln!("{failures} search(es) did not behave as expected");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
