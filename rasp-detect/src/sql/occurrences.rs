//! Walks every occurrence of an input through one lexing of the SQL text.
//!
//! The text is lexed once, front to back; occurrences are visited in order,
//! so the lexer only ever moves forward, skipping the code between them. A
//! look past an occurrence (to see where it ends) uses a copy of the lexer,
//! and the main lexer later covers the same bytes once more at most: the
//! work stays linear in the text.

use crate::Needle;

use super::lexer::{Lexer, Token, TokenKind};
use super::shapes::{self, Budget};
use super::{Dialect, SqlFinding};
use crate::Reason;

/// How many occurrences overlapping their predecessor are examined before
/// the search moves to non-overlapping occurrences only. Overlaps exist only
/// for periodic inputs (`''''`, `abab`); without a cap, a long periodic input
/// in a long periodic text would take quadratic time.
const MAX_OVERLAPS: u32 = 64;

/// How many starts of an input's escaped form are tried around an
/// occurrence that splits an escape; an input with more quotes than this is
/// judged on the first ones only (and reported if they do not match).
const MAX_ESCAPED_STARTS: usize = 64;

/// What one lexing of the text found.
#[derive(Debug, Clone)]
pub(super) struct Scan<'a> {
    /// The first occurrence that changes the structure of the text.
    pub(super) finding: Option<SqlFinding>,
    /// Whether a construct that dialects lex differently was met.
    pub(super) diverged: bool,
    /// The lexer where the scan stopped, to finish the text with.
    rest: Lexer<'a>,
}

impl Scan<'_> {
    /// Whether the whole text lexes without an unterminated token, i.e.
    /// whether the database could parse it at all.
    pub(super) fn terminated(&mut self) -> bool {
        self.rest.finish()
    }
}

/// Examines every occurrence of the finder's needle in `sql`, starting at
/// `first` (the offset of the first occurrence), until the first one that
/// changes the structure of the text.
pub(super) fn scan<'a>(
    dialect: Dialect,
    sql: &'a [u8],
    finder: &dyn Needle,
    first: usize,
) -> Scan<'a> {
    let len = finder.needle().len();
    let mut lexer = Lexer::new(dialect, sql);
    // The token holding the current occurrence's start; the lexer stands
    // right after it.
    let mut current: Option<Token> = None;
    let mut diverged = false;
    // A structural occurrence that a later, overlapping occurrence may
    // still explain away.
    let mut pending: Option<SqlFinding> = None;
    // End of the latest occurrence that lies inside one token.
    let mut benign_end = 0;
    let mut overlaps = 0u32;
    let mut escapes = Escapes::default();
    let mut budget = Budget::new();
    let needle = finder.needle();
    let mut start = first;
    let finding = loop {
        let end = start + len;
        let token = match current {
            Some(t) if t.end > start => t,
            _ => match lexer.advance_to(start) {
                Some(t) => t,
                // Every byte is in a token: only an occurrence past the
                // end, which the finder never reports, gets here.
                None => break pending,
            },
        };
        current = Some(token);
        let verdict = classify(
            Occurrence {
                dialect,
                sql,
                needle,
                start,
                end,
            },
            &lexer,
            token,
            &mut escapes,
            &mut diverged,
        );
        // A whole literal is one token, but not a reading *inside* one: the
        // input `'%'` is the whole literal `'%'` of `LIKE '%'%'%'` and also
        // the splice across its closing quote, which it must not excuse.
        let whole = is_whole_literal(sql, token, start, end);
        match verdict {
            None if whole => {}
            None => {
                // An occurrence inside one token overlapping the pending
                // one: the pending match is the same text read at another
                // alignment, e.g. `''` found across the opening quote of
                // `''''''` as well as inside it.
                pending = None;
                benign_end = end;
            }
            // The application's own text, or a shape spliced on purpose:
            // neither reported nor explaining others away.
            Some(_)
                if shapes::excused(
                    (dialect, sql, finder, first),
                    start,
                    end,
                    &lexer,
                    &mut budget,
                ) => {}
            Some(reason) => {
                if start >= benign_end && pending.is_none() {
                    pending = Some(SqlFinding {
                        offset: start,
                        reason,
                    });
                }
            }
        }
        let from = if overlaps < MAX_OVERLAPS {
            start + 1
        } else {
            end
        };
        let next = sql
            .get(from..)
            .and_then(|rest| finder.find(rest))
            .map(|k| from + k);
        if let Some(p) = pending
            && next.is_none_or(|q| q >= p.offset + len)
        {
            break Some(p);
        }
        match next {
            None => break pending,
            Some(q) => {
                if q < end {
                    overlaps += 1;
                }
                start = q;
            }
        }
    };
    Scan {
        finding,
        diverged: diverged || lexer.diverged(),
        rest: lexer,
    }
}

