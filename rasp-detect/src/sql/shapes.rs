//! Occurrences that cover more than one token and still are not injections:
//! text the application wrote itself that merely equals the input, and the
//! few multi-token shapes applications splice on purpose.
//!
//! The question asked of every structural occurrence is whether it can
//! plausibly be where the input was spliced. The text the detector sees is
//! the application's template with the input in it; if this occurrence were
//! the input, the template would be the text with the occurrence replaced
//! by a neutral value. Two readings follow:
//!
//! - **Coincidence.** When no template could hold a value there, the
//!   occurrence is the application's own text that happens to equal the
//!   input. Two cases are decided, both without looking at the rest of the
//!   input's occurrences:
//!   - keywords and punctuation only (`order by`, `is null`, `(*)`), made of
//!     whole tokens, where the tokens around leave no room for a value: the
//!     token before ends an operand (`t order by name`) or begins the
//!     statement, or the token after begins one (`WHERE not exists (`). A
//!     value slot (`id = {x}`) accepts `null is null`, so there the
//!     occurrence is judged as spliced. The keywords are those that cannot
//!     make a value or a condition on their own: `OR`, `AND`, `UNION`,
//!     `TRUE`, `FALSE`, `CASE` and the like are never excused;
//!   - part of one quoted token and one of its quotes (`'ab` in `'abc'`):
//!     replaced by a neutral value, the application's remaining quote would
//!     leave a literal open, so the template could not have been that.
//!     Only when the statement as it stands lexes completely: a statement
//!     left open is reported as such.
//! - **Deliberate shapes.** A list of literals filling `IN (…)` (`1,2,3`,
//!   `'a','b'`), and sort keys (`name`, `u.name DESC`, `a ASC, b`) filling
//!   what follows `ORDER BY`: the input adds values or names, never an
//!   operator, so it cannot change what the statement does.
//!
//! These checks lex the text from its start again, so each costs a pass
//! over the text; [`Budget`] caps how many one detection may run, after
//! which occurrences are judged without them (reported, never missed).

use super::Dialect;
use super::lexer::{Lexer, Token, TokenKind};
use crate::Needle;

/// How many excuse checks one scan may run: each re-lexes the text.
const CHECKS: u32 = 16;

/// The checks left to one scan, and what they learnt of the whole text.
#[derive(Debug, Clone, Copy)]
pub(super) struct Budget {
    left: u32,
    all_neutral: Option<bool>,
}

impl Budget {
    pub(super) const fn new() -> Self {
        Budget {
            left: CHECKS,
            all_neutral: None,
        }
    }

    fn take(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        true
    }

    /// [`neutral_everywhere`], computed once per scan.
    fn all_neutral_terminated(
        &mut self,
        dialect: Dialect,
        sql: &[u8],
        finder: &dyn Needle,
        first: usize,
    ) -> bool {
        *self
            .all_neutral
            .get_or_insert_with(|| neutral_everywhere(dialect, sql, finder, first))
    }
}

/// Whether the structural occurrence `start..end` is the application's own
/// text or a shape spliced on purpose; `rest` is a lexer standing right
/// after the occurrence's first token, to learn whether the statement as
/// it stands lexes completely.
pub(super) fn excused(
    occurrence: (Dialect, &[u8], &dyn Needle, usize),
    start: usize,
    end: usize,
    rest: &Lexer<'_>,
    budget: &mut Budget,
) -> bool {
    let (dialect, sql, finder, first_occurrence) = occurrence;
    let (start, end) = trim(sql, start, end);
    if start >= end || !budget.take() {
        return false;
    }
    let mut lexer = Lexer::new(dialect, sql);
    // The two significant tokens before the occurrence, nearest first.
    let mut before: [Option<Token>; 2] = [None, None];
    let first = loop {
        let Some(t) = lexer.next() else { return false };
        if t.end > start {
            break t;
        }
        if is_significant(t) {
            before = [Some(t), before[0]];
        }
    };
    if first.kind.is_quoted() && end <= first.end {
        let text = (dialect, sql, finder, first_occurrence);
        return literal_coincidence(text, first, start, end, rest, budget);
    }
    if first.start != start {
        return false;
    }
    // The occurrence must end where a token ends; `after` is the first
    // significant token past it.
    let mut covered = Covered::new(sql, first);
    let mut after = None;
    let mut ends_at_boundary = first.end == end;
    if first.end < end {
        for t in lexer.by_ref() {
            if t.end > end {
                return false;
            }
            covered.push(sql, t);
            if t.end == end {
                ends_at_boundary = true;
                break;
            }
        }
    }
    if !ends_at_boundary {
        return false;
    }
    for t in lexer {
        if is_significant(t) {
            after = Some(t);
            break;
        }
    }
    let word = |t: Option<Token>, w: &[u8]| t.is_some_and(|t| is_word(sql, t, w));
    let punct = |t: Option<Token>, b: u8| t.is_some_and(|t| is_punct(sql, t, b));
    let literal_list = covered.literal_list && covered.after_element;
    if literal_list && punct(before[0], b'(') && word(before[1], b"in") {
        return punct(after, b')');
    }
    if covered.sort_keys.is_complete() && word(before[0], b"by") && word(before[1], b"order") {
        return true;
    }
    covered.keywords_only && !holds_a_value(sql, before[0], after)
}

