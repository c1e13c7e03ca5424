//! Shell command injection detector (POSIX `sh -c` command lines).
//!
//! An input recorded from an untrusted source is an injection into a command
//! line when one of its occurrences in the line does more than supply data to
//! one word. The input `report-1.txt` in `file report-1.txt` is one word;
//! `R&D` inside `grep 'R&D' notes` is the content of one quoted string; but
//! `x; id` adds a command, `$(id)` runs one, `x' ; id '` breaks out of the
//! quotes the application put around it, and `a b` turns one argument into
//! two.
//!
//! The command line is cut into atoms by a lexer that follows the POSIX
//! shell grammar (quotes, escapes, operators, `$( )`, backticks, `$(( ))`,
//! `${ }`, comments, here-documents), and each occurrence is judged by the
//! structural atoms it covers:
//!
//! - a quote or expansion delimiter whose partner lies outside the
//!   occurrence [breaks out](Reason::BreaksLiteral) of a string (or, if
//!   nothing ever closes it, leaves the line
//!   [unterminated](Reason::Unterminated)); quoting that the input opens
//!   *and* closes (`"a b"`, `'it'\''s'`) stays inside one word and is fine.
//!   A trailing backslash that escapes a quote, blank or operator the
//!   application wrote breaks out too (one that escapes a backslash is the
//!   application escaping the input's own: `a\` written as `a\\`);
//! - `$(`, `` ` `` or `$((` that the input writes outside single quotes —
//!   double quotes do not stop them — [runs a
//!   command](Reason::CommandSubstitution);
//! - a control or redirection operator (`;` `&` `&&` `|` `||` `<` `>` `>>`
//!   `<<` `2>&1` `(` `)`) or a newline outside quotes [adds an
//!   operator](Reason::ShellOperator) — `&` and `|` are operators for
//!   `cmd.exe` too;
//! - a `#` at the start of a word [opens a comment](Reason::OpensComment)
//!   that hides the rest of the line;
//! - unquoted blanks with word content on both sides [span
//!   words](Reason::SpansTokens). A blank at the edge of an occurrence
//!   counts when it glues onto a word the application wrote (`--name=` then
//!   ` -rf`), not when it only widens the gap between two words;
//! - an unquoted parameter expansion (`$IFS`, `${IFS}`, `$1`, `$@`) written
//!   by the input also [spans words](Reason::SpansTokens): the shell splits
//!   its value into words, so `cat${IFS}/etc/passwd` is two words although no
//!   blank appears. Inside double quotes an expansion is one word and is not
//!   flagged (it reads the environment but changes no structure); braces
//!   with a `,` or `..` inside (`{cat,/etc/passwd}`) are bash brace
//!   expansion, which splits words the same way.
//!
//! An occurrence that stays inside one word is then judged by what that
//! word does in its command. Each command list (the top level, `$( )`,
//! backticks) is cut into simple commands and words, and each simple
//! command is followed with the table of programs in [`exec`]: the word
//! that names the program (after assignments and reserved words), the
//! command a wrapper runs (`timeout 5 CMD`, `sudo nice CMD`,
//! `find -exec CMD ;`), code an interpreter runs (`python3 -c CODE`,
//! `awk PROGRAM`, `tar --to-command=CMD`) and options. An input that
//! writes a whole token of a command or code word (it starts and ends at
//! the word's edges or next to a byte that is not a letter, digit or `_`)
//! [chooses what runs](Reason::ChoosesCommand); one that writes the
//! leading `-` of an argument before the command's own `--`, or a whole
//! old-style cluster (`tar xvf`), is [an option](Reason::OptionInjection),
//! quoted or not. A word that a shell runs again (`sh -c '…'`,
//! `ssh host '…'`, `eval`) is read as shell text in turn, up to
//! [`MAX_NESTED_SCRIPTS`] deep.
//!
//! Expansions the input adds inside one word are flagged too: a parameter
//! inside double quotes or a here-document (`"$HOME"`, `${SECRET}`) and a
//! tilde prefix (`~`, `~root/.ssh`) [substitute](Reason::CommandSubstitution)
//! text the application did not write; unquoted globs (`*`, `?`, a closed
//! `[…]`) [span words](Reason::SpansTokens), as many as the file system
//! has matches for. bash evaluates the operands of `let`, the values of
//! `declare -i` and the words of `[[ … ]]` as arithmetic, where an array
//! subscript runs the substitutions it holds (`a[$(id)]`) even from a
//! single-quoted word: an input with a subscript and a substitution there
//! is flagged; `(( … ))` is lexed like `$(( … ))`.
//!
//! Not flagged, on purpose: inputs as values of options or operands of a
//! program. `cmd.exe`
//! quoting (`^`, `%VAR%`) is out of scope.
//!
//! Every occurrence is examined and the first structural one reported. An
//! application that quotes an input the POSIX way writes each of its quotes
//! as `'\''` (close, escaped quote, reopen); an input that starts or ends
//! with a quote then also occurs lined up with that idiom's delimiters
//! (`' && x` inside `''\'' && x'`). Such an occurrence is read both ways —
//! atom by atom, and with the idiom as the one quote character it stands
//! for — and is structural only if both readings say so. An input made only
//! of quotes and blanks can still line up with the application's own
//! delimiters elsewhere (`' ` with a closing quote and the blank after it)
//! and be flagged there: the detector cannot tell the application's bytes
//! from the input's.
//!
//! The text is lexed front to back once; an occurrence spanning several
//! atoms is followed with a copy of the lexer, so the work stays linear in
//! the text.

