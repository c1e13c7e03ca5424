//! Fuzzes the header injection detector with arbitrary bytes.
//!
//! The data is split into an input and a header value (cut at the first
//! `0xFF` byte, or in half when there is none). Both rules must not panic,
//! must report an offset where the input really occurs, and must flag
//! exactly the inputs that occur and carry a byte the rule forbids; the
//! header sanitizer's output must never be flagged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memchr::memmem::Finder;
use rasp_core::Header;
use rasp_detect::header::{detect, detect_cookie};

#[path = "../support/sanitized.rs"]
mod support;
use support::sanitized;

fn forbidden(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

fuzz_target!(|data: &[u8]| {
    let (input, value) = match memchr::memchr(0xFF, data) {
        Some(cut) => (&data[..cut], &data[cut + 1..]),
        None => data.split_at(data.len() / 2),
    };

    let finder = Finder::new(input);
    let occurs = !input.is_empty() && finder.find(value).is_some();
    // An input that occurs and brings a control (or, in a cookie, a `;`
    // or `,`) is always flagged. One without any byte that can end a
    // quoted-string or add a parameter (`;`, `,`, `"`, `\`) never is;
    // between the two, the parameter rules decide from the value's
    // structure, and only the offset is checked.
    let delimits = input
        .iter()
        .any(|&b| matches!(b, b';' | b',' | b'"' | b'\\'));
    for (finding, flags) in [
        (detect(value, &finder), input.iter().any(|&b| forbidden(b))),
        (
            detect_cookie(value, &finder),
            input
                .iter()
                .any(|&b| forbidden(b) || b == b';' || b == b','),
        ),
    ] {
        if occurs && flags {
            assert!(finding.is_some(), "missed a control or cookie delimiter");
        }
        if !occurs || (!flags && !delimits) {
            assert!(finding.is_none(), "flagged an input that adds nothing");
        }
        if let Some(finding) = finding {
            assert!(value[finding.offset..].starts_with(input));
        }
    }

    if let Ok(text) = std::str::from_utf8(input) {
        let clean = sanitized::<Header>(text);
        assert_eq!(
            detect(clean.as_bytes(), &Finder::new(clean.as_bytes())),
            None
        );
    }
});
