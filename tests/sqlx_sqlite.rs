//! `rasp::sql` against a real SQLite database (in memory, one per test).
//!
//! Each attack is run twice on the same string-built statement: through
//! `sqlx::AssertSqlSafe`, as an unprotected app would, to prove it really
//! leaks rows or destroys a table; and through `rasp::sql` inside a request
//! that recorded the attacker's input, which must refuse it and leave the
//! database as it was.

mod support;

use rasp::Dialect;
use sqlx::{Connection, SqliteConnection};
use support::{AppError, BENIGN, MonitorMode, SecurityEvents, expect_blocked, expect_ok};

const SCHEMA: &str = "
    CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, pin TEXT NOT NULL, secret TEXT NOT NULL);
    INSERT INTO users (id, name, pin, secret) VALUES
        (1, 'ann', '1111', 'ann-secret'),
        (2, 'bob', '2222', 'bob-secret'),
        (3, 'admin', '9999', 'admin-secret');
    CREATE TABLE notes (id INTEGER PRIMARY KEY, author TEXT NOT NULL, body TEXT NOT NULL);
    INSERT INTO notes (author, body) VALUES ('ann', 'hello'), ('bob', 'hi');
";

async fn database() -> SqliteConnection {
    let mut conn = SqliteConnection::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    sqlx::raw_sql(SCHEMA)
        .execute(&mut conn)
        .await
        .expect("schema");
    conn
}

// The app under test builds its SQL with `format!` — the bug rasp is for.

fn user_by_name(name: &str) -> String {
    format!("SELECT name, secret FROM users WHERE name = '{name}'")
}

fn user_by_id(id: &str) -> String {
    format!("SELECT name, secret FROM users WHERE id = {id}")
}

fn notes_by_author(author: &str) -> String {
    format!("SELECT author, body FROM notes WHERE author = '{author}'")
}

fn login(name: &str, pin: &str) -> String {
    format!("SELECT name, secret FROM users WHERE name = '{name}' AND pin = '{pin}'")
}

fn delete_notes_by(author: &str) -> String {
    format!("DELETE FROM notes WHERE author = '{author}'")
}

/// What an unprotected app does: vouch for the string and run it.
#[allow(
    clippy::disallowed_types,
    reason = "the unprotected baseline the attacks are proven against"
)]
async fn rows_unguarded(conn: &mut SqliteConnection, sql: String) -> Vec<(String, String)> {
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .expect("the unguarded statement runs")
}

#[allow(
    clippy::disallowed_types,
    reason = "the unprotected baseline the attacks are proven against"
)]
async fn script_unguarded(conn: &mut SqliteConnection, sql: String) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(conn)
        .await
        .expect("the unguarded script runs");
}

/// The same statement through rasp.
async fn rows(
    conn: &mut SqliteConnection,
    sql: impl rasp::SqlText,
) -> Result<Vec<(String, String)>, AppError> {
    let checked = rasp::sql_for(Dialect::Sqlite, sql)?;
    Ok(sqlx::query_as(checked).fetch_all(conn).await?)
}

async fn script(conn: &mut SqliteConnection, sql: String) -> Result<(), AppError> {
    sqlx::raw_sql(rasp::sql_for(Dialect::Sqlite, sql)?)
        .execute(conn)
        .await?;
    Ok(())
}

async fn count(conn: &mut SqliteConnection, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(conn)
        .await
        .expect("count")
}

async fn table_exists(conn: &mut SqliteConnection, table: &str) -> bool {
    sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
    )
    .bind(table)
    .fetch_one(conn)
    .await
    .expect("sqlite_master")
        == 1
}

fn secrets(rows: &[(String, String)]) -> Vec<&str> {
    rows.iter().map(|(_, secret)| secret.as_str()).collect()
}

#[tokio::test]
async fn or_tautology_leaks_every_secret_unguarded_and_is_blocked() {
    let _mode = support::block_mode();
    let mut db = database().await;
    let attack = "nobody' OR '1'='1";

    let blocked =
        expect_blocked(support::in_request(&[attack], rows(&mut db, user_by_name(attack))).await);
    assert_eq!(blocked.sink_id, "sqlx.query.sqlite");

    let leaked = rows_unguarded(&mut db, user_by_name(attack)).await;
    assert_eq!(
        secrets(&leaked),
        ["ann-secret", "bob-secret", "admin-secret"]
    );
}

#[tokio::test]
async fn generic_dialect_blocks_the_same_attack() {
    let _mode = support::block_mode();
    let mut db = database().await;
    let attack = "nobody' OR '1'='1";
    let result = support::in_request(&[attack], async {
        let checked = rasp::sql(user_by_name(attack))?;
        Ok::<_, AppError>(sqlx::query(checked).fetch_all(&mut db).await?.len())
    })
    .await;
    assert_eq!(expect_blocked(result).sink_id, "sqlx.query");
}

#[tokio::test]
async fn union_reads_another_table_unguarded_and_is_blocked() {
    let _mode = support::block_mode();
    let mut db = database().await;
    let attack = "nobody' UNION SELECT name, secret FROM users --";

    expect_blocked(support::in_request(&[attack], rows(&mut db, notes_by_author(attack))).await);

    let leaked = rows_unguarded(&mut db, notes_by_author(attack)).await;
    assert_eq!(leaked.len(), 3, "{leaked:?}");
    assert!(secrets(&leaked).contains(&"admin-secret"));
}