pub mod exec;
mod lexer;
mod option;
mod words;

#[cfg(test)]
mod tests;

use crate::Needle;

use self::exec::Role;
use self::lexer::{Atom, AtomKind, Construct, Lexer};
pub use self::option::detect_option;
use self::words::{Arith, Completed, Words};
use crate::Reason;

/// How many occurrences overlapping their predecessor are examined before
/// the search moves to non-overlapping occurrences only, so that a periodic
/// input in a periodic text cannot make the detector quadratic.
const MAX_OVERLAPS: u32 = 64;

/// How many command lines nested in one another (`sh -c "ssh host 'eval
/// …'"`) are read as shell text. An input in a command line nested deeper
/// decides what runs there: it is reported rather than read.
pub const MAX_NESTED_SCRIPTS: u8 = 4;

/// A finding of the shell detector: the occurrence offset and why it is an
/// injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShellFinding {
    /// Byte offset of the offending occurrence of the input in the command line.
    pub offset: usize,
    /// What the occurrence does to the command line.
    pub reason: Reason,
}

/// Whether the input searched by `finder` is an injection into the command
/// line `command`, as run by `sh -c`.
///
/// `finder.needle()` is the recorded input (any bytes). Returns the first
/// occurrence of it that changes the structure of `command` (see the
/// [module docs](self) for the rules), or `None` — also when the input does
/// not occur at all, which costs one substring search, or is empty.
#[inline]
pub fn detect(command: &[u8], finder: &dyn Needle) -> Option<ShellFinding> {
    let first = crate::first_occurrence(command, finder)?;
    scan(command, finder, first, 0)
}

/// Examines every occurrence of the finder's needle, starting at `first`,
/// in a command line nested `nesting` deep in another one.
#[inline(never)]
fn scan(text: &[u8], finder: &dyn Needle, first: usize, nesting: u8) -> Option<ShellFinding> {
    let len = finder.needle().len();
    let mut lexer = Lexer::new(text);
    let mut words = Words::new();
    let mut judged = Judged::default();
    // The atom holding the current occurrence's start (the lexer stands
    // right after it) and the kind of the atom before it.
    let mut current: Option<Atom> = None;
    let mut before: Option<AtomKind> = None;
    let mut overlaps = 0u32;
    let mut start = first;
    loop {
        let end = start + len;
        let atom = loop {
            match current {
                Some(a) if a.end > start => break Some(a),
                _ => {}
            }
            before = current.map(|a| a.kind);
            current = lexer.next();
            match current {
                Some(a) => {
                    words.feed(text, a);
                }
                None => break None,
            }
        };
        // Atoms cover every byte, so this only ends the loop for an
        // occurrence past the end, which the finder never reports.
        let atom = atom?;
        let reason = classify(text, &lexer, before, atom, start, end).or_else(|| {
            judge_role(
                text,
                finder,
                (&lexer, &words),
                start,
                end,
                nesting,
                &mut judged,
            )
        });
        if let Some(reason) = reason {
            return Some(ShellFinding {
                offset: start,
                reason,
            });
        }
        let from = if overlaps < MAX_OVERLAPS {
            start + 1
        } else {
            end
        };
        let next = text.get(from..).and_then(|rest| finder.find(rest))? + from;
        if next < end {
            overlaps += 1;
        }
        start = next;
    }
}

