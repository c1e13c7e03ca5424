//! `rasp::sql` against a real PostgreSQL server.
//!
//! Needs `RASP_TEST_POSTGRES_URL` (e.g. `postgres://postgres@127.0.0.1:5432/test`);
//! without it every test says it is skipped and passes. Each test creates
//! its own tables under unique names and drops them afterwards, also when it
//! fails, so runs in parallel and leftovers from other runs do not interfere.
//!
//! Each attack is run twice on the same string-built statement: through
//! `sqlx::AssertSqlSafe`, as an unprotected app would, to prove it really
//! leaks rows or destroys a table; and through `rasp::sql` inside a request
//! that recorded the attacker's input, which must refuse it and leave the
//! database as it was.

mod support;

use rasp::Dialect;
use sqlx::{Connection, PgConnection};
use support::{AppError, BENIGN, Cleanup, expect_blocked, expect_ok};

const URL_VAR: &str = "RASP_TEST_POSTGRES_URL";

/// One test's connection and tables.
struct Db {
    conn: PgConnection,
    users: String,
    notes: String,
}

/// Connects and creates this test's tables, or `None` when not configured.
/// The returned guard drops the tables.
async fn database() -> Option<(Db, Cleanup)> {
    let url = support::database_url(URL_VAR)?;
    let mut conn = PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{URL_VAR} is set but PostgreSQL is unreachable: {e}"));
    let (users, notes) = (
        support::unique_table("users"),
        support::unique_table("notes"),
    );
    let cleanup = {
        let (url, users, notes) = (url.clone(), users.clone(), notes.clone());
        Cleanup::new(move || drop_tables(url, [users, notes]))
    };
    let schema = format!(
        "CREATE TABLE {users} (id INT PRIMARY KEY, name TEXT NOT NULL, pin TEXT NOT NULL, secret TEXT NOT NULL);
         INSERT INTO {users} VALUES (1, 'ann', '1111', 'ann-secret'), (2, 'bob', '2222', 'bob-secret'),
                                    (3, 'admin', '9999', 'admin-secret');
         CREATE TABLE {notes} (id SERIAL PRIMARY KEY, author TEXT NOT NULL, body TEXT NOT NULL);
         INSERT INTO {notes} (author, body) VALUES ('ann', 'hello'), ('bob', 'hi');"
    );
    script_unguarded(&mut conn, schema).await;
    Some((Db { conn, users, notes }, cleanup))
}

async fn drop_tables(url: String, tables: [String; 2]) {
    let Ok(mut conn) = PgConnection::connect(&url).await else {
        return;
    };
    let sql = format!("DROP TABLE IF EXISTS {}", tables.join(", "));
    script_unguarded(&mut conn, sql).await;
}

// The app under test builds its SQL with `format!` — the bug rasp is for.

impl Db {
    fn user_by_name(&self, name: &str) -> String {
        format!(
            "SELECT name, secret FROM {} WHERE name = '{name}'",
            self.users
        )
    }

    fn user_by_dollar_quoted_name(&self, name: &str) -> String {
        format!(
            "SELECT name, secret FROM {} WHERE name = $${name}$$",
            self.users
        )
    }

    fn notes_by_author(&self, author: &str) -> String {
        format!(
            "SELECT author, body FROM {} WHERE author = '{author}'",
            self.notes
        )
    }

    fn delete_notes_by(&self, author: &str) -> String {
        format!("DELETE FROM {} WHERE author = '{author}'", self.notes)
    }

    /// The same statement through rasp.
    async fn rows(&mut self, sql: impl rasp::SqlText) -> Result<Vec<(String, String)>, AppError> {
        let checked = rasp::sql_for(Dialect::Postgres, sql)?;
        Ok(sqlx::query_as(checked).fetch_all(&mut self.conn).await?)
    }

    async fn script(&mut self, sql: String) -> Result<(), AppError> {
        sqlx::raw_sql(rasp::sql_for(Dialect::Postgres, sql)?)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    async fn rows_unguarded(&mut self, sql: String) -> Vec<(String, String)> {
        rows_unguarded(&mut self.conn, sql).await
    }

    async fn table_exists(&mut self, table: &str) -> bool {
        sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
            .bind(table)
            .fetch_one(&mut self.conn)
            .await
            .expect("to_regclass")
    }

    async fn count_notes(&mut self) -> i64 {
        let sql = rasp::sql(format!("SELECT count(*) FROM {}", self.notes)).expect("no context");
        sqlx::query_scalar(sql)
            .fetch_one(&mut self.conn)
            .await
            .expect("count")
    }
}

/// What an unprotected app does: vouch for the string and run it.
#[allow(
    clippy::disallowed_types,
    reason = "the unprotected baseline the attacks are proven against"
)]
async fn rows_unguarded(conn: &mut PgConnection, sql: String) -> Vec<(String, String)> {
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .expect("the unguarded statement runs")
}

#[allow(
    clippy::disallowed_types,
    reason = "the unprotected baseline the attacks are proven against"
)]
async fn script_unguarded(conn: &mut PgConnection, sql: String) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(conn)
        .await
        .expect("the unguarded script runs");
}