/// Whether a value could stand between `before` and `after`: `before`
/// introduces an operand (an operator, `(`, `,`, or a keyword such as
/// `WHERE` or `=`), and `after` may follow one.
fn holds_a_value(sql: &[u8], before: Option<Token>, after: Option<Token>) -> bool {
    let Some(before) = before else {
        // A statement does not begin with a value.
        return false;
    };
    let introduces = match before.kind {
        TokenKind::Word => is_operand_keyword(word_bytes(sql, before)),
        TokenKind::Punct => !is_punct(sql, before, b')'),
        _ => false,
    };
    let follows = match after {
        None => true,
        Some(t) => match t.kind {
            TokenKind::Punct => !is_punct(sql, t, b'('),
            TokenKind::Semicolon | TokenKind::ExecCommentClose => true,
            // `SELECT {x} name`: an alias may follow a value.
            TokenKind::Word => true,
            _ => false,
        },
    };
    introduces && follows
}

/// What the tokens an occurrence covers are made of.
struct Covered {
    /// Only keywords of [`is_structural_keyword`] and harmless punctuation.
    keywords_only: bool,
    /// Literals separated by commas: `1, 2, -3`, `'a','b'`.
    literal_list: bool,
    /// Sort keys: `a`, `t.a DESC`, `a ASC, "b"`.
    sort_keys: SortKeys,
    /// The previous significant token was a sign.
    after_sign: bool,
    /// The previous significant token was an element of a literal list.
    after_element: bool,
}

/// A small automaton over sort keys: `name [ASC|DESC] (, name [ASC|DESC])*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKeys {
    /// A name must come next (start, after `,`).
    Name,
    /// After a name: `.`, `ASC`/`DESC`, `,` or the end.
    AfterName,
    /// After a `.`: a name must come next.
    AfterDot,
    /// After `ASC`/`DESC`: `,` or the end.
    AfterDirection,
    /// Not sort keys.
    No,
}

impl SortKeys {
    fn is_complete(self) -> bool {
        matches!(self, SortKeys::AfterName | SortKeys::AfterDirection)
    }

    fn push(self, sql: &[u8], t: Token) -> SortKeys {
        let name = match t.kind {
            // A name, not a keyword: `ORDER BY and` is no sort key.
            TokenKind::Word => {
                let w = word_bytes(sql, t);
                !is_operand_keyword(w) && !is_structural_keyword(w) && !is_logic_keyword(w)
            }
            TokenKind::QuotedIdent => t.terminated,
            _ => false,
        };
        let direction = is_word(sql, t, b"asc") || is_word(sql, t, b"desc");
        match self {
            SortKeys::Name | SortKeys::AfterDot if name => SortKeys::AfterName,
            SortKeys::AfterName if is_punct(sql, t, b'.') => SortKeys::AfterDot,
            SortKeys::AfterName if direction => SortKeys::AfterDirection,
            SortKeys::AfterName | SortKeys::AfterDirection if is_punct(sql, t, b',') => {
                SortKeys::Name
            }
            _ => SortKeys::No,
        }
    }
}

