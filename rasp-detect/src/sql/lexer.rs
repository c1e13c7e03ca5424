//! A dialect-aware SQL lexer over raw bytes that never allocates.
//!
//! [`Lexer`] is an iterator of [`Token`]s: byte ranges that together cover
//! the whole text, with no gaps and no overlaps. It never fails: text that a
//! database would reject (an unterminated string, a stray byte, invalid
//! UTF-8) still lexes, and the token says so ([`Token::terminated`]). The
//! detector needs exactly that — where literals, quoted identifiers and
//! comments begin and end, as the database will see them — so the lexer
//! models those precisely per dialect and is deliberately coarse about the
//! rest (operators, keywords).
//!
//! Where the dialects disagree about a construct, every lexer notes it
//! ([`Lexer::diverged`]): up to the first such construct, all dialects cut
//! the text into the same tokens, which lets the generic detector lex once in
//! the common case.
//!
//! Public for the differential tests against a reference tokenizer; not a
//! stable API.
//!
//! It is written by hand rather than taken from a SQL parser because it is
//! on the hot path of every SQL sink check, and because a parser cannot
//! read what the detector must. It makes one pass over the bytes, builds
//! no AST and allocates nothing; `sqlparser`'s tokenizer returns a `Vec` of
//! owned tokens (a `String` per word, number and literal) and its parser
//! builds an AST on top. They also stop at the first error: the tokenizer
//! returns "Unterminated string literal" and no tokens for an open literal,
//! and the parser rejects any text outside its grammar, fragments and
//! syntax it does not model included. An input that leaves the statement unterminated
//! is exactly what the detector has to report, with byte offsets
//! (sqlparser's locations are lines and character columns).
//!
//! Measured (`benches/lexers.rs`, PostgreSQL dialect on both sides, medians
//! of one run on a shared 2-vCPU machine): cutting a 142-byte `SELECT … WHERE
//! email = '…'` into tokens takes 369 ns here, 9.3 µs with sqlparser's
//! tokenizer (**25×**) and 26.2 µs with `Parser::parse_sql` (**71×**); for a
//! 1 810-byte report query, 5.2 µs against 129 µs (**25×**) and 370 µs
//! (**71×**). Over five runs the ratios ranged 18–34× (tokenizer) and 58–85×
//! (parser). The detector does less than a full tokenization, since it skips
//! code that cannot open a literal or comment: the whole check with the
//! input present took 137 ns and 724 ns on the same two statements, 68× and
//! 179× less than sqlparser's tokenizer alone. Reproduce with
//! `cargo bench -p rasp-detect --bench lexers -- --warm-up-time 1
//! --measurement-time 3`; the figures are in `docs/benchmarks.md`.

use memchr::{memchr, memchr2};

use super::Dialect;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// Spaces, tabs, line breaks.
    Whitespace,
    /// A keyword or unquoted identifier.
    Word,
    /// A numeric literal, including `0x1F`, `1.5e-3`, and digits run into
    /// identifier characters (`1abc`, one token as MySQL reads it).
    Number,
    /// A bind parameter or variable: `?`, `?1`, `$1`, `:name`, `@var`, `@@version`.
    Param,
    /// A string literal: `'…'` with an optional `E`, `X`, `B`, `N` or `U&`
    /// prefix, and MySQL's `"…"`.
    String,
    /// A PostgreSQL dollar-quoted string: `$$…$$`, `$tag$…$tag$`.
    DollarString,
    /// A quoted identifier: `"…"`, `` `…` ``, `[…]`.
    QuotedIdent,
    /// `-- …` or MySQL's `# …`, with its line break.
    LineComment,
    /// `/* … */`.
    BlockComment,
    /// MySQL's `/*!` (optionally with a version), whose content is executed.
    ExecCommentOpen,
    /// The `*/` that ends a MySQL executable comment.
    ExecCommentClose,
    /// `;`.
    Semicolon,
    /// An operator or other punctuation.
    Punct,
}

impl TokenKind {
    /// A string literal, dollar-quoted string or quoted identifier: a token
    /// whose interior is data, not code.
    pub const fn is_quoted(self) -> bool {
        matches!(
            self,
            TokenKind::String | TokenKind::DollarString | TokenKind::QuotedIdent
        )
    }