/// Structural atoms met while walking one occurrence.
#[derive(Debug, Default)]
struct Walk {
    start: usize,
    end: usize,
    /// Constructs the occurrence opened and has not closed yet.
    depth: usize,
    breaks_literal: bool,
    substitution: bool,
    operator: bool,
    comment: bool,
    splits: bool,
    /// The input adds an expansion whose value the shell reads at run time
    /// (a parameter inside double quotes or a here-document, `${…}`, a
    /// tilde prefix): one word still, but not the bytes the application
    /// placed.
    expansion: bool,
    /// The input adds an unquoted glob (`*`, `?`, `[…]`): the file system
    /// decides how many words the pattern becomes.
    glob: bool,
    /// The kind of the atom walked last (before the occurrence: the atom
    /// before its first one), to tell where a word starts.
    prev: Option<AtomKind>,
    /// Word content seen in the occurrence.
    content: bool,
    /// A blank seen after word content, not yet followed by more content.
    blank_after_content: bool,
    /// The occurrence starts with a blank that is the start of a gap (the
    /// byte before it belongs to a word).
    leading_gap: bool,
    /// Bash brace expansion: an unquoted `{` then `,` or `..` seen.
    brace_open: bool,
    brace_list: bool,
    last_was_dot: bool,
    /// The last atom walked was a blank ending exactly at the occurrence's
    /// end: whether it splits depends on the atom after.
    trailing_blank: bool,
    /// Read the atoms of a `'\''` idiom as the one quote character of
    /// string content they stand for.
    idiom_as_content: bool,
}

impl Walk {
    fn new(start: usize, end: usize, idiom_as_content: bool) -> Self {
        Self {
            start,
            end,
            idiom_as_content,
            ..Self::default()
        }
    }

    fn word_content(&mut self) {
        if self.blank_after_content || self.leading_gap {
            self.splits = true;
        }
        self.content = true;
        self.trailing_blank = false;
    }

