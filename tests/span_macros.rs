//! `rasp::sql!` and `rasp::shell!` against a real SQLite database (and
//! PostgreSQL and MariaDB when `RASP_TEST_POSTGRES_URL` and
//! `RASP_TEST_MYSQL_URL` are set) and a real `sh`.
//!
//! The macros know which bytes each argument wrote, so the detector judges
//! exactly those: the template's own text never coincides with an input,
//! an input transformed before it was spliced is judged as written, and no
//! request context is needed. Each attack is also run unprotected, to show
//! it really leaks rows or runs a command.

use std::path::Path;

use rasp::{Blocked, Reason, RequestContext, SourceMeta, Tainted};
use sqlx::{Connection, SqliteConnection};

static QUERY: SourceMeta = SourceMeta {
    kind: "http.query",
    ..SourceMeta::MANUAL
};

fn tainted(text: &str) -> Tainted<String> {
    Tainted::new(text.to_owned(), &QUERY)
}

const SCHEMA: &str = "
    CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, secret TEXT NOT NULL);
    INSERT INTO users (id, name, secret) VALUES
        (1, 'ann', 'ann-secret'), (2, 'bob', 'bob-secret'), (3, 'GROUP BY', 'tag-secret');
";

async fn sqlite() -> SqliteConnection {
    let mut conn = SqliteConnection::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    sqlx::raw_sql(SCHEMA)
        .execute(&mut conn)
        .await
        .expect("schema");
    conn
}

/// The secrets a statement reads, run as an unprotected app would.
#[allow(
    clippy::disallowed_types,
    reason = "the unprotected baseline the attacks are proved against"
)]
async fn unprotected(conn: &mut SqliteConnection, sql: String) -> Vec<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .expect("the statement runs")
}

/// The lookup as written with the macro: the name is spliced into a literal.
fn secret_of(name: &Tainted<String>) -> Result<rasp::CheckedSql, Blocked> {
    rasp::sql!(
        "SELECT secret FROM users WHERE name = '{}' ORDER BY id",
        name
    )
}

#[tokio::test]
async fn an_injection_through_an_argument_is_refused_with_or_without_a_context() {
    let mut db = sqlite().await;
    let attack = "x' OR '1'='1";
    let leaked = unprotected(
        &mut db,
        format!("SELECT secret FROM users WHERE name = '{attack}' ORDER BY id"),
    )
    .await;
    assert_eq!(leaked.len(), 3, "without rasp every secret leaks");

    // A background job: no request context, nothing recorded.
    let refused = secret_of(&tainted(attack)).unwrap_err();
    assert_eq!(refused.reason, Reason::BreaksLiteral);
    // Inside a request, the same.
    let ctx = RequestContext::new();
    let refused = ctx.scope(|| secret_of(&tainted(attack))).unwrap_err();
    assert_eq!(refused.reason, Reason::BreaksLiteral);
}

#[tokio::test]
async fn text_of_the_template_never_coincides_with_an_input() {
    let mut db = sqlite().await;
    // The input `GROUP BY` spells the statement's own keywords, which
    // stand where an attacker's would. The macro judges the argument's
    // bytes alone, inside their literal, and never the template's.
    let name = tainted("GROUP BY");
    let ctx = RequestContext::new();
    ctx.record_input(&QUERY, b"GROUP BY");
    let spliced = ctx.scope(|| {
        rasp::sql!(
            "SELECT name, count(*) FROM users WHERE name = '{}' GROUP BY name",
            name
        )
    });
    let rows: Vec<(String, i64)> = sqlx::query_as(spliced.expect("the argument is one literal"))
        .fetch_all(&mut db)
        .await
        .unwrap();
    assert_eq!(rows, [("GROUP BY".to_owned(), 1)]);
}

