//! A needle that is not searched for: the bytes an argument wrote at a
//! known place in the sink text.
//!
//! The verbatim check looks a recorded input up in the final text and
//! judges every occurrence, so the application's own text can coincide
//! with an input (a false positive), and an input transformed before it
//! was spliced is never found (a miss). When a macro built the text from a
//! literal template, it knows exactly which bytes each argument wrote:
//! [`Span`] hands the detectors that one occurrence and no other, so they
//! judge the argument's final bytes where they stand, and nothing of the
//! template.

use crate::{Needle, Reason};

/// The bytes `text[start..start + len]`, as a needle that occurs there and
/// nowhere else.
#[derive(Debug, Clone, Copy)]
pub struct Span<'t> {
    text: &'t [u8],
    start: usize,
    len: usize,
}

impl<'t> Span<'t> {
    /// The span `start..end` of `text`, or `None` when it is empty or out
    /// of bounds.
    pub fn new(text: &'t [u8], start: usize, end: usize) -> Option<Span<'t>> {
        (start < end && end <= text.len()).then_some(Span {
            text,
            start,
            len: end - start,
        })
    }
}

impl Needle for Span<'_> {
    #[inline]
    fn needle(&self) -> &[u8] {
        &self.text[self.start..self.start + self.len]
    }

    /// Where the span starts in `haystack`, which the detectors always
    /// take from the same text (`&text[from..]`, a window of it): the one
    /// occurrence, if the window holds it whole. A haystack from another
    /// buffer holds no occurrence.
    #[inline]
    fn find(&self, haystack: &[u8]) -> Option<usize> {
        let text = self.text.as_ptr() as usize;
        let at = haystack.as_ptr() as usize;
        if at < text || at + haystack.len() > text + self.text.len() {
            return None;
        }
        let from = at - text;
        let start = self.start.checked_sub(from)?;
        (start + self.len <= haystack.len()).then_some(start)
    }
}

/// Where a template puts an argument, as a span-exact macro read it at
/// build time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Place {
    /// Anywhere: the class's detector judges the span in the whole text.
    Any,
    /// Inside a `'…'` SQL literal under every dialect: a span without a
    /// quote, backslash or NUL stays there (`sql::quoted`); any other is
    /// judged by the detector.
    SqlQuoted,
    /// Inside `'…'` in a POSIX shell script: nothing is special there but
    /// the closing quote.
    ShellSingleQuoted,
    /// Inside `"…"` in a POSIX shell script: `"`, `$`, `` ` `` and `\`
    /// are special there.
    ShellDoubleQuoted,
    /// Inside a `"…"` quoted-string of a header value (`filename="…"`):
    /// a `"` or `\` ends or escapes it; the header detector judges the
    /// rest (line breaks, controls).
    HeaderQuoted,
    /// Outside quotes in a header value whose template has parameters of
    /// its own (`text/plain; charset={}`, `lang={}; Path=/`): the argument
    /// is one parameter value, so a `;` or `,` would add a parameter,
    /// cookie attribute or list element of its own, and a `"` would open a
    /// quoted-string; the header detector judges the rest.
    HeaderParam,
    /// Inside one segment of a relative path: the argument must add no
    /// separator and must not make its segment `.` or `..`.
    PathSegment,
    /// Inside one segment of a URL's path.
    UrlPath,
    /// Inside a URL's query.
    UrlQuery,
    /// Inside a URL's fragment.
    UrlFragment,
}

/// What a span's own bytes say about it in its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It stays where the template put it.
    Stays,
    /// It leaves its place, for this reason.
    Leaves(Reason),
    /// Its place needs the class's detector over the whole text.
    Detector,
}

/// Judges the span `start..end` of `text` by its place alone, where the
/// place allows it: no lexing, one pass over the span (and, for a path or
/// URL segment, over the segment around it).
pub fn judge_in_place(place: Place, text: &[u8], start: usize, end: usize) -> Verdict {
    let Some(span) = text.get(start..end) else {
        return Verdict::Detector;
    };
    match place {
        Place::Any => Verdict::Detector,
        Place::SqlQuoted if crate::sql::quoted::stays_quoted(span) => Verdict::Stays,
        Place::SqlQuoted => Verdict::Detector,
        Place::ShellSingleQuoted => quoted_word(span, b"'"),
        Place::ShellDoubleQuoted => quoted_word(span, b"\"$`\\"),
        Place::HeaderQuoted if span.iter().any(|b| matches!(b, b'"' | b'\\')) => {
            Verdict::Leaves(Reason::BreaksLiteral)
        }
        Place::HeaderQuoted => Verdict::Detector,
        Place::HeaderParam if span.iter().any(|b| matches!(b, b';' | b',' | b'"')) => {
            Verdict::Leaves(Reason::CookieAttribute)
        }
        Place::HeaderParam => Verdict::Detector,
        Place::PathSegment => segment(text, start, end, Segment::Path),
        Place::UrlPath => segment(text, start, end, Segment::Url),
        Place::UrlQuery => component(span, b"#&"),
        Place::UrlFragment => component(span, b""),
    }
}