/// Reasons found on the tokens an occurrence touches.
#[derive(Debug, Clone, Copy, Default)]
struct Marks {
    breaks_literal: bool,
    opens_comment: bool,
    ends_statement: bool,
    unterminated: bool,
    spans: bool,
}

impl Marks {
    /// Marks `token` for the part of `start..end` it covers.
    fn add(&mut self, token: &Token, start: usize, end: usize) {
        let from = start.max(token.start);
        let to = end.min(token.end);
        let touches_open = from < token.start + token.open;
        let touches_close = token.close > 0 && to > token.end - token.close;
        match token.kind {
            kind if kind.is_quoted() => self.breaks_literal |= touches_open || touches_close,
            kind if kind.is_comment() => {
                self.opens_comment |= touches_open;
                // Ending a comment early lets what follows run as code.
                self.breaks_literal |= touches_close;
            }
            TokenKind::ExecCommentOpen => self.opens_comment = true,
            TokenKind::ExecCommentClose => self.spans = true,
            TokenKind::Semicolon => self.ends_statement = true,
            _ => {}
        }
        self.unterminated |= !token.terminated;
    }

    fn any(&self) -> bool {
        self.breaks_literal
            || self.opens_comment
            || self.ends_statement
            || self.unterminated
            || self.spans
    }

    /// The most telling reason, most specific first.
    fn reason(&self) -> Reason {
        if self.breaks_literal {
            Reason::BreaksLiteral
        } else if self.opens_comment {
            Reason::OpensComment
        } else if self.ends_statement {
            Reason::EndsStatement
        } else if self.unterminated {
            Reason::Unterminated
        } else {
            Reason::SpansTokens
        }
    }
}

/// The shape of the tokens an occurrence covers, whitespace aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Only whitespace so far.
    Empty,
    /// One token.
    One(Token),
    /// A sign applied to a number: `-5`, `+2.5`.
    SignedNumber,
    /// A qualified name, `a.b.c`; `true` while a name must follow a dot.
    Qualified(bool),
    /// Anything else: several tokens.
    Many,
}

impl Shape {
    fn push(self, sql: &[u8], t: Token) -> Shape {
        let byte = |t: Token| {
            (t.end == t.start + 1)
                .then(|| sql.get(t.start).copied())
                .flatten()
        };
        let is_dot = t.kind == TokenKind::Punct && byte(t) == Some(b'.');
        match self {
            _ if t.kind == TokenKind::Whitespace => self,
            Shape::Empty => Shape::One(t),
            Shape::One(a) if a.kind == TokenKind::Punct && matches!(byte(a), Some(b'-' | b'+')) => {
                if t.kind == TokenKind::Number {
                    Shape::SignedNumber
                } else {
                    Shape::Many
                }
            }
            Shape::One(a) if a.kind == TokenKind::Word && is_dot => Shape::Qualified(true),
            Shape::Qualified(true) if t.kind == TokenKind::Word => Shape::Qualified(false),
            Shape::Qualified(false) if is_dot => Shape::Qualified(true),
            _ => Shape::Many,
        }
    }

    /// Whether the covered tokens act as one: a value or a name.
    fn is_single(self) -> bool {
        matches!(
            self,
            Shape::Empty | Shape::One(_) | Shape::SignedNumber | Shape::Qualified(false)
        )
    }
}

/// One occurrence of the input in the text.
#[derive(Clone, Copy)]
struct Occurrence<'a> {
    dialect: Dialect,
    sql: &'a [u8],
    needle: &'a [u8],
    start: usize,
    end: usize,
}