impl Covered {
    fn new(sql: &[u8], first: Token) -> Self {
        let mut covered = Covered {
            keywords_only: true,
            literal_list: true,
            sort_keys: SortKeys::Name,
            after_sign: false,
            after_element: false,
        };
        covered.push(sql, first);
        covered
    }

    fn push(&mut self, sql: &[u8], t: Token) {
        if !is_significant(t) {
            if t.kind != TokenKind::Whitespace {
                // A comment inside the occurrence is never excused.
                self.keywords_only = false;
                self.literal_list = false;
                self.sort_keys = SortKeys::No;
            }
            return;
        }
        self.keywords_only &= match t.kind {
            TokenKind::Word => is_structural_keyword(word_bytes(sql, t)),
            TokenKind::Punct => is_harmless_punct(&sql[t.start..t.end]),
            _ => false,
        };
        self.sort_keys = self.sort_keys.push(sql, t);
        let sign = is_punct(sql, t, b'-') || is_punct(sql, t, b'+');
        let element = match t.kind {
            TokenKind::Number => true,
            TokenKind::String => t.terminated && !self.after_sign,
            TokenKind::Word => {
                !self.after_sign
                    && [b"null" as &[u8], b"true", b"false"]
                        .iter()
                        .any(|w| is_word(sql, t, w))
            }
            _ => false,
        };
        let fits = if self.after_element {
            is_punct(sql, t, b',')
        } else {
            element || (sign && !self.after_sign)
        };
        self.literal_list &= fits;
        self.after_element = element;
        self.after_sign = sign;
    }
}

/// `start..end` lies in `token`, a quoted token, and covers one of its
/// quotes: the application's own literal, unless the statement with the
/// occurrence neutralised still lexes completely.
fn literal_coincidence(
    text: (Dialect, &[u8], &dyn Needle, usize),
    token: Token,
    start: usize,
    end: usize,
    rest: &Lexer<'_>,
    budget: &mut Budget,
) -> bool {
    let (dialect, sql, finder, first) = text;
    if token.kind != TokenKind::String && token.kind != TokenKind::QuotedIdent {
        // A dollar-quoted string closes on its tag, not on one quote.
        return false;
    }
    if !rest.clone().finish() {
        return false;
    }
    let interior = token.interior();
    let covers_open = start < interior.start;
    let covers_close = token.close > 0 && end > interior.end;
    if covers_open == covers_close {
        // Both quotes: a whole literal (judged by the caller); neither:
        // an escape inside the literal, which is no coincidence.
        return false;
    }
    let mut neutral = if covers_open {
        // The template would be `…{x}rest`: the value is code, and the
        // literal's closing quote now opens one.
        Lexer::resume(dialect, sql, end)
    } else {
        // The template would be `…'abc{x}rest`: the literal goes on past
        // the occurrence and closes later, if ever.
        let quote = sql[interior.start - 1];
        let backslash = escapes_with_backslash(dialect, sql, token);
        Lexer::resume_in_literal(dialect, sql, end, quote, backslash)
    };
    // The input may also have been spliced at several places (two
    // parameters with the same value): the template is then the text with
    // every occurrence neutral, and that must leave a literal open too.
    // Not for one byte: a lone quote occurs at every quote of the text,
    // and its merges are found as split escapes.
    !neutral.finish()
        && (finder.needle().len() == 1
            || !budget.all_neutral_terminated(dialect, sql, finder, first))
}

/// Whether the text with every (non-overlapping) occurrence of the input
/// replaced by a neutral value lexes completely. An occurrence inside a
/// comment or a dollar-quoted string makes the answer unknown: `true`,
/// which excuses nothing.
fn neutral_everywhere(dialect: Dialect, sql: &[u8], finder: &dyn Needle, first: usize) -> bool {
    let len = finder.needle().len();
    let mut lexer = Lexer::new(dialect, sql);
    let mut next = Some(first);
    while let Some(start) = next {
        let end = start + len;
        let find_from = |from: usize| {
            sql.get(from..)
                .and_then(|rest| finder.find(rest))
                .map(|k| from + k)
        };
        if start < lexer.position() {
            next = find_from(start + 1);
            continue;
        }
        let Some(token) = lexer.advance_to(start) else {
            break;
        };
        let interior = token.interior();
        let in_interior = start >= interior.start && (start < interior.end || token.close == 0);
        lexer = match token.kind {
            TokenKind::String | TokenKind::QuotedIdent if in_interior && token.open > 0 => {
                let quote = sql[interior.start - 1];
                let backslash = escapes_with_backslash(dialect, sql, token);
                Lexer::resume_in_literal(dialect, sql, end, quote, backslash)
            }
            TokenKind::DollarString | TokenKind::LineComment | TokenKind::BlockComment
                if in_interior =>
            {
                return true;
            }
            _ => Lexer::resume(dialect, sql, end),
        };
        next = find_from(end);
    }
    lexer.finish()
}

