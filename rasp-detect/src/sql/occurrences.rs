//! Walks every occurrence of an input through one lexing of the SQL text.
//!
//! The text is lexed once, front to back; occurrences are visited in order,
//! so the lexer only ever moves forward, skipping the code between them. A
//! look past an occurrence (to see where it ends) uses a copy of the lexer,
//! and the main lexer later covers the same bytes once more at most: the
//! work stays linear in the text.

use crate::Needle;

use super::lexer::{Lexer, Token, TokenKind};
use super::{Dialect, SqlFinding};
use crate::Reason;

/// How many occurrences overlapping their predecessor are examined before
/// the search moves to non-overlapping occurrences only. Overlaps exist only
/// for periodic inputs (`''''`, `abab`); without a cap, a long periodic input
/// in a long periodic text would take quadratic time.
const MAX_OVERLAPS: u32 = 64;

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
        match classify(sql, &lexer, token, start, end, &mut diverged) {
            None => {
                // An occurrence inside one token overlapping the pending
                // one: the pending match is the same text read at another
                // alignment, e.g. `''` found across the opening quote of
                // `''''''` as well as inside it.
                pending = None;
                benign_end = end;
            }
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

/// Whether the occurrence `start..end`, which begins in `first`, changes the
/// structure of the text; `lexer` stands right after `first`.
///
/// Whitespace at either end of an occurrence is ignored: it separates tokens
/// but never adds one. What remains must lie in the interior of one token,
/// or be a sign applied to a number (`-5`, how a negative number is written)
/// or a qualified name (`t.created_at`, one name as far as the statement is
/// concerned).
fn classify(
    sql: &[u8],
    lexer: &Lexer<'_>,
    first: Token,
    start: usize,
    end: usize,
    diverged: &mut bool,
) -> Option<Reason> {
    let mut marks = Marks::default();
    marks.add(&first, start, end);
    let mut shape = Shape::Empty.push(sql, first);
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
            if t.end >= end {
                break;
            }
        }
        *diverged |= ahead.diverged();
    }
    if marks.any() {
        Some(marks.reason())
    } else if shape.is_single() {
        None
    } else {
        Some(Reason::SpansTokens)
    }
}