    /// A comment (not an executable one).
    pub const fn is_comment(self) -> bool {
        matches!(self, TokenKind::LineComment | TokenKind::BlockComment)
    }
}

/// One token: a byte range of the text and the length of its delimiters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// Length of the opening delimiter, prefix included (`E'` is 2, `$tag$`
    /// is 5, `--` is 2); 0 for tokens without delimiters.
    pub open: usize,
    /// Length of the closing delimiter (`'`, `*/`, the line break ending a
    /// line comment); 0 when there is none, e.g. unterminated.
    pub close: usize,
    /// False when the text ended inside the token and the database would
    /// reject it (an open string, quoted identifier or block comment).
    pub terminated: bool,
}

impl Token {
    /// The bytes between the delimiters: a literal's content, a comment's text.
    pub const fn interior(&self) -> core::ops::Range<usize> {
        self.start + self.open..self.end - self.close
    }
}

/// How one dialect cuts text into tokens where dialects differ.
#[derive(Debug, Clone, Copy)]
struct Syntax {
    /// `\` escapes the next byte in `'…'` and `"…"` strings (MySQL).
    backslash_escapes: bool,
    /// `"…"` is a string, not an identifier (MySQL).
    double_quote_string: bool,
    /// `` `…` `` quotes identifiers (MySQL, SQLite).
    backtick_ident: bool,
    /// `[…]` quotes identifiers (SQLite).
    bracket_ident: bool,
    /// `#` starts a line comment (MySQL).
    hash_comment: bool,
    /// `#name` is a parameter (SQLite).
    hash_param: bool,
    /// `--` starts a comment only when followed by whitespace or a control
    /// byte (MySQL).
    dash_comment_needs_space: bool,
    /// A line comment also ends at a lone `\r` (PostgreSQL).
    cr_ends_line_comment: bool,
    /// Block comments nest (PostgreSQL).
    nested_comments: bool,
    /// `/*! … */` is executed (MySQL).
    exec_comments: bool,
    /// An unterminated block comment at the end is accepted (SQLite).
    open_block_comment_ok: bool,
    /// `$$…$$` and `$tag$…$tag$` strings (PostgreSQL).
    dollar_quotes: bool,
    /// `E'…'` strings with backslash escapes and `U&'…'` strings (PostgreSQL).
    escape_strings: bool,
    /// `N'…'` and `B'…'` strings (PostgreSQL, MySQL; SQLite reads a name
    /// and a string).
    national_bit_strings: bool,
}

impl Syntax {
    const fn of(dialect: Dialect) -> Self {
        let base = Syntax {
            backslash_escapes: false,
            double_quote_string: false,
            backtick_ident: false,
            bracket_ident: false,
            hash_comment: false,
            hash_param: false,
            dash_comment_needs_space: false,
            cr_ends_line_comment: false,
            nested_comments: false,
            exec_comments: false,
            open_block_comment_ok: false,
            dollar_quotes: false,
            escape_strings: false,
            national_bit_strings: false,
        };
        match dialect {
            // The generic reading is SQLite's: standard quoting plus the
            // common extensions. Whatever is dialect-specific is reported
            // through `diverged`, and the detector then lexes per dialect.
            Dialect::Generic | Dialect::Sqlite => Syntax {
                backtick_ident: true,
                bracket_ident: true,
                hash_param: true,
                open_block_comment_ok: true,
                ..base
            },
            Dialect::Postgres => Syntax {
                cr_ends_line_comment: true,
                nested_comments: true,
                dollar_quotes: true,
                escape_strings: true,
                national_bit_strings: true,
                ..base
            },
            Dialect::MySql => Syntax {
                backslash_escapes: true,
                double_quote_string: true,
                backtick_ident: true,
                hash_comment: true,
                dash_comment_needs_space: true,
                exec_comments: true,
                national_bit_strings: true,
                ..base
            },
        }
    }
}

const IDENT_START: u8 = 1;
const IDENT_PART: u8 = 2;
const DIGIT: u8 = 4;
const SPACE: u8 = 8;
const HEX: u8 = 16;
/// Bytes that may start a literal or comment, or where dialects differ:
/// code without them holds no lexer state.
const STATEFUL: u8 = 32;
/// `*`, which may end a MySQL executable comment.
const STAR: u8 = 64;
/// `;`, which ends a statement.
const SEMICOLON: u8 = 128;