    fn add(&mut self, text: &[u8], atom: Atom) {
        let (s, e) = (self.start, self.end);
        let whole = atom.start >= s && atom.end <= e;
        let prev = self.prev.replace(atom.kind);
        if atom.idiom && self.idiom_as_content {
            self.word_content();
            return;
        }
        match atom.kind {
            AtomKind::Literal { command } => {
                if command && self.depth == 0 {
                    self.brace_scan(text, atom);
                }
                if command {
                    let word_start = prev.is_none_or(bounds_word);
                    self.pattern_scan(text, atom, word_start);
                }
                self.word_content();
            }
            AtomKind::Blank => {
                self.blank_after_content |= self.content;
                self.trailing_blank = atom.end == e;
                self.brace_open = false;
                self.brace_list = false;
            }
            AtomKind::Operator => {
                self.operator = true;
                self.brace_open = false;
                self.brace_list = false;
                self.word_content();
            }
            AtomKind::Comment => {
                if atom.start >= s {
                    self.comment = true;
                }
                self.word_content();
            }
            AtomKind::Escape => {
                // A backslash of the input that escapes a byte the
                // application wrote changes how that byte is read when the
                // byte is a quote, a blank, a line break or an operator.
                // (An escaped backslash is the application escaping the
                // input's own trailing backslash: `a\` written as `a\\`.)
                if atom.start >= s && atom.end > e {
                    match text.get(atom.start + 1) {
                        Some(b'\'' | b'"' | b'`') => self.breaks_literal = true,
                        Some(
                            b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')',
                        ) => {
                            self.splits = true;
                        }
                        _ => {}
                    }
                }
                self.word_content();
            }
            AtomKind::Param { quoted } => {
                // Unquoted, the value is split into words; quoted, it is one
                // word, but one the environment writes (`"$HOME"`); a
                // partial overlap renames the application's variable.
                if !quoted || !whole {
                    self.splits = true;
                }
                // A named variable reads the environment (`"$AWS_SECRET"`);
                // positional and special parameters (`$5`, `$$`, `$?`)
                // hold nothing of it, and prose writes them (`Price: $5`).
                let named = text
                    .get(atom.start + 1)
                    .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
                if atom.start >= s && named {
                    self.expansion = true;
                }
                self.word_content();
            }
            AtomKind::Open { construct, quoted } => {
                if is_substitution(construct) {
                    self.substitution = true;
                } else if construct == Construct::ParamBrace && !quoted {
                    self.splits = true;
                }
                if construct == Construct::ParamBrace && atom.start >= s {
                    self.expansion = true;
                }
                if whole {
                    self.depth += 1;
                } else if !is_substitution(construct) {
                    // Half of `$'`, `$"` or `${`: the input turns the
                    // application's quote or brace into another construct.
                    self.breaks_literal = true;
                }
                self.word_content();
            }
            AtomKind::Close(_) => {
                if whole && self.depth > 0 {
                    self.depth -= 1;
                } else {
                    self.breaks_literal = true;
                }
                self.word_content();
            }
            AtomKind::NestedBacktick => {
                self.substitution = true;
                self.word_content();
            }
            AtomKind::Overflow => {
                self.splits = true;
                self.word_content();
            }
        }
    }

    /// Follows unquoted word bytes for bash brace expansion: `{`, then `,`
    /// or `..`, then `}`.
    fn brace_scan(&mut self, text: &[u8], atom: Atom) {
        let from = atom.start.max(self.start);
        let to = atom.end.min(self.end);
        for &b in text.get(from..to).unwrap_or_default() {
            match b {
                b'{' => {
                    self.brace_open = true;
                    self.brace_list = false;
                }
                b',' if self.brace_open => self.brace_list = true,
                b'.' if self.brace_open && self.last_was_dot => self.brace_list = true,
                b'}' if self.brace_list => self.splits = true,
                _ => {}
            }
            self.last_was_dot = b == b'.';
        }
    }

    /// Follows unquoted word bytes for the expansions that need no `$`:
    /// globs (`*`, `?`, a `[` closed in the same run) and tilde prefixes.
    /// A `~` expands at the start of a word (`word_start`: the atom starts
    /// one) and, in an assignment, after its `=` or a `:` (bash also
    /// expands it there in an argument shaped like an assignment,
    /// `echo a=~`). A tilde the application wrote at the start of the
    /// word is continued by an input that writes the rest of its prefix
    /// (`~{input}` with `root`): the input names the user.
    fn pattern_scan(&mut self, text: &[u8], atom: Atom, word_start: bool) {
        let from = atom.start.max(self.start);
        let to = atom.end.min(self.end);
        let run = text.get(atom.start..atom.end).unwrap_or_default();
        let tilde_at = |p: usize| -> bool {
            if p == atom.start {
                return word_start;
            }
            let head = run.get(..p - atom.start).unwrap_or_default();
            word_start && matches!(head.last(), Some(b'=' | b':')) && assignment_prefix(head)
        };
        for p in from..to {
            match text.get(p) {
                Some(b'*' | b'?') => self.glob = true,
                Some(b'[')
                    if text
                        .get(p + 1..atom.end)
                        .is_some_and(|rest| rest.contains(&b']')) =>
                {
                    self.glob = true;
                }
                Some(b'~') if tilde_at(p) => self.expansion = true,
                _ => {}
            }
        }
        if from == self.start && from > atom.start {
            // Only the last `MAX_NAME` bytes can hold the `~` of a tilde
            // prefix the input continues: a longer user name names no
            // user, and the shell leaves it as it is. Bounding the look
            // back keeps a long word linear to scan, however many
            // occurrences it holds.
            let head = run.get(..from - atom.start).unwrap_or_default();
            let window = head.len().saturating_sub(MAX_NAME + 1);
            if let Some(t) = head[window..]
                .iter()
                .rposition(|&b| b == b'~')
                .map(|t| t + window)
                && !head.get(t..).unwrap_or_default().contains(&b'/')
                && tilde_at(atom.start + t)
            {
                self.expansion = true;
            }
        }
    }

