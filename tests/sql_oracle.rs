//! The SQL detector against real databases: does the input change what the
//! database makes of the statement?
//!
//! Generated inputs are spliced inside the string literals of realistic
//! statements (one slot, or two slots filled with the same input). Each
//! statement is prepared twice by the database, with the input and with a
//! neutral value, through `EXPLAIN`: the input is an attack when the
//! statement no longer prepares or its plan has another shape (literals
//! and numbers masked). The detector, given the statement and the input,
//! must flag every such attack. It may flag more: an injection can leave
//! the plan as it was (`admin'--` where the comment drops only the closing
//! quote); those are counted, and the tokenizer campaign of `rasp-detect`
//! judges structure.
//!
//! SQLite always runs (in memory). PostgreSQL and MariaDB run when
//! `RASP_TEST_POSTGRES_URL` / `RASP_TEST_MYSQL_URL` are set (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`, `mysql://root@127.0.0.1:3306/test`);
//! without them those tests say they are skipped and pass.
//! `RASP_ORACLE_CASES` sets the number of cases per database (default 400).
#![allow(
    clippy::disallowed_types,
    reason = "the oracle runs raw statements on purpose, to see what the database makes of them"
)]

mod support;

use rasp::detect::Needle;
use rasp::detect::sql::{Dialect, detect};
use sqlx::{Connection, Executor, MySqlConnection, PgConnection, Row, SqliteConnection};

/// The recorded input, searched the plain way.
struct Finder<'a>(&'a [u8]);

impl<'a> Finder<'a> {
    fn new(needle: &'a [u8]) -> Self {
        Finder(needle)
    }
}

impl Needle for Finder<'_> {
    fn needle(&self) -> &[u8] {
        self.0
    }

    fn find(&self, haystack: &[u8]) -> Option<usize> {
        haystack.windows(self.0.len()).position(|w| w == self.0)
    }
}

const SCHEMA: &[&str] = &[
    "CREATE TEMPORARY TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(64), pass VARCHAR(64), tenant INTEGER, bio VARCHAR(255))",
    "CREATE TEMPORARY TABLE products (id INTEGER PRIMARY KEY, name VARCHAR(64), kind VARCHAR(16))",
];

/// Statements with `{}` inside string literals.
const TEMPLATES: &[&str] = &[
    "SELECT id, name FROM users WHERE name = '{}' AND tenant = 1",
    "SELECT id FROM products WHERE name LIKE '%{}%' ORDER BY name",
    "SELECT id FROM users WHERE name = '{}' AND pass = '{}' AND tenant = 5",
    "SELECT id FROM users WHERE name = '{}' AND tenant = 5 AND bio = '{}'",
    "SELECT id FROM products WHERE kind = 'a''b' AND name = '{}'",
    "SELECT id FROM users WHERE bio = '{}' OR name = 'xyz' ORDER BY id",
];

const PIECES: &[&str] = &[
    "'",
    "'",
    "'",
    "\\",
    "\\",
    "\"",
    "`",
    "--",
    "-- ",
    "#",
    "/*",
    "*/",
    ";",
    " ",
    "a",
    "abc",
    "1",
    "=",
    "OR",
    " OR ",
    "1=1",
    "'1'='1",
    " AND ",
    "(",
    ")",
    ",",
    "%",
    "_",
    "$$",
    "\n",
    "''",
    "\\'",
    "é",
    "UNION SELECT 1",
    "is null",
    "order by",
];

const WHOLE: &[&str] = &[
    "O'Brien",
    "' OR '1'='1",
    "' OR 1=1 -- ",
    "admin'--",
    "admin' #",
    "x' AND pass = '",
    "\\",
    "'",
    "abc\\",
    "' UNION SELECT id FROM users -- ",
    "a'; DELETE FROM users; --",
    "'ab",
    "abc'",
    "50% off",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn input(rng: &mut Rng) -> String {
    if rng.below(3) == 0 {
        return WHOLE[rng.below(WHOLE.len())].to_owned();
    }
    let n = 1 + rng.below(4);
    (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect()
}

fn cases() -> usize {
    std::env::var("RASP_ORACLE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
}

/// A plan's text with literals and numbers masked: its shape. MariaDB
/// prints literals with backslash escapes.
fn mask(plan: &str, backslash: bool) -> String {
    let mut out = String::new();
    let mut chars = plan.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                // A literal as the database prints it, `''` and `\'`
                // escapes included.
                loop {
                    match chars.next() {
                        None => break,
                        Some('\\') if backslash => {
                            chars.next();
                        }
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                        }
                        Some('\'') => break,
                        Some(_) => {}
                    }
                }
                out.push_str("'?'");
            }
            c if c.is_ascii_digit() => {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                out.push('0');
            }
            c => out.push(c),
        }
    }
    out
}

/// How a database prepares a statement: its plan's shape, or `None` when
/// it refuses it.
trait Database {
    async fn shape(&mut self, sql: &str) -> Option<String>;
}