/// Whether `\` escapes inside `token` under `dialect`.
pub(super) fn escapes_with_backslash(dialect: Dialect, sql: &[u8], token: Token) -> bool {
    if token.kind != TokenKind::String {
        return false;
    }
    let prefix = sql[token.start];
    match dialect {
        Dialect::MySql => true,
        Dialect::Postgres => matches!(prefix, b'e' | b'E'),
        _ => false,
    }
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

fn is_significant(t: Token) -> bool {
    !matches!(t.kind, TokenKind::Whitespace) && !t.kind.is_comment()
}

fn word_bytes(sql: &[u8], t: Token) -> &[u8] {
    &sql[t.start..t.end]
}

fn is_word(sql: &[u8], t: Token, word: &[u8]) -> bool {
    t.kind == TokenKind::Word && word_bytes(sql, t).eq_ignore_ascii_case(word)
}

fn is_punct(sql: &[u8], t: Token, b: u8) -> bool {
    t.kind == TokenKind::Punct && t.end == t.start + 1 && sql[t.start] == b
}

/// Punctuation that neither makes a value nor joins conditions: parentheses,
/// commas, `*`, `.`, `=`, `::`. (`||` is `OR` in MySQL.)
fn is_harmless_punct(p: &[u8]) -> bool {
    matches!(p, b"(" | b")" | b"," | b"*" | b"." | b"=" | b"::")
}

/// Keywords that shape a statement without making a value or a condition
/// of their own; an input made of these and harmless punctuation can only
/// rearrange what the application wrote.
fn is_structural_keyword(word: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"select",
        b"from",
        b"where",
        b"order",
        b"group",
        b"by",
        b"having",
        b"limit",
        b"offset",
        b"is",
        b"not",
        b"null",
        b"asc",
        b"desc",
        b"nulls",
        b"first",
        b"last",
        b"inner",
        b"outer",
        b"left",
        b"right",
        b"full",
        b"cross",
        b"natural",
        b"join",
        b"on",
        b"using",
        b"as",
        b"distinct",
        b"insert",
        b"into",
        b"values",
        b"update",
        b"set",
        b"delete",
        b"returning",
        b"conflict",
        b"do",
        b"nothing",
        b"duplicate",
        b"key",
        b"exists",
        b"count",
    ];
    WORDS.iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// Keywords that join or make conditions and values, never excused.
fn is_logic_keyword(word: &[u8]) -> bool {
    [
        b"or" as &[u8],
        b"and",
        b"xor",
        b"true",
        b"false",
        b"union",
        b"end",
    ]
    .iter()
    .any(|w| word.eq_ignore_ascii_case(w))
}

/// Keywords after which an operand (a value, a name, a subquery) comes.
fn is_operand_keyword(word: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"select",
        b"from",
        b"where",
        b"and",
        b"or",
        b"xor",
        b"not",
        b"on",
        b"by",
        b"set",
        b"in",
        b"like",
        b"ilike",
        b"rlike",
        b"regexp",
        b"similar",
        b"to",
        b"is",
        b"between",
        b"case",
        b"when",
        b"then",
        b"else",
        b"having",
        b"limit",
        b"offset",
        b"values",
        b"join",
        b"as",
        b"union",
        b"all",
        b"any",
        b"some",
        b"distinct",
        b"returning",
        b"into",
        b"update",
        b"table",
        b"exists",
        b"escape",
        b"div",
        b"mod",
        b"interval",
        b"top",
        b"with",
        b"return",
        b"collate",
    ];
    WORDS.iter().any(|w| word.eq_ignore_ascii_case(w))
}
