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

use crate::Needle;

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
}