#[tokio::test]
async fn an_input_transformed_before_splicing_is_judged_as_written() {
    let mut db = sqlite().await;
    // The application trims and upper-cases the input; what it splices is
    // not what the request sent, so the verbatim check cannot find it.
    let sent = "  x' or '1'='1  ";
    let written = sent.trim().to_uppercase();
    let leaked = unprotected(
        &mut db,
        format!("SELECT secret FROM users WHERE upper(name) = '{written}'"),
    )
    .await;
    assert_eq!(leaked.len(), 3, "without rasp every secret leaks");

    let ctx = RequestContext::new();
    ctx.record_input(&QUERY, sent.as_bytes());
    let verbatim = ctx.scope(|| {
        rasp::sql(format!(
            "SELECT secret FROM users WHERE upper(name) = '{written}'"
        ))
    });
    assert!(verbatim.is_ok(), "the transformed input is not in the text");
    let name = tainted(sent).map(|n| n.trim().to_uppercase());
    let refused = ctx
        .scope(|| rasp::sql!("SELECT secret FROM users WHERE upper(name) = '{}'", name))
        .unwrap_err();
    assert_eq!(refused.reason, Reason::BreaksLiteral);
}

#[tokio::test]
async fn numbers_named_and_captured_arguments_build_the_statement() {
    let mut db = sqlite().await;
    let name = tainted("bob");
    let id = 2_i64;
    let q = rasp::sql!(
        "SELECT secret FROM users WHERE name = '{name}' AND id = {id} AND {0} = {0}",
        1,
        name = name
    )
    .unwrap();
    assert_eq!(
        q.as_str(),
        "SELECT secret FROM users WHERE name = 'bob' AND id = 2 AND 1 = 1"
    );
    let secrets: Vec<String> = sqlx::query_scalar(q).fetch_all(&mut db).await.unwrap();
    assert_eq!(secrets, ["bob-secret"]);
}

/// The same spans against the servers CI runs, when their URLs are set.
#[tokio::test]
async fn postgres_and_mariadb_run_what_passes_and_never_see_what_does_not() {
    let refused = rasp::sql!("SELECT 1 AS one WHERE 'a' = '{}'", tainted("x' OR '1'='1"));
    assert_eq!(refused.unwrap_err().reason, Reason::BreaksLiteral);
    let passes = || rasp::sql!("SELECT 1 AS one WHERE 'a' = '{}'", tainted("a")).unwrap();
    match std::env::var("RASP_TEST_POSTGRES_URL") {
        Ok(url) => {
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("PostgreSQL");
            let rows = sqlx::query(passes()).fetch_all(&mut conn).await.unwrap();
            assert_eq!(rows.len(), 1);
        }
        Err(_) => eprintln!("skipped against PostgreSQL: RASP_TEST_POSTGRES_URL is not set"),
    }
    match std::env::var("RASP_TEST_MYSQL_URL") {
        Ok(url) => {
            let mut conn = sqlx::MySqlConnection::connect(&url).await.expect("MariaDB");
            let rows = sqlx::query(passes()).fetch_all(&mut conn).await.unwrap();
            assert_eq!(rows.len(), 1);
        }
        Err(_) => eprintln!("skipped against MariaDB: RASP_TEST_MYSQL_URL is not set"),
    }
}

// ---------------------------------------------------------------------------
// A real shell.

#[allow(clippy::disallowed_methods, reason = "the unprotected baseline")]
fn unprotected_sh(script: &str, marker: &Path) {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("MARKER", marker)
        .output()
        .expect("sh runs");
}

#[test]
fn a_shell_argument_that_leaves_its_word_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("owned");
    let attack = "x'; touch \"$MARKER\"; echo '";
    unprotected_sh(&format!("echo '{attack}'"), &marker);
    assert!(marker.exists(), "without rasp the attack runs touch");
    std::fs::remove_file(&marker).unwrap();

    let refused = rasp::shell!("echo '{}'", tainted(attack)).unwrap_err();
    assert_eq!(refused.reason, Reason::BreaksLiteral);
    assert!(!marker.exists());

    let script = rasp::shell!("echo '{}'", tainted("Ann Smith; the lab")).unwrap();
    let out = script.std().env("MARKER", &marker).output().unwrap();
    assert_eq!(out.stdout, b"Ann Smith; the lab\n");
    assert!(!marker.exists());
}

