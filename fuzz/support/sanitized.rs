//! The text a sanitizer makes, for targets that check it against its
//! detector. `Sanitized` has no public way back to plain text; the text is
//! read the way a sink reads its trusted parameter, through `SinkText`.

use rasp_core::{Sanitize, Sanitized, SinkText};

/// `input` sanitized for `C`, as plain text.
pub fn sanitized<C: Sanitize>(input: &str) -> String {
    let value = Sanitized::<String, C>::from_tainted(input);
    let bytes = value
        .sink_text()
        .expect("a sanitized value always has text");
    String::from_utf8(bytes.to_vec()).expect("sanitizers write UTF-8")
}
