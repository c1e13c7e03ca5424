//! Differential and property tests of the SQL lexer and detector.
//!
//! The lexer is compared with sqlparser's tokenizer, used as an oracle, on
//! SQL generated from a small token grammar per dialect: where both succeed,
//! they must agree on where every string literal, quoted identifier and
//! comment begins and ends. The grammar stays inside what both tokenizers
//! model the same way (sqlparser is not a database either: it does not, for
//! instance, read MySQL's `/*! … */` as code).
//!
//! The detector is checked for determinism and sane results on arbitrary
//! bytes, and against correctly escaped and deliberately broken literals.

use memchr::memmem::Finder;
use proptest::prelude::*;
use proptest::strategy::Union;
use rasp_detect::sql::Dialect;
use rasp_detect::sql::detect;
use rasp_detect::sql::lexer::{Lexer, TokenKind};
use sqlparser::dialect::{GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

const DIALECTS: [Dialect; 4] = [
    Dialect::Generic,
    Dialect::Sqlite,
    Dialect::Postgres,
    Dialect::MySql,
];

/// The kinds of token whose boundaries are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Literal,
    QuotedIdent,
    Comment,
}

/// Literals, quoted identifiers and comments as `(kind, start, end)` byte
/// ranges; a line comment's range stops before its line break, as
/// sqlparser's does.
type Spans = Vec<(Kind, usize, usize)>;

fn ours(dialect: Dialect, sql: &str) -> Spans {
    Lexer::new(dialect, sql.as_bytes())
        .filter_map(|t| {
            let kind = match t.kind {
                TokenKind::String | TokenKind::DollarString => Kind::Literal,
                TokenKind::QuotedIdent => Kind::QuotedIdent,
                TokenKind::BlockComment => Kind::Comment,
                TokenKind::LineComment => return Some((Kind::Comment, t.start, t.end - t.close)),
                _ => return None,
            };
            Some((kind, t.start, t.end))
        })
        .collect()
}

/// The oracle's spans, or `None` where sqlparser rejects the text.
fn oracle(dialect: Dialect, sql: &str) -> Option<Spans> {
    let tokens = match dialect {
        Dialect::Generic => Tokenizer::new(&GenericDialect {}, sql).tokenize_with_location(),
        Dialect::Sqlite => Tokenizer::new(&SQLiteDialect {}, sql).tokenize_with_location(),
        Dialect::Postgres => Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize_with_location(),
        Dialect::MySql => Tokenizer::new(&MySqlDialect {}, sql).tokenize_with_location(),
    }
    .ok()?;
    // Locations are 1-based lines and columns; the generated text is
    // ASCII, so a column is a byte.
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let offset = |l: sqlparser::tokenizer::Location| {
        line_starts[usize::try_from(l.line).unwrap() - 1] + usize::try_from(l.column).unwrap() - 1
    };
    let spans = tokens
        .iter()
        .filter_map(|t| {
            let kind = match &t.token {
                Token::SingleQuotedString(_)
                | Token::DoubleQuotedString(_)
                | Token::NationalStringLiteral(_)
                | Token::EscapedStringLiteral(_)
                | Token::HexStringLiteral(_)
                | Token::SingleQuotedByteStringLiteral(_)
                | Token::DollarQuotedString(_) => Kind::Literal,
                Token::Word(w) if w.quote_style.is_some() => Kind::QuotedIdent,
                Token::Whitespace(
                    Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_),
                ) => Kind::Comment,
                _ => return None,
            };
            Some((kind, offset(t.span.start), offset(t.span.end)))
        })
        .collect();
    Some(spans)
}

fn concat(parts: Vec<String>) -> String {
    parts.concat()
}

/// Text inside a literal or identifier: `units`, any number of times.
fn body(units: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(units), 0..6).prop_map(|v| v.concat())
}

