//! Fuzzes the SQL detector with arbitrary bytes.
//!
//! The data is split into a dialect (first byte), an input and a SQL text
//! (the rest, cut at the first `0xFF` byte, or in half when there is none).
//! The detector must not panic, must be deterministic and must report an
//! offset where the input really occurs; the lexer must cover the text with
//! contiguous tokens, and skipping ahead must agree with lexing every token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memchr::memmem::Finder;
use rasp_core::Dialect;
use rasp_detect::sql::{detect, lexer::Lexer};

const DIALECTS: [Dialect; 4] = [
    Dialect::Generic,
    Dialect::Sqlite,
    Dialect::Postgres,
    Dialect::MySql,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let dialect = DIALECTS[usize::from(selector) % DIALECTS.len()];
    let (input, sql) = match memchr::memchr(0xFF, rest) {
        Some(cut) => (&rest[..cut], &rest[cut + 1..]),
        None => rest.split_at(rest.len() / 2),
    };

    let finder = Finder::new(input);
    let first = detect(dialect, sql, &finder);
    assert_eq!(
        first,
        detect(dialect, sql, &finder),
        "detect is not deterministic"
    );
    if let Some(finding) = first {
        assert!(
            sql[finding.offset..].starts_with(input),
            "the reported offset is not an occurrence of the input"
        );
    }

    let mut at = 0;
    let mut full = Lexer::new(dialect, sql);
    let mut holding_middle = None;
    for token in full.by_ref() {
        assert_eq!(token.start, at, "tokens leave a gap or overlap");
        assert!(token.end > token.start && token.end <= sql.len());
        assert!(token.start + token.open <= token.end - token.close);
        if (token.start..token.end).contains(&(sql.len() / 2)) {
            holding_middle = Some(token);
        }
        at = token.end;
    }
    assert_eq!(at, sql.len(), "tokens do not cover the text");

    // Skipping ahead cuts the same token and ends in the same state.
    let mut skipping = Lexer::new(dialect, sql);
    assert_eq!(skipping.advance_to(sql.len() / 2), holding_middle);
    let open = !skipping.clone().finish();
    skipping.by_ref().for_each(drop);
    assert_eq!(skipping.diverged(), full.diverged());
    assert_eq!(open, !full.clone().finish());
});
