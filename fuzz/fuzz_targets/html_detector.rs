//! Fuzzes the HTML injection detector with arbitrary bytes.
//!
//! The data is split into an input and an HTML text (cut at the first
//! `0xFF` byte, or in half when there is none), and the input is also
//! spliced into the text content and a quoted attribute of a page. The
//! detector must not panic and must report an offset where the input
//! really occurs; the HTML sanitizer's output, placed once in text or a
//! quoted attribute, must never be flagged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memchr::memmem::Finder;
use rasp_core::Html;
use rasp_detect::html::detect;

#[path = "../support/sanitized.rs"]
mod support;
use support::sanitized;

const PAGES: [(&str, &str); 2] = [
    ("<div class=\"c\"><p>", "</p></div>"),
    ("<a title=\"", "\" href=\"/x\">x</a>"),
];

fuzz_target!(|data: &[u8]| {
    let (input, html) = match memchr::memchr(0xFF, data) {
        Some(cut) => (&data[..cut], &data[cut + 1..]),
        None => data.split_at(data.len() / 2),
    };

    let finder = Finder::new(input);
    if let Some(finding) = detect(html, &finder) {
        assert!(html[finding.offset..].starts_with(input));
    }
    for (before, after) in PAGES {
        let page = [before.as_bytes(), input, after.as_bytes()].concat();
        if let Some(finding) = detect(&page, &finder) {
            assert!(page[finding.offset..].starts_with(input));
        }
    }

    if let Ok(text) = std::str::from_utf8(input) {
        let clean = sanitized::<Html>(text);
        for (before, after) in PAGES {
            let page = format!("{before}{clean}{after}");
            if clean.len() >= 2 && page.matches(clean.as_str()).count() == 1 {
                assert_eq!(
                    detect(page.as_bytes(), &Finder::new(clean.as_bytes())),
                    None,
                    "{page:?}"
                );
            }
        }
    }
});