fn piece(dialect: Dialect) -> BoxedStrategy<String> {
    let word = "[a-z][a-z0-9_]{1,6}".prop_map(String::from).boxed();
    let number = "[0-9]{1,4}".prop_map(String::from).boxed();
    let punct = prop::sample::select(&[",", "(", ")", "=", "+", "*", "<", ">", ";", "-", "/"][..])
        .prop_map(String::from)
        .boxed();
    let line_comment = "-- [a-z '\"*/;#]{0,8}\n".prop_map(String::from).boxed();
    let block_comment = "/\\*[a-z '\";#-]{0,8}(\\*[a-z])?\\*/"
        .prop_map(String::from)
        .boxed();
    let mut options = vec![word, number, punct, line_comment, block_comment];

    let mysql = dialect == Dialect::MySql;
    // MySQL reads backslash escapes, in pairs here so that none swallows
    // the closing quote; elsewhere a backslash is a plain byte.
    let single: &'static [&'static str] = if mysql {
        &[
            "a", " ", "''", "\"", "`", ";", "--", "/*", "\\'", "\\\\", "\\\"", "\\n", "\n",
        ]
    } else {
        &[
            "a", " ", "''", "\"", "`", ";", "--", "/*", "\\", "#", "$", "\n",
        ]
    };
    options.push(body(single).prop_map(|b| format!("'{b}'")).boxed());
    options.push(
        body(&["41", "ff", "0"])
            .prop_map(|b| format!("X'{b}'"))
            .boxed(),
    );
    // SQLite, and so the generic reading, has no `N'…'`: a name, then a
    // string (the generic detector lexes per dialect when it meets one).
    if !matches!(dialect, Dialect::Sqlite | Dialect::Generic) {
        options.push(body(single).prop_map(|b| format!("N'{b}'")).boxed());
    }
    if mysql {
        let double = &["a", " ", "\"\"", "'", "\\\"", "\\\\", ";", "--"];
        options.push(body(double).prop_map(|b| format!("\"{b}\"")).boxed());
        options.push("# [a-z '\"*/;-]{0,8}\n".prop_map(String::from).boxed());
    } else {
        let ident = &["a", " ", "\"\"", "'", "`", ";", "--", "/*", "\\"];
        options.push(body(ident).prop_map(|b| format!("\"{b}\"")).boxed());
    }
    if dialect != Dialect::Postgres {
        let ident = &["a", " ", "``", "'", "\"", ";", "--"];
        options.push(body(ident).prop_map(|b| format!("`{b}`")).boxed());
        options.push("\\?".prop_map(String::from).boxed());
    }
    if dialect == Dialect::Sqlite {
        let ident = &["a", " ", "'", "\"", "`", ";", "--", "["];
        options.push(body(ident).prop_map(|b| format!("[{b}]")).boxed());
    }
    if dialect == Dialect::Postgres {
        let escaped = &["a", " ", "''", "\\'", "\\\\", "\\n", "\"", "--"];
        options.push(body(escaped).prop_map(|b| format!("E'{b}'")).boxed());
        let dollar = &["a", " ", "'", "\"", ";", "--", "/*", "\n"];
        options.push(body(dollar).prop_map(|b| format!("$$${b}$$")).boxed());
        options.push(body(dollar).prop_map(|b| format!("$fn${b}$fn$")).boxed());
        options.push(
            "/\\* [a-z]{0,3} /\\* [a-z']{0,3} \\*/ [a-z]{0,3} \\*/"
                .prop_map(String::from)
                .boxed(),
        );
        options.push("\\$[1-9]".prop_map(String::from).boxed());
    }
    Union::new(options).boxed()
}

fn statement(dialect: Dialect) -> impl Strategy<Value = String> {
    let separator = prop::sample::select(&[" ", "  ", "\n", "\t"][..]);
    prop::collection::vec((piece(dialect), separator), 1..12)
        .prop_map(|parts| {
            parts
                .into_iter()
                .flat_map(|(p, s)| [p, s.to_owned()])
                .collect()
        })
        .prop_map(concat)
}