fn secrets(rows: &[(String, String)]) -> Vec<&str> {
    let mut secrets: Vec<&str> = rows.iter().map(|(_, secret)| secret.as_str()).collect();
    secrets.sort_unstable();
    secrets
}

#[tokio::test]
async fn or_tautology_leaks_every_secret_unguarded_and_is_blocked() {
    let Some((mut db, _cleanup)) = database().await else {
        return;
    };
    let attack = "nobody' OR '1'='1";

    let blocked =
        expect_blocked(support::in_request(&[attack], db.rows(db.user_by_name(attack))).await);
    assert_eq!(blocked.sink_id, "sqlx.query.postgres");
    let generic =
        support::in_request(&[attack], async { rasp::sql(db.user_by_name(attack)) }).await;
    assert_eq!(generic.unwrap_err().sink_id, "sqlx.query");

    let leaked = db.rows_unguarded(db.user_by_name(attack)).await;
    assert_eq!(
        secrets(&leaked),
        ["admin-secret", "ann-secret", "bob-secret"]
    );
}

#[tokio::test]
async fn union_reads_another_table_unguarded_and_is_blocked() {
    let Some((mut db, _cleanup)) = database().await else {
        return;
    };
    let attack = format!("nobody' UNION SELECT name, secret FROM {} --", db.users);

    expect_blocked(support::in_request(&[&attack], db.rows(db.notes_by_author(&attack))).await);

    let leaked = db.rows_unguarded(db.notes_by_author(&attack)).await;
    assert_eq!(
        secrets(&leaked),
        ["admin-secret", "ann-secret", "bob-secret"]
    );
}

#[tokio::test]
async fn stacked_drop_table_destroys_data_unguarded_and_is_blocked() {
    let Some((mut db, _cleanup)) = database().await else {
        return;
    };
    let attack = format!("x'; DROP TABLE {}; --", db.users);

    expect_blocked(support::in_request(&[&attack], db.script(db.delete_notes_by(&attack))).await);
    let users = db.users.clone();
    assert!(db.table_exists(&users).await, "rasp let the DROP through");
    assert_eq!(db.count_notes().await, 2);

    let sql = db.delete_notes_by(&attack);
    script_unguarded(&mut db.conn, sql).await;
    assert!(
        !db.table_exists(&users).await,
        "the attack should have dropped the table"
    );
}

#[tokio::test]
async fn dollar_quote_breakout_leaks_unguarded_and_is_blocked() {
    let Some((mut db, _cleanup)) = database().await else {
        return;
    };
    // The app dollar-quotes to "not worry about quotes"; the attacker closes
    // the dollar quote instead.
    let attack = "nobody$$ OR true --";

    expect_blocked(
        support::in_request(&[attack], db.rows(db.user_by_dollar_quoted_name(attack))).await,
    );

    let leaked = db
        .rows_unguarded(db.user_by_dollar_quoted_name(attack))
        .await;
    assert_eq!(leaked.len(), 3, "{leaked:?}");

    // Quotes inside a dollar-quoted literal are just characters.
    let name = "O'Brien";
    let found = support::in_request(&[name], db.rows(db.user_by_dollar_quoted_name(name))).await;
    assert!(expect_ok(found).is_empty());
}

#[tokio::test]
async fn benign_inputs_pass_bound_and_in_escaped_literals() {
    let Some((mut db, _cleanup)) = database().await else {
        return;
    };
    for &input in BENIGN {
        let stored = support::in_request(&[input], async {
            // Bound: the statement text never contains the input.
            let insert = rasp::sql(format!(
                "INSERT INTO {} (author, body) VALUES ($1, 'benign')",
                db.notes
            ))?;
            sqlx::query(insert)
                .bind(input)
                .execute(&mut db.conn)
                .await?;
            let select = rasp::sql(format!(
                "SELECT author, body FROM {} WHERE author = $1",
                db.notes
            ))?;
            let by_bind: Vec<(String, String)> = sqlx::query_as(select)
                .bind(input)
                .fetch_all(&mut db.conn)
                .await?;

            // Spliced, escaped by rasp's SQL sanitizer: quotes doubled, and
            // an input without quotes sits whole inside one literal.
            let literal = rasp::Tainted::new(input, &support::INPUT).sanitize::<rasp::Sql>();
            let spliced = rasp::compose!(
                rasp::Sql,
                "SELECT author, body FROM {} WHERE author = {}",
                db.notes,
                literal
            );
            let by_literal = db.rows(spliced).await?;
            Ok::<_, AppError>((by_bind, by_literal))
        })
        .await;
        let (by_bind, by_literal) = expect_ok(stored);
        assert_eq!(
            by_bind,
            [(input.to_owned(), "benign".to_owned())],
            "{input:?}"
        );
        assert_eq!(by_literal, by_bind, "{input:?}");
    }
    assert_eq!(db.count_notes().await, 2 + BENIGN.len() as i64);
}
