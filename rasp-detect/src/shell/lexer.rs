//! A POSIX `sh` lexer over raw bytes that never allocates.
//!
//! [`Lexer`] is an iterator of [`Atom`]s: byte ranges that together cover
//! the whole command line, with no gaps and no overlaps. An atom is either
//! inert data (a run of word characters, the content of a quoted string, an
//! escaped character) or a piece of the command line's structure: a blank
//! between words, an operator, a quote, the opening or closing of an
//! expansion, a comment. The detector needs nothing more: it asks which
//! structural atoms an occurrence of an input covers.
//!
//! Nesting (`"…$(… "…" …)…"`) is tracked on a fixed-size stack; from a
//! construct nested deeper than [`MAX_DEPTH`] to the end of the text, the
//! text is one [`AtomKind::Overflow`] atom rather than guessed at. The lexer never fails: a command line that `sh` would
//! reject (an unterminated quote, a stray `)`) still lexes, and
//! [`Lexer::depth`] at the end says what was left open.
//!
//! Bash extensions that change how a line is cut into words are lexed the
//! bash way, because `sh` is bash on many systems: `$'…'` (ANSI-C quoting,
//! where `\'` does not end the string), `$"…"`, `&>`, `|&`, `<<<`, `;&`.
//!
//! It is written by hand because a word splitter does not read what the
//! detector needs. `shlex::split`, the usual one, knows quotes, backslashes
//! and `#` comments only (`;`, `|`, `&`, `$(…)` and redirections are word
//! characters to it), returns the words with their quotes removed and no
//! byte offsets, allocates a `String` per word, and returns `None` for an
//! unterminated quote or a trailing backslash — the very text an injected
//! quote produces. This lexer follows the whole `sh` grammar in one pass,
//! on a fixed-size stack, and allocates nothing.
//!
//! Speed is the smaller reason here. Measured (`benches/lexers.rs`, medians
//! of one run on a shared 2-vCPU machine), cutting a 218-byte `ffmpeg`
//! command line into atoms takes 674 ns, `shlex::split` 1.83 µs (**2.7×**;
//! 1.9–2.9× over five runs); the whole detector call with the input present,
//! which also follows the command's words, 1.48 µs. Reproduce with
//! `cargo bench -p rasp-detect --bench lexers -- --warm-up-time 1
//! --measurement-time 3`; the figures are in `docs/benchmarks.md`.

use memchr::memchr;

/// How deeply quotes and expansions may nest before the lexer stops
/// tracking them. No command line an application builds comes close; text
/// that does is hostile and is reported as such.
pub(super) const MAX_DEPTH: usize = 24;

/// How many here-documents one line may announce before its newline. Extra
/// ones are lexed as ordinary lines.
pub(super) const MAX_PENDING_HEREDOCS: usize = 4;

/// A construct that opens with one delimiter and closes with another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Construct {
    /// `'…'`: nothing is special inside.
    SingleQuote,
    /// `$'…'`: backslash escapes, `\'` included.
    AnsiQuote,
    /// `"…"` (and `$"…"`): `$`, backticks and `\` stay special.
    DoubleQuote,
    /// `$(…)`: a whole command list.
    CommandSub,
    /// `` `…` ``: a whole command list, old style.
    Backtick,
    /// `$((…))`: an arithmetic expression, whose variables are evaluated.
    Arithmetic,
    /// `${…}`: a parameter expansion with its operators.
    ParamBrace,
    /// The body of a here-document, up to its delimiter line.
    HereDoc,
}

/// What an atom is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AtomKind {
    /// Inert bytes: part of a word, or the content of a quoted string, a
    /// comment-free here-document line, an arithmetic expression. `command`
    /// is set when the bytes were read in command position (unquoted), where
    /// bash brace expansion applies to them.
    Literal {
        /// Read unquoted, in a command list.
        command: bool,
    },
    /// Unquoted spaces and tabs: they end a word.
    Blank,
    /// A control or redirection operator, a subshell parenthesis, or an
    /// unquoted newline.
    Operator,
    /// `#` at the start of a word, up to (not including) the line's end.
    Comment,
    /// A backslash and the byte it escapes.
    Escape,
    /// A simple parameter expansion: `$name`, `$1`, `$@`, `$$` …
    Param {
        /// Inside double quotes or a here-document: expands to one word.
        quoted: bool,
    },
    /// The opening delimiter of a construct.
    Open {
        /// Which construct.
        construct: Construct,
        /// Opened inside double quotes or a here-document.
        quoted: bool,
    },
    /// The closing delimiter of a construct (a here-document's delimiter
    /// line, newline included).
    Close(Construct),
    /// `` \` `` inside backticks: a nested command substitution.
    NestedBacktick,
    /// Everything from a construct nested deeper than the lexer tracks to
    /// the end of the text.
    Overflow,
}

