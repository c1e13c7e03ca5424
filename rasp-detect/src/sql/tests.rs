use memchr::memmem::Finder;

use super::lexer::{Lexer, Token, TokenKind};
use super::{Dialect, SqlFinding, detect};
use crate::Reason;

use Dialect::{Generic, MySql, Postgres, Sqlite};
use Reason::{BreaksLiteral, EndsStatement, OpensComment, SpansTokens, Unterminated};

const ALL: [Dialect; 4] = [Generic, Sqlite, Postgres, MySql];

fn finding(dialect: Dialect, sql: &[u8], input: &[u8]) -> Option<SqlFinding> {
    detect(dialect, sql, &Finder::new(input))
}

fn reason(dialect: Dialect, sql: &str, input: &str) -> Option<Reason> {
    finding(dialect, sql.as_bytes(), input.as_bytes()).map(|f| f.reason)
}

/// Asserts the same verdict in every dialect.
#[track_caller]
fn everywhere(sql: &str, input: &str, expected: Option<Reason>) {
    for d in ALL {
        assert_eq!(
            reason(d, sql, input),
            expected,
            "{d:?}: {input:?} in {sql:?}"
        );
    }
}

fn tokens(dialect: Dialect, sql: &str) -> Vec<(TokenKind, &str)> {
    Lexer::new(dialect, sql.as_bytes())
        .map(|t| (t.kind, &sql[t.start..t.end]))
        .collect()
}

fn significant(dialect: Dialect, sql: &str) -> Vec<(TokenKind, &str)> {
    tokens(dialect, sql)
        .into_iter()
        .filter(|(k, _)| *k != TokenKind::Whitespace)
        .collect()
}

fn only(dialect: Dialect, sql: &str) -> Token {
    let mut lexer = Lexer::new(dialect, sql.as_bytes());
    let token = lexer.next().expect("one token");
    assert_eq!(lexer.next(), None, "{sql:?} is more than one token");
    token
}

// ---------------------------------------------------------------- lexer

#[test]
fn lexer_covers_the_text_without_gaps() {
    let sql = "SELECT a, 'b''c', \"d\" FROM t -- x\n WHERE e = $1 /* f */;";
    for d in ALL {
        let mut at = 0;
        for t in Lexer::new(d, sql.as_bytes()) {
            assert_eq!(t.start, at, "{d:?}");
            assert!(t.end > t.start);
            at = t.end;
        }
        assert_eq!(at, sql.len());
    }
}

#[test]
fn lexes_single_quoted_strings_with_doubled_quotes() {
    for d in ALL {
        let t = only(d, "'it''s'");
        assert_eq!(
            (t.kind, t.open, t.close, t.terminated),
            (TokenKind::String, 1, 1, true)
        );
        assert_eq!(t.interior(), 1..6);
        let t = only(d, "'open''");
        assert!(!t.terminated, "{d:?}");
        assert_eq!(t.close, 0);
    }
}