// ---------------------------------------------------------------------------
// A real directory.

#[test]
fn a_path_argument_stays_one_segment_under_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(files.join("users/42")).unwrap();
    std::fs::write(files.join("users/42/avatar.png"), "avatar").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
    let root = rasp::fs::Root::new(&files).unwrap();

    // Without rasp, the id climbs out of the root.
    let id = "../../secret.txt";
    let leaked = std::fs::read_to_string(files.join(format!("users/{id}"))).unwrap();
    assert_eq!(leaked, "secret");

    let refused = rasp::path!(root, "users/{}", tainted(id)).unwrap_err();
    assert_eq!(refused.reason, Reason::LeavesRoot);
    let refused = rasp::path!(root, "users/{}/avatar.png", tainted("..")).unwrap_err();
    assert_eq!(refused.reason, Reason::LeavesRoot);
    // No context needed, and a transformed value is judged as written.
    let decoded = tainted("..%2F..%2Fsecret.txt").map(|s| s.replace("%2F", "/"));
    assert!(rasp::path!(root, "users/{}", decoded).is_err());

    let path = rasp::path!(root, "users/{}/avatar.png", tainted("42")).unwrap();
    assert_eq!(std::fs::read_to_string(path).unwrap(), "avatar");
}

// ---------------------------------------------------------------------------
// A loopback server.

/// A server on 127.0.0.1:47831 that answers each request with its path;
/// `None` when the port is taken (the live part of the test then skips).
fn echo_server() -> Option<std::net::SocketAddr> {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:47831").ok()?;
    let addr = listener.local_addr().ok()?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
            let _ = write!(
                reader.get_mut(),
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{path}",
                path.len()
            );
        }
    });
    Some(addr)
}

#[tokio::test]
async fn a_url_argument_writes_only_inside_its_component() {
    // Refused before any connection: the argument leaves its segment or
    // adds a query parameter.
    let refused = rasp::url!("http://127.0.0.1:47831/items/{}", tainted("../admin")).unwrap_err();
    assert!(refused.blocked().is_some(), "{refused}");
    let refused =
        rasp::url!("http://127.0.0.1:47831/items?id={}", tainted("1&admin=1")).unwrap_err();
    assert!(refused.blocked().is_some(), "{refused}");
    let refused = rasp::url!("http://127.0.0.1:47831/items/{}", tainted("x?admin=1")).unwrap_err();
    assert!(refused.blocked().is_some(), "{refused}");

    let Some(addr) = echo_server() else {
        eprintln!("skipped the live request: 127.0.0.1:47831 is taken");
        return;
    };
    let client = rasp::http::GuardedClient::builder()
        .allow_internal(&addr.to_string())
        .build()
        .unwrap();
    // An `@` in a path segment is data, not a new host.
    let url = rasp::url!(
        "http://127.0.0.1:47831/items/{}",
        tainted("@169.254.169.254")
    )
    .unwrap();
    let body = client.get(url).send().await.unwrap().text().await.unwrap();
    assert_eq!(body, "/items/@169.254.169.254");
}

/// The one-scan verdict for an argument inside `'…'` (no quote, no NUL:
/// it stays) checked against `sh` itself: each such argument comes back
/// from `printf` byte for byte, and nothing in it runs.
#[test]
fn sh_agrees_that_single_quotes_hold_everything_but_a_quote() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    for word in [
        "; touch \"$MARKER\"",
        "$(touch \"$MARKER\")",
        "`touch \"$MARKER\"`",
        "a\nb && touch \"$MARKER\"",
        "\\ \" | & > < * ? [ ] { } ~ # ! %",
        "$HOME ${IFS} $((1+1))",
    ] {
        let script = rasp::shell!("printf %s '{}'", tainted(word)).unwrap();
        let out = script.std().env("MARKER", &marker).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), word);
        assert!(!marker.exists(), "{word:?} ran a command");
    }
    // Inside double quotes, `$`, backquotes, `"` and `\` are special: such
    // an argument is judged by the shell detector, and refused.
    let refused = rasp::shell!("printf %s \"{}\"", tainted("$(touch x)")).unwrap_err();
    assert_eq!(refused.reason, Reason::CommandSubstitution);
}