    fn structural(&self) -> bool {
        self.breaks_literal
            || self.substitution
            || self.expansion
            || self.glob
            || self.operator
            || self.comment
            || self.splits
            || self.depth > 0
    }
}

/// Whether an atom of this kind can be the last piece of a word.
const fn ends_word(kind: AtomKind) -> bool {
    matches!(
        kind,
        AtomKind::Literal { .. }
            | AtomKind::Escape
            | AtomKind::Param { .. }
            | AtomKind::Close(_)
            | AtomKind::NestedBacktick
    ) && !matches!(kind, AtomKind::Close(Construct::HereDoc))
}

/// Whether a word starts right after an atom of this kind.
const fn bounds_word(kind: AtomKind) -> bool {
    matches!(
        kind,
        AtomKind::Blank
            | AtomKind::Operator
            | AtomKind::Close(Construct::HereDoc)
            | AtomKind::Open {
                construct: Construct::CommandSub | Construct::Backtick,
                ..
            }
    )
}

/// The longest user or variable name read exactly. Past it, a name is
/// taken as one conservatively (a longer `NAME=` still counts as an
/// assignment), so that no scan per occurrence grows with the word.
const MAX_NAME: usize = 256;

/// `NAME=` then anything: the head of an assignment word, up to a byte
/// after its `=`. Reads at most [`MAX_NAME`] + 1 bytes.
fn assignment_prefix(head: &[u8]) -> bool {
    if !head
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
    {
        return false;
    }
    for &b in head.iter().take(MAX_NAME + 1) {
        match b {
            b'=' => return true,
            b if b.is_ascii_alphanumeric() || b == b'_' => {}
            _ => return false,
        }
    }
    // A name longer than any read exactly: an assignment, for all this
    // check knows.
    head.len() > MAX_NAME
}

/// Whether an atom of this kind can be the first piece of a word.
const fn starts_word(kind: AtomKind) -> bool {
    matches!(
        kind,
        AtomKind::Literal { .. }
            | AtomKind::Escape
            | AtomKind::Param { .. }
            | AtomKind::Open { .. }
            | AtomKind::NestedBacktick
            | AtomKind::Overflow
    )
}

const fn is_substitution(construct: Construct) -> bool {
    matches!(
        construct,
        Construct::CommandSub | Construct::Backtick | Construct::Arithmetic
    )
}

