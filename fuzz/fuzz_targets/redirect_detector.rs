//! Fuzzes the open-redirect detector with arbitrary bytes.
//!
//! The data is split into an input and a `Location` value (cut at the first
//! `0xFF` byte, or in half when there is none). The detector must not
//! panic, must be deterministic and must report an offset where the input
//! really occurs; in a value it reads as same-site the only findings are
//! the input's own line breaks and control characters, and the redirect
//! sanitizer's output must always read as same-site.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memchr::memmem::Finder;
use rasp_core::{Reason, Redirect};
use rasp_detect::redirect::{Destination, destination, detect};

#[path = "../support/sanitized.rs"]
mod support;
use support::sanitized;

fuzz_target!(|data: &[u8]| {
    let (input, location) = match memchr::memchr(0xFF, data) {
        Some(cut) => (&data[..cut], &data[cut + 1..]),
        None => data.split_at(data.len() / 2),
    };

    let finder = Finder::new(input);
    let first = detect(location, &finder);
    assert_eq!(
        first,
        detect(location, &finder),
        "detect is not deterministic"
    );
    if let Some(finding) = first {
        assert!(
            location[finding.offset..].starts_with(input),
            "the reported offset is not an occurrence of the input"
        );
        // A same-site target still cannot carry a line break or a control
        // character into the header; nothing else is found there.
        if destination(location) == Destination::SameSite {
            let control = input.iter().any(|&b| b.is_ascii_control() && b != b'\t');
            assert!(
                control
                    && matches!(
                        finding.reason,
                        Reason::SplitsHeader | Reason::ControlCharacter
                    ),
                "a finding in a same-site value: {finding:?}"
            );
        }
    }

    if let Ok(text) = std::str::from_utf8(input) {
        let path = sanitized::<Redirect>(text);
        assert_eq!(
            destination(path.as_bytes()),
            Destination::SameSite,
            "{path:?}"
        );
        assert_eq!(detect(path.as_bytes(), &Finder::new(path.as_bytes())), None);
    }
});
