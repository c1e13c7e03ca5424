//! The log injection detector on realistic log lines: forged lines and
//! terminal escapes it must flag, ordinary text it must let through, the
//! log sanitizer and the escaped view, and hostile bytes it must survive.

mod sanitizer_support;

use memchr::memmem::Finder;
use proptest::prelude::*;
use rasp_core::detect::log::detect;
use rasp_core::{Log, Reason, Sanitize};

fn reason(line: &[u8], input: &[u8]) -> Option<Reason> {
    let finding = detect(line, &Finder::new(input))?;
    assert!(
        line[finding.offset..].starts_with(input),
        "the reported offset is not an occurrence of the input"
    );
    Some(finding.reason)
}

fn logged(input: &str) -> String {
    format!("2026-11-29T00:00:00Z WARN login failed for user={input} ip=10.0.0.7")
}

fn clean(input: &str) -> String {
    sanitizer_support::sanitized::<Log>(input)
}

/// The escaper as a log field streams it, without the copy `Sanitized` makes.
fn streamed(input: &str) -> String {
    let mut out = String::new();
    Log::write_escaped(input, &mut out).unwrap();
    out
}

/// `(input, reason)`: written into a log line, the input forges or hides
/// what the reader sees.
const INJECTIONS: &[(&str, Reason)] = &[
    (
        "bob\n2026-11-29T00:00:01Z INFO admin login ok",
        Reason::ForgesLogLine,
    ),
    (
        "bob\r\n2026-11-29T00:00:01Z INFO admin login ok",
        Reason::ForgesLogLine,
    ),
    (
        "bob\r2026-11-29T00:00:01Z INFO admin login ok",
        Reason::ForgesLogLine,
    ),
    ("bob\u{85}INFO admin login ok", Reason::ForgesLogLine),
    ("bob\u{2028}INFO admin login ok", Reason::ForgesLogLine),
    ("bob\u{2029}INFO admin login ok", Reason::ForgesLogLine),
    ("bob\x0bINFO admin", Reason::ForgesLogLine),
    ("bob\x0cINFO admin", Reason::ForgesLogLine),
    // Clear the screen, move the cursor up, recolour, retitle, hyperlink.
    ("bob\x1b[2J\x1b[H", Reason::TerminalEscape),
    ("bob\x1b[1A\x1b[2KINFO ok", Reason::TerminalEscape),
    ("\x1b[32mlogin ok\x1b[0m", Reason::TerminalEscape),
    ("\x1b]0;pwned\x07", Reason::TerminalEscape),
    (
        "\x1b]8;;https://evil.example\x1b\\docs\x1b]8;;\x1b\\",
        Reason::TerminalEscape,
    ),
    ("bob\u{9b}2J", Reason::TerminalEscape),
    ("bob\x08\x08\x08alice", Reason::TerminalEscape),
    ("bob\x7f", Reason::TerminalEscape),
    ("bob\x07", Reason::TerminalEscape),
    ("bob\0admin", Reason::NulByte),
];

/// Ordinary text people type: accents, scripts, emoji, tabs, quotes,
/// backslashes and escape-looking text that is not an escape.
const BENIGN: &[&str] = &[
    "Zoë Ångström",
    "Đặng Thị Ánh",
    "山田太郎",
    "محمد",
    "🎉 party 🎂",
    "name\twith\ttabs",
    "O'Brien \"the admin\"",
    "C:\\Users\\bob",
    "\\n is not a newline",
    "[31m no ESC before it",
    "Ûber › «quoted» ‹x›",
];

#[test]
fn flags_forged_lines_and_terminal_escapes() {
    for &(input, expected) in INJECTIONS {
        let line = logged(input);
        assert_eq!(
            reason(line.as_bytes(), input.as_bytes()),
            Some(expected),
            "{input:?}"
        );
    }
}

#[test]
fn lets_ordinary_text_through() {
    for &input in BENIGN {
        let line = logged(input);
        assert_eq!(reason(line.as_bytes(), input.as_bytes()), None, "{input:?}");
        // Clean text is written unchanged.
        assert_eq!(clean(input), input);
        assert_eq!(streamed(input), input);
    }
}

#[test]
fn needs_the_input_in_the_line() {
    let input = b"bob\nINFO admin login ok";
    assert_eq!(reason(logged("bob").as_bytes(), input), None);
    assert_eq!(reason(b"", input), None);
}

#[test]
fn invalid_utf8_bytes_are_judged_on_their_own() {
    // A lone 0x9b is CSI to an 8-bit terminal; inside `Û` (C3 9B) it is text.
    assert_eq!(
        reason(b"user=\x9b2Jx", b"\x9b2J"),
        Some(Reason::TerminalEscape)
    );
    assert_eq!(
        reason(b"user=\x85INFO", b"\x85INFO"),
        Some(Reason::ForgesLogLine)
    );
    assert_eq!(reason("user=Ûx".as_bytes(), "Ûx".as_bytes()), None);
    assert_eq!(reason(b"user=\xff\xfe\xfd", b"\xff\xfe\xfd"), None);
}

#[test]
fn sanitizer_keeps_one_input_on_one_line() {
    assert_eq!(
        clean("bob\n2026 INFO admin\r\x1b[2J\u{2028}\u{9b}\0"),
        "bob\\n2026 INFO admin\\r\\u{1b}[2J\\u{2028}\\u{9b}\\u{0}"
    );
    assert_eq!(streamed("a\nb\u{85}"), "a\\nb\\u{85}");
}

#[test]
fn survives_hostile_sizes() {
    let huge = "\x1b".repeat(1 << 20);
    let line = logged(&huge);
    assert_eq!(
        reason(line.as_bytes(), huge.as_bytes()),
        Some(Reason::TerminalEscape)
    );
    let text = "a".repeat(1 << 20);
    assert_eq!(reason(text.as_bytes(), b"aa"), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any input that carries a line feed and is spliced into a log line
    /// is flagged, wherever the feed sits.
    #[test]
    fn any_spliced_line_feed_is_flagged(
        before in "\\PC{0,20}",
        after in "\\PC{0,20}",
        prefix in "[ -~]{0,30}",
    ) {
        let input = format!("{before}\n{after}");
        let line = format!("{prefix}{input} trailing");
        prop_assert!(detect(line.as_bytes(), &Finder::new(input.as_bytes())).is_some());
    }

    /// The sanitizer's output is never flagged, in any line, and is one line.
    #[test]
    fn sanitized_input_is_never_flagged(input in any::<String>(), prefix in "\\PC{0,20}") {
        let escaped = clean(&input);
        prop_assert_eq!(&escaped, &streamed(&input));
        let breaks = ['\n', '\r', '\u{1b}', '\u{2028}', '\u{2029}', '\u{85}'];
        prop_assert!(!escaped.contains(breaks));
        let line = format!("{prefix}{escaped}");
        prop_assert_eq!(detect(line.as_bytes(), &Finder::new(escaped.as_bytes())), None);
    }

    /// Arbitrary bytes never panic, and a finding is a real occurrence.
    #[test]
    fn arbitrary_bytes_never_panic(
        line in proptest::collection::vec(any::<u8>(), 0..200),
        input in proptest::collection::vec(any::<u8>(), 0..20),
    ) {
        if let Some(finding) = detect(&line, &Finder::new(&input)) {
            prop_assert!(line[finding.offset..].starts_with(&input));
        }
    }
}
