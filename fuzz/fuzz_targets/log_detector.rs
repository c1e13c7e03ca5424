//! Fuzzes the log injection detector with arbitrary bytes.
//!
//! The data is split into an input and a log line (cut at the first
//! `0xFF` byte, or in half when there is none). The detector must not
//! panic, must report an offset where the input really occurs, must flag
//! exactly the inputs that occur and carry a line break or a control; the
//! log sanitizer's output must never be flagged and must agree with the
//! escaped view.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memchr::memmem::Finder;
use rasp_core::{Log, Sanitize};
use rasp_detect::log::{detect, input_reason};

#[path = "../support/sanitized.rs"]
mod support;
use support::sanitized;

fuzz_target!(|data: &[u8]| {
    let (input, line) = match memchr::memchr(0xFF, data) {
        Some(cut) => (&data[..cut], &data[cut + 1..]),
        None => data.split_at(data.len() / 2),
    };

    let finder = Finder::new(input);
    let occurs = !input.is_empty() && finder.find(line).is_some();
    let finding = detect(line, &finder);
    // An input that occurs and brings a line break or control is always
    // flagged. One without one, and without any byte that can close a
    // string of the line or add a field (`"`, `\`, `=`, a blank), never
    // is; between the two, the JSON and logfmt rules decide from the
    // line's structure, and only the offset is checked.
    let fields = input
        .iter()
        .any(|&b| matches!(b, b'"' | b'\\' | b'=' | b' '));
    if occurs && input_reason(input).is_some() {
        assert!(finding.is_some(), "missed a line break or control");
    }
    if !occurs || (input_reason(input).is_none() && !fields) {
        assert!(finding.is_none(), "flagged an input that adds nothing");
    }
    if let Some(finding) = finding {
        assert!(line[finding.offset..].starts_with(input));
    }

    if let Ok(text) = std::str::from_utf8(input) {
        let clean = sanitized::<Log>(text);
        let mut streamed = String::new();
        Log::write_escaped(text, &mut streamed).unwrap();
        assert_eq!(clean, streamed);
        assert_eq!(input_reason(clean.as_bytes()), None);
        assert_eq!(
            detect(clean.as_bytes(), &Finder::new(clean.as_bytes())),
            None
        );
    }
});