#[tokio::test]
async fn numeric_tautology_leaks_unguarded_and_is_blocked() {
    let _mode = support::block_mode();
    let mut db = database().await;
    let attack = "0 OR 1=1";

    expect_blocked(support::in_request(&[attack], rows(&mut db, user_by_id(attack))).await);

    assert_eq!(rows_unguarded(&mut db, user_by_id(attack)).await.len(), 3);
    // A plain number in the same place is one token: it passes.
    let found = support::in_request(&["2"], rows(&mut db, user_by_id("2"))).await;
    assert_eq!(secrets(&expect_ok(found)), ["bob-secret"]);
}

#[tokio::test]
async fn comment_skips_the_pin_check_unguarded_and_is_blocked() {
    let _mode = support::block_mode();
    let mut db = database().await;
    let (name, pin) = ("admin' --", "0000");

    expect_blocked(support::in_request(&[name, pin], rows(&mut db, login(name, pin))).await);

    let leaked = rows_unguarded(&mut db, login(name, pin)).await;
    assert_eq!(
        secrets(&leaked),
        ["admin-secret"],
        "logged in without the pin"
    );
    // With the right pin and no tricks, the login works through rasp.
    let ok = support::in_request(&["admin", "9999"], rows(&mut db, login("admin", "9999"))).await;
    assert_eq!(secrets(&expect_ok(ok)), ["admin-secret"]);
}

#[tokio::test]
async fn stacked_drop_table_destroys_data_unguarded_and_is_blocked() {
    let _mode = support::block_mode();
    let mut db = database().await;
    let attack = "x'; DROP TABLE users; --";

    let blocked = expect_blocked(
        support::in_request(&[attack], script(&mut db, delete_notes_by(attack))).await,
    );
    assert_eq!(blocked.class, rasp::SinkClass::Sql);
    assert!(
        table_exists(&mut db, "users").await,
        "rasp let the DROP through"
    );
    assert_eq!(count(&mut db, "SELECT count(*) FROM notes").await, 2);

    script_unguarded(&mut db, delete_notes_by(attack)).await;
    assert!(
        !table_exists(&mut db, "users").await,
        "the attack should have dropped users"
    );
}

#[tokio::test]
async fn benign_inputs_pass_bound_and_in_escaped_literals() {
    let _mode = support::block_mode();
    let mut db = database().await;
    for &input in BENIGN {
        let stored = support::in_request(&[input], async {
            // Bound: the statement text never contains the input.
            let insert = rasp::sql(String::from(
                "INSERT INTO notes (author, body) VALUES (?, 'benign')",
            ))?;
            sqlx::query(insert).bind(input).execute(&mut db).await?;
            let select = rasp::sql(String::from(
                "SELECT author, body FROM notes WHERE author = ?",
            ))?;
            let by_bind: Vec<(String, String)> = sqlx::query_as(select)
                .bind(input)
                .fetch_all(&mut db)
                .await?;

            // Spliced, escaped by rasp's SQL sanitizer: quotes doubled, and
            // an input without quotes sits whole inside one literal.
            let literal = rasp::Tainted::new(input, &support::INPUT).sanitize::<rasp::Sql>();
            let spliced = rasp::compose!(
                rasp::Sql,
                "SELECT author, body FROM notes WHERE author = {}",
                literal
            );
            let by_literal = rows(&mut db, spliced).await?;
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
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM notes").await,
        2 + BENIGN.len() as i64
    );
}

#[tokio::test]
async fn a_blocked_attack_is_reported_without_the_input() {
    let _mode = support::block_mode();
    let (events, _capture) = SecurityEvents::capture();
    let mut db = database().await;
    let attack = "nobody' OR '1'='1";

    expect_blocked(support::in_request(&[attack], rows(&mut db, user_by_name(attack))).await);

    let events = events.all();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["event.name"], "rasp.sqli.blocked");
    assert_eq!(event["rasp.action"], "block");
    assert_eq!(event["rasp.sink.id"], "sqlx.query.sqlite");
    assert_eq!(event["rasp.source.kind"], "http.query");
    assert_eq!(event["rasp.input.excerpt"], "******' ** '*'='*");
    assert!(!format!("{event:?}").contains("nobody"), "{event:?}");
}

#[tokio::test]
async fn monitor_mode_lets_the_attack_run_and_reports_it() {
    let (events, _capture) = SecurityEvents::capture();
    let mut db = database().await;
    let attack = "nobody' OR '1'='1";

    let leaked = {
        let _monitor = MonitorMode::enter();
        support::in_request(&[attack], rows(&mut db, user_by_name(attack))).await
    };

    assert_eq!(
        expect_ok(leaked).len(),
        3,
        "monitor mode runs the statement"
    );
    let events = events.all();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["event.name"], "rasp.sqli.monitored");
    assert_eq!(events[0]["rasp.action"], "monitor");
}

#[tokio::test]
async fn outside_a_request_nothing_is_recorded_so_nothing_is_compared() {
    let _mode = support::block_mode();
    let mut db = database().await;
    // No request context: rasp knows no untrusted input, the text passes.
    // This is why handlers run under `#[rasp::protect]` or a `RequestContext`.
    let leaked = expect_ok(rows(&mut db, user_by_name("nobody' OR '1'='1")).await);
    assert_eq!(leaked.len(), 3);
}
