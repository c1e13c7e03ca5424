//! Fuzzes the SSRF detector with arbitrary bytes.
//!
//! The data is split into an input and a URL (cut at the first `0xFF`
//! byte, or in half when there is none). The detector must not panic, must
//! be deterministic and must report an offset where the input really
//! occurs; the host classifier must not panic on any text; and the URL
//! sanitizer's output, placed in the path and query of a fixed base URL
//! (public or internal), must never be found to choose the destination.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memchr::memmem::Finder;
use rasp_core::Url;
use rasp_detect::ssrf::{classify_host, detect};

#[path = "../support/sanitized.rs"]
mod support;
use support::sanitized;

fuzz_target!(|data: &[u8]| {
    let (input, url) = match memchr::memchr(0xFF, data) {
        Some(cut) => (&data[..cut], &data[cut + 1..]),
        None => data.split_at(data.len() / 2),
    };

    let finder = Finder::new(input);
    let first = detect(url, &finder);
    assert_eq!(first, detect(url, &finder), "detect is not deterministic");
    if let Some(finding) = first {
        assert!(
            url[finding.offset..].starts_with(input),
            "the reported offset is not an occurrence of the input"
        );
    }
    let _ = classify_host(input);
    let _ = classify_host(url);

    if let Ok(text) = std::str::from_utf8(input) {
        let encoded = sanitized::<Url>(text);
        // An input that is part of the base (`10.0.0.5`) occurs in its
        // host by coincidence; any other occurrence is in the path, query
        // or fragment, since the encoded text has no delimiter to leave it.
        let bases = ["https://api.example.org", "http://10.0.0.5:8080"];
        for base in bases.into_iter().filter(|b| !b.contains(&encoded)) {
            let url = format!("{base}/items/{encoded}?ref={encoded}#{encoded}");
            let finder = Finder::new(encoded.as_bytes());
            assert_eq!(detect(url.as_bytes(), &finder), None, "{url:?}");
        }
    }
});