/// A single-quoted word that a second shell reads as a script (`sh -c`)
/// holds code, not data: its quotes settle nothing, and the detector
/// reads the nested script. Without rasp, `sh` runs the attacker's command.
#[test]
fn quotes_around_a_nested_script_do_not_hold_an_argument() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let word = "x; touch \"$MARKER\"";
    #[allow(
        clippy::disallowed_methods,
        reason = "the unguarded run, to show what the script does without rasp"
    )]
    let ran = std::process::Command::new("sh")
        .args(["-c", &format!("sh -c 'printf %s {word}'")])
        .env("MARKER", &marker)
        .status()
        .unwrap();
    assert!(
        ran.success() && marker.exists(),
        "the attack works without rasp"
    );
    std::fs::remove_file(&marker).unwrap();
    let refused = rasp::shell!("sh -c 'printf %s {}'", tainted(word)).unwrap_err();
    assert_eq!(refused.reason, Reason::ShellOperator);
    // The same word is data where only one shell reads it.
    let script = rasp::shell!("printf %s '{}'", tainted(word)).unwrap();
    let out = script.std().env("MARKER", &marker).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), word);
    assert!(!marker.exists());
}

// ---------------------------------------------------------------------------
// Header values and redirect targets.

#[test]
fn a_header_argument_stays_in_its_quoted_string_and_on_its_line() {
    let value = rasp::header!("attachment; filename=\"{}\"", tainted("q3 report.pdf")).unwrap();
    assert_eq!(value.as_bytes(), b"attachment; filename=\"q3 report.pdf\"");
    // Closing the quoted-string adds a parameter of the attacker's.
    let refused = rasp::header!(
        "attachment; filename=\"{}\"",
        tainted("a\"; filename*=evil")
    )
    .unwrap_err();
    assert_eq!(
        refused.blocked().map(|b| b.reason),
        Some(Reason::BreaksLiteral)
    );
    // A line break splits the header, quoted or not.
    let refused = rasp::header!("lang={}", tainted("en\r\nSet-Cookie: admin=1")).unwrap_err();
    assert_eq!(
        refused.blocked().map(|b| b.reason),
        Some(Reason::SplitsHeader)
    );
}

#[test]
fn a_cookie_value_argument_adds_no_attribute() {
    let template = |lang: &str| format!("lang={lang}; Path=/; HttpOnly");
    let value = rasp::header!("lang={}; Path=/; HttpOnly", tainted("pt-BR")).unwrap();
    let cookie = cookie::Cookie::parse(value.to_str().unwrap()).unwrap();
    assert_eq!((cookie.value(), cookie.domain()), ("pt-BR", None));
    // What the attacker's value would do: a browser's parser reads its
    // `Domain` and `Max-Age` as the cookie's own.
    let attack = "en; Domain=shop.example; Max-Age=315360000";
    let forged = template(attack);
    let parsed = cookie::Cookie::parse(forged.as_str()).unwrap();
    assert_eq!(parsed.domain(), Some("shop.example"));
    let refused = rasp::header!("lang={}; Path=/; HttpOnly", tainted(attack)).unwrap_err();
    assert_eq!(
        refused.blocked().map(|b| b.reason),
        Some(Reason::CookieAttribute)
    );
    // The same bytes in a value without parameters are one opaque value.
    let value = rasp::header!("{}", tainted("a; b")).unwrap();
    assert_eq!(value.as_bytes(), b"a; b");
}

#[test]
fn a_redirect_argument_stays_on_site_and_in_its_segment() {
    let to = rasp::redirect!("/orders/{}?tab={}", tainted("17"), tainted("items")).unwrap();
    assert_eq!(to.as_bytes(), b"/orders/17?tab=items");
    for next in ["/evil.example", "..", "x?next=//evil.example"] {
        assert!(
            rasp::redirect!("/orders/{}", tainted(next)).is_err(),
            "{next}"
        );
    }
}