/// A span inside a quoted shell word: none of `specials`, and no NUL
/// (which no argument of a program can hold). Anything else goes to the
/// shell detector, which judges, say, a quote the application escaped.
fn quoted_word(span: &[u8], specials: &[u8]) -> Verdict {
    if span.iter().any(|b| *b == 0 || specials.contains(b)) {
        Verdict::Detector
    } else {
        Verdict::Stays
    }
}

/// Which segment rules apply.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Segment {
    /// A file-system path: spaces are data; `..` and runs of dots and
    /// spaces (which Windows trims to `..`) leave.
    Path,
    /// A URL path: no spaces; `..` leaves, and so does `%2e%2e`, which URL
    /// parsers read as `..`.
    Url,
}

/// A span inside one segment of a path or URL path: it adds no separator,
/// NUL or control, and its segment is not a dot segment.
fn segment(text: &[u8], start: usize, end: usize, kind: Segment) -> Verdict {
    let (separators, leaves): (&[u8], Reason) = match kind {
        Segment::Path => (b"/\\", Reason::LeavesRoot),
        Segment::Url => (b"/\\?#", Reason::ControlsAuthority),
    };
    let span = &text[start..end];
    if span.contains(&0) {
        return Verdict::Leaves(Reason::NulByte);
    }
    let breaks = |b: u8| {
        separators.contains(&b) || b.is_ascii_control() || (kind == Segment::Url && b == b' ')
    };
    if span.iter().any(|&b| breaks(b)) {
        return Verdict::Leaves(leaves);
    }
    let from = text[..start]
        .iter()
        .rposition(|b| separators.contains(b))
        .map_or(0, |at| at + 1);
    let to = text[end..]
        .iter()
        .position(|b| separators.contains(b))
        .map_or(text.len(), |at| end + at);
    let dot_segment = match kind {
        Segment::Path => only_dots(&text[from..to], b" "),
        Segment::Url => only_dots(&decode_dots(&text[from..to]), b""),
    };
    if dot_segment {
        Verdict::Leaves(leaves)
    } else {
        Verdict::Stays
    }
}

/// A non-empty segment of dots and `also` bytes only.
fn only_dots(segment: &[u8], also: &[u8]) -> bool {
    !segment.is_empty() && segment.iter().all(|b| *b == b'.' || also.contains(b))
}

/// `segment` with `%2e` read as `.`, as URL parsers read dot segments; a
/// segment longer than `..` spelled that way is never a dot segment, so
/// only the first few bytes matter.
fn decode_dots(segment: &[u8]) -> [u8; 2] {
    let mut out = [b'x'; 2];
    let mut len = 0;
    let mut i = 0;
    while i < segment.len() {
        if len == 2 {
            return [b'x'; 2];
        }
        if segment[i] == b'.' {
            out[len] = b'.';
            i += 1;
        } else if segment
            .get(i..i + 3)
            .is_some_and(|e| e.eq_ignore_ascii_case(b"%2e"))
        {
            out[len] = b'.';
            i += 3;
        } else {
            return [b'x'; 2];
        }
        len += 1;
    }
    if len == 1 { [b'.', b'.'] } else { out }
}

