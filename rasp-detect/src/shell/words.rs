//! The words of a command line and the role each plays in its command.
//!
//! [`Words`] is fed the lexer's atoms in order and cuts them into words the
//! way the shell does: blanks and operators end a word; quotes, escapes and
//! expansions are parts of one. Each command list (the top level, `$( )`,
//! backticks) has an [`ExecReader`] of its own, reset by control operators
//! (`;` `|` `&&` a newline …), and a word that ends gets its [`Role`] from
//! it; the word after a redirection operator is a file name (or a
//! here-document's delimiter) and reads as data. The text of a word is
//! kept with its quotes removed, up to [`KEPT`] bytes — enough for program
//! names and option names — and marked incomplete when an expansion makes
//! part of it unknown until run time.

use super::exec::{ExecReader, Role, Word};
use super::lexer::{Atom, AtomKind, Construct, MAX_DEPTH, MAX_PENDING_HEREDOCS};

/// How many bytes of a word's text are kept for the reader.
pub(super) const KEPT: usize = 64;

#[derive(Debug, Clone, Copy)]
struct WordBuf {
    /// A word is in progress.
    open: bool,
    start: usize,
    end: usize,
    /// Offset of the word's first byte of content (not a quote).
    first_content: Option<usize>,
    text: [u8; KEPT],
    len: usize,
    /// The bytes after the last `/`, so that a long path still names its
    /// program; `None` past [`KEPT`] bytes.
    name: [u8; KEPT],
    name_len: Option<usize>,
    /// No expansion, and no more than [`KEPT`] bytes.
    complete: bool,
    /// The text is the raw bytes: no quotes, escapes or expansions.
    plain: bool,
}

impl WordBuf {
    const EMPTY: WordBuf = WordBuf {
        open: false,
        start: 0,
        end: 0,
        first_content: None,
        text: [0; KEPT],
        len: 0,
        name: [0; KEPT],
        name_len: Some(0),
        complete: true,
        plain: true,
    };

    fn touch(&mut self, atom: Atom) {
        if !self.open {
            *self = WordBuf::EMPTY;
            self.open = true;
            self.start = atom.start;
        }
        self.end = atom.end;
    }

    /// An expansion: part of the word is unknown until run time, and so is
    /// its last path segment until the next `/`.
    fn unknown(&mut self) {
        self.complete = false;
        self.name_len = None;
    }