/// Whether the occurrence `start..end`, which begins in `first`, changes the
/// structure of the command line. `lexer` stands right after `first`;
/// `before` is the kind of the atom before `first`.
fn classify(
    text: &[u8],
    lexer: &Lexer<'_>,
    before: Option<AtomKind>,
    first: Atom,
    start: usize,
    end: usize,
) -> Option<Reason> {
    let mut walk = Walk::new(start, end, false);
    walk.prev = before;
    // A blank the occurrence starts with opens a gap after a word the
    // application wrote right before it; word content of the input after
    // that blank is then a word of its own.
    walk.leading_gap =
        first.kind == AtomKind::Blank && first.start == start && before.is_some_and(ends_word);
    let mut idioms = first.idiom;
    walk.add(text, first);
    let mut ahead: Option<Lexer<'_>> = None;
    let mut trailing_split = false;
    if first.end < end || walk.trailing_blank || walk.depth > 0 {
        let mut copy = lexer.clone();
        if first.end < end {
            for atom in copy.by_ref() {
                idioms |= atom.idiom;
                walk.add(text, atom);
                if atom.end >= end {
                    break;
                }
            }
        }
        if walk.trailing_blank && walk.content {
            // The occurrence ends with a blank: it splits if a word the
            // application wrote follows right after.
            trailing_split = copy
                .clone()
                .next()
                .is_some_and(|next| starts_word(next.kind));
            walk.splits |= trailing_split;
        }
        ahead = Some(copy);
    }
    if !walk.structural() {
        return None;
    }
    // An occurrence that starts or ends with a quote can line up with the
    // delimiters of a `'\''` idiom (`' && x` inside `''\'' && x'`, the
    // escaping of that very input): read again with each idiom as the quote
    // character it stands for, it must still be structural.
    if idioms {
        let mut alternative = Walk::new(start, end, true);
        alternative.prev = before;
        alternative.leading_gap = walk.leading_gap;
        alternative.add(text, first);
        if first.end < end {
            for atom in lexer.clone() {
                alternative.add(text, atom);
                if atom.end >= end {
                    break;
                }
            }
        }
        // What follows the occurrence does not depend on the reading.
        alternative.splits |= trailing_split;
        if !alternative.structural() {
            return None;
        }
    }
    Some(if walk.breaks_literal {
        Reason::BreaksLiteral
    } else if walk.substitution {
        Reason::CommandSubstitution
    } else if walk.operator {
        Reason::ShellOperator
    } else if walk.comment {
        Reason::OpensComment
    } else if walk.expansion && !walk.splits {
        // No reason of its own yet: the shell substitutes text the
        // application did not write, as it does for `$( )`.
        Reason::CommandSubstitution
    } else if walk.depth > 0 {
        // Something the input opened: closed by the application's text
        // later (a breakout), or never (an unterminated line).
        let open_at_end = ahead.is_some_and(|copy| stays_open(copy, walk.depth));
        if open_at_end {
            Reason::Unterminated
        } else {
            Reason::BreaksLiteral
        }
    } else {
        Reason::SpansTokens
    })
}