impl Database for SqliteConnection {
    async fn shape(&mut self, sql: &str) -> Option<String> {
        let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")))
            .fetch_all(&mut *self)
            .await
            .ok()?;
        // The bytecode's opcodes; operands hold constants and addresses.
        Some(
            rows.iter()
                .map(|r| r.try_get::<String, _>(1).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" "),
        )
    }
}

impl Database for PgConnection {
    async fn shape(&mut self, sql: &str) -> Option<String> {
        let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("EXPLAIN (COSTS OFF) {sql}")))
            .fetch_all(&mut *self)
            .await
            .ok()?;
        Some(mask(
            &rows
                .iter()
                .map(|r| r.try_get::<String, _>(0).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n"),
            false,
        ))
    }
}

impl Database for MySqlConnection {
    async fn shape(&mut self, sql: &str) -> Option<String> {
        // `EXPLAIN EXTENDED` leaves the statement as the server rewrote it
        // in a note: its conditions, which a plain `EXPLAIN` hides.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("EXPLAIN EXTENDED {sql}")))
            .fetch_all(&mut *self)
            .await
            .ok()?;
        let notes = sqlx::raw_sql("SHOW WARNINGS")
            .fetch_all(&mut *self)
            .await
            .ok()?;
        let rewritten = notes
            .iter()
            .filter(|r| r.try_get::<u32, _>(1).is_ok_and(|code| code == 1003))
            .map(|r| r.try_get::<String, _>(2).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        Some(mask(&rewritten, true))
    }
}

#[derive(Default, Debug)]
struct Tally {
    cases: u64,
    agree: u64,
    detector_only: u64,
    oracle_only: u64,
}

/// Runs the campaign on one database and returns the attacks the detector
/// missed.
async fn campaign<D: Database>(db: &mut D, dialect: Dialect, name: &str) -> u64 {
    let mut rng = Rng(0x00dd_ba11 | 1);
    let mut tally = Tally::default();
    let mut unexplained = 0;
    for _ in 0..cases() {
        let template = TEMPLATES[rng.below(TEMPLATES.len())];
        let input = input(&mut rng);
        let Some(neutral) = db.shape(&template.replace("{}", "zq")).await else {
            panic!("{name} refuses the template {template:?}");
        };
        let sql = template.replace("{}", &input);
        let attack = db.shape(&sql).await.is_none_or(|shape| shape != neutral);
        let found = detect(dialect, sql.as_bytes(), &Finder::new(input.as_bytes()));
        tally.cases += 1;
        match (attack, found.is_some()) {
            (a, f) if a == f => tally.agree += 1,
            (false, true) => tally.detector_only += 1,
            (true, false) => tally.oracle_only += 1,
            _ => unreachable!(),
        }
        // A plan may stay the same under an injection that happens to be
        // harmless (`admin'--` where the comment only drops the closing
        // quote): only the database's "attack" is a verdict to meet.
        if attack && found.is_none() {
            unexplained += 1;
            if unexplained <= 20 {
                eprintln!(
                    "{name}: oracle={attack} detector={found:?}\n  input {input:?}\n  sql   {sql:?}"
                );
            }
        }
    }
    eprintln!(
        "{name}: cases {}, agree {}, detector-only {}, oracle-only {}",
        tally.cases, tally.agree, tally.detector_only, tally.oracle_only
    );
    unexplained
}

#[tokio::test]
async fn sqlite_agrees_with_the_detector() {
    let mut conn = SqliteConnection::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    for table in SCHEMA {
        conn.execute(sqlx::AssertSqlSafe(*table))
            .await
            .expect("schema");
    }
    assert_eq!(campaign(&mut conn, Dialect::Sqlite, "SQLite").await, 0);
}

#[tokio::test]
async fn postgres_agrees_with_the_detector() {
    let Some(url) = support::database_url("RASP_TEST_POSTGRES_URL") else {
        return;
    };
    let mut conn = PgConnection::connect(&url)
        .await
        .expect("RASP_TEST_POSTGRES_URL is set but PostgreSQL is unreachable");
    for table in SCHEMA {
        conn.execute(sqlx::AssertSqlSafe(*table))
            .await
            .expect("schema");
    }
    assert_eq!(
        campaign(&mut conn, Dialect::Postgres, "PostgreSQL").await,
        0
    );
}

#[tokio::test]
async fn mariadb_agrees_with_the_detector() {
    let Some(url) = support::database_url("RASP_TEST_MYSQL_URL") else {
        return;
    };
    let mut conn = MySqlConnection::connect(&url)
        .await
        .expect("RASP_TEST_MYSQL_URL is set but MariaDB is unreachable");
    for table in SCHEMA {
        conn.execute(sqlx::AssertSqlSafe(*table))
            .await
            .expect("schema");
    }
    assert_eq!(campaign(&mut conn, Dialect::MySql, "MariaDB").await, 0);
}
