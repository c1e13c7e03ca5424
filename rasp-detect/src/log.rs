//! Log injection detector.
//!
//! An application writes an untrusted input into a log line
//! (`format!("login failed for {user}")`). Whoever reads the log — a
//! person at a terminal, a SIEM, `grep` — takes each line for one event,
//! so an input that brings a line break writes events of its own: a user
//! name `x\n2026-01-01T00:00:00Z INFO admin login ok` forges a successful
//! admin login. An input that brings a terminal control sequence acts on
//! the terminal of whoever reads the log with `cat` or `tail -f`: it can
//! recolour or erase lines, move the cursor over earlier output, set the
//! window title, or make a link (OSC 8) point elsewhere. The input is an
//! injection when it brings into the line
//!
//! - a line break: LF, CR, vertical tab, form feed, and the Unicode line
//!   ends NEL (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH SEPARATOR
//!   (U+2029), which log viewers, JSON-lines readers and JavaScript split
//!   on — [`Reason::ForgesLogLine`];
//! - a NUL byte, which C log tooling takes as the end of the line —
//!   [`Reason::NulByte`];
//! - ESC, CSI (U+009B, or a lone `0x9b` byte that 8-bit terminals read as
//!   CSI), any other C0 or C1 control, or DEL — [`Reason::TerminalEscape`].
//!
//! A horizontal tab is ordinary text in a log line and passes, as does
//! every printable character (accents, emoji, right-to-left scripts). The
//! input is decoded as UTF-8, so a `0x85` or `0x9b` byte that is part of a
//! printable character (`Û` is `C3 9B`) is text; the same byte outside a
//! valid sequence is a control for a terminal that reads bytes.
//!
//! Each finding depends only on the characters of the input: one that
//! carries a line break or a control and occurs in the line brings it
//! there. The cost of a benign input is one scan of the input and no
//! search at all.

use crate::Needle;
#[cfg(test)]
use memchr::memmem::Finder;

use crate::{Finding, Reason};

/// Whether the input searched by `finder` brings a line break or a
/// terminal control into the log line `line`.
///
/// `finder.needle()` is the recorded input (any bytes). Returns the first
/// occurrence of an input that carries one (see the [module docs](self)),
/// or `None`.
#[inline]
pub fn detect(line: &[u8], finder: &dyn Needle) -> Option<Finding> {
    // The input's own characters decide; the search only runs for inputs
    // that carry something a log line must not hold.
    let reason = input_reason(finder.needle())?;
    let offset = crate::first_occurrence(line, finder)?;
    Some(Finding { offset, reason })
}

/// What the characters of `input` would do to a log line, the gravest
/// first, or `None` when it is plain text.
#[inline]
pub fn input_reason(input: &[u8]) -> Option<Reason> {
    // Printable ASCII and tab are the common case: one pass, no decoding.
    if input
        .iter()
        .all(|&b| (b' '..0x7f).contains(&b) || b == b'\t')
    {
        return None;
    }
    let mut worst: Option<Reason> = None;
    for chunk in input.utf8_chunks() {
        for c in chunk.valid().chars() {
            match char_reason(c) {
                Some(Reason::ForgesLogLine) => return Some(Reason::ForgesLogLine),
                Some(reason) => worst = Some(graver(worst, reason)),
                None => {}
            }
        }
        for &b in chunk.invalid() {
            // Outside UTF-8, a byte is read on its own by 8-bit terminals
            // and Latin-1 tools: 0x85 is NEL and 0x9b is CSI there.
            match b {
                0x85 => return Some(Reason::ForgesLogLine),
                0x80..=0x9f => worst = Some(graver(worst, Reason::TerminalEscape)),
                _ => {}
            }
        }
    }
    worst
}

/// What one character does in a log line (see the [module docs](self)).
/// The log sanitizer escapes exactly the characters for which this is
/// `Some`, so its output is never flagged.
#[inline]
pub const fn char_reason(c: char) -> Option<Reason> {
    match c {
        '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
            Some(Reason::ForgesLogLine)
        }
        '\0' => Some(Reason::NulByte),
        '\t' => None,
        '\u{01}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => Some(Reason::TerminalEscape),
        _ => None,
    }
}

/// The graver of two reasons: a NUL truncates the line, which hides
/// whatever the rest of the input does.
#[inline]
fn graver(current: Option<Reason>, new: Reason) -> Reason {
    match current {
        Some(Reason::NulByte) => Reason::NulByte,
        _ => new,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_line_breaks_first() {
        assert_eq!(input_reason(b"a\0b\nc"), Some(Reason::ForgesLogLine));
        assert_eq!(input_reason(b"a\x1b[31m\0"), Some(Reason::NulByte));
        assert_eq!(input_reason(b"a\x1b[2J"), Some(Reason::TerminalEscape));
        assert_eq!(input_reason(b"a\x7f"), Some(Reason::TerminalEscape));
    }

    #[test]
    fn decodes_before_judging_high_bytes() {
        // `Û` is C3 9B: the 0x9b byte is part of a letter.
        assert_eq!(input_reason("Ûber café 🎉\t".as_bytes()), None);
        assert_eq!(input_reason(b"a\x9b2J"), Some(Reason::TerminalEscape));
        assert_eq!(input_reason(b"a\x85b"), Some(Reason::ForgesLogLine));
        assert_eq!(
            input_reason("a\u{9b}2J".as_bytes()),
            Some(Reason::TerminalEscape)
        );
        assert_eq!(
            input_reason("a\u{2028}b".as_bytes()),
            Some(Reason::ForgesLogLine)
        );
        assert_eq!(input_reason(b"\xff\xfe"), None);
    }

    #[test]
    fn needs_the_input_in_the_line() {
        let finder = Finder::new(b"x\ny");
        assert_eq!(detect(b"user=bob", &finder), None);
        assert_eq!(
            detect(b"user=x\ny", &finder),
            Some(Finding {
                offset: 5,
                reason: Reason::ForgesLogLine
            })
        );
    }
}