fn agrees_with_oracle(dialect: Dialect, sql: &str) -> Result<(), TestCaseError> {
    if let Some(expected) = oracle(dialect, sql) {
        prop_assert_eq!(
            ours(dialect, sql),
            expected,
            "{:?} lexing {:?}",
            dialect,
            sql
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn generic_lexing_matches_sqlparser(sql in statement(Dialect::Generic)) {
        agrees_with_oracle(Dialect::Generic, &sql)?;
    }

    #[test]
    fn sqlite_lexing_matches_sqlparser(sql in statement(Dialect::Sqlite)) {
        agrees_with_oracle(Dialect::Sqlite, &sql)?;
    }

    #[test]
    fn postgres_lexing_matches_sqlparser(sql in statement(Dialect::Postgres)) {
        agrees_with_oracle(Dialect::Postgres, &sql)?;
    }

    #[test]
    fn mysql_lexing_matches_sqlparser(sql in statement(Dialect::MySql)) {
        agrees_with_oracle(Dialect::MySql, &sql)?;
    }
}

// ------------------------------------------------------------- detector

fn any_dialect() -> impl Strategy<Value = Dialect> {
    prop::sample::select(&DIALECTS[..])
}

/// Bytes biased towards SQL's special characters, so that arbitrary input
/// still meets quotes, comments and escapes often.
fn sqlish_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        3 => prop::sample::select(&b"'\"`[]\\-/*#$;:?@ \n\rEeXxUu&!0123456789abcOR="[..]),
        1 => any::<u8>(),
    ];
    prop::collection::vec(byte, 0..max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// On any bytes: the same answer twice, an offset where the input
    /// really occurs, and tokens that tile the text.
    #[test]
    fn detector_is_total_and_deterministic(
        dialect in any_dialect(),
        sql in sqlish_bytes(160),
        input in sqlish_bytes(12),
    ) {
        let finder = Finder::new(&input);
        let found = detect(dialect, &sql, &finder);
        prop_assert_eq!(found, detect(dialect, &sql, &finder));
        if let Some(f) = found {
            prop_assert!(!input.is_empty());
            prop_assert!(sql[f.offset..].starts_with(&input));
        }
        let mut at = 0;
        for t in Lexer::new(dialect, &sql) {
            prop_assert_eq!(t.start, at);
            prop_assert!(t.start + t.open <= t.end - t.close);
            at = t.end;
        }
        prop_assert_eq!(at, sql.len());
    }

    /// Skipping ahead cuts the same tokens as lexing every one of them,
    /// and leaves the lexer in the same state.
    #[test]
    fn skipping_ahead_matches_full_lexing(
        dialect in any_dialect(),
        sql in sqlish_bytes(160),
        target in any::<prop::sample::Index>(),
        limit in any::<prop::sample::Index>(),
    ) {
        prop_assume!(!sql.is_empty());
        let all: Vec<_> = Lexer::new(dialect, &sql).collect();
        let mut full = Lexer::new(dialect, &sql);
        full.by_ref().for_each(drop);
        let terminated = all.last().is_none_or(|t| t.terminated) && !full.in_exec_comment();

        let target = target.index(sql.len());
        let mut skipping = Lexer::new(dialect, &sql);
        let found = skipping.advance_to(target);
        let expected = all.iter().position(|t| t.end > target).expect("a token holds every byte");
        prop_assert_eq!(found, Some(all[expected]));
        let rest: Vec<_> = skipping.clone().collect();
        prop_assert_eq!(&rest[..], &all[expected + 1..]);
        prop_assert!(skipping.finish() == terminated);
        prop_assert!(skipping.diverged() == full.diverged());

        // `next_notable` visits every literal, comment and `;` before the
        // limit and ends with the token holding the limit's last byte; the
        // plain tokens it may also return are tokens of the full lexing.
        let limit = limit.index(sql.len()) + 1;
        let notable = |t: &rasp_detect::sql::lexer::Token| {
            t.kind.is_quoted()
                || t.kind.is_comment()
                || matches!(
                    t.kind,
                    TokenKind::Semicolon | TokenKind::ExecCommentOpen | TokenKind::ExecCommentClose
                )
        };
        let mut skipping = Lexer::new(dialect, &sql);
        let mut seen = Vec::new();
        while let Some(t) = skipping.next_notable(limit) {
            seen.push(t);
        }
        let last = all.iter().position(|t| t.end >= limit).expect("a token holds every byte");
        prop_assert_eq!(seen.last(), Some(&all[last]));
        let mut rest = all[..=last].iter();
        for t in &seen {
            prop_assert!(rest.any(|u| u == t), "{:?} is not a token of {:?}", t, all);
        }
        for t in all[..=last].iter().filter(|t| notable(t)) {
            prop_assert!(seen.contains(t), "{:?} skipped", t);
        }
    }

    /// An input spliced into the text at a random place: if the detector
    /// flags it, the occurrence it names is one of the input's.
    #[test]
    fn detector_reports_a_real_occurrence(
        dialect in any_dialect(),
        prefix in sqlish_bytes(60),
        input in sqlish_bytes(12),
        suffix in sqlish_bytes(60),
    ) {
        let sql = [prefix.as_slice(), &input, &suffix].concat();
        if let Some(f) = detect(dialect, &sql, &Finder::new(&input)) {
            prop_assert_eq!(&sql[f.offset..f.offset + input.len()], input.as_slice());
        }
    }
}

/// Values a user might type, quotes and backslashes included.
fn value() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(
            &[
                "a", "b", "k", "z", "1", "7", " ", "  ", "'", "''", "\"", "\\", "-", "--", "/",
                "/*", "*/", "#", ";", "%", "$", "$$", ".", ",", "(", ")", "é", "\n",
            ][..],
        ),
        2..10,
    )
    .prop_map(|v| v.concat())
}