/// Byte classes. Every byte >= 0x80 may be part of an identifier: all three
/// databases accept non-ASCII letters there, and treating invalid UTF-8 the
/// same way keeps the lexer total.
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut k = 0;
        if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            k |= IDENT_START | IDENT_PART;
        }
        if c.is_ascii_digit() {
            k |= DIGIT | IDENT_PART | HEX;
        }
        if c == b'$' {
            k |= IDENT_PART;
        }
        if matches!(c, b'a'..=b'f' | b'A'..=b'F') {
            k |= HEX;
        }
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            k |= SPACE;
        }
        // `?` too: `?1` is a parameter in SQLite and MySQL but an operator
        // and a number in PostgreSQL, a divergence the skip must not miss.
        if matches!(
            c,
            b'\'' | b'"' | b'`' | b'[' | b'-' | b'/' | b'#' | b'$' | b'?'
        ) {
            k |= STATEFUL;
        }
        if c == b'*' {
            k |= STAR;
        }
        if c == b';' {
            k |= SEMICOLON;
        }
        t[b] = k;
        b += 1;
    }
    t
};

#[inline]
fn is(class: u8, b: u8) -> bool {
    CLASS[usize::from(b)] & class != 0
}

/// Whether a word starting with `b` may be the prefix of a string literal.
#[inline]
const fn may_prefix_string(b: u8) -> bool {
    matches!(
        b,
        b'e' | b'E' | b'x' | b'X' | b'b' | b'B' | b'n' | b'N' | b'u' | b'U'
    )
}

/// Whether MySQL accepts this byte after `--` to start a comment: whitespace
/// or a control character, and the end of the text counts as one.
#[inline]
fn mysql_comment_gap(b: Option<u8>) -> bool {
    b.is_none_or(|b| b <= 0x20 || b == 0x7f)
}

/// Lazily cuts SQL text into [`Token`]s for one dialect.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    sql: &'a [u8],
    pos: usize,
    syntax: Syntax,
    in_exec_comment: bool,
    diverged: bool,
    /// An unterminated token was produced: it ran to the end of the text.
    left_open: bool,
}

impl<'a> Lexer<'a> {
    /// A lexer over `sql` for `dialect`. [`Dialect::Generic`] reads text
    /// the way SQLite does and relies on [`Lexer::diverged`] for the rest.
    pub const fn new(dialect: Dialect, sql: &'a [u8]) -> Self {
        Lexer {
            sql,
            pos: 0,
            syntax: Syntax::of(dialect),
            in_exec_comment: false,
            diverged: false,
            left_open: false,
        }
    }

    /// A lexer for `dialect` that starts at byte `at` of `sql` in code, as
    /// if the text before were a neutral value: how the rest of a statement
    /// reads when an input's occurrence is taken away.
    pub const fn resume(dialect: Dialect, sql: &'a [u8], at: usize) -> Self {
        let mut lexer = Lexer::new(dialect, sql);
        lexer.pos = at;
        lexer
    }

    /// A lexer for `dialect` that resumes at byte `at` of `sql` inside a
    /// literal delimited by `quote` (with backslash escapes if
    /// `backslash`), as if the text before were the literal's start and a
    /// neutral value: the continuation of the literal is lexed at once, and
    /// the lexer stands after it.
    pub fn resume_in_literal(
        dialect: Dialect,
        sql: &'a [u8],
        at: usize,
        quote: u8,
        backslash: bool,
    ) -> Self {
        let mut lexer = Lexer::resume(dialect, sql, at);
        let token = lexer.quoted(TokenKind::String, at, 0, quote, backslash);
        lexer.left_open |= !token.terminated;
        lexer.pos = token.end.max(at);
        lexer
    }

    /// Byte offset where the next token starts.
    pub const fn position(&self) -> usize {
        self.pos
    }

    /// Whether the tokens produced so far include a construct that the
    /// dialects cut differently (a backslash in a literal, a backtick, `#`,
    /// `[`, `$`, `/*`…`*/` nesting or `/*!`, `--` without a space, …). Until
    /// this turns true, every dialect produces the same token boundaries.
    pub const fn diverged(&self) -> bool {
        self.diverged
    }