/// A byte range of the command line and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Atom {
    /// What the bytes are.
    pub(super) kind: AtomKind,
    /// Offset of the first byte.
    pub(super) start: usize,
    /// Offset past the last byte.
    pub(super) end: usize,
    /// Part of a `'\''` idiom inside single quotes (its closing quote, its
    /// escaped quote or its reopening quote), which together mean one quote
    /// character of string content.
    pub(super) idiom: bool,
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    construct: Construct,
    /// Expansions inside expand to one word (double quotes, here-documents,
    /// arithmetic), or are split into words (command lists, unquoted text).
    quoted: bool,
    /// Open parentheses inside a command substitution or arithmetic
    /// expression, which its closing `)` must not be confused with.
    parens: u32,
}

/// A here-document announced by `<<` whose body starts after the newline.
#[derive(Debug, Clone, Copy, Default)]
struct HereDocSpec {
    /// The delimiter word as written, quotes included.
    delim_start: usize,
    delim_end: usize,
    /// A quoted delimiter makes the body literal.
    literal: bool,
    /// `<<-`: leading tabs are stripped from body lines.
    strip_tabs: bool,
}

/// The lexer; see the [module docs](self).
#[derive(Debug, Clone)]
pub(super) struct Lexer<'a> {
    text: &'a [u8],
    pos: usize,
    stack: [Frame; MAX_DEPTH],
    depth: usize,
    /// A construct nested deeper than [`MAX_DEPTH`] was met.
    overflowed: bool,
    /// In a command list, the next byte starts a word (so `#` is a comment).
    word_start: bool,
    /// In a here-document body, the next byte starts a line.
    line_start: bool,
    /// How many of the next atoms belong to a `'\''` idiom.
    idiom: u8,
    pending: [HereDocSpec; MAX_PENDING_HEREDOCS],
    pending_len: usize,
    /// The here-document whose body is being read.
    heredoc: HereDocSpec,
}

/// Bytes that end an unquoted word in a command list.
const fn is_meta(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t'
            | b'\n'
            | b';'
            | b'&'
            | b'|'
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b'`'
            | b'\''
            | b'"'
            | b'\\'
            | b'$'
    )
}

const fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

