//! HTTP header injection detector.
//!
//! An application writes an untrusted input into a response header value
//! (`Content-Disposition: attachment; filename="{input}"`,
//! `Set-Cookie: lang={input}`, a `Location`). HTTP/1.1 ends a header at a
//! line break, so an input that brings one writes headers of its own —
//! `Set-Cookie: admin=1` — or, after an empty line, a whole body of its
//! choosing (response splitting). The input is an injection when it brings
//! into the value
//!
//! - a CR or LF: most parsers accept a bare LF, and some a bare CR, as a
//!   line end — [`Reason::SplitsHeader`];
//! - a NUL byte, which C parsers and proxies take as the end of the value —
//!   [`Reason::NulByte`];
//! - any other C0 control or DEL, which no header value may contain and
//!   which intermediaries handle inconsistently — [`Reason::ControlCharacter`].
//!   A horizontal tab is ordinary whitespace in a header value and passes.
//!
//! The value is judged as it goes on the wire. An input that arrived as
//! `%0d%0a` and was decoded by the application's request parsing is
//! recorded, and found, as CR LF. One that stays percent-encoded in the
//! value (`%0d%0a` as six visible bytes) passes: HTTP framing does not
//! decode percent escapes, so those bytes cannot end the header; a client
//! that follows such a `Location` sends them back, still encoded, in a
//! request line.
//!
//! A `Set-Cookie` value has one more delimiter: `;` starts a cookie
//! attribute, so an input that brings `;` can add `Domain=`, `Path=`,
//! `Max-Age=`, `Expires=`, `HttpOnly` or `SameSite=None` to the
//! application's cookie, and one that brings `,` can start another cookie
//! where a `Set-Cookie` list is folded into one line —
//! [`Reason::CookieAttribute`], reported by [`detect_cookie`]. A header
//! value does not say which header it belongs to, so the dispatch for
//! [`SinkClass::Header`](crate::SinkClass::Header) runs [`detect`], and
//! integrations that build `Set-Cookie` values run [`detect_cookie`]
//! themselves.
//!
//! Each finding depends only on the bytes of the input: an input that
//! carries one of these bytes and occurs in the value brings it there. The
//! cost of a benign input is one scan of the input and no search at all.

use crate::Needle;
#[cfg(test)]
use memchr::memmem::Finder;
use memchr::{memchr, memchr2};

use crate::Reason;

/// A finding of the header detector: the occurrence offset and why it is
/// an injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderFinding {
    /// Byte offset of the first occurrence of the input in the value.
    pub offset: usize,
    /// What the input brings into the value.
    pub reason: Reason,
}

/// Whether the input searched by `finder` brings a line break or another
/// control byte into the header value `value`.
///
/// `finder.needle()` is the recorded input (any bytes). Returns the first
/// occurrence of an input that carries CR, LF, NUL, DEL or a C0 control
/// other than tab (see the [module docs](self)), or `None`.
#[inline]
pub fn detect(value: &[u8], finder: &dyn Needle) -> Option<HeaderFinding> {
    let reason = control_reason(finder.needle())?;
    occurrence(value, finder, reason)
}

/// Like [`detect`], for a `Set-Cookie` value: an input that carries `;` or
/// `,` adds a cookie attribute or another cookie.
#[inline]
pub fn detect_cookie(value: &[u8], finder: &dyn Needle) -> Option<HeaderFinding> {
    let input = finder.needle();
    let reason = control_reason(input)
        .or_else(|| memchr2(b';', b',', input).map(|_| Reason::CookieAttribute))?;
    occurrence(value, finder, reason)
}

/// The finding for the first occurrence of the input, if it occurs.
#[inline]
fn occurrence(value: &[u8], finder: &dyn Needle, reason: Reason) -> Option<HeaderFinding> {
    let offset = crate::first_occurrence(value, finder)?;
    Some(HeaderFinding { offset, reason })
}

/// What the control bytes of `input` would do to a header value, the
/// gravest first.
#[inline]
fn control_reason(input: &[u8]) -> Option<Reason> {
    if memchr2(b'\r', b'\n', input).is_some() {
        return Some(Reason::SplitsHeader);
    }
    if !input.iter().any(|&b| is_forbidden(b)) {
        return None;
    }
    Some(if memchr(0, input).is_some() {
        Reason::NulByte
    } else {
        Reason::ControlCharacter
    })
}

/// Bytes no header value may carry: C0 controls except tab, and DEL.
#[inline]
const fn is_forbidden(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(value: &str, input: &str) -> Option<Reason> {
        detect(value.as_bytes(), &Finder::new(input.as_bytes())).map(|f| f.reason)
    }

    #[test]
    fn ranks_control_bytes() {
        assert_eq!(control_reason(b"a\0b\nc"), Some(Reason::SplitsHeader));
        assert_eq!(control_reason(b"a\0b"), Some(Reason::NulByte));
        assert_eq!(control_reason(b"a\x1bb"), Some(Reason::ControlCharacter));
        assert_eq!(control_reason(b"a\x7f"), Some(Reason::ControlCharacter));
        assert_eq!(control_reason(b"a\tb \xff"), None);
    }

    #[test]
    fn needs_the_input_in_the_value() {
        assert_eq!(reason("text/plain", "x\r\ny"), None);
        assert_eq!(reason("x\r\ny", "x\r\ny"), Some(Reason::SplitsHeader));
    }
}
