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
use memchr::{memchr, memchr2};

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
    // that carry something a log line must not hold, or a quote or a
    // `key=` that may forge a field.
    let input = finder.needle();
    if let Some(reason) = input_reason(input) {
        let offset = crate::first_occurrence(line, finder)?;
        return Some(Finding { offset, reason });
    }
    if memchr2(b'"', b'=', input).is_some() || memchr(b'\\', input).is_some() {
        return forged_field(line, finder);
    }
    None
}

/// The first occurrence of the input that forges a field of a structured
/// line (JSON, logfmt): one that closes a quoted string the application
/// opened before it — with a `"` of its own, or a `\` that escapes the
/// application's closing quote — so that what follows reads as keys of
/// its choosing (`","level":"info","user":"admin`) —
/// [`Reason::BreaksLiteral`]; or, in an unquoted `key=value`, a space or
/// tab followed by `key=` (` level=info`) — [`Reason::SpansTokens`].
#[inline(never)]
fn forged_field(line: &[u8], finder: &dyn Needle) -> Option<Finding> {
    let len = finder.needle().len();
    crate::first_occurrence(line, finder)?;
    // The start of an occurrence covering byte `at`, if one does.
    let covering = |at: usize| {
        let from = (at + 1).saturating_sub(len);
        let window = line.get(from..(at + len).min(line.len()))?;
        finder
            .find(window)
            .map(|k| from + k)
            .filter(|&start| start <= at)
    };
    let json = line.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let mut open: Option<usize> = None;
    let mut value_start: Option<usize> = None;
    let mut at = 0;
    while at < line.len() {
        let b = line[at];
        match open {
            Some(opened) => match b {
                b'\\' => {
                    if line.get(at + 1) == Some(&b'"')
                        && let Some(start) = covering(at).filter(|&s| s > opened)
                        && start + len <= at + 1
                    {
                        return Some(Finding {
                            offset: start,
                            reason: Reason::BreaksLiteral,
                        });
                    }
                    at += 1;
                }
                b'"' => {
                    if let Some(start) = covering(at)
                        .filter(|&s| s > opened && adds_field(line, at + 1, s + len, json))
                    {
                        return Some(Finding {
                            offset: start,
                            reason: Reason::BreaksLiteral,
                        });
                    }
                    open = None;
                }
                _ => {}
            },
            None => match b {
                b'"' => open = Some(at),
                b'=' if !json => value_start = Some(at + 1),
                b' ' | b'\t' if !json => {
                    if value_start.is_some_and(|v| v < at)
                        && starts_key(line, at + 1)
                        && let Some(start) =
                            covering(at).filter(|&s| value_start.is_some_and(|v| s >= v))
                    {
                        return Some(Finding {
                            offset: start,
                            reason: Reason::SpansTokens,
                        });
                    }
                    value_start = None;
                }
                _ => {}
            },
        }
        at += 1;
    }
    None
}

/// Whether the input's text after a quote it closed, `from..end`, goes on
/// to write structure: JSON punctuation (`,"level":`), or a logfmt
/// ` key=`. A quote that closes the string and only adds text
/// (`""quoted""`) forges nothing a reader would take for a field.
fn adds_field(line: &[u8], from: usize, end: usize, json: bool) -> bool {
    let rest = line.get(from..end).unwrap_or_default();
    if json {
        return rest
            .iter()
            .any(|b| matches!(b, b',' | b':' | b'{' | b'}' | b'[' | b']'));
    }
    rest.iter()
        .enumerate()
        .any(|(k, &b)| (b == b' ' || b == b'\t') && starts_key(line, from + k + 1))
}

/// Whether a logfmt key (`level=`) starts at `from`.
fn starts_key(line: &[u8], from: usize) -> bool {
    let rest = line.get(from..).unwrap_or_default();
    let key = rest
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        .count();
    key > 0 && rest.get(key) == Some(&b'=')
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

    fn reason(line: &str, input: &str) -> Option<Reason> {
        detect(line.as_bytes(), &Finder::new(input.as_bytes())).map(|f| f.reason)
    }

    #[test]
    fn flags_forged_fields() {
        let input = "bob\",\"level\":\"info\",\"user\":\"admin";
        let line = format!("{{\"level\":\"warn\",\"user\":\"{input}\",\"msg\":\"login failed\"}}");
        assert_eq!(reason(&line, input), Some(Reason::BreaksLiteral));
        let input = "bob\\";
        let line = format!("{{\"user\":\"{input}\",\"level\":\"x\"}}");
        assert_eq!(reason(&line, input), Some(Reason::BreaksLiteral));
        let input = "bob level=info";
        let line = format!("ts=1 level=warn user={input} msg=denied");
        assert_eq!(reason(&line, input), Some(Reason::SpansTokens));
        let input = "bob\" level=\"info";
        let line = format!("ts=1 level=warn user=\"{input}\" msg=denied");
        assert_eq!(reason(&line, input), Some(Reason::BreaksLiteral));
    }

    #[test]
    fn passes_escaped_and_plain_text() {
        let input = "bob\\\",\\\"level\\\":\\\"info";
        let line = format!("{{\"user\":\"{input}\",\"msg\":\"x\"}}");
        assert_eq!(reason(&line, input), None);
        for (line, input) in [
            ("INFO user said \"hi there\" to support", "\"hi there\""),
            ("ts=1 user=Jean Dupont msg=ok", "Jean Dupont"),
            ("ts=1 q=a=b msg=ok", "a=b"),
            ("ts=1 user=\"Jean level=x\" msg=ok", "Jean level=x"),
        ] {
            assert_eq!(reason(line, input), None, "{line}");
        }
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
