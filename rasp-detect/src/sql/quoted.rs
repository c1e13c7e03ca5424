//! Where a span-exact macro can judge an argument without lexing: the
//! interior of a single-quoted string literal.
//!
//! `rasp::sql!` reads its template at build time. An argument that sits
//! inside `'…'` under every dialect stays in that literal at run time as
//! long as its bytes hold no quote, no backslash (MySQL's escape, and
//! PostgreSQL's in `E'…'`) and no NUL: the template around it lexes as it
//! did, and the argument adds no token. Such an argument is judged by one
//! SIMD scan of its own bytes; any other is judged by the full detector.

use memchr::memchr3;

use super::Dialect;
use super::lexer::{Lexer, TokenKind};

/// Whether byte `at` of `sql` lies in the interior of a terminated
/// `'…'` string literal under every dialect rasp knows.
pub fn quoted_at(sql: &[u8], at: usize) -> bool {
    [Dialect::Generic, Dialect::Postgres, Dialect::MySql]
        .into_iter()
        .all(|dialect| {
            Lexer::new(dialect, sql)
                .advance_to(at)
                .is_some_and(|token| {
                    token.kind == TokenKind::String
                        && token.terminated
                        && sql.get(token.start + token.open - 1) == Some(&b'\'')
                        && token.interior().contains(&at)
                })
        })
}

/// Whether `span`, written inside a literal that [`quoted_at`] vouched
/// for, leaves it as the template had it: no quote, backslash or NUL.
#[inline]
pub fn stays_quoted(span: &[u8]) -> bool {
    memchr3(b'\'', b'\\', 0, span).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placeholder_inside_quotes_is_quoted_in_every_dialect() {
        let sql = b"SELECT * FROM t WHERE a = 'x' AND b = 1";
        assert!(quoted_at(sql, 27));
        assert!(!quoted_at(sql, 38), "a number is code");
        assert!(!quoted_at(sql, 26), "the quote itself is not the interior");
        // Double quotes are an identifier in PostgreSQL, a string in MySQL.
        assert!(!quoted_at(b"SELECT \"x\"", 8));
        // Dollar quoting and comments are not single-quoted literals.
        assert!(!quoted_at(b"SELECT $$x$$", 9));
        assert!(!quoted_at(b"SELECT 1 -- 'x'", 13));
        // An `E'` prefix is a literal too; its backslash escapes are why
        // `stays_quoted` refuses a backslash.
        assert!(quoted_at(b"SELECT E'x'", 9));
    }

    #[test]
    fn only_quotes_backslashes_and_nul_leave_the_literal() {
        assert!(stays_quoted(b"O Brien; DROP TABLE t -- /* */ \" ` $$"));
        assert!(!stays_quoted(b"x' OR '1'='1"));
        assert!(!stays_quoted(b"x\\"));
        assert!(!stays_quoted(b"x\0"));
    }
}