const fn is_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `text`, in command position.
    pub(super) fn new(text: &'a [u8]) -> Self {
        Self {
            text,
            pos: 0,
            stack: [Frame {
                construct: Construct::CommandSub,
                quoted: false,
                parens: 0,
            }; MAX_DEPTH],
            depth: 0,
            overflowed: false,
            word_start: true,
            line_start: false,
            idiom: 0,
            pending: [HereDocSpec::default(); MAX_PENDING_HEREDOCS],
            pending_len: 0,
            heredoc: HereDocSpec::default(),
        }
    }

    /// How many constructs are open at the current position.
    pub(super) fn depth(&self) -> usize {
        self.depth + usize::from(self.overflowed)
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.text.get(at).copied()
    }

    fn top(&self) -> Option<Frame> {
        self.depth
            .checked_sub(1)
            .and_then(|i| self.stack.get(i))
            .copied()
    }

    /// Whether expansions at the current position expand to one word.
    fn quoted(&self) -> bool {
        self.top().is_some_and(|f| f.quoted)
    }

    fn atom(&mut self, kind: AtomKind, start: usize, end: usize) -> Option<Atom> {
        let end = end.min(self.text.len()).max(start + 1);
        self.pos = end;
        let idiom = self.idiom > 0;
        self.idiom = self.idiom.saturating_sub(1);
        Some(Atom {
            kind,
            start,
            end,
            idiom,
        })
    }

    fn open(&mut self, construct: Construct, start: usize, len: usize) -> Option<Atom> {
        let outer = self.quoted();
        let quoted = match construct {
            Construct::DoubleQuote | Construct::HereDoc | Construct::Arithmetic => true,
            Construct::CommandSub | Construct::Backtick => false,
            Construct::SingleQuote | Construct::AnsiQuote | Construct::ParamBrace => outer,
        };
        self.word_start = matches!(construct, Construct::CommandSub | Construct::Backtick);
        if self.depth == MAX_DEPTH {
            self.overflowed = true;
            return self.atom(AtomKind::Overflow, start, self.text.len());
        }
        if let Some(slot) = self.stack.get_mut(self.depth) {
            *slot = Frame {
                construct,
                quoted,
                parens: 0,
            };
        }
        self.depth += 1;
        self.atom(
            AtomKind::Open {
                construct,
                quoted: outer,
            },
            start,
            start + len,
        )
    }

    fn close(&mut self, construct: Construct, start: usize, len: usize) -> Option<Atom> {
        self.depth = self.depth.saturating_sub(1);
        // What follows a closed quote or expansion is still the same word.
        self.word_start = false;
        self.atom(AtomKind::Close(construct), start, start + len)
    }

    fn parens_mut(&mut self) -> Option<&mut u32> {
        let i = self.depth.checked_sub(1)?;
        self.stack.get_mut(i).map(|f| &mut f.parens)
    }

    /// A run of bytes from `start` up to (not including) the first byte for
    /// which `stop` holds, at least one byte long.
    fn run(&mut self, start: usize, command: bool, stop: impl Fn(u8) -> bool) -> Option<Atom> {
        let rest = self.text.get(start + 1..).unwrap_or_default();
        let len = rest.iter().position(|&b| stop(b)).unwrap_or(rest.len());
        self.atom(AtomKind::Literal { command }, start, start + 1 + len)
    }

    /// `$` at `start`: an expansion, or a literal dollar sign.
    fn dollar(&mut self, start: usize) -> Option<Atom> {
        let quoted = self.quoted();
        match self.byte(start + 1) {
            Some(b'(') if self.byte(start + 2) == Some(b'(') => {
                self.open(Construct::Arithmetic, start, 3)
            }
            Some(b'(') => self.open(Construct::CommandSub, start, 2),
            Some(b'{') => self.open(Construct::ParamBrace, start, 2),
            Some(b'\'') if !quoted => self.open(Construct::AnsiQuote, start, 2),
            Some(b'"') if !quoted => self.open(Construct::DoubleQuote, start, 2),
            Some(b) if is_name_start(b) => {
                let rest = self.text.get(start + 2..).unwrap_or_default();
                let len = rest.iter().position(|&b| !is_name(b)).unwrap_or(rest.len());
                self.word_start = false;
                self.atom(AtomKind::Param { quoted }, start, start + 2 + len)
            }
            Some(b'0'..=b'9' | b'@' | b'*' | b'#' | b'?' | b'-' | b'$' | b'!') => {
                self.word_start = false;
                self.atom(AtomKind::Param { quoted }, start, start + 2)
            }
            _ => {
                self.word_start = false;
                self.atom(AtomKind::Literal { command: false }, start, start + 1)
            }
        }
    }

    /// `\` at `start`, escaping the next byte when `escapes` says so.
    fn backslash(&mut self, start: usize, escapes: impl Fn(u8) -> bool) -> Option<Atom> {
        self.word_start = false;
        match self.byte(start + 1) {
            Some(b) if escapes(b) => self.atom(AtomKind::Escape, start, start + 2),
            _ => self.atom(AtomKind::Literal { command: false }, start, start + 1),
        }
    }

    /// The next atom in a command list (top level, `$( )` or backticks).
    fn command(&mut self, start: usize, b: u8, in_backticks: bool) -> Option<Atom> {
        let op = AtomKind::Operator;
        let next = self.byte(start + 1);
        match b {
            b' ' | b'\t' => {
                self.word_start = true;
                let rest = self.text.get(start..).unwrap_or_default();
                let len = rest
                    .iter()
                    .position(|&b| b != b' ' && b != b'\t')
                    .unwrap_or(rest.len());
                self.atom(AtomKind::Blank, start, start + len)
            }
            b'\n' => {
                self.word_start = true;
                let atom = self.atom(op, start, start + 1);
                self.start_heredoc();
                atom
            }
            b';' => {
                self.word_start = true;
                let len = if matches!(next, Some(b';' | b'&')) {
                    2
                } else {
                    1
                };
                self.atom(op, start, start + len)
            }
            b'&' | b'|' => {
                self.word_start = true;
                let len = match (b, next) {
                    (b'&', Some(b'&' | b'>')) | (b'|', Some(b'|' | b'&')) => 2,
                    _ => 1,
                };
                self.atom(op, start, start + len)
            }
            // `((` where a command starts is bash's arithmetic command,
            // read like `$((`: its text is one expression, where quotes
            // protect nothing and `$( )` still runs.
            b'(' if next == Some(b'(') && self.word_start => {
                self.open(Construct::Arithmetic, start, 2)
            }
            b'(' => {
                self.word_start = true;
                if let Some(p) = self.parens_mut() {
                    *p = p.saturating_add(1);
                }
                self.atom(op, start, start + 1)
            }
            b')' => match self.top() {
                Some(f) if f.construct == Construct::CommandSub && f.parens == 0 => {
                    self.close(Construct::CommandSub, start, 1)
                }
                _ => {
                    self.word_start = true;
                    if let Some(p) = self.parens_mut() {
                        *p = p.saturating_sub(1);
                    }
                    self.atom(op, start, start + 1)
                }
            },
            b'<' | b'>' => {
                self.word_start = true;
                let len = match (b, next, self.byte(start + 2)) {
                    (b'<', Some(b'<'), Some(b'<' | b'-')) => 3,
                    (b'>', Some(b'>'), _) | (b'<', Some(b'<' | b'>'), _) => 2,
                    (_, Some(b'&' | b'|'), _) => 2,
                    _ => 1,
                };
                if b == b'<' && next == Some(b'<') && self.byte(start + 2) != Some(b'<') {
                    self.announce_heredoc(start + len, len == 3);
                }
                self.atom(op, start, start + len)
            }
            b'`' if in_backticks => self.close(Construct::Backtick, start, 1),
            b'`' => self.open(Construct::Backtick, start, 1),
            b'\'' => self.open(Construct::SingleQuote, start, 1),
            b'"' => self.open(Construct::DoubleQuote, start, 1),
            b'\\' if in_backticks && next == Some(b'`') => {
                self.word_start = false;
                self.atom(AtomKind::NestedBacktick, start, start + 2)
            }
            b'\\' => self.backslash(start, |_| true),
            b'$' => self.dollar(start),
            b'#' if self.word_start => {
                let rest = self.text.get(start..).unwrap_or_default();
                let len = memchr(b'\n', rest).unwrap_or(rest.len());
                self.atom(AtomKind::Comment, start, start + len)
            }
            _ => {
                self.word_start = false;
                self.run(start, true, is_meta)
            }
        }
    }

    /// Records the here-document announced by `<<` (or `<<-`) whose
    /// delimiter word follows `from`.
    fn announce_heredoc(&mut self, from: usize, strip_tabs: bool) {
        let text = self.text;
        let mut at = from;
        while matches!(text.get(at), Some(b' ' | b'\t')) {
            at += 1;
        }
        let delim_start = at;
        let mut literal = false;
        let mut quote = None;
        while let Some(&b) = text.get(at) {
            match (quote, b) {
                (Some(q), b) if b == q => quote = None,
                (Some(_), _) => {}
                (None, b'\'' | b'"') => {
                    literal = true;
                    quote = Some(b);
                }
                (None, b'\\') => {
                    literal = true;
                    at += 1;
                }
                (None, b) if is_meta(b) => break,
                (None, _) => {}
            }
            at += 1;
        }
        let delim_end = at.min(text.len());
        if delim_end > delim_start
            && let Some(slot) = self.pending.get_mut(self.pending_len)
        {
            *slot = HereDocSpec {
                delim_start,
                delim_end,
                literal,
                strip_tabs,
            };
            self.pending_len += 1;
        }
    }

    /// After a newline: starts the body of the first announced
    /// here-document, if any.
    fn start_heredoc(&mut self) {
        if self.pending_len == 0 || self.depth == MAX_DEPTH {
            return;
        }
        self.heredoc = self.pending[0];
        self.pending.copy_within(1.., 0);
        self.pending_len -= 1;
        if let Some(slot) = self.stack.get_mut(self.depth) {
            *slot = Frame {
                construct: Construct::HereDoc,
                quoted: true,
                parens: 0,
            };
        }
        self.depth += 1;
        self.line_start = true;
    }

    /// Whether the line starting at `start` is the current here-document's
    /// delimiter; returns the line's end (newline included).
    fn heredoc_delimiter_line(&self, start: usize) -> Option<usize> {
        let text = self.text;
        let rest = text.get(start..)?;
        let line_len = memchr(b'\n', rest).unwrap_or(rest.len());
        let mut line = rest.get(..line_len)?;
        if self.heredoc.strip_tabs {
            let tabs = line.iter().position(|&b| b != b'\t').unwrap_or(line.len());
            line = line.get(tabs..)?;
        }
        // Quote removal on the delimiter word: compare without its quotes
        // and backslashes.
        let delim = text.get(self.heredoc.delim_start..self.heredoc.delim_end)?;
        let mut word = delim
            .iter()
            .copied()
            .filter(|b| !matches!(b, b'\'' | b'"' | b'\\'));
        let matches = line.iter().all(|&b| word.next() == Some(b)) && word.next().is_none();
        matches.then(|| (start + line_len + 1).min(text.len()))
    }

    fn heredoc_body(&mut self, start: usize, b: u8) -> Option<Atom> {
        if self.line_start {
            self.line_start = false;
            if let Some(end) = self.heredoc_delimiter_line(start) {
                let atom = self.close(Construct::HereDoc, start, end - start);
                self.word_start = true;
                self.start_heredoc();
                return atom;
            }
        }
        let literal = AtomKind::Literal { command: false };
        if b == b'\n' {
            self.line_start = true;
            return self.atom(literal, start, start + 1);
        }
        if self.heredoc.literal {
            return self.run(start, false, |b| b == b'\n');
        }
        match b {
            b'$' => self.dollar(start),
            b'`' => self.open(Construct::Backtick, start, 1),
            b'\\' => self.backslash(start, |b| matches!(b, b'$' | b'`' | b'\\' | b'\n')),
            _ => self.run(start, false, |b| matches!(b, b'\n' | b'$' | b'`' | b'\\')),
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Atom;

    fn next(&mut self) -> Option<Atom> {
        let start = self.pos;
        let b = self.byte(start)?;
        if self.overflowed {
            return self.atom(AtomKind::Overflow, start, self.text.len());
        }
        let literal = AtomKind::Literal { command: false };
        let Some(frame) = self.top() else {
            return self.command(start, b, false);
        };
        match frame.construct {
            Construct::CommandSub => self.command(start, b, false),
            Construct::Backtick => self.command(start, b, true),
            Construct::SingleQuote => match b {
                // `'\''` inside a single-quoted word is the idiom for a
                // quote character: the string closes, an escaped quote
                // follows, a string reopens. Its three atoms are marked so
                // that the detector can also read them as what they mean
                // together, one quote character of string content.
                b'\'' if self.text.get(start + 1..start + 4) == Some(b"\\''") => {
                    self.idiom = 3;
                    self.close(Construct::SingleQuote, start, 1)
                }
                b'\'' => self.close(Construct::SingleQuote, start, 1),
                _ => self.run(start, false, |b| b == b'\''),
            },
            Construct::AnsiQuote => match b {
                b'\'' => self.close(Construct::AnsiQuote, start, 1),
                b'\\' => self.backslash(start, |_| true),
                _ => self.run(start, false, |b| b == b'\'' || b == b'\\'),
            },
            Construct::DoubleQuote => match b {
                b'"' => self.close(Construct::DoubleQuote, start, 1),
                b'$' => self.dollar(start),
                b'`' => self.open(Construct::Backtick, start, 1),
                b'\\' => self.backslash(start, |b| matches!(b, b'$' | b'`' | b'"' | b'\\' | b'\n')),
                _ => self.run(start, false, |b| matches!(b, b'"' | b'$' | b'`' | b'\\')),
            },
            Construct::ParamBrace => match b {
                b'}' => self.close(Construct::ParamBrace, start, 1),
                b'$' => self.dollar(start),
                b'`' => self.open(Construct::Backtick, start, 1),
                b'\'' if !frame.quoted => self.open(Construct::SingleQuote, start, 1),
                b'"' => self.open(Construct::DoubleQuote, start, 1),
                b'\\' => self.backslash(start, |_| true),
                _ => self.run(start, false, |b| {
                    matches!(b, b'}' | b'$' | b'`' | b'\'' | b'"' | b'\\')
                }),
            },
            Construct::Arithmetic => match b {
                b'(' => {
                    if let Some(p) = self.parens_mut() {
                        *p = p.saturating_add(1);
                    }
                    self.atom(literal, start, start + 1)
                }
                b')' if frame.parens > 0 => {
                    if let Some(p) = self.parens_mut() {
                        *p -= 1;
                    }
                    self.atom(literal, start, start + 1)
                }
                // `$((…)` closed by a single parenthesis is malformed; close
                // it anyway rather than swallow the rest of the line.
                b')' => {
                    let len = if self.byte(start + 1) == Some(b')') {
                        2
                    } else {
                        1
                    };
                    self.close(Construct::Arithmetic, start, len)
                }
                b'$' => self.dollar(start),
                b'`' => self.open(Construct::Backtick, start, 1),
                b'\\' => self.backslash(start, |_| true),
                _ => self.run(start, false, |b| {
                    matches!(b, b'(' | b')' | b'$' | b'`' | b'\\')
                }),
            },
            Construct::HereDoc => self.heredoc_body(start, b),
        }
    }
}