    /// Whether the lexer is inside a MySQL executable comment, i.e. an
    /// opened `/*!` is still waiting for its `*/`.
    pub const fn in_exec_comment(&self) -> bool {
        self.in_exec_comment
    }

    /// Moves to the token holding byte `target` and returns it, leaving the
    /// lexer right after it; `None` when `target` is past the end. The lexer
    /// must not already be past `target`.
    ///
    /// The tokens before `target` are not cut one by one: a stretch of code
    /// without a byte that can open a literal or a comment (or that dialects
    /// read differently) carries no lexer state, so it is skipped with a
    /// table scan. Lexing resumes at the last certain token boundary before
    /// such a byte or before `target`.
    pub fn advance_to(&mut self, target: usize) -> Option<Token> {
        if target >= self.sql.len() || target < self.pos {
            return None;
        }
        loop {
            let from = self.pos;
            let stop = self
                .next_byte_of(from, target + 1, STATEFUL)
                .unwrap_or(target);
            self.pos = self.boundary_before(from, stop);
            loop {
                let token = self.next()?;
                if token.end > target {
                    return Some(token);
                }
                if token.end > stop {
                    break;
                }
            }
        }
    }

    /// The next token that is not plain code — a literal, quoted
    /// identifier, comment, executable-comment marker or `;` — skipping the
    /// plain code before it; or, when none starts before `limit`, the token
    /// holding byte `limit - 1`. `None` at or past `limit`.
    pub fn next_notable(&mut self, limit: usize) -> Option<Token> {
        let limit = limit.min(self.sql.len());
        if self.pos >= limit {
            return None;
        }
        let target = self
            .next_byte_of(self.pos, limit, STATEFUL | SEMICOLON)
            .unwrap_or(limit - 1);
        self.advance_to(target)
    }

    /// Lexes to the end of the text and tells whether it ended outside any
    /// literal, quoted identifier, block comment or executable comment.
    /// Skips code the way [`Lexer::advance_to`] does.
    pub fn finish(&mut self) -> bool {
        let len = self.sql.len();
        while self.pos < len {
            let from = self.pos;
            let Some(stop) = self.next_byte_of(from, len, STATEFUL) else {
                self.pos = len;
                break;
            };
            self.pos = self.boundary_before(from, stop);
            for token in self.by_ref() {
                if token.end > stop {
                    break;
                }
            }
        }
        !self.left_open && !self.in_exec_comment
    }

    /// The first byte in `from..to` of the classes in `mask`; `STATEFUL`
    /// includes `*` inside an executable comment, where it may close it.
    #[inline]
    fn next_byte_of(&self, from: usize, to: usize, mask: u8) -> Option<usize> {
        let mask = if self.in_exec_comment && mask & STATEFUL != 0 {
            mask | STAR
        } else {
            mask
        };
        let window = self.sql.get(from..to)?;
        window
            .iter()
            .position(|&b| CLASS[usize::from(b)] & mask != 0)
            .map(|k| from + k)
    }

    /// The last position in `from..=at` where a token certainly starts, or
    /// `from` (itself a token start). In code, a token starts after `,`,
    /// `(`, `)` and `;` (always tokens of their own) and where whitespace
    /// ends (no code token holds whitespace). `from..at` must hold no byte
    /// that may start a literal or comment.
    #[inline]
    fn boundary_before(&self, from: usize, at: usize) -> usize {
        let mut q = at;
        while q > from {
            let before = self.sql[q - 1];
            if matches!(before, b',' | b'(' | b')' | b';')
                || (is(SPACE, before) && !is(SPACE, self.sql[q]))
            {
                return q;
            }
            q -= 1;
        }
        from
    }

    #[inline]
    fn at(&self, i: usize) -> Option<u8> {
        self.sql.get(i).copied()
    }