    fn push(&mut self, bytes: &[u8], at: usize) {
        if bytes.is_empty() {
            return;
        }
        self.first_content.get_or_insert(at);
        for &b in bytes {
            match self.text.get_mut(self.len) {
                Some(slot) => {
                    *slot = b;
                    self.len += 1;
                }
                None => self.complete = false,
            }
            if b == b'/' {
                self.name_len = Some(0);
            } else if let Some(n) = self.name_len {
                self.name_len = self.name.get_mut(n).map(|slot| {
                    *slot = b;
                    n + 1
                });
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Level {
    reader: ExecReader,
    word: WordBuf,
    /// The next word is the target of a redirection.
    redirect: bool,
    /// How many constructs were open when this command list started.
    base: usize,
    /// How bash reads the words of the current command as arithmetic.
    arith: Arith,
    /// Words completed in the current simple command.
    count: u16,
    /// The command is `declare`, `typeset`, `local`, `readonly` or
    /// `export`, whose `-i` makes its values arithmetic.
    declares: bool,
}

/// Whether bash evaluates a word as an arithmetic expression, where an
/// array subscript runs the command substitutions it holds
/// (`a[$(id)]`), however the word was quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Arith {
    /// Not arithmetic.
    #[default]
    No,
    /// Evaluated after quote removal: the operands of `let`, the values
    /// of `declare -i`, the words of `[[ … ]]`. (The text of `$(( … ))`
    /// and `(( … ))` is lexed as an expression of its own.)
    Evaluated,
}

impl Level {
    fn new(base: usize) -> Self {
        Level {
            reader: ExecReader::command(),
            word: WordBuf::EMPTY,
            redirect: false,
            base,
            arith: Arith::No,
            count: 0,
            declares: false,
        }
    }
}

/// A word that has ended, and its role in its command.
#[derive(Debug, Clone, Copy)]
pub(super) struct Completed {
    /// The command list it belongs to (0 for the top level).
    pub(super) level: usize,
    pub(super) start: usize,
    pub(super) end: usize,
    /// Offset of its first byte of content.
    pub(super) first_content: Option<usize>,
    pub(super) role: Role,
    /// Its text is its raw bytes.
    pub(super) plain: bool,
    /// How bash reads it as arithmetic.
    pub(super) arith: Arith,
}

/// See the [module docs](self).
#[derive(Debug, Clone)]
pub(super) struct Words {
    levels: [Level; MAX_DEPTH + 1],
    level: usize,
    constructs: [Construct; MAX_DEPTH],
    depth: usize,
    /// Here-documents announced by `<<` whose bodies start after the next
    /// newline (the lexer opens them without an atom of their own).
    heredocs: usize,
}

const fn is_command_list(construct: Construct) -> bool {
    matches!(construct, Construct::CommandSub | Construct::Backtick)
}

impl Words {
    pub(super) fn new() -> Self {
        Words {
            levels: [Level::new(0); MAX_DEPTH + 1],
            level: 0,
            constructs: [Construct::CommandSub; MAX_DEPTH],
            depth: 0,
            heredocs: 0,
        }
    }

    fn current(&mut self) -> &mut Level {
        let i = self.level.min(MAX_DEPTH);
        &mut self.levels[i]
    }

    /// The innermost construct open inside the current command list.
    fn innermost(&self) -> Option<Construct> {
        let base = self.levels.get(self.level).map_or(0, |l| l.base);
        (self.depth > base)
            .then(|| self.constructs.get(self.depth - 1).copied())
            .flatten()
    }

    /// The start of the word in progress in the current command list.
    pub(super) fn open_word(&self) -> Option<usize> {
        self.levels
            .get(self.level)
            .filter(|l| l.word.open)
            .map(|l| l.word.start)
    }

    /// The current command list.
    pub(super) fn level(&self) -> usize {
        self.level
    }

    fn complete(&mut self) -> Option<Completed> {
        let level = self.level;
        let current = self.current();
        if !current.word.open {
            return None;
        }
        current.word.open = false;
        let word = current.word;
        let text = word.text.get(..word.len).unwrap_or_default();
        if word.complete {
            if current.count == 0 {
                match text {
                    b"let" | b"[[" => current.arith = Arith::Evaluated,
                    b"declare" | b"typeset" | b"local" | b"readonly" | b"export" => {
                        current.declares = true;
                    }
                    _ => {}
                }
            } else if current.declares
                && text.first() == Some(&b'-')
                && text.contains(&b'i')
                && current.arith == Arith::No
            {
                current.arith = Arith::Evaluated;
            }
        }
        current.count = current.count.saturating_add(1);
        let arith = current.arith;
        let role = if current.redirect {
            current.redirect = false;
            Role::Operand
        } else {
            let name = word.name_len.and_then(|n| word.name.get(..n));
            current.reader.next(Word {
                text: word.text.get(..word.len).unwrap_or_default(),
                complete: word.complete,
                name,
            })
        };
        Some(Completed {
            level,
            start: word.start,
            end: word.end,
            first_content: word.first_content,
            role,
            plain: word.plain && word.complete,
            arith,
        })
    }

    /// Takes the next atom of `text`; returns the word it ended, if any.
    pub(super) fn feed(&mut self, text: &[u8], atom: Atom) -> Option<Completed> {
        let bytes = text.get(atom.start..atom.end).unwrap_or_default();
        let inner = self.innermost();
        let in_heredoc = inner == Some(Construct::HereDoc);
        match atom.kind {
            AtomKind::Literal { .. } => {
                if in_heredoc {
                    return None;
                }
                let word = &mut self.current().word;
                word.touch(atom);
                match inner {
                    Some(Construct::ParamBrace | Construct::Arithmetic) => word.unknown(),
                    Some(_) => {
                        word.plain = false;
                        word.push(bytes, atom.start);
                    }
                    None => word.push(bytes, atom.start),
                }
                None
            }
            AtomKind::Escape => {
                if in_heredoc {
                    return None;
                }
                let word = &mut self.current().word;
                word.touch(atom);
                word.plain = false;
                if bytes.get(1) != Some(&b'\n') {
                    word.push(bytes.get(1..).unwrap_or_default(), atom.start);
                }
                None
            }
            AtomKind::Param { .. } | AtomKind::NestedBacktick | AtomKind::Overflow => {
                if in_heredoc {
                    return None;
                }
                let word = &mut self.current().word;
                word.touch(atom);
                word.first_content.get_or_insert(atom.start);
                word.unknown();
                None
            }
            AtomKind::Blank | AtomKind::Comment => self.complete(),
            AtomKind::Operator => {
                let done = self.complete();
                let redirect = bytes.iter().any(|&b| b == b'<' || b == b'>')
                    && matches!(bytes.last(), Some(b'<' | b'>' | b'&' | b'|' | b'-'));
                if bytes == b"<<" || bytes == b"<<-" {
                    self.heredocs = (self.heredocs + 1).min(MAX_PENDING_HEREDOCS);
                }
                if bytes == b"\n" {
                    self.start_heredoc();
                }
                let base = self.current().base;
                if redirect {
                    self.current().redirect = true;
                } else {
                    *self.current() = Level::new(base);
                }
                done
            }
            AtomKind::Open { construct, .. } => {
                if construct != Construct::HereDoc && !in_heredoc {
                    let word = &mut self.current().word;
                    word.touch(atom);
                    word.plain = false;
                    if !matches!(
                        construct,
                        Construct::SingleQuote | Construct::AnsiQuote | Construct::DoubleQuote
                    ) {
                        word.first_content.get_or_insert(atom.start);
                        word.unknown();
                    }
                }
                if let Some(slot) = self.constructs.get_mut(self.depth) {
                    *slot = construct;
                    self.depth += 1;
                }
                if is_command_list(construct) && self.level < MAX_DEPTH {
                    self.level += 1;
                    let depth = self.depth;
                    *self.current() = Level::new(depth);
                }
                None
            }
            AtomKind::Close(construct) => {
                let done = if is_command_list(construct) && self.level > 0 {
                    let done = self.complete();
                    self.level -= 1;
                    done
                } else {
                    None
                };
                self.depth = self.depth.saturating_sub(1);
                if construct == Construct::HereDoc {
                    // The next announced body starts right after.
                    self.start_heredoc();
                }
                if construct != Construct::HereDoc && self.innermost() != Some(Construct::HereDoc) {
                    let word = &mut self.current().word;
                    if word.open {
                        word.end = atom.end;
                    }
                }
                done
            }
        }
    }

    fn start_heredoc(&mut self) {
        if self.heredocs == 0 || self.depth == MAX_DEPTH {
            return;
        }
        self.heredocs -= 1;
        if let Some(slot) = self.constructs.get_mut(self.depth) {
            *slot = Construct::HereDoc;
            self.depth += 1;
        }
    }

    /// Ends the words still open at the end of the text, innermost first;
    /// `None` when none is left.
    pub(super) fn finish(&mut self) -> Option<Completed> {
        loop {
            if let Some(done) = self.complete() {
                return Some(done);
            }
            if self.level == 0 {
                return None;
            }
            self.level -= 1;
        }
    }
}
