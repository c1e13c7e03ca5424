//! The text a sanitizer makes, for tests that check it against its
//! detector or a real parser.
//!
//! `Sanitized` has no public way back to plain text (no `as_str`, no
//! `into_inner`, no `Display` but for HTML): the text is read here the way
//! a sink reads its trusted parameter, through `SinkText`.

use rasp_core::{Sanitize, Sanitized, SinkText};

/// `input` sanitized for `C`, as plain text.
pub(crate) fn sanitized<C: Sanitize>(input: &str) -> String {
    let value = Sanitized::<String, C>::from_tainted(input);
    let bytes = value
        .sink_text()
        .expect("a sanitized value always has text");
    String::from_utf8(bytes.to_vec()).expect("sanitizers write UTF-8")
}