#[test]
fn lexes_backslash_escapes_in_mysql_only() {
    let sql = r"'a\' OR 1=1 -- '";
    assert_eq!(significant(MySql, sql), [(TokenKind::String, sql)]);
    assert_eq!(
        significant(Postgres, sql)[..2],
        [(TokenKind::String, r"'a\'"), (TokenKind::Word, "OR")]
    );
    // MySQL's double-quoted strings escape too.
    assert_eq!(only(MySql, r#""a\"b""#).kind, TokenKind::String);
    assert_eq!(only(Sqlite, r#""a\""#).kind, TokenKind::QuotedIdent);
}

#[test]
fn lexes_postgres_escape_and_prefixed_strings() {
    let t = only(Postgres, r"E'it\'s'");
    assert_eq!((t.kind, t.open, t.close), (TokenKind::String, 2, 1));
    assert_eq!(only(Postgres, "U&'d\\0061t'").open, 3);
    for d in ALL {
        assert_eq!(only(d, "X'4142'").kind, TokenKind::String);
    }
    for d in [Postgres, MySql] {
        assert_eq!(only(d, "b'01'").open, 2);
        assert_eq!(only(d, "N'x'").open, 2);
    }
    // SQLite has no `N'…'` or `B'…'`: a name, then a string.
    for d in [Generic, Sqlite] {
        assert_eq!(significant(d, "N'x'").len(), 2);
        assert_eq!(significant(d, "b'01'").len(), 2);
    }
    // A `$` after digits begins a dollar quote in PostgreSQL.
    assert_eq!(significant(Postgres, "1$$x$$").len(), 2);
    assert_eq!(significant(MySql, "1$$x$$").len(), 1);
    // `E'…'` is an identifier and a string elsewhere.
    assert_eq!(
        significant(Sqlite, "E'x'"),
        [(TokenKind::Word, "E"), (TokenKind::String, "'x'")]
    );
}

#[test]
fn lexes_dollar_quoting_in_postgres() {
    let t = only(Postgres, "$$it's$$");
    assert_eq!((t.kind, t.open, t.close), (TokenKind::DollarString, 2, 2));
    let t = only(Postgres, "$fn$ a $$ b $fn$");
    assert_eq!((t.open, t.close, t.terminated), (4, 4, true));
    assert!(!only(Postgres, "$x$ never closed").terminated);
    assert_eq!(only(Postgres, "$1").kind, TokenKind::Param);
    // Elsewhere `$` starts a parameter or an identifier.
    assert_eq!(significant(Sqlite, "$name")[0].0, TokenKind::Param);
    assert_eq!(
        significant(MySql, "$$x$$ '")[0],
        (TokenKind::Param, "$$x$$")
    );
}

#[test]
fn lexes_quoted_identifiers_per_dialect() {
    for d in ALL {
        // `"…"` is a string in MySQL, an identifier elsewhere.
        let kind = if d == MySql {
            TokenKind::String
        } else {
            TokenKind::QuotedIdent
        };
        assert_eq!(only(d, r#""a ""b"" c""#).kind, kind);
    }
    assert_eq!(only(MySql, "`a``b`").kind, TokenKind::QuotedIdent);
    assert_eq!(only(Sqlite, "`a b`").kind, TokenKind::QuotedIdent);
    assert_eq!(only(Sqlite, "[a b]").kind, TokenKind::QuotedIdent);
    assert_eq!(significant(Postgres, "`a b`").len(), 4);
    assert_eq!(significant(MySql, "[a b]").len(), 4);
}

#[test]
fn lexes_comments_per_dialect() {
    assert_eq!(
        significant(MySql, "1 # c\n2")[1],
        (TokenKind::LineComment, "# c\n")
    );
    assert_eq!(significant(Postgres, "1 #- 2")[1], (TokenKind::Punct, "#-"));
    assert_eq!(
        significant(Postgres, "1 #-- c")[2],
        (TokenKind::LineComment, "-- c")
    );
    // MySQL needs a space or control byte after `--`; the end counts.
    assert_eq!(significant(MySql, "1--2").len(), 4);
    assert_eq!(significant(MySql, "1-- 2").len(), 2);
    assert_eq!(significant(MySql, "1--").len(), 2);
    assert_eq!(significant(Postgres, "1--2").len(), 2);
    // Line comments end with their line break, which closes them.
    let t = significant(Sqlite, "-- a\r\nb")[0];
    assert_eq!(t, (TokenKind::LineComment, "-- a\r\n"));
    // PostgreSQL nests block comments.
    let sql = "/* a /* b */ c */ d";
    assert_eq!(significant(Postgres, sql).len(), 2);
    assert_eq!(significant(Sqlite, sql).len(), 5);
    // An open block comment is accepted by SQLite only.
    assert!(only(Sqlite, "/* open").terminated);
    assert!(!only(Postgres, "/* open").terminated);
}

#[test]
fn lexes_mysql_executable_comments_as_code() {
    assert_eq!(
        significant(MySql, "/*!50000 UNION */"),
        [
            (TokenKind::ExecCommentOpen, "/*!50000"),
            (TokenKind::Word, "UNION"),
            (TokenKind::ExecCommentClose, "*/"),
        ]
    );
    assert_eq!(
        only(Postgres, "/*!50000 UNION */").kind,
        TokenKind::BlockComment
    );
    let mut lexer = Lexer::new(MySql, b"/*! SELECT 1");
    lexer.by_ref().for_each(drop);
    assert!(lexer.in_exec_comment());
}

#[test]
fn lexes_numbers_operators_and_parameters() {
    for d in ALL {
        for number in [
            "42", "0x1F", "3.14", ".5", "1e10", "2.5E-3", "0b101", "1abc",
        ] {
            assert_eq!(only(d, number).kind, TokenKind::Number, "{number}");
        }
        for param in ["?", ":name", "@var", "@@version", "$1"] {
            assert_eq!(only(d, param).kind, TokenKind::Param, "{d:?} {param}");
        }
        // `?12` is SQLite's numbered parameter; PostgreSQL reads the
        // operator `?` and a number.
        let expected = if d == Postgres { 2 } else { 1 };
        assert_eq!(significant(d, "?12").len(), expected, "{d:?}");
        for op in ["::", "->", "->>", "#>>", "@>", "<@", "||", "<=", "<>", "!="] {
            if d == MySql && op.starts_with('#') {
                continue;
            }
            assert_eq!(only(d, op).kind, TokenKind::Punct, "{d:?} {op}");
        }
    }
    assert_eq!(
        significant(Postgres, "a::int;"),
        [
            (TokenKind::Word, "a"),
            (TokenKind::Punct, "::"),
            (TokenKind::Word, "int"),
            (TokenKind::Semicolon, ";"),
        ]
    );
}

#[test]
fn lexer_reports_divergent_constructs() {
    let diverges = |sql: &str| {
        let mut lexer = Lexer::new(Generic, sql.as_bytes());
        lexer.by_ref().for_each(drop);
        lexer.diverged()
    };
    for sql in [
        "SELECT * FROM t WHERE a = 'x' -- done",
        "SELECT \"col\" FROM t WHERE b = 'it''s' /* c */",
        "SELECT a->>'k', b::text FROM t WHERE c = ? AND d = :e",
    ] {
        assert!(!diverges(sql), "{sql}");
    }
    for sql in [
        r"SELECT 'a\'",
        "SELECT `a`",
        "SELECT [a]",
        "SELECT 1 # c",
        "SELECT $$a$$",
        "SELECT 1 --x",
        "SELECT /*! 1 */",
        "SELECT /* /* */ */",
        "SELECT E'a'",
    ] {
        assert!(diverges(sql), "{sql}");
    }
}

#[test]
fn lexer_accepts_any_bytes() {
    let bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    for d in ALL {
        let end = Lexer::new(d, &bytes).last().map(|t| t.end);
        assert_eq!(end, Some(bytes.len()));
    }
}

// ---------------------------------------------------------------- detection

#[test]
fn string_breakouts_are_found() {
    let cases = [
        ("SELECT * FROM u WHERE name = '' OR '1'='1'", "' OR '1'='1"),
        (
            "SELECT * FROM u WHERE name = 'x' OR 1=1 --'",
            "x' OR 1=1 --",
        ),
        (
            "SELECT * FROM u WHERE name = 'admin'--' AND pw = 'x'",
            "admin'--",
        ),
        (
            "SELECT * FROM u WHERE name = 'a' UNION SELECT pw FROM u --'",
            "a' UNION SELECT pw FROM u --",
        ),
        (
            "INSERT INTO t (a) VALUES ('x'); DROP TABLE t; --')",
            "x'); DROP TABLE t; --",
        ),
        (
            "SELECT * FROM u WHERE name = ''||(SELECT version())||''",
            "'||(SELECT version())||'",
        ),
    ];
    for (sql, input) in cases {
        everywhere(sql, input, Some(BreaksLiteral));
    }
}

#[test]
fn numeric_context_injections_are_found() {
    everywhere(
        "SELECT * FROM t WHERE id = 42 OR 1=1",
        "42 OR 1=1",
        Some(SpansTokens),
    );
    everywhere(
        "SELECT * FROM t WHERE id = 1 AND SLEEP(3)",
        "1 AND SLEEP(3)",
        Some(SpansTokens),
    );
    everywhere(
        "SELECT * FROM t WHERE id = 1; DROP TABLE t",
        "1; DROP TABLE t",
        Some(EndsStatement),
    );
    everywhere(
        "SELECT * FROM t WHERE id = 1 -- AND owner = 2",
        "1 -- ",
        Some(OpensComment),
    );
    everywhere(
        "SELECT * FROM t WHERE id = 1 /* AND owner = 2 */",
        "1 /*",
        Some(OpensComment),
    );
    everywhere(
        "SELECT * FROM t WHERE id = 1::text",
        "1::text",
        Some(SpansTokens),
    );
    everywhere(
        "SELECT * FROM t ORDER BY id -- x ASC",
        "id -- x",
        Some(OpensComment),
    );
}

#[test]
fn single_tokens_are_not_injections() {
    everywhere("SELECT * FROM t WHERE id = 42", "42", None);
    everywhere("SELECT * FROM t WHERE id = -42", "-42", None);
    everywhere(
        "SELECT * FROM t WHERE x = 0x41 AND y = 2.5e-3",
        "0x41",
        None,
    );
    everywhere(
        "SELECT * FROM t WHERE x = 0x41 AND y = 2.5e-3",
        "2.5e-3",
        None,
    );
    everywhere("SELECT * FROM t ORDER BY name DESC", "DESC", None);
    everywhere("SELECT * FROM t ORDER BY created_at", "created_at", None);
    // Short inputs that happen to match identifiers of the template.
    everywhere("SELECT id, name FROM users WHERE id = 7", "id", None);
    everywhere(
        "SELECT id, name FROM users WHERE name = 'name'",
        "name",
        None,
    );
    everywhere("SELECT * FROM t WHERE data->>'k' = 'v'", "->>", None);
    // A qualified name is one name.
    everywhere(
        "SELECT * FROM users u ORDER BY u.created_at",
        "u.created_at",
        None,
    );
    everywhere("SELECT * FROM t ORDER BY a.b.c", "a.b.c", None);
    // A sort key with its direction fills what follows `ORDER BY`.
    everywhere("SELECT * FROM t ORDER BY a.b DESC", "a.b DESC", None);
    everywhere(
        "SELECT * FROM t WHERE a.b DESC",
        "a.b DESC",
        Some(SpansTokens),
    );
    everywhere("SELECT * FROM t ORDER BY a.", "a.", Some(SpansTokens));
    everywhere("SELECT * FROM t WHERE id = 3-1", "3-1", Some(SpansTokens));
}

#[test]
fn whitespace_around_a_token_is_not_an_injection() {
    everywhere("SELECT * FROM t WHERE id = 42  LIMIT 1", "42 ", None);
    everywhere("SELECT * FROM t WHERE id =  42", " 42", None);
    everywhere("SELECT * FROM t WHERE id = 1", "   ", None);
    everywhere("SELECT * FROM t\n\tWHERE id = 1", "\n\t", None);
}

#[test]
fn values_inside_literals_are_not_injections() {
    let inputs = [
        "O''Brien",
        "Ann -- the admin",
        "/* not a comment */",
        "1; DROP TABLE t",
        "select * from the menu",
        "#1 best seller",
        "50% off; today",
        "\"quoted\" word",
    ];
    for input in inputs {
        let sql = format!("SELECT * FROM t WHERE note = '{input}' AND id = 3");
        everywhere(&sql, input, None);
    }
}

#[test]
fn escaped_values_do_not_occur_raw() {
    everywhere("SELECT * FROM u WHERE name = 'O''Brien'", "O'Brien", None);
    everywhere(
        "SELECT * FROM u WHERE name = 'x'' OR ''1''=''1'",
        "x' OR '1'='1",
        None,
    );
    assert_eq!(
        reason(
            MySql,
            r"SELECT * FROM u WHERE name = 'x\' OR 1=1 -- '",
            "x' OR 1=1 -- "
        ),
        None
    );
}

#[test]
fn escaped_quotes_matching_across_the_delimiter_are_not_injections() {
    // `''` escaped is `''''`; in `''''''` it also matches across the quotes.
    everywhere("SELECT * FROM u WHERE name = '''''' AND id = 1", "''", None);
    everywhere(
        "SELECT * FROM u WHERE name = '''''''' AND id = 1",
        "'''",
        None,
    );
    // Unescaped, `'''` leaves the literal open.
    everywhere(
        "SELECT * FROM u WHERE name = ''''' AND id = 1",
        "'''",
        Some(BreaksLiteral),
    );
    everywhere("SELECT * FROM u WHERE name = 'a''' AND id = 1", "a''", None);
    everywhere(
        "SELECT * FROM u WHERE name = 'a''",
        "a'",
        Some(Unterminated),
    );
}

#[test]
fn unterminated_literals_are_found() {
    everywhere(
        "SELECT * FROM u WHERE name = 'abc''",
        "abc'",
        Some(Unterminated),
    );
    everywhere(
        "SELECT * FROM u WHERE name = \"abc\"\"",
        "abc\"",
        Some(Unterminated),
    );
}

#[test]
fn every_occurrence_is_examined() {
    let sql = "SELECT * FROM t WHERE a = 'x OR 1=1' AND b = x OR 1=1";
    let input = "x OR 1=1";
    for d in ALL {
        let f = finding(d, sql.as_bytes(), input.as_bytes()).expect("second occurrence");
        assert_eq!(f.offset, sql.rfind(input).unwrap(), "{d:?}");
        assert_eq!(f.reason, SpansTokens);
    }
    // Many benign occurrences, then a structural one.
    let mut sql = String::from("SELECT * FROM t WHERE ");
    for _ in 0..1000 {
        sql.push_str("a = 'x y' OR ");
    }
    sql.push_str("b = x y");
    let f = finding(Postgres, sql.as_bytes(), b"x y").expect("last occurrence");
    assert_eq!(f.offset, sql.len() - 3);
}

#[test]
fn inputs_inside_comments_stay_there() {
    everywhere("SELECT 1 -- requested by bob\n", "requested by bob", None);
    everywhere("SELECT 1 /* requested by bob */", "requested by bob", None);
    everywhere(
        "SELECT 1 -- by bob\nDROP TABLE t",
        "bob\nDROP TABLE t",
        Some(BreaksLiteral),
    );
    everywhere(
        "SELECT 1 /* by bob */ DROP TABLE t /* */",
        "bob */ DROP TABLE t /*",
        Some(BreaksLiteral),
    );
}

#[test]
fn mysql_backslash_escapes() {
    // The backslash keeps the literal open in MySQL only.
    let sql = r"SELECT * FROM u WHERE name = 'O\'Brien'";
    assert_eq!(reason(MySql, sql, r"O\'Brien"), None);
    assert_eq!(reason(Postgres, sql, r"O\'Brien"), Some(BreaksLiteral));
    // Generic: PostgreSQL's and SQLite's readings leave a literal open, so
    // only MySQL's is a statement that runs.
    assert_eq!(reason(Generic, sql, r"O\'Brien"), None);

    // A trailing backslash swallows the closing quote in MySQL.
    let sql = r"SELECT * FROM f WHERE path = 'C:\dir\' AND id = 1";
    assert_eq!(reason(MySql, sql, r"C:\dir\"), Some(Unterminated));
    assert_eq!(reason(Postgres, sql, r"C:\dir\"), None);
    assert_eq!(reason(Generic, sql, r"C:\dir\"), None);

    // Two inputs: the first one's backslash turns the second into code.
    let sql = r"SELECT * FROM u WHERE a = 'x\' AND b = ' OR 1=1 -- '";
    assert_eq!(reason(MySql, sql, " OR 1=1 -- "), Some(OpensComment));
    assert_eq!(reason(Postgres, sql, " OR 1=1 -- "), None);
    assert_eq!(reason(Generic, sql, " OR 1=1 -- "), Some(OpensComment));
}

#[test]
fn mysql_comments_and_quotes() {
    let sql = "SELECT * FROM u WHERE name = 'admin'#' AND pw = 'x'";
    assert_eq!(reason(MySql, sql, "admin'#"), Some(BreaksLiteral));
    assert_eq!(reason(Generic, sql, "admin'#"), Some(BreaksLiteral));
    let sql = "SELECT * FROM t WHERE id = 1 # AND owner = 2";
    assert_eq!(reason(MySql, sql, "1 # AND"), Some(OpensComment));
    assert_eq!(reason(Generic, sql, "1 # AND"), Some(OpensComment));
    let sql = r#"SELECT * FROM u WHERE login = "") or ("1"="1""#;
    for d in ALL {
        assert_eq!(
            reason(d, sql, r#"") or ("1"="1"#),
            Some(BreaksLiteral),
            "{d:?}"
        );
    }
    let sql = "SELECT * FROM u WHERE id = 1 /*!50000UNION*/ SELECT pw FROM u";
    assert_eq!(
        reason(MySql, sql, "1 /*!50000UNION*/ SELECT pw FROM u"),
        Some(OpensComment)
    );
    // Executable comments are code, so an input inside one is too.
    let sql = "SELECT /*! id, pw */ FROM u";
    assert_eq!(reason(MySql, sql, "id, pw"), Some(SpansTokens));
    assert_eq!(reason(Sqlite, sql, "id, pw"), None);
    assert_eq!(reason(Generic, sql, "id, pw"), Some(SpansTokens));
    // Inside a literal, nothing is code.
    let sql = "SELECT * FROM t WHERE note = '/*!50000 x */'";
    everywhere(sql, "/*!50000 x */", None);
    // In MySQL `--1` is two minus signs, not a comment.
    let sql = "SELECT * FROM t WHERE id = 5--1";
    assert_eq!(reason(MySql, sql, "5--1"), Some(SpansTokens));
    assert_eq!(reason(Postgres, sql, "5--1"), Some(OpensComment));
}

#[test]
fn postgres_quoting() {
    let sql = "SELECT $$it's fine$$";
    assert_eq!(reason(Postgres, sql, "it's fine"), None);
    assert_eq!(reason(Generic, sql, "it's fine"), None);
    let sql = "SELECT $q$ x $q$ || $q$ y $q$";
    assert_eq!(
        reason(Postgres, sql, " x $q$ || $q$ y "),
        Some(BreaksLiteral)
    );
    let sql = r"SELECT * FROM u WHERE name = E'it\'s'";
    assert_eq!(reason(Postgres, sql, r"it\'s"), None);
    let sql = "SELECT * FROM t /* a /* b */ x */ WHERE id = 1";
    assert_eq!(reason(Postgres, sql, "b */ x"), None);
    assert_eq!(reason(Sqlite, sql, "b */ x"), Some(BreaksLiteral));
    let sql = "SELECT data->>'name' FROM t WHERE tags @> '{\"a\"}' AND x::int = 1";
    assert_eq!(reason(Postgres, sql, "name"), None);
    assert_eq!(reason(Postgres, sql, "{\"a\"}"), None);
}

#[test]
fn sqlite_quoting() {
    let sql = "SELECT [my col], `other col` FROM t";
    assert_eq!(reason(Sqlite, sql, "my col"), None);
    assert_eq!(reason(Sqlite, sql, "other col"), None);
    assert_eq!(reason(Postgres, sql, "other col"), Some(SpansTokens));
    assert_eq!(reason(Generic, sql, "other col"), Some(SpansTokens));
    let sql = "SELECT * FROM t WHERE a = :name AND b = ?2";
    assert_eq!(reason(Sqlite, sql, ":name"), None);
}

#[test]
fn parameterised_statements_never_contain_the_input() {
    everywhere(
        "SELECT * FROM u WHERE name = ? AND pw = ?",
        "x' OR 1=1 --",
        None,
    );
    everywhere("SELECT * FROM u WHERE name = $1", "x' OR 1=1 --", None);
}

#[test]
fn degenerate_inputs_are_safe() {
    for d in ALL {
        assert_eq!(finding(d, b"SELECT 1", b""), None);
        assert_eq!(finding(d, b"", b"x"), None);
        assert_eq!(finding(d, b"SELECT 1", b"SELECT 1 OR 2"), None);
        // One byte equal to the application's own quote is no splice:
        // without it the template would leave a literal open.
        assert_eq!(reason(d, "SELECT 'a'", "'"), None);
        assert_eq!(reason(d, "SELECT 'a'", "a"), None);
        // Invalid UTF-8 and NUL are bytes like any other.
        let sql = b"SELECT * FROM t WHERE a = '\xff\xfe\x00' OR 1=1 --'";
        assert_eq!(
            finding(d, sql, b"\xff\xfe\x00' OR 1=1 --").map(|f| f.reason),
            Some(BreaksLiteral)
        );
        assert_eq!(finding(d, b"SELECT '\xff\x00\xc3'", b"\xff\x00\xc3"), None);
    }
}

#[test]
fn hostile_texts_stay_linear() {
    // A periodic input in a periodic text: many overlapping occurrences.
    let sql = "a".repeat(1 << 20);
    let input = "a".repeat(1 << 10);
    for d in ALL {
        assert_eq!(finding(d, sql.as_bytes(), input.as_bytes()), None);
    }
    // Thousands of occurrences, each inside its own literal.
    let sql = "'ab' ".repeat(200_000);
    for d in ALL {
        assert_eq!(finding(d, sql.as_bytes(), b"ab"), None);
    }
    // A huge unterminated literal with a breakout at the end.
    let mut sql = String::from("SELECT '");
    sql.push_str(&"x".repeat(1 << 20));
    sql.push_str("' OR 1=1 --");
    assert_eq!(reason(Generic, &sql, "x' OR 1=1 --"), Some(BreaksLiteral));
}

/// One line per case: dialect, statement, input, expected verdict.
#[test]
fn dialect_cases() {
    let cases: &[(Dialect, &str, &str, Option<Reason>)] = &[
        // SQLite
        (
            Sqlite,
            "SELECT * FROM notes WHERE title LIKE '%q%' ORDER BY id",
            "q%' OR 1=1 --",
            None,
        ),
        (
            Sqlite,
            "SELECT * FROM notes WHERE title LIKE '%q'||(SELECT sqlite_version())||'%'",
            "q'||(SELECT sqlite_version())||'",
            Some(BreaksLiteral),
        ),
        (
            Sqlite,
            "SELECT * FROM t WHERE id = 1 UNION SELECT sql FROM sqlite_master",
            "1 UNION SELECT sql FROM sqlite_master",
            Some(SpansTokens),
        ),
        (
            Sqlite,
            "SELECT [select] FROM t WHERE a = 'x'",
            "select",
            None,
        ),
        (
            Sqlite,
            "SELECT * FROM t WHERE a = $name AND b = 'v'",
            "$name",
            None,
        ),
        (
            Sqlite,
            "SELECT * FROM t WHERE a = 'x' /* open",
            "x' /*",
            Some(BreaksLiteral),
        ),
        (
            Sqlite,
            "SELECT * FROM t WHERE a = 1 /* open",
            "1 /* open",
            Some(OpensComment),
        ),
        (
            Sqlite,
            "SELECT * FROM t WHERE a = 'Robert''); DROP TABLE students;--'",
            "Robert''); DROP TABLE students;--",
            None,
        ),
        // PostgreSQL
        (
            Postgres,
            "SELECT * FROM t WHERE a = '1'; SELECT pg_sleep(5)--'",
            "1'; SELECT pg_sleep(5)--",
            Some(BreaksLiteral),
        ),
        (
            Postgres,
            "SELECT * FROM t WHERE id = 1; SELECT pg_sleep(5)",
            "1; SELECT pg_sleep(5)",
            Some(EndsStatement),
        ),
        (
            Postgres,
            "SELECT * FROM t WHERE a = 'x' AND b = CAST('1' AS int)",
            "CAST('1' AS int)",
            Some(BreaksLiteral),
        ),
        (
            Postgres,
            "SELECT * FROM t WHERE a = $$x$$ OR 1=1 --$$",
            "x$$ OR 1=1 --",
            Some(BreaksLiteral),
        ),
        (
            Postgres,
            "SELECT * FROM t WHERE a = $$x$ OR 1=1$$",
            "x$ OR 1=1",
            None,
        ),
        (
            Postgres,
            "SELECT * FROM t WHERE a = E'x\\' OR 1=1 --'",
            "x\\' OR 1=1 --",
            None,
        ),
        (
            Postgres,
            "SELECT * FROM t WHERE a = 'x\\' OR 1=1 --'",
            "x\\' OR 1=1 --",
            Some(BreaksLiteral),
        ),
        (
            Postgres,
            "SELECT * FROM t WHERE tags @> ARRAY['a'] AND id = $1",
            "a",
            None,
        ),
        (Postgres, "SELECT doc #>> '{a,b}' FROM t", "{a,b}", None),
        (
            Postgres,
            "SELECT * FROM t /* note /* nested */ by x */ WHERE id = 1",
            "by x",
            None,
        ),
        // MySQL
        (
            MySql,
            "SELECT * FROM t WHERE a = 'x\\' OR 1=1 -- '",
            "x\\' OR 1=1 -- ",
            None,
        ),
        (
            MySql,
            "SELECT * FROM t WHERE a = 'x' OR 1=1 -- '",
            "x' OR 1=1 -- ",
            Some(BreaksLiteral),
        ),
        (
            MySql,
            "SELECT * FROM t WHERE a = \"x\" OR \"1\"=\"1\"",
            "x\" OR \"1\"=\"1",
            Some(BreaksLiteral),
        ),
        (MySql, "SELECT * FROM t WHERE a = \"it's\"", "it's", None),
        (
            MySql,
            "SELECT * FROM t WHERE id = 1 AND SLEEP(5)#",
            "1 AND SLEEP(5)#",
            Some(OpensComment),
        ),
        (
            MySql,
            "SELECT * FROM t WHERE id = 1/*!50000UNION*//*!50000SELECT*/1",
            "1/*!50000UNION*//*!50000SELECT*/1",
            Some(OpensComment),
        ),
        (
            MySql,
            "SELECT * FROM `my table` WHERE a = 'x'",
            "my table",
            None,
        ),
        (
            MySql,
            "SELECT * FROM t WHERE a = @@version AND b = 'x'",
            "@@version",
            None,
        ),
        (
            MySql,
            "SELECT * FROM t WHERE id = 0x414243",
            "0x414243",
            None,
        ),
        (
            MySql,
            "SELECT * FROM t WHERE a = 'a\\\\' OR 1=1 -- '",
            "a\\\\' OR 1=1 -- ",
            Some(BreaksLiteral),
        ),
        // Generic
        (
            Generic,
            "SELECT * FROM t WHERE a = 'x\\' OR 1=1 -- '",
            "x\\' OR 1=1 -- ",
            Some(BreaksLiteral),
        ),
        (
            Generic,
            "SELECT * FROM t WHERE a = 'it''s #1' AND b = 2",
            "it''s #1",
            None,
        ),
        (
            Generic,
            "SELECT * FROM t WHERE a = 'costs $5' AND b = 2",
            "costs $5",
            None,
        ),
        (
            Generic,
            "SELECT * FROM t WHERE id = 1 #",
            "1 #",
            Some(OpensComment),
        ),
        (
            Generic,
            "SELECT * FROM t WHERE id = 2 --x",
            "2 --x",
            Some(OpensComment),
        ),
        (
            Generic,
            "SELECT * FROM t WHERE id = 3 AND a = '\\'",
            "\\",
            None,
        ),
    ];
    for &(dialect, sql, input, expected) in cases {
        assert_eq!(
            reason(dialect, sql, input),
            expected,
            "{dialect:?}: {input:?} in {sql:?}"
        );
    }
}

// ------------------------------------------------ coincidences and shapes

#[test]
fn keywords_the_application_wrote_are_coincidences() {
    // The template's own clause keywords, where no value could stand.
    everywhere("SELECT * FROM t order by name", "order by", None);
    everywhere(
        "SELECT * FROM t WHERE deleted_at is null AND a = 1",
        "is null",
        None,
    );
    everywhere(
        "SELECT * FROM t WHERE a is not null group by a",
        "group by",
        None,
    );
    everywhere("SELECT count(*) FROM t", "count(*)", Some(SpansTokens));
    everywhere("SELECT now() FROM t", "()", None);
    everywhere(
        "SELECT * FROM t WHERE not exists (SELECT 1 FROM u)",
        "not exists",
        None,
    );
    everywhere("select * from t", "select *", None);
}

#[test]
fn keywords_in_a_value_slot_are_spliced() {
    // `null is null` is a condition: where a value stands, it is one.
    everywhere(
        "SELECT * FROM t WHERE id = null is null",
        "null is null",
        Some(SpansTokens),
    );
    everywhere(
        "SELECT * FROM t WHERE id = 1 AND name = x or true",
        "x or true",
        Some(SpansTokens),
    );
    // `or`, `and`, `true`: never excused.
    everywhere(
        "SELECT * FROM t WHERE a = b or true",
        "or true",
        Some(SpansTokens),
    );
    // Keywords with a number or a name are not keywords only.
    everywhere(
        "SELECT * FROM t order by 1",
        "order by 1",
        Some(SpansTokens),
    );
    everywhere(
        "SELECT * FROM t order by name",
        "order by name",
        Some(SpansTokens),
    );
    // Comments and statement ends are never coincidences.
    everywhere("SELECT * FROM t WHERE a = 1 --", "1 --", Some(OpensComment));
}

#[test]
fn the_prefix_of_an_application_literal_is_a_coincidence() {
    everywhere("SELECT * FROM t WHERE a = 'abc'", "'ab", None);
    everywhere("SELECT * FROM t WHERE a = 'abc' AND b = 'x'", "bc'", None);
    everywhere("SELECT * FROM t WHERE a = 'abc' AND b = 'x'", "'abc", None);
    // A splice that balances its own quotes is no prefix.
    everywhere(
        "SELECT * FROM t WHERE a = 'x' OR '1'='1'",
        "x' OR '1'='1",
        Some(BreaksLiteral),
    );
    everywhere(
        "SELECT * FROM t WHERE a = '' OR 1=1 --'",
        "' OR 1=1 --",
        Some(BreaksLiteral),
    );
    // A statement left open is reported as such.
    everywhere("SELECT * FROM t WHERE a = 'ab''", "ab'", Some(Unterminated));
}

#[test]
fn shapes_spliced_on_purpose() {
    everywhere("SELECT * FROM t WHERE id IN (1,2,3)", "1,2,3", None);
    everywhere("SELECT * FROM t WHERE id IN (1, -2, 3)", "1, -2, 3", None);
    everywhere("SELECT * FROM t WHERE c IN ('a','b')", "'a','b'", None);
    everywhere(
        "SELECT * FROM t WHERE c NOT IN ('a', NULL)",
        "'a', NULL",
        None,
    );
    everywhere(
        "SELECT * FROM t WHERE id IN (1) OR (1=1)",
        "1) OR (1=1",
        Some(SpansTokens),
    );
    everywhere(
        "SELECT * FROM t WHERE id IN (1,2) AND 1=1",
        "1,2) AND 1=1",
        Some(SpansTokens),
    );
    everywhere(
        "SELECT * FROM t WHERE id = f(1,2)",
        "1,2",
        Some(SpansTokens),
    );
    everywhere("SELECT * FROM t ORDER BY name DESC", "name DESC", None);
    everywhere("SELECT * FROM t ORDER BY a ASC, b", "a ASC, b", None);
    everywhere(
        "SELECT * FROM t ORDER BY name, (SELECT 1)",
        "name, (SELECT 1)",
        Some(SpansTokens),
    );
    // A whole quoted value: both quotes are the input's.
    everywhere("SELECT * FROM t WHERE id = '123'", "'123'", None);
    everywhere(
        "SELECT * FROM t WHERE id = '1' OR '1'",
        "'1' OR '1'",
        Some(BreaksLiteral),
    );
}

#[test]
fn an_input_ending_in_an_escape_takes_the_closing_quote() {
    // `x = a'` into `'{x}' AND b = '{y}'`: the application's closing quote
    // is escaped, and `y` turns into code. `a''` also reads as `a'`
    // escaped, so `x` is not told apart; `y` is what runs.
    let sql = "SELECT * FROM u WHERE a = 'a'' AND b = ' OR 1=1 OR ''";
    everywhere(sql, " OR 1=1 OR '", Some(BreaksLiteral));
    everywhere(sql, "a'", None);
    assert_eq!(
        reason(
            MySql,
            r"SELECT * FROM u WHERE a = 'x\' AND b = ' OR 1=1 -- '",
            r"x\"
        ),
        Some(BreaksLiteral)
    );
    // The same input escaped by the application splits nothing.
    everywhere("SELECT * FROM u WHERE a = 'a''' AND b = 'c'", "a'", None);
    everywhere(
        "SELECT * FROM u WHERE a = '''hi''' AND b = 'c'",
        "'hi'",
        None,
    );
    assert_eq!(
        reason(MySql, r"SELECT * FROM u WHERE a = 'a\'' AND b = 'c'", "a'"),
        None
    );
}

#[test]
fn one_byte_inputs_can_merge_literals() {
    // A lone quote recorded for two parameters: the literals merge and the
    // clause between them becomes text.
    everywhere(
        "SELECT * FROM u WHERE a = ''' AND b = ''' OR c = 1",
        "'",
        Some(BreaksLiteral),
    );
    // Escaped, the same input is data; and the application's own quotes
    // are no splice.
    everywhere("SELECT * FROM u WHERE a = '''' AND b = ''''", "'", None);
    everywhere("SELECT * FROM u WHERE a = 'x' AND b = ''", "'", None);
    assert_eq!(
        reason(
            MySql,
            r"SELECT * FROM u WHERE a = '\' AND b = ' OR 1=1 OR 'x'",
            r"\"
        ),
        Some(BreaksLiteral)
    );
}

#[test]
fn an_input_spliced_twice_is_judged_with_both_places_neutral() {
    // Each occurrence alone looks like the prefix of a literal; with both
    // neutral the template is whole, so they are the input's.
    let sql = "SELECT * FROM u WHERE name = 'ab'' AND pass = 'ab'' AND tenant = 5";
    everywhere(sql, "ab'", Some(BreaksLiteral));
    let sql = "SELECT * FROM u WHERE name = 'x'' AND pass = ' x'' AND tenant = 5";
    assert_eq!(
        reason(Sqlite, sql, " x'"),
        None,
        "one occurrence, a coincidence"
    );
    assert_eq!(
        reason(
            Postgres,
            "SELECT * FROM u WHERE n = '   E'' AND p = '   E'' AND t = 5",
            "   E'"
        ),
        Some(BreaksLiteral)
    );
}

#[test]
fn a_reading_out_of_step_with_the_escapes_explains_nothing_away() {
    // `'''` spliced twice: the literals merge across ` AND pass = `. The
    // occurrence found one byte later lies inside the literal, but begins
    // on the second quote of an escape.
    everywhere(
        "SELECT * FROM u WHERE name = ''''' AND pass = ''''' AND tenant = 5",
        "'''",
        Some(BreaksLiteral),
    );
    // Escaped, the same input is data.
    everywhere(
        "SELECT * FROM u WHERE name = '''''''' AND pass = '''''''' AND tenant = 5",
        "'''",
        None,
    );
    // A literal left open after the escaped reading is no escaped input.
    everywhere(
        "SELECT id FROM users WHERE bio = '#;'' OR name = 'abc' ORDER BY id",
        "#;'",
        Some(BreaksLiteral),
    );
}

#[test]
fn a_whole_literal_explains_no_other_occurrence_away() {
    // `'%'` into `LIKE '%{}%'`: the text also holds `'%'` as a literal.
    everywhere(
        "SELECT * FROM p WHERE name LIKE '%'%'%' ORDER BY name",
        "'%'",
        Some(BreaksLiteral),
    );
    everywhere(
        "SELECT * FROM p WHERE name LIKE '%' ORDER BY name",
        "'%'",
        None,
    );
}