    #[inline]
    fn tail(&self, from: usize) -> &'a [u8] {
        self.sql.get(from..).unwrap_or(&[])
    }

    #[inline]
    const fn plain(kind: TokenKind, start: usize, end: usize) -> Token {
        Token {
            kind,
            start,
            end,
            open: 0,
            close: 0,
            terminated: true,
        }
    }

    /// End of a run of bytes of `class` starting at `from`.
    #[inline]
    fn run(&self, from: usize, class: u8) -> usize {
        let tail = self.tail(from);
        from + tail
            .iter()
            .position(|&b| !is(class, b))
            .unwrap_or(tail.len())
    }

    /// A `quote`-delimited literal starting at `start` whose opening
    /// delimiter (prefix included) is `open` bytes long. A doubled quote
    /// stands for one quote; with `backslash`, `\` escapes the next byte.
    fn quoted(
        &mut self,
        kind: TokenKind,
        start: usize,
        open: usize,
        quote: u8,
        backslash: bool,
    ) -> Token {
        let len = self.sql.len();
        let mut i = start + open;
        loop {
            // Backslashes are searched even where they are plain bytes:
            // MySQL reads them as escapes, so they are a divergence.
            match memchr2(quote, b'\\', self.tail(i)) {
                None => {
                    return Token {
                        kind,
                        start,
                        end: len,
                        open,
                        close: 0,
                        terminated: false,
                    };
                }
                Some(k) => {
                    let j = i + k;
                    if self.sql[j] == b'\\' {
                        // No dialect escapes inside backtick identifiers;
                        // everywhere else MySQL reads `\` as an escape.
                        self.diverged |= quote != b'`';
                        i = if backslash { (j + 2).min(len) } else { j + 1 };
                    } else if self.at(j + 1) == Some(quote) {
                        i = j + 2;
                    } else {
                        return Token {
                            kind,
                            start,
                            end: j + 1,
                            open,
                            close: 1,
                            terminated: true,
                        };
                    }
                }
            }
        }
    }

    /// A SQLite `[identifier]`: no escapes, ends at the first `]`.
    fn bracketed(&self, start: usize) -> Token {
        match memchr(b']', self.tail(start + 1)) {
            Some(k) => Token {
                kind: TokenKind::QuotedIdent,
                start,
                end: start + 1 + k + 1,
                open: 1,
                close: 1,
                terminated: true,
            },
            None => Token {
                kind: TokenKind::QuotedIdent,
                start,
                end: self.sql.len(),
                open: 1,
                close: 0,
                terminated: false,
            },
        }
    }

    /// A line comment whose marker is `open` bytes long; its line break
    /// (`\n`, `\r\n`, or for PostgreSQL a lone `\r`) is its closing delimiter.
    fn line_comment(&mut self, start: usize, open: usize) -> Token {
        let len = self.sql.len();
        let mut i = start + open;
        loop {
            match memchr2(b'\n', b'\r', self.tail(i)) {
                None => {
                    return Token {
                        kind: TokenKind::LineComment,
                        start,
                        end: len,
                        open,
                        close: 0,
                        terminated: true,
                    };
                }
                Some(k) => {
                    let j = i + k;
                    let close = if self.sql[j] == b'\n' {
                        1
                    } else if self.at(j + 1) == Some(b'\n') {
                        2
                    } else if self.syntax.cr_ends_line_comment {
                        self.diverged = true;
                        1
                    } else {
                        self.diverged = true;
                        i = j + 1;
                        continue;
                    };
                    return Token {
                        kind: TokenKind::LineComment,
                        start,
                        end: j + close,
                        open,
                        close,
                        terminated: true,
                    };
                }
            }
        }
    }

    /// `/*` at `start`: a comment, or in MySQL the start of executed text.
    fn block_comment(&mut self, start: usize) -> Token {
        let len = self.sql.len();
        let bang = match (self.at(start + 2), self.at(start + 3)) {
            (Some(b'!'), _) => Some(3),
            // MariaDB's executable comments.
            (Some(b'M'), Some(b'!')) => Some(4),
            _ => None,
        };
        if let Some(marker) = bang {
            self.diverged = true;
            if self.syntax.exec_comments && !self.in_exec_comment {
                // The optional version number belongs to the marker.
                let end = self.run(start + marker, DIGIT);
                self.in_exec_comment = true;
                return Token {
                    kind: TokenKind::ExecCommentOpen,
                    start,
                    end,
                    open: end - start,
                    close: 0,
                    terminated: true,
                };
            }
        }
        let mut depth = 1usize;
        let mut i = start + 2;
        loop {
            match memchr2(b'*', b'/', self.tail(i)) {
                None => {
                    self.diverged = true;
                    return Token {
                        kind: TokenKind::BlockComment,
                        start,
                        end: len,
                        open: 2,
                        close: 0,
                        terminated: self.syntax.open_block_comment_ok,
                    };
                }
                Some(k) => {
                    let j = i + k;
                    if self.sql[j] == b'*' {
                        if self.at(j + 1) == Some(b'/') {
                            depth -= 1;
                            if depth == 0 {
                                return Token {
                                    kind: TokenKind::BlockComment,
                                    start,
                                    end: j + 2,
                                    open: 2,
                                    close: 2,
                                    terminated: true,
                                };
                            }
                            i = j + 2;
                        } else {
                            i = j + 1;
                        }
                    } else if self.at(j + 1) == Some(b'*') {
                        // A nested opener: only PostgreSQL counts it.
                        self.diverged = true;
                        if self.syntax.nested_comments {
                            depth += 1;
                        }
                        i = j + 2;
                    } else {
                        i = j + 1;
                    }
                }
            }
        }
    }

    /// The length of a PostgreSQL dollar-quote opener (`$$`, `$tag$`) at
    /// `start`, if there is one.
    fn dollar_opener(&self, start: usize) -> Option<usize> {
        match self.at(start + 1)? {
            b'$' => Some(2),
            b if is(IDENT_START, b) => {
                let mut i = start + 2;
                while let Some(b) = self.at(i) {
                    if b == b'$' {
                        return Some(i + 1 - start);
                    }
                    if !is(IDENT_PART, b) {
                        return None;
                    }
                    i += 1;
                }
                None
            }
            _ => None,
        }
    }

    fn dollar(&mut self, start: usize) -> Token {
        let opener = self.dollar_opener(start);
        if opener.is_some() {
            self.diverged = true;
        }
        match opener {
            Some(open) if self.syntax.dollar_quotes => {
                let tag = &self.sql[start..start + open];
                let mut i = start + open;
                // The tag holds no `$`, so each comparison stops at the next
                // `$` at the latest: the search stays linear.
                while let Some(k) = memchr(b'$', self.tail(i)) {
                    let j = i + k;
                    if self.tail(j).starts_with(tag) {
                        return Token {
                            kind: TokenKind::DollarString,
                            start,
                            end: j + open,
                            open,
                            close: open,
                            terminated: true,
                        };
                    }
                    i = j + 1;
                }
                Token {
                    kind: TokenKind::DollarString,
                    start,
                    end: self.sql.len(),
                    open,
                    close: 0,
                    terminated: false,
                }
            }
            _ => {
                // `$1` (PostgreSQL), `$name` (SQLite), `$name` identifiers
                // (MySQL): the same bytes in every dialect, except that a
                // PostgreSQL parameter is digits only (`$1$$` is `$1`, then
                // a dollar quote).
                let digits = self.run(start + 1, DIGIT);
                if digits > start + 1 && self.at(digits).is_some_and(|b| is(IDENT_PART, b)) {
                    self.diverged = true;
                    if self.syntax.dollar_quotes {
                        return Self::plain(TokenKind::Param, start, digits);
                    }
                }
                let end = self.run(start + 1, IDENT_PART);
                let kind = if end > start + 1 {
                    TokenKind::Param
                } else {
                    TokenKind::Punct
                };
                Self::plain(kind, start, end)
            }
        }
    }

    /// A number at `start`: `0x1F`, `0b101`, `12`, `1.5`, `.5`, `2e-3`.
    fn number(&mut self, start: usize) -> Token {
        let i = match (self.at(start), self.at(start + 1)) {
            (Some(b'0'), Some(b'x' | b'X')) => self.run(start + 2, HEX),
            (Some(b'0'), Some(b'b' | b'B')) => self.run(start + 2, DIGIT),
            _ => {
                let mut i = self.run(start, DIGIT);
                if self.at(i) == Some(b'.') {
                    i = self.run(i + 1, DIGIT);
                }
                if matches!(self.at(i), Some(b'e' | b'E')) {
                    let sign = usize::from(matches!(self.at(i + 1), Some(b'+' | b'-')));
                    if self.at(i + 1 + sign).is_some_and(|b| is(DIGIT, b)) {
                        i = self.run(i + 1 + sign, DIGIT);
                    }
                }
                i
            }
        };
        // Digits run into identifier characters make one token: an
        // identifier in MySQL (`1abc`), an error elsewhere. Either way the
        // bytes stay together, except a `$` right after the digits, which
        // begins a parameter or a dollar quote in PostgreSQL (`1$$`).
        if self.at(i) == Some(b'$') {
            self.diverged = true;
            if self.syntax.dollar_quotes {
                return Self::plain(TokenKind::Number, start, i);
            }
        }
        Self::plain(TokenKind::Number, start, self.run(i, IDENT_PART))
    }

    /// A word at `start`, or a prefixed string (`E'…'`, `X'…'`, `U&'…'`).
    fn word(&mut self, start: usize) -> Token {
        let first = self.sql[start];
        match (first, self.at(start + 1), self.at(start + 2)) {
            (b'e' | b'E', Some(b'\''), _) => {
                // `E` is a prefix in PostgreSQL only.
                self.diverged = true;
                if self.syntax.escape_strings {
                    return self.quoted(TokenKind::String, start, 2, b'\'', true);
                }
            }
            (b'x' | b'X', Some(b'\''), _) => {
                let backslash = self.syntax.backslash_escapes;
                return self.quoted(TokenKind::String, start, 2, b'\'', backslash);
            }
            (b'b' | b'B' | b'n' | b'N', Some(b'\''), _) => {
                // Not a prefix in SQLite.
                self.diverged = true;
                if self.syntax.national_bit_strings {
                    let backslash = self.syntax.backslash_escapes;
                    return self.quoted(TokenKind::String, start, 2, b'\'', backslash);
                }
            }
            (b'u' | b'U', Some(b'&'), Some(b'\'')) => {
                self.diverged = true;
                if self.syntax.escape_strings {
                    return self.quoted(TokenKind::String, start, 3, b'\'', false);
                }
            }
            _ => {}
        }
        let end = self.run(start + 1, IDENT_PART);
        Self::plain(TokenKind::Word, start, end)
    }

    /// Operators and other punctuation, as one token per operator.
    fn punct(&self, start: usize) -> Token {
        let b = self.sql[start];
        let n1 = self.at(start + 1);
        let n2 = self.at(start + 2);
        let len = match (b, n1, n2) {
            (b'-', Some(b'>'), Some(b'>'))
            | (b'<', Some(b'='), Some(b'>'))
            | (b'!', Some(b'~'), Some(b'*'))
            | (b'#', Some(b'>'), Some(b'>')) => 3,
            // No operator swallows the start of a `--` comment.
            (b'#', Some(b'-'), Some(b'-')) => 1,
            (b'-' | b'=' | b'#' | b'@', Some(b'>'), _)
            | (b'<' | b'>' | b'!' | b'=' | b':', Some(b'='), _)
            | (b'<', Some(b'>' | b'<' | b'@'), _)
            | (b'>', Some(b'>'), _)
            | (b'|', Some(b'|'), _)
            | (b'&', Some(b'&'), _)
            | (b'~', Some(b'~' | b'*'), _)
            | (b'!', Some(b'~'), _)
            | (b'?', Some(b'|' | b'&'), _)
            | (b':', Some(b':'), _)
            | (b'#', Some(b'-'), _)
            | (b'@', Some(b'@'), _) => 2,
            _ => 1,
        };
        Self::plain(TokenKind::Punct, start, (start + len).min(self.sql.len()))
    }

    fn lex(&mut self, start: usize, b: u8) -> Token {
        let syntax = self.syntax;
        match b {
            b'\'' => {
                let backslash = syntax.backslash_escapes;
                self.quoted(TokenKind::String, start, 1, b'\'', backslash)
            }
            b'"' => {
                if syntax.double_quote_string {
                    self.quoted(TokenKind::String, start, 1, b'"', true)
                } else {
                    self.quoted(TokenKind::QuotedIdent, start, 1, b'"', false)
                }
            }
            b'`' => {
                self.diverged = true;
                if syntax.backtick_ident {
                    self.quoted(TokenKind::QuotedIdent, start, 1, b'`', false)
                } else {
                    Self::plain(TokenKind::Punct, start, start + 1)
                }
            }
            b'[' => {
                self.diverged = true;
                if syntax.bracket_ident {
                    self.bracketed(start)
                } else {
                    Self::plain(TokenKind::Punct, start, start + 1)
                }
            }
            b'-' if self.at(start + 1) == Some(b'-') => {
                let gap = mysql_comment_gap(self.at(start + 2));
                if !gap {
                    self.diverged = true;
                }
                if gap || !syntax.dash_comment_needs_space {
                    self.line_comment(start, 2)
                } else {
                    Self::plain(TokenKind::Punct, start, start + 1)
                }
            }
            b'/' if self.at(start + 1) == Some(b'*') => self.block_comment(start),
            b'*' if self.in_exec_comment && self.at(start + 1) == Some(b'/') => {
                self.in_exec_comment = false;
                Token {
                    kind: TokenKind::ExecCommentClose,
                    start,
                    end: start + 2,
                    open: 0,
                    close: 2,
                    terminated: true,
                }
            }
            b'#' => {
                self.diverged = true;
                if syntax.hash_comment {
                    self.line_comment(start, 1)
                } else if syntax.hash_param && self.at(start + 1).is_some_and(|c| is(IDENT_PART, c))
                {
                    Self::plain(TokenKind::Param, start, self.run(start + 1, IDENT_PART))
                } else {
                    self.punct(start)
                }
            }
            b';' => Self::plain(TokenKind::Semicolon, start, start + 1),
            b'$' => self.dollar(start),
            b'?' => match self.at(start + 1) {
                Some(b'|' | b'&') => self.punct(start),
                // `?` is an operator in PostgreSQL, a parameter elsewhere.
                Some(c) if is(DIGIT, c) && syntax.dollar_quotes => {
                    self.diverged = true;
                    self.punct(start)
                }
                Some(c) if is(DIGIT, c) => {
                    self.diverged = true;
                    Self::plain(TokenKind::Param, start, self.run(start + 1, DIGIT))
                }
                _ => Self::plain(TokenKind::Param, start, self.run(start + 1, DIGIT)),
            },
            b':' => match self.at(start + 1) {
                Some(c) if is(IDENT_START, c) => {
                    Self::plain(TokenKind::Param, start, self.run(start + 1, IDENT_PART))
                }
                _ => self.punct(start),
            },
            b'@' => {
                let name = if self.at(start + 1) == Some(b'@') {
                    start + 2
                } else {
                    start + 1
                };
                match self.at(name) {
                    Some(c) if is(IDENT_PART, c) => {
                        Self::plain(TokenKind::Param, start, self.run(name, IDENT_PART))
                    }
                    _ => self.punct(start),
                }
            }
            b'.' if self.at(start + 1).is_some_and(|c| is(DIGIT, c)) => self.number(start),
            _ if is(DIGIT, b) => self.number(start),
            _ if is(IDENT_START, b) => self.word(start),
            _ if is(SPACE, b) => Self::plain(TokenKind::Whitespace, start, self.run(start, SPACE)),
            _ => self.punct(start),
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    #[inline]
    fn next(&mut self) -> Option<Token> {
        let start = self.pos;
        let b = self.at(start)?;
        // The common tokens first, without the dispatch of `lex`. A word
        // starting with a letter that may prefix a string (`E'…'`, `X'…'`)
        // takes the long way.
        let class = CLASS[usize::from(b)];
        let token = if class & SPACE != 0 {
            Self::plain(TokenKind::Whitespace, start, self.run(start + 1, SPACE))
        } else if class & IDENT_START != 0 && !may_prefix_string(b) {
            Self::plain(TokenKind::Word, start, self.run(start + 1, IDENT_PART))
        } else {
            self.lex(start, b)
        };
        debug_assert!(token.end > start && token.end <= self.sql.len());
        self.left_open |= !token.terminated;
        self.pos = token.end;
        Some(token)
    }
}

impl core::iter::FusedIterator for Lexer<'_> {}