fn escape(dialect: Dialect, value: &str, doubling: bool) -> String {
    match dialect {
        Dialect::MySql => value
            .chars()
            .flat_map(|c| match c {
                '\\' => vec!['\\', '\\'],
                '\'' if doubling => vec!['\'', '\''],
                '\'' => vec!['\\', '\''],
                c => vec![c],
            })
            .collect(),
        _ => value.replace('\'', "''"),
    }
}

const PREFIX: &str = "SELECT ID FROM T WHERE NAME = '";
const SUFFIX: &str = "' AND N > 1";

/// Whether `value` occurs in `sql` anywhere but inside `placed`: such a
/// coincidence with the statement's own text is not what is under test.
fn occurs_outside(sql: &str, value: &str, placed: std::ops::Range<usize>) -> bool {
    sql.match_indices(value)
        .any(|(i, _)| i < placed.start || i + value.len() > placed.end)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Correctly escaped values are never injections.
    #[test]
    fn escaped_literals_are_not_injections(
        dialect in any_dialect(),
        value in value(),
        doubling in any::<bool>(),
    ) {
        let escaped = escape(dialect, &value, doubling);
        let sql = format!("{PREFIX}{escaped}{SUFFIX}");
        prop_assume!(!occurs_outside(&sql, &value, PREFIX.len()..PREFIX.len() + escaped.len()));
        let found = detect(dialect, sql.as_bytes(), &Finder::new(value.as_bytes()));
        prop_assert_eq!(found, None, "{:?}: {:?} in {:?}", dialect, value, sql);
    }

    /// The same values, unescaped and followed by a breakout, always are.
    /// (Without their own quotes and backslashes, which could pair with
    /// the breakout's quote and keep it inside the literal: `a'` + `' OR …`
    /// is the literal `a'' OR …`.)
    #[test]
    fn spliced_breakouts_are_injections(
        dialect in any_dialect(),
        value in value(),
        breakout in prop::sample::select(
            &["' OR '1'='1", "' OR 1=1 -- ", "'; DROP TABLE T; --", "' UNION SELECT PW FROM U #"][..],
        ),
    ) {
        let value = value.replace(['\'', '\\'], "");
        let input = format!("{value}{breakout}");
        let sql = format!("{PREFIX}{input}{SUFFIX}");
        let found = detect(dialect, sql.as_bytes(), &Finder::new(input.as_bytes()));
        prop_assert!(found.is_some(), "{:?}: {:?} in {:?}", dialect, input, sql);
    }
}

#[test]
fn oracle_agrees_on_hand_written_statements() {
    let cases: &[(Dialect, &str)] = &[
        (
            Dialect::Generic,
            "SELECT 'it''s', \"a\"\"b\", `c` FROM t -- x\n/* y */",
        ),
        (
            Dialect::Sqlite,
            "SELECT [a b], `c`, \"d\" FROM t WHERE e = 'f' /* g",
        ),
        (
            Dialect::Postgres,
            "SELECT E'a\\'b', $$c'd$$, $x$ e $x$ /* f /* g */ h */ -- i\n",
        ),
        (
            Dialect::MySql,
            "SELECT 'a\\'b', \"c\\\"d\", `e` FROM t # f\n-- g\n",
        ),
    ];
    for &(dialect, sql) in cases {
        let expected = oracle(dialect, sql).expect("sqlparser lexes the statement");
        assert!(!expected.is_empty());
        assert_eq!(ours(dialect, sql), expected, "{dialect:?}: {sql}");
    }
}