/// What the word holding the occurrence `start..end` (one word: the
/// occurrence changes no structure) does in its command: an input that
/// names the program that runs, is code a program interprets or starts an
/// option is an injection although it is one word. `lexer` and `words`
/// stand right after the atom holding `start`.
fn judge_role(
    text: &[u8],
    finder: &dyn Needle,
    (lexer, words): (&Lexer<'_>, &Words),
    start: usize,
    end: usize,
    nesting: u8,
    judged: &mut Judged,
) -> Option<Reason> {
    // Many occurrences in one long word are judged against the word found
    // for the first of them, so the work stays linear in the text.
    let cached = judged.word.filter(|w| {
        w.level == words.level() && words.open_word() == Some(w.start) && start < w.end
    });
    let word = match cached {
        Some(word) => word,
        None => {
            let word = word_of(text, lexer, words, end)?;
            *judged = Judged {
                word: Some(word),
                script: None,
            };
            word
        }
    };
    // bash evaluates the word as arithmetic, where `a[$(cmd)]` runs `cmd`
    // even from a single-quoted word.
    let needle = finder.needle();
    let runs_in_arith = word.arith == Arith::Evaluated
        && needle.contains(&b'[')
        && (needle.contains(&b'`') || needle.windows(2).any(|w| w == b"$("));
    if runs_in_arith {
        return Some(Reason::CommandSubstitution);
    }
    // An `(( … ))` command is one expression, not a program and its
    // arguments; what an input does inside it was judged atom by atom.
    if text.get(word.start..).is_some_and(|w| w.starts_with(b"((")) {
        return None;
    }
    let bounded = |from: usize| {
        let before = start <= from || !text.get(start - 1).is_some_and(|&b| is_word_byte(b));
        let after = end >= word.end || !text.get(end).is_some_and(|&b| is_word_byte(b));
        before && after
    };
    match word.role {
        // A whole name or path segment the input writes (`{input}`,
        // `/opt/{input}`, `{input}.sh`), not letters that happen to occur
        // inside the application's own name.
        Role::Command | Role::Code => bounded(word.start).then_some(Reason::ChoosesCommand),
        Role::OptionCode { at } => {
            let code = if word.plain {
                word.start + at
            } else {
                word.start
            };
            (end > code && bounded(word.start)).then_some(Reason::ChoosesCommand)
        }
        Role::ShellCode => {
            let verdict = *judged
                .script
                .get_or_insert_with(|| nested_script(text, finder, word.start, word.end, nesting));
            verdict.filter(|_| bounded(word.start))
        }
        // The input writes the word's first byte: a `-` (an option
        // whatever follows), or a whole old-style cluster (`tar xvf`).
        Role::Option => word
            .first_content
            .is_some_and(|c| {
                start <= c && c < end && (text.get(c) == Some(&b'-') || bounded(word.start))
            })
            .then_some(Reason::OptionInjection),
        Role::Value | Role::Operand => None,
    }
}

/// The word last judged in a scan, and the verdict on it as shell text
/// when a shell runs it again: both are the same for every occurrence in
/// it.
#[derive(Debug, Default)]
struct Judged {
    word: Option<Completed>,
    script: Option<Option<Reason>>,
}

/// The word holding the content of the occurrence ending at `end`: the one
/// in progress where `lexer` and `words` stand, or the first one that
/// starts inside the occurrence; followed to its end to learn its role.
fn word_of(text: &[u8], lexer: &Lexer<'_>, words: &Words, end: usize) -> Option<Completed> {
    let mut words = words.clone();
    let mut lexer = lexer.clone();
    while words.open_word().is_none() {
        let atom = lexer.next()?;
        if atom.start >= end {
            return None;
        }
        words.feed(text, atom);
    }
    let level = words.level();
    loop {
        let done = match lexer.next() {
            Some(atom) => words.feed(text, atom),
            None => Some(words.finish()?),
        };
        if let Some(done) = done.filter(|d| d.level == level) {
            return Some(done);
        }
    }
}

/// The verdict on a word that a shell runs again as a command line (`sh -c
/// '…'`, `ssh host '…'`): its text is read as shell text in turn. A word
/// that is one quoted string or unquoted text is read as such; one mixed
/// of several quotings, or nested deeper than [`MAX_NESTED_SCRIPTS`],
/// decides what runs.
fn nested_script(
    text: &[u8],
    finder: &dyn Needle,
    start: usize,
    end: usize,
    nesting: u8,
) -> Option<Reason> {
    let word = text.get(start..end).unwrap_or_default();
    let inner = match (word.first(), word.last()) {
        (Some(&q @ (b'\'' | b'"')), Some(&last)) if last == q && word.len() >= 2 => {
            let inner = word.get(1..word.len() - 1).unwrap_or_default();
            // Inside single quotes a backslash is a byte like any other;
            // inside double quotes it may escape, which this reading
            // does not undo.
            (!inner.contains(&q) && (q == b'\'' || !inner.contains(&b'\\'))).then_some(inner)
        }
        _ => (!word
            .iter()
            .any(|b| matches!(b, b'\'' | b'"' | b'\\' | b'$' | b'`')))
        .then_some(word),
    };
    let Some(inner) = inner.filter(|_| nesting < MAX_NESTED_SCRIPTS) else {
        return Some(Reason::ChoosesCommand);
    };
    let first = crate::first_occurrence(inner, finder)?;
    scan(inner, finder, first, nesting + 1).map(|f| f.reason)
}

const fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether the `opened` innermost constructs open at the lexer's position
/// are still open at the end of the text.
fn stays_open(mut lexer: Lexer<'_>, opened: usize) -> bool {
    let floor = lexer.depth().saturating_sub(opened);
    loop {
        if lexer.depth() <= floor {
            return false;
        }
        if lexer.next().is_none() {
            return true;
        }
    }
}