/// Whether the occurrence, which begins in `first`, changes the structure
/// of the text; `lexer` stands right after `first`.
///
/// Whitespace at either end of an occurrence is ignored: it separates tokens
/// but never adds one. What remains must lie in the interior of one token,
/// or be a sign applied to a number (`-5`, how a negative number is written)
/// or a qualified name (`t.created_at`, one name as far as the statement is
/// concerned), or be one whole literal (`'123'`: a value, quotes and all).
/// Inside a literal, it must not split an escape: an occurrence ending in
/// the first quote of `''`, or in a `\` whose escaped byte follows it, took
/// the application's closing quote into the literal.
fn classify(
    occurrence: Occurrence<'_>,
    lexer: &Lexer<'_>,
    first: Token,
    escapes: &mut Escapes,
    diverged: &mut bool,
) -> Option<Reason> {
    let Occurrence {
        sql, start, end, ..
    } = occurrence;
    let mut marks = Marks::default();
    marks.add(&first, start, end);
    let mut shape = Shape::Empty.push(sql, first);
    let mut last = first;
    if first.end < end {
        let mut ahead = lexer.clone();
        // Breaking out of a literal is the most telling reason: once seen,
        // the rest of the occurrence cannot change the answer. Once the
        // occurrence is known to span tokens, only the tokens that carry a
        // reason (literals, comments, `;`) are worth cutting.
        while !marks.breaks_literal
            && let Some(t) = if shape == Shape::Many {
                ahead.next_notable(end)
            } else {
                ahead.next()
            }
        {
            marks.add(&t, start, end);
            shape = shape.push(sql, t);
            last = t;
            if t.end >= end {
                break;
            }
        }
        *diverged |= ahead.diverged();
    }
    if is_whole_literal(sql, last, start, end) {
        // One whole literal or quoted name: both quotes are the input's.
        return None;
    }
    if !marks.any() && first == last && escapes.splits(occurrence, first, lexer) {
        marks.breaks_literal = true;
    }
    if marks.any() {
        Some(marks.reason())
    } else if shape.is_single() {
        None
    } else {
        Some(Reason::SpansTokens)
    }
}

/// Where the escapes of one literal are, read front to back as occurrences
/// are examined, so that a long literal is read once.
#[derive(Debug, Default)]
struct Escapes {
    /// The literal read, by its start.
    token: Option<usize>,
    /// The start of the next unit of its interior not yet read: a byte, or
    /// an escape of two bytes.
    at: usize,
}

impl Escapes {
    /// Whether the occurrence, which lies in `token`, ends in the first
    /// byte of an escape whose second byte, after the occurrence, is a
    /// quote or a backslash: the application's closing quote (or the escape
    /// that protected it) now belongs to the literal, which runs on. An
    /// occurrence that is the input as the application escaped it (`O''`,
    /// for the input `O'`) splits nothing: the doubling is the escape.
    /// (An escape that ends inside the occurrence, or one that swallows an
    /// ordinary byte such as MySQL's `\%`, leaves the delimiters where
    /// they were.) An occurrence that begins on the second byte of an
    /// escape is the text read out of step with the literal's escapes
    /// (`'''` inside `'''''`): it is judged the same way, so that it never
    /// passes for a reading inside one token.
    fn splits(&mut self, o: Occurrence<'_>, token: Token, rest: &Lexer<'_>) -> bool {
        let Some((quote, backslash)) = escape_rules(o.dialect, o.sql, token) else {
            return false;
        };
        let interior = token.interior();
        if o.start < interior.start || o.end > interior.end {
            return false;
        }
        let escapes = |b: u8| b == quote || (backslash && b == b'\\');
        // Starting on the second byte of an escape, the occurrence is the
        // text read at another alignment than the literal's: not a
        // reading inside one token that explains others away.
        let at_start = o.start > interior.start
            && escapes(o.sql[o.start - 1])
            && self.escape_at(o.sql, token, quote, backslash, o.start - 1);
        let at_end = o.end < interior.end
            && escapes(o.sql[o.end - 1])
            && escapes(o.sql[o.end])
            && self.escape_at(o.sql, token, quote, backslash, o.end - 1);
        if !at_start && !at_end {
            return false;
        }
        // The input escaped is longer than the input: it may start up to
        // one byte earlier per quote or backslash it holds.
        let extra = o
            .needle
            .iter()
            .filter(|&&b| escapes(b))
            .count()
            .min(MAX_ESCAPED_STARTS);
        let earliest = o.start.saturating_sub(extra).max(interior.start);
        !(earliest..=o.start).any(|from| is_escaped_input(o, token, quote, backslash, from))
            // Read as the input escaped, the statement must still lex
            // whole: `'#;'' OR name = 'abc'` is `#;'` escaped only if
            // `abc'` does not leave a literal open after it.
            || !rest.clone().finish()
    }