/// A span inside a URL component that ends at any of `ends`: no end, no
/// control, no space (a browser or client would cut or re-encode there).
fn component(span: &[u8], ends: &[u8]) -> Verdict {
    if span
        .iter()
        .any(|b| ends.contains(b) || b.is_ascii_control() || *b == b' ' || *b == b'\\')
    {
        Verdict::Leaves(Reason::ControlsAuthority)
    } else {
        Verdict::Stays
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occurs_once_at_its_place() {
        let text = b"SELECT 'ab' || 'ab'";
        let span = Span::new(text, 16, 18).unwrap();
        assert_eq!(span.needle(), b"ab");
        assert_eq!(span.find(text), Some(16), "the second `ab`, not the first");
        assert_eq!(span.find(&text[10..]), Some(6));
        assert_eq!(span.find(&text[17..]), None, "starts before the window");
        assert_eq!(span.find(&text[..17]), None, "ends past the window");
        let other = b"SELECT 'ab' || 'ab'".to_vec();
        assert_eq!(span.find(&other), None, "another buffer");
    }

    #[test]
    fn empty_or_outside_spans_are_none() {
        assert!(Span::new(b"abc", 1, 1).is_none());
        assert!(Span::new(b"abc", 2, 4).is_none());
    }

    #[test]
    fn the_sql_detector_judges_the_span_and_not_the_template() {
        use crate::sql::{Dialect, detect};
        // The input `ab'` coincides with nothing; the template's own
        // `OR 1=1` is not the argument's.
        let text = b"SELECT * FROM t WHERE a = 'x' OR 1=1 AND b = 'ab'";
        let arg = Span::new(text, 46, 48).unwrap();
        assert_eq!(detect(Dialect::Generic, text, &arg), None);
        // The argument wrote `x' OR '1'='1`: judged where it stands.
        let text = b"SELECT * FROM t WHERE a = 'x' OR '1'='1'";
        let arg = Span::new(text, 27, 39).unwrap();
        assert!(detect(Dialect::Generic, text, &arg).is_some());
    }

    #[test]
    fn a_quoted_shell_word_stays_without_its_specials() {
        let text = b"echo 'ann; ls' \"$HOME\"";
        assert_eq!(
            judge_in_place(Place::ShellSingleQuoted, text, 6, 13),
            Verdict::Stays
        );
        let text = b"echo 'it's'";
        assert_eq!(
            judge_in_place(Place::ShellSingleQuoted, text, 6, 10),
            Verdict::Detector
        );
        let text = b"echo \"a $(id)\"";
        assert_eq!(
            judge_in_place(Place::ShellDoubleQuoted, text, 6, 13),
            Verdict::Detector
        );
        let text = b"echo \"a; ls | wc\"";
        assert_eq!(
            judge_in_place(Place::ShellDoubleQuoted, text, 6, 16),
            Verdict::Stays
        );
    }

    #[test]
    fn a_header_quoted_string_holds_no_quote() {
        let text = br#"attachment; filename="a"; x=".pdf""#;
        assert_eq!(
            judge_in_place(Place::HeaderQuoted, text, 22, 30),
            Verdict::Leaves(Reason::BreaksLiteral)
        );
        let text = br#"attachment; filename="q3 report.pdf""#;
        assert_eq!(
            judge_in_place(Place::HeaderQuoted, text, 22, 35),
            Verdict::Detector
        );
    }

    #[test]
    fn a_header_parameter_value_adds_no_parameter() {
        let text = b"lang=en; Domain=shop.example; Path=/; HttpOnly";
        assert_eq!(
            judge_in_place(Place::HeaderParam, text, 5, 28),
            Verdict::Leaves(Reason::CookieAttribute)
        );
        let text = b"lang=en, x=1; Path=/";
        assert_eq!(
            judge_in_place(Place::HeaderParam, text, 5, 12),
            Verdict::Leaves(Reason::CookieAttribute)
        );
        let text = b"lang=pt-BR; Path=/";
        assert_eq!(
            judge_in_place(Place::HeaderParam, text, 5, 10),
            Verdict::Detector
        );
    }

    #[test]
    fn a_path_argument_stays_one_segment() {
        let judge = |text: &str, start: usize, end: usize| {
            judge_in_place(Place::PathSegment, text.as_bytes(), start, end)
        };
        assert_eq!(judge("users/42/avatar.png", 6, 8), Verdict::Stays);
        assert_eq!(judge("users/q3 report/a.png", 6, 15), Verdict::Stays);
        assert_eq!(
            judge("users/../avatar.png", 6, 8),
            Verdict::Leaves(Reason::LeavesRoot)
        );
        assert_eq!(
            judge("users/a/b/avatar.png", 6, 9),
            Verdict::Leaves(Reason::LeavesRoot)
        );
        assert_eq!(
            judge("users/a\\b/x", 6, 9),
            Verdict::Leaves(Reason::LeavesRoot)
        );
        assert_eq!(
            judge("users/a\0b/x", 6, 9),
            Verdict::Leaves(Reason::NulByte)
        );
        // The template's own dot makes the segment `..` with the argument's.
        assert_eq!(
            judge("users/../x", 6, 7),
            Verdict::Leaves(Reason::LeavesRoot)
        );
        assert_eq!(judge("users/v1..v2/x", 6, 12), Verdict::Stays);
    }

    #[test]
    fn a_url_argument_stays_in_its_component() {
        let url = "https://api.example.com/users/42/avatar?size=64#top";
        let judge = |place, start, end| judge_in_place(place, url.as_bytes(), start, end);
        assert_eq!(judge(Place::UrlPath, 30, 32), Verdict::Stays);
        assert_eq!(judge(Place::UrlQuery, 45, 47), Verdict::Stays);
        assert_eq!(judge(Place::UrlFragment, 48, 51), Verdict::Stays);
        let evil = "https://api.example.com/users/@evil.example/x?a=1&admin=1#top";
        let judge = |place, start, end| judge_in_place(place, evil.as_bytes(), start, end);
        assert_eq!(
            judge(Place::UrlPath, 30, 43),
            Verdict::Stays,
            "an @ in a path is data"
        );
        assert_eq!(
            judge(Place::UrlQuery, 48, 57),
            Verdict::Leaves(Reason::ControlsAuthority),
            "a second parameter"
        );
        for traversal in [
            "https://api.example.com/users/../admin",
            "https://api.example.com/users/%2e%2e/admin",
            "https://api.example.com/users/.%2E/admin",
        ] {
            let end = traversal.rfind("/admin").unwrap();
            assert_eq!(
                judge_in_place(Place::UrlPath, traversal.as_bytes(), 30, end),
                Verdict::Leaves(Reason::ControlsAuthority),
                "{traversal}"
            );
        }
        let fine = "https://api.example.com/users/%2e%2ex/admin";
        assert_eq!(
            judge_in_place(Place::UrlPath, fine.as_bytes(), 30, 37),
            Verdict::Stays
        );
    }
}
