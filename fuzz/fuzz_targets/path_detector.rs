//! Fuzzes the path traversal detector with arbitrary bytes.
//!
//! The data is split into an input and a path (cut at the first `0xFF`
//! byte, or in half when there is none). The detector must not panic, must
//! be deterministic and must report an offset where the input really
//! occurs. The path sanitizer's output, joined under a root, must never be
//! flagged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memchr::memmem::Finder;
use rasp_core::Path;
use rasp_detect::path::detect;

#[path = "../support/sanitized.rs"]
mod support;
use support::sanitized;

fuzz_target!(|data: &[u8]| {
    let (input, path) = match memchr::memchr(0xFF, data) {
        Some(cut) => (&data[..cut], &data[cut + 1..]),
        None => data.split_at(data.len() / 2),
    };

    let finder = Finder::new(input);
    let first = detect(path, &finder);
    assert_eq!(first, detect(path, &finder), "detect is not deterministic");
    if let Some(finding) = first {
        assert!(
            path[finding.offset..].starts_with(input),
            "the reported offset is not an occurrence of the input"
        );
    }

    // Inputs as short as one byte are not checked at run time, and an
    // input that occurs in the base directory's own text cannot be told
    // from it; the invariant covers every other input.
    const BASE: &str = "/srv/files/";
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    if input.len() < 2 || finder.find(BASE.as_bytes()).is_some() {
        return;
    }
    let segment = sanitized::<Path>(text);
    for joined in [
        format!("{BASE}{segment}"),
        format!("{BASE}{segment}/index.html"),
    ] {
        let found = detect(joined.as_bytes(), &finder);
        assert_eq!(found, None, "sanitized {text:?} flagged in {joined:?}");
    }
});
