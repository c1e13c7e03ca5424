//! The shop's database: SQLite in the shop's temporary folder by default,
//! PostgreSQL when a URL is given, in a schema of its own so that several
//! shops (parallel tests, two variants side by side) never share tables.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

/// Tables and rows, in SQL both databases read. Ids are explicit because
/// `INTEGER PRIMARY KEY` numbers rows by itself in SQLite only.
const SEED: &str = "
    CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL);
    INSERT INTO products (id, name, price) VALUES (1, 'kettle', 30), (2, 'teapot', 25), (3, 'mug', 8);
    CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, api_key TEXT NOT NULL);
    INSERT INTO users (id, name, api_key) VALUES (1, 'ann', 'key-ann-7f3a'), (2, 'admin', 'key-admin-91c2');
";

/// A query as a handler built it: checked by rasp, or sent as it is.
pub(crate) enum Query {
    /// Text built by `rasp::sql!`, its inputs' spans judged.
    Checked(rasp::CheckedSql),
    /// Text sent unchecked: the unprotected shop's bug.
    Unchecked(String),
}

/// Runs `$run` (a closure-like body over a query builder) for whichever
/// kind `$query` is. sqlx accepts the two kinds through different types,
/// so each arm is its own expansion.
macro_rules! with_query {
    ($query:expr, |$q:ident| $run:expr) => {
        match $query {
            Query::Checked(sql) => {
                let $q = sqlx::query_scalar(sql);
                $run
            }
            Query::Unchecked(sql) => {
                // The unguarded path on purpose: the bug the guard prevents.
                #[allow(clippy::disallowed_types)]
                let $q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
                $run
            }
        }
    };
}

/// The shop's connection pool.
#[derive(Clone, Debug)]
pub(crate) enum Database {
    /// `shop.db` in the shop's temporary folder.
    Sqlite(SqlitePool),
    /// The given server, in the schema named here.
    Postgres { pool: PgPool, schema: Arc<str> },
}

impl Database {
    /// Opens and seeds the database: PostgreSQL at `url` if there is one
    /// (in a fresh schema), else a new SQLite file in `dir`.
    pub(crate) async fn open(url: Option<&str>, dir: &Path) -> Result<Database, sqlx::Error> {
        let Some(url) = url else {
            let options = SqliteConnectOptions::new()
                .filename(dir.join("shop.db"))
                .create_if_missing(true);
            let pool = SqlitePoolOptions::new().connect_with(options).await?;
            sqlx::raw_sql(SEED).execute(&pool).await?;
            return Ok(Database::Sqlite(pool));
        };
        let schema = unique_schema();
        let options = PgConnectOptions::from_str(url)?;
        // Created over a plain connection, then every pooled connection
        // starts with it as its search path, so the queries stay unqualified.
        let setup = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        // The name is made here of letters, digits and `_`, never input.
        #[allow(clippy::disallowed_types)]
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&setup)
            .await?;
        setup.close().await;
        let pool = PgPoolOptions::new()
            .connect_with(options.options([("search_path", schema.as_str())]))
            .await?;
        sqlx::raw_sql(SEED).execute(&pool).await?;
        Ok(Database::Postgres {
            pool,
            schema: schema.into(),
        })
    }

    /// Every value of the query's single text column.
    pub(crate) async fn texts(&self, query: Query) -> Result<Vec<String>, sqlx::Error> {
        match self {
            Database::Sqlite(pool) => with_query!(query, |q| q.fetch_all(pool).await),
            Database::Postgres { pool, .. } => with_query!(query, |q| q.fetch_all(pool).await),
        }
    }

    /// The query's single text column of its first row, if any.
    pub(crate) async fn text(&self, query: Query) -> Result<Option<String>, sqlx::Error> {
        match self {
            Database::Sqlite(pool) => with_query!(query, |q| q.fetch_optional(pool).await),
            Database::Postgres { pool, .. } => {
                with_query!(query, |q| q.fetch_optional(pool).await)
            }
        }
    }

    /// Drops the PostgreSQL schema and closes the pool. A SQLite file goes
    /// with the shop's temporary folder.
    pub(crate) async fn close(&self) -> Result<(), sqlx::Error> {
        match self {
            Database::Sqlite(pool) => pool.close().await,
            Database::Postgres { pool, schema } => {
                #[allow(clippy::disallowed_types)]
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .execute(pool)
                .await?;
                pool.close().await;
            }
        }
        Ok(())
    }
}

/// `rasp_shop_<pid>_<nanoseconds>_<n>`: unique across processes and across
/// shops of one process.
fn unique_schema() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static OPENED: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "rasp_shop_{}_{nanos}_{}",
        std::process::id(),
        OPENED.fetch_add(1, Ordering::Relaxed)
    )
}
