//! The header injection detector on realistic header values: line breaks
//! and control bytes it must flag, cookie attributes it must flag in
//! `Set-Cookie` values, look-alikes it must let through, the header
//! sanitizer, and hostile bytes it must survive.

mod sanitizer_support;

use memchr::memmem::Finder;
use proptest::prelude::*;
use rasp_core::detect::header::{detect, detect_cookie};
use rasp_core::{Header, Reason};

type Detector =
    fn(&[u8], &dyn rasp_core::detect::Needle) -> Option<rasp_core::detect::header::HeaderFinding>;

fn reason_with(detector: Detector, value: &[u8], input: &[u8]) -> Option<Reason> {
    let finding = detector(value, &Finder::new(input))?;
    assert!(
        value[finding.offset..].starts_with(input),
        "the reported offset is not an occurrence of the input"
    );
    Some(finding.reason)
}

fn reason(value: &str, input: &str) -> Option<Reason> {
    reason_with(detect, value.as_bytes(), input.as_bytes())
}

fn cookie_reason(value: &str, input: &str) -> Option<Reason> {
    reason_with(detect_cookie, value.as_bytes(), input.as_bytes())
}

/// `(header value, input, reason)`: the input breaks out of its value.
const INJECTIONS: &[(&str, &str, Reason)] = &[
    (
        "attachment; filename=\"a\r\nSet-Cookie: admin=1\"",
        "a\r\nSet-Cookie: admin=1",
        Reason::SplitsHeader,
    ),
    (
        "en\r\n\r\n<script>alert(1)</script>",
        "en\r\n\r\n<script>alert(1)</script>",
        Reason::SplitsHeader,
    ),
    (
        "x\nSet-Cookie: admin=1",
        "x\nSet-Cookie: admin=1",
        Reason::SplitsHeader,
    ),
    (
        "x\rSet-Cookie: admin=1",
        "x\rSet-Cookie: admin=1",
        Reason::SplitsHeader,
    ),
    (
        "/next\n X-Folded: 1",
        "\n X-Folded: 1",
        Reason::SplitsHeader,
    ),
    ("report\0.pdf", "report\0.pdf", Reason::NulByte),
    ("a\x0bb", "a\x0bb", Reason::ControlCharacter),
    ("a\x1b[31mb", "\x1b[31m", Reason::ControlCharacter),
    ("a\x7fb", "a\x7fb", Reason::ControlCharacter),
];

/// `(header value, input)`: look-alikes a header value may carry.
const BENIGN: &[(&str, &str)] = &[
    ("attachment; filename=\"q3 report.pdf\"", "q3 report.pdf"),
    ("col1\tcol2", "col1\tcol2"),
    (
        "/search?q=%0d%0aSet-Cookie:%20admin=1",
        "%0d%0aSet-Cookie:%20admin=1",
    ),
    ("text/html; charset=utf-8", "utf-8"),
    ("caf\u{e9} \u{2028} \u{560a}", "caf\u{e9} \u{2028} \u{560a}"),
    ("a; b", "; b"),
    ("x", "\r\n"),
];

#[test]
fn flags_line_breaks_and_controls() {
    for (value, input, expected) in INJECTIONS {
        assert_eq!(
            reason(value, input),
            Some(*expected),
            "{value:?} / {input:?}"
        );
        assert_eq!(
            cookie_reason(value, input),
            Some(*expected),
            "{value:?} / {input:?}"
        );
    }
}

#[test]
fn lets_look_alikes_through() {
    for (value, input) in BENIGN {
        assert_eq!(reason(value, input), None, "{value:?} / {input:?}");
    }
}

#[test]
fn flags_parameters_an_input_adds_to_a_structured_value() {
    // `c=` after the input's own `,` is a parameter of the input's.
    assert_eq!(reason("a; b, c=d", "; b, c"), Some(Reason::SpansTokens));
    assert_eq!(
        reason(
            "attachment; filename=a.txt; filename=evil.sh",
            "a.txt; filename=evil.sh"
        ),
        Some(Reason::SpansTokens)
    );
}

#[test]
fn flags_cookie_attributes() {
    for (value, input) in [
        (
            "session=x; Domain=evil.example; Path=/; HttpOnly",
            "x; Domain=evil.example",
        ),
        ("lang=en; Path=/admin; Path=/", "en; Path=/admin"),
        ("lang=en;Max-Age=99999999; Path=/", "en;Max-Age=99999999"),
        (
            "theme=dark; SameSite=None; Secure; Path=/",
            "dark; SameSite=None; Secure",
        ),
        ("lang=en, admin=1; Path=/", "en, admin=1"),
    ] {
        assert_eq!(
            cookie_reason(value, input),
            Some(Reason::CookieAttribute),
            "{value:?}"
        );
        // As a plain header value, the same input still adds parameters
        // to a value built with parameters.
        assert!(reason(value, input).is_some(), "{value:?}");
    }
}

#[test]
fn lets_cookie_values_through() {
    for (value, input) in [
        ("token=YWJj==; Path=/; HttpOnly", "YWJj=="),
        ("pref=a=b=c; Path=/", "a=b=c"),
        ("name=%3B%20Domain%3Devil; Path=/", "%3B%20Domain%3Devil"),
        ("q=\"quoted value\"; Path=/", "\"quoted value\""),
        ("session=x; Domain=evil.example", "nowhere"),
    ] {
        assert_eq!(cookie_reason(value, input), None, "{value:?}");
    }
}

#[test]
fn sanitizer_output_is_never_detected() {
    let input = "a\r\nSet-Cookie: admin=1\0\x1b";
    let clean = sanitizer_support::sanitized::<Header>(input);
    assert_eq!(reason(&clean, &clean), None);
    assert_eq!(reason(&clean, input), None);
}

proptest! {
    #[test]
    fn any_line_break_spliced_into_a_value_is_found(
        before in "[ -~]{0,20}",
        after in "[ -~]{0,20}",
        brk in prop_oneof![Just("\r\n"), Just("\n"), Just("\r")],
        prefix in "[ -~]{0,40}",
        suffix in "[ -~]{0,40}",
    ) {
        let input = format!("{before}{brk}{after}");
        let value = format!("{prefix}{input}{suffix}");
        prop_assert_eq!(reason(&value, &input), Some(Reason::SplitsHeader));
        prop_assert_eq!(cookie_reason(&value, &input), Some(Reason::SplitsHeader));
    }

    /// Printable text that cannot end a quoted-string or start a
    /// parameter (no `;`, `,`, `"` or `\`) is never flagged, wherever it
    /// lands: the parameter rules read only those bytes.
    #[test]
    fn printable_inputs_never_split(
        input in "[ !#-+\\--:<-\\[\\]-~\t\u{80}-\u{10ffff}]{2,40}",
        prefix in "[ -~]{0,40}",
    ) {
        let value = format!("{prefix}{input}");
        prop_assert_eq!(reason(&value, &input), None);
    }

    #[test]
    fn header_sanitized_inputs_are_never_found(input in any::<String>()) {
        let clean = sanitizer_support::sanitized::<Header>(input.as_str());
        let value = format!("attachment; filename=\"{clean}\"");
        prop_assert_eq!(reason(&value, &clean), None);
        prop_assert_eq!(reason(&value, &input), None);
    }

    #[test]
    fn hostile_bytes_never_panic(
        value in proptest::collection::vec(any::<u8>(), 0..256),
        input in proptest::collection::vec(any::<u8>(), 0..32),
    ) {
        let _ = reason_with(detect, &value, &input);
        let _ = reason_with(detect_cookie, &value, &input);
    }
}
