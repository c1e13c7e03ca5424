//! Fuzzes the shell injection detector with arbitrary bytes.
//!
//! The data is split into an input and a command line (cut at the first
//! `0xFF` byte, or in half when there is none). The detector must not
//! panic, must be deterministic and must report an offset where the input
//! really occurs. The shell sanitizer's output, spliced as one argument of
//! a command line, must never be flagged; one that starts with `-` is an
//! option wherever it is quoted, so it is spliced after the application's
//! own `--`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memchr::memmem::Finder;
use rasp_core::Shell;
use rasp_detect::shell::{detect, detect_option};

#[path = "../support/sanitized.rs"]
mod support;
use support::sanitized;

fuzz_target!(|data: &[u8]| {
    let (input, command) = match memchr::memchr(0xFF, data) {
        Some(cut) => (&data[..cut], &data[cut + 1..]),
        None => data.split_at(data.len() / 2),
    };

    let finder = Finder::new(input);
    let first = detect(command, &finder);
    assert_eq!(
        first,
        detect(command, &finder),
        "detect is not deterministic"
    );
    if let Some(finding) = first {
        assert!(
            command[finding.offset..].starts_with(input),
            "the reported offset is not an occurrence of the input"
        );
    }
    if let Some(finding) = detect_option(command, &finder) {
        assert_eq!(finding.offset, 0);
        assert!(command.starts_with(input) && input.first() == Some(&b'-'));
    }

    // The sanitizer's word, between words the application wrote. An input
    // that starts or ends with a quote, a backslash or a blank can line up
    // with the quotes the sanitizer wrote around it, and is judged there
    // (see the detector's docs); the invariant covers every other input.
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let edge = |b: Option<&u8>| matches!(b, Some(b'\'' | b'"' | b'\\' | b' ' | b'\t' | b'\n'));
    if input.len() < 2 || edge(input.first()) || edge(input.last()) {
        return;
    }
    // An input that also occurs in the application's own text (`wc`,
    // `tf %`) cannot be told from it there, and is judged where it stands;
    // the invariant covers lines whose only occurrences are in the word.
    let word = sanitized::<Shell>(text);
    let end_of_options = if text.starts_with('-') { "-- " } else { "" };
    let head = format!("printf {end_of_options}%s ");
    for tail in ["", " | wc -c"] {
        let line = format!("{head}{word}{tail}");
        let span = head.len()..head.len() + word.len();
        let only_in_word = memchr::memmem::find_iter(line.as_bytes(), input)
            .all(|at| span.contains(&at) && at + input.len() <= span.end);
        if !only_in_word {
            continue;
        }
        let found = detect(line.as_bytes(), &finder);
        assert_eq!(found, None, "sanitized {text:?} flagged in {line:?}");
    }
});
