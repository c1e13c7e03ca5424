//! SQL injection detector (dialect-aware byte lexer).
//!
//! An input recorded from an untrusted source is an injection into a SQL
//! statement when one of its occurrences in the statement's text is not
//! confined to the *interior* of a single token: the content of one string
//! literal, quoted identifier or comment, or one word, number, parameter or
//! operator. The input `O'Brien` bound as `'O''Brien'` never occurs raw in
//! the text and is fine; `42` in `id = 42` is one number and is fine;
//! `42 OR 1=1` spans tokens, and `x' OR 'a'='a` breaks out of its literal.
//!
//! Rules, in the order they are applied to each occurrence:
//!
//! - whitespace at either end of an occurrence is ignored (it separates
//!   tokens, it never adds one), so an input of only whitespace is never an
//!   injection; a sign applied to a number (`-5`) and a qualified name
//!   (`u.created_at`) count as one token;
//! - an occurrence that covers a literal's or quoted identifier's quote, or a
//!   comment's end, [breaks out](Reason::BreaksLiteral); one that covers a
//!   comment's start (or MySQL's executable `/*!`) [opens a
//!   comment](Reason::OpensComment); one that holds a `;` outside literals
//!   [ends the statement](Reason::EndsStatement); one that lies in a token
//!   the text never closes leaves it [unterminated](Reason::Unterminated);
//!   any other occurrence across tokens [spans tokens](Reason::SpansTokens);
//! - inside a literal, an occurrence whose last byte escapes the
//!   application's closing quote (`a'` read with the next quote as `''`,
//!   MySQL's `x\` before `'`) [breaks out](Reason::BreaksLiteral) too,
//!   unless it is the input as the application escaped it;
//! - one whole literal (`'123'`), a list of literals filling `IN (…)` and
//!   sort keys filling what follows `ORDER BY` are shapes applications
//!   splice on purpose, and pass;
//! - a structural occurrence that cannot be where the input was spliced is
//!   the application's own text and passes: keywords and punctuation where
//!   no value could stand (`t order by name`), or the prefix of one of the
//!   application's literals (`'ab` in `'abc'`), see `shapes`;
//! - every occurrence is examined and the first structural one is reported,
//!   except one that overlaps an occurrence lying inside a single token: two
//!   overlapping matches are the same bytes read at two alignments (`''`
//!   inside the escaped literal `''''''` also matches across its opening
//!   quote), and the reading confined to one token is the one the
//!   application produced.
//!
//! [`Dialect::Generic`] flags what any of SQLite, PostgreSQL and MySQL would
//! flag. All three cut ordinary text into the same tokens, so the text is
//! lexed once; only when it holds a construct they read differently (a
//! backslash in a literal, a backtick, `#`, `$`, `[`, `/*!`, nested comments,
//! `--` without a following space) is it lexed per dialect. A dialect that
//! cannot lex the whole statement (its reading leaves a literal open, so the
//! database would reject the statement) is then disregarded unless none can:
//! `'C:\dir\'` is a closed literal in PostgreSQL and SQLite, and under
//! MySQL's backslash escapes a statement that fails to parse, not an
//! injection.
//!
//! The lexer never allocates, and the whole detection is linear in the
//! length of the text: the text is lexed front to back once per dialect,
//! with every occurrence examined on the way.

mod dialect;
#[doc(hidden)]
pub mod lexer;
mod occurrences;
pub mod quoted;
mod shapes;

#[cfg(test)]
mod tests;

pub use dialect::Dialect;

use crate::Needle;

use crate::Reason;

/// A finding of the SQL detector: the occurrence offset and why it is an injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlFinding {
    /// Byte offset of the offending occurrence of the input in the SQL text.
    pub offset: usize,
    /// What the occurrence does to the statement.
    pub reason: Reason,
}

/// Whether `input` (searched with `finder`) is an injection into `sql`.
///
/// `finder.needle()` is the recorded input. Returns the first occurrence of
/// it that changes the structure of `sql` under `dialect`, or `None`,
/// including when the input does not occur at all (which costs one substring
/// search) or is empty.
#[inline]
pub fn detect(dialect: Dialect, sql: &[u8], finder: &dyn Needle) -> Option<SqlFinding> {
    let first = crate::first_occurrence(sql, finder)?;
    examine(dialect, sql, finder, first)
}

#[inline(never)]
fn examine(dialect: Dialect, sql: &[u8], finder: &dyn Needle, first: usize) -> Option<SqlFinding> {
    if dialect != Dialect::Generic {
        return occurrences::scan(dialect, sql, finder, first).finding;
    }
    // The generic reading is SQLite's.
    let mut sqlite = occurrences::scan(Dialect::Generic, sql, finder, first);
    if !sqlite.diverged {
        // Up to where the scan stopped, every dialect lexes the same tokens.
        return sqlite.finding;
    }
    let mut postgres = occurrences::scan(Dialect::Postgres, sql, finder, first);
    let mut mysql = occurrences::scan(Dialect::MySql, sql, finder, first);
    let findings = [sqlite.finding, postgres.finding, mysql.finding];
    if let [Some(a), Some(b), Some(c)] = findings
        && a.offset == b.offset
        && b.offset == c.offset
    {
        // Every reading flags the same occurrence: whichever readings the
        // database could parse, the verdict and the offset are these.
        return findings
            .into_iter()
            .flatten()
            .min_by_key(|f| severity(f.reason));
    }
    if findings.iter().all(Option::is_none) {
        return None;
    }
    let lexes = [
        sqlite.terminated(),
        postgres.terminated(),
        mysql.terminated(),
    ];
    let any_lexes = lexes.contains(&true);
    findings
        .into_iter()
        .zip(lexes)
        .filter(|&(_, lexes)| lexes || !any_lexes)
        .filter_map(|(finding, _)| finding)
        .min_by_key(|f| (f.offset, severity(f.reason)))
}

/// Orders the reasons dialects may give for the same occurrence, so that
/// the generic detector reports the most telling one: MySQL's "opens a
/// comment" for `1 # x` rather than another dialect's "spans tokens".
const fn severity(reason: Reason) -> u8 {
    match reason {
        Reason::BreaksLiteral => 0,
        Reason::OpensComment => 1,
        Reason::EndsStatement => 2,
        Reason::Unterminated => 3,
        _ => 4,
    }
}
