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
    let input = finder.needle();
    if let Some(reason) = control_reason(input) {
        return occurrence(value, finder, reason);
    }
    if memchr2(b';', b',', input).is_some() {
        return added_parameter(value, finder);
    }
    None
}

/// The first occurrence of the input that writes the `;` or `,` of a
/// parameter of its own into a structured value: a delimiter outside any
/// quoted-string (the input may have closed the application's quotes)
/// followed by `name=` or a cookie flag (`Secure`, `HttpOnly`,
/// `Partitioned`). An occurrence at the start of the value is the value's
/// head, not one parameter's value, and is left to the application.
#[inline(never)]
fn added_parameter(value: &[u8], finder: &dyn Needle) -> Option<HeaderFinding> {
    let len = finder.needle().len();
    crate::first_occurrence(value, finder)?;
    if !is_structured(value) {
        return None;
    }
    let mut quoted = false;
    let mut escaped = false;
    for (at, &b) in value.iter().enumerate() {
        if quoted {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => quoted = true,
            b';' | b',' => {
                let Some(name) = parameter_after(value, at + 1) else {
                    continue;
                };
                // An occurrence covering the delimiter starts in this window.
                let from = (at + 1).saturating_sub(len).max(1);
                let window = value.get(from..(at + len).min(value.len()))?;
                if let Some(k) = finder.find(window).filter(|&k| from + k <= at) {
                    let reason = if is_cookie_attribute(name) {
                        Reason::CookieAttribute
                    } else {
                        Reason::SpansTokens
                    };
                    return Some(HeaderFinding {
                        offset: from + k,
                        reason,
                    });
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether `value` reads as a structured header value — a token or media
/// type (`attachment`, `lang=en`, `text/html`) or a `<URI>` (`Link`) with
/// parameters after it — rather than a URL (`Location`, `Refresh` targets),
/// where `;` and `,` are ordinary characters of a path or a query.
fn is_structured(value: &[u8]) -> bool {
    if value.first() == Some(&b'<') {
        return true;
    }
    let token = |from: usize| {
        value
            .get(from..)
            .map_or(0, |rest| rest.iter().take_while(|&&b| is_tchar(b)).count())
    };
    let mut end = token(0);
    if end == 0 {
        return false;
    }
    if value.get(end) == Some(&b'/') {
        let subtype = token(end + 1);
        if subtype == 0 {
            return false;
        }
        end += 1 + subtype;
    }
    matches!(
        value.get(end),
        None | Some(b';' | b',' | b'=' | b' ' | b'\t')
    )
}

/// The parameter name that follows a delimiter ending at `from`, if what
/// follows is a parameter: a token and `=`, or a cookie flag alone.
fn parameter_after(value: &[u8], from: usize) -> Option<&[u8]> {
    let rest = value.get(from..)?;
    let lead = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let rest = &rest[lead..];
    let name_len = rest.iter().take_while(|&&b| is_tchar(b)).count();
    if name_len == 0 {
        return None;
    }
    let name = &rest[..name_len];
    let after = &rest[name_len..];
    let gap = after
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    match after.get(gap) {
        Some(b'=') => Some(name),
        None | Some(b';' | b',') if is_cookie_flag(name) => Some(name),
        _ => None,
    }
}

/// Token characters of RFC 9110 (section 5.6.2).
const fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Cookie attributes without a value (RFC 6265 and its successors).
fn is_cookie_flag(name: &[u8]) -> bool {
    [&b"secure"[..], b"httponly", b"partitioned"]
        .iter()
        .any(|flag| name.eq_ignore_ascii_case(flag))
}

/// Cookie attributes, with or without a value.
fn is_cookie_attribute(name: &[u8]) -> bool {
    is_cookie_flag(name)
        || [
            &b"domain"[..],
            b"path",
            b"expires",
            b"max-age",
            b"samesite",
            b"priority",
        ]
        .iter()
        .any(|attribute| name.eq_ignore_ascii_case(attribute))
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
    fn flags_parameters_an_input_adds() {
        for (value, input) in [
            (
                "attachment; filename=x; filename=evil.exe",
                "x; filename=evil.exe",
            ),
            (
                "attachment; filename=\"x\"; filename=\"evil.exe\"",
                "x\"; filename=\"evil.exe",
            ),
            ("inline; name=a,filename=b", "a,filename=b"),
            (
                "<https://shop.example/a>; rel=preload, <https://evil.example/>; rel=x",
                "a>; rel=preload, <https://evil.example/",
            ),
        ] {
            assert_eq!(reason(value, input), Some(Reason::SpansTokens), "{value}");
        }
        for (value, input) in [
            (
                "lang=en; Domain=evil.example; Path=/",
                "en; Domain=evil.example",
            ),
            ("sid=1; HttpOnly; Path=/", "1; HttpOnly"),
        ] {
            assert_eq!(
                reason(value, input),
                Some(Reason::CookieAttribute),
                "{value}"
            );
        }
    }

    #[test]
    fn passes_delimiters_that_add_no_parameter() {
        for (value, input) in [
            // Inside the application's quotes.
            (
                "attachment; filename=\"a; filename=b.txt\"",
                "a; filename=b.txt",
            ),
            // The input as the whole value.
            ("text/html; charset=utf-8", "text/html; charset=utf-8"),
            // A URL, where `;` and `,` are path and query characters.
            ("/search?q=en-US,en;q=0.9", "en-US,en;q=0.9"),
            ("https://shop.example/p;v=1", "p;v=1"),
            (
                "attachment; filename=\"report, final.pdf\"",
                "report, final.pdf",
            ),
            ("attachment; filename=a,b.pdf", "a,b.pdf"),
        ] {
            assert_eq!(reason(value, input), None, "{value}");
        }
    }

    #[test]
    fn needs_the_input_in_the_value() {
        assert_eq!(reason("text/plain", "x\r\ny"), None);
        assert_eq!(reason("x\r\ny", "x\r\ny"), Some(Reason::SplitsHeader));
    }
}