    /// Whether an escape of two bytes begins at `at`, in the interior of
    /// `token`.
    fn escape_at(
        &mut self,
        sql: &[u8],
        token: Token,
        quote: u8,
        backslash: bool,
        at: usize,
    ) -> bool {
        let interior = token.interior();
        if self.token != Some(token.start) || self.at > at {
            self.token = Some(token.start);
            self.at = interior.start;
        }
        let unit = |i: usize| {
            let b = sql[i];
            let pair = i + 1 < interior.end
                && ((b == quote && sql[i + 1] == quote) || (backslash && b == b'\\'));
            if pair { 2 } else { 1 }
        };
        while self.at < at {
            let len = unit(self.at);
            if self.at + len > at {
                // `at` is the second byte of an escape.
                return false;
            }
            self.at += len;
        }
        unit(at) == 2
    }
}

/// The quote and backslash rules of a literal or quoted name whose escapes
/// are a doubled quote (and, with `true`, a backslash); `None` for tokens
/// without such escapes.
fn escape_rules(dialect: Dialect, sql: &[u8], token: Token) -> Option<(u8, bool)> {
    if !matches!(token.kind, TokenKind::String | TokenKind::QuotedIdent) || token.open == 0 {
        return None;
    }
    let quote = sql[token.start + token.open - 1];
    if quote == b'[' {
        return None;
    }
    Some((quote, shapes::escapes_with_backslash(dialect, sql, token)))
}

/// Whether the input, escaped for `token` (each quote doubled or
/// backslashed, each backslash doubled where backslashes escape), starts at
/// `from` and covers the occurrence within the literal's interior. A
/// one-byte input must moreover fill the interior with nothing but its
/// escapes (`''''`): a lone quote read as the first half of `''` elsewhere
/// in a literal is how two literals merge (`'{x}' AND b = '{x}'` with
/// `x = '`), and the two readings cannot be told apart by the bytes.
fn is_escaped_input(
    o: Occurrence<'_>,
    token: Token,
    quote: u8,
    backslash: bool,
    from: usize,
) -> bool {
    let interior = token.interior();
    let Some(to) = escaped_at(o.sql, o.needle, quote, backslash, from, interior.end) else {
        return false;
    };
    if to < o.end {
        return false;
    }
    if o.needle.len() > 1 {
        return true;
    }
    let mut at = interior.start;
    while at < interior.end {
        match escaped_at(o.sql, o.needle, quote, backslash, at, interior.end) {
            Some(next) => at = next,
            None => return false,
        }
    }
    true
}

/// Where the escaped form of `needle` ends if it starts at `from` and ends
/// by `limit`: quotes doubled (or backslashed), backslashes doubled where
/// they escape (or left single, as standard SQL escaping leaves them).
fn escaped_at(
    sql: &[u8],
    needle: &[u8],
    quote: u8,
    backslash: bool,
    from: usize,
    limit: usize,
) -> Option<usize> {
    let mut at = from;
    for (i, &b) in needle.iter().enumerate() {
        let byte = |k: usize| sql.get(at + k).copied().filter(|_| at + k < limit);
        let last = i + 1 == needle.len();
        at += if b == quote {
            match (byte(0), byte(1)) {
                (Some(x), Some(y)) if y == quote && (x == quote || (backslash && x == b'\\')) => 2,
                _ => return None,
            }
        } else if backslash && b == b'\\' {
            match (byte(0), byte(1)) {
                (Some(b'\\'), Some(b'\\')) => 2,
                // Escaped the standard way, a backslash stays single; it
                // then escapes the next byte of the input, never the
                // application's quote after it.
                (Some(b'\\'), _) if !last => 1,
                _ => return None,
            }
        } else {
            match byte(0) {
                Some(x) if x == b => 1,
                _ => return None,
            }
        };
    }
    Some(at)
}

/// Whether the occurrence, whitespace aside, is exactly `token`, a
/// terminated literal or quoted name.
fn is_whole_literal(sql: &[u8], token: Token, start: usize, end: usize) -> bool {
    token.kind.is_quoted() && token.terminated && (token.start, token.end) == trim(sql, start, end)
}

/// The occurrence without the whitespace at either end.
fn trim(sql: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && sql[start].is_ascii_whitespace() {
        start += 1;
    }
    while end > start && sql[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    (start, end)
}
