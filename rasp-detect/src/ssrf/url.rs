//! Finds the scheme, authority and host of a URL, the way HTTP clients do.
//!
//! Two readings are made, because clients disagree and an attacker picks
//! the disagreement (`http://evil.com\@127.0.0.1/`):
//!
//! - **WHATWG** (browsers, Rust's `url`, reqwest, Node): leading and
//!   trailing C0 controls and spaces are trimmed; for the special schemes
//!   (`http`, `https`, `ws`, `wss`, `ftp`) any run of `/` and `\` after the
//!   scheme introduces the authority, and `\` ends it like `/`;
//! - **RFC 3986** (curl, Python's urllib, Go): the authority needs exactly
//!   `//` and only `/`, `?` and `#` end it, so a `\` stays inside.
//!
//! In both, the host follows the last `@` of the authority and ends at the
//! port's `:` (outside IPv6 brackets). ASCII tabs and line breaks, which
//! WHATWG removes anywhere, are skipped when reading the scheme and the
//! delimiters. A text without a scheme is read the way curl reads it: as
//! `host[:port][/path]` (or a scheme-relative `//host/…`). A `name:digits`
//! prefix is a host and port rather than a scheme named `name`.

use core::ops::Range;

/// The scheme as far as reaching other protocols goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// No scheme: a client that accepts it assumes `http`.
    Absent,
    /// `http`, `https`, `ws`, `wss`.
    Web,
    /// Anything else: `file`, `gopher`, `dict`, `ftp`, `ldap`, `jar` …
    Other,
}

/// The parts of a URL that decide where a request goes.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    /// What kind of scheme the URL has.
    pub(crate) scheme: Scheme,
    /// The scheme's name (without its `:`).
    pub(crate) scheme_span: Range<usize>,
    /// Authority and host under the WHATWG and RFC 3986 readings.
    pub(crate) readings: [Option<Authority>; 2],
}

impl Head {
    /// Where the head ends: past the farther authority of the two
    /// readings, or past the scheme when neither finds one. Only an input
    /// that starts before this can decide the destination.
    pub(crate) fn end(&self) -> usize {
        self.readings
            .iter()
            .flatten()
            .map(|a| a.span.end)
            .max()
            .unwrap_or(self.scheme_span.end)
    }
}

/// Where one reading finds the authority and its host.
#[derive(Debug, Clone)]
pub(crate) struct Authority {
    /// `userinfo@host:port`, without the slashes before it.
    pub(crate) span: Range<usize>,
    /// The host, brackets included for IPv6.
    pub(crate) host: Range<usize>,
}

const fn is_ignored(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\r')
}

/// Index and value of the first byte at or after `i` (and before `stop`)
/// that is not a tab or line break.
#[inline]
pub(crate) fn significant(text: &[u8], mut i: usize, stop: usize) -> Option<(usize, u8)> {
    while i < stop {
        let b = *text.get(i)?;
        if !is_ignored(b) {
            return Some((i, b));
        }
        i += 1;
    }
    None
}

/// Splits a URL into the parts that decide where a request goes.
pub(crate) fn parse(text: &[u8]) -> Head {
    let start = text.iter().position(|&b| b > b' ').unwrap_or(text.len());
    let stop = text
        .iter()
        .rposition(|&b| b > b' ')
        .map_or(start, |i| i + 1);
    let colon = scheme_colon(text, start, stop);
    let Some(colon) = colon else {
        // No scheme: `//host/…` or `host[:port][/…]`, as curl reads it.
        let after_slashes = skip_slashes(text, start, stop, true);
        let slashes = after_slashes.saturating_sub(start);
        let begin = if slashes == 1 {
            None
        } else {
            Some(after_slashes)
        };
        let readings = begin.map_or([None, None], |from| {
            [
                Some(authority(text, from, stop, true)),
                Some(authority(text, from, stop, false)),
            ]
        });
        return Head {
            scheme: Scheme::Absent,
            scheme_span: start..start,
            readings,
        };
    };
    let name = SchemeName::read(text, start, colon);
    let scheme = if name.is_web() {
        Scheme::Web
    } else {
        Scheme::Other
    };
    let after = colon + 1;
    let whatwg = if name.is_web() || name.is(b"ftp") {
        Some(authority(
            text,
            skip_slashes(text, after, stop, true),
            stop,
            true,
        ))
    } else {
        two_slashes(text, after, stop, name.is(b"file"))
            .map(|from| authority(text, from, stop, name.is(b"file")))
    };
    let rfc = two_slashes(text, after, stop, false).map(|from| match &whatwg {
        // Same start, and not ended by a backslash: the same authority.
        Some(w) if w.span.start == from && text.get(w.span.end) != Some(&b'\\') => w.clone(),
        _ => authority(text, from, stop, false),
    });
    Head {
        scheme,
        scheme_span: start..colon,
        readings: [whatwg, rfc],
    }
}

/// The `:` ending a scheme that starts at `start`, if there is one: an
/// ASCII letter, then letters, digits, `+`, `-`, `.`; and not a host's
/// port (`localhost:8080`).
fn scheme_colon(text: &[u8], start: usize, stop: usize) -> Option<usize> {
    let (first, b) = significant(text, start, stop)?;
    if !b.is_ascii_alphabetic() {
        return None;
    }
    let mut i = first + 1;
    let colon = loop {
        let (at, b) = significant(text, i, stop)?;
        match b {
            b':' => break at,
            b if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.') => i = at + 1,
            _ => return None,
        }
    };
    // Digits up to the end of the authority make it a port.
    let mut digits = 0;
    let mut i = colon + 1;
    while let Some((at, b)) = significant(text, i, stop) {
        match b {
            b'0'..=b'9' => digits += 1,
            b'/' | b'\\' | b'?' | b'#' => break,
            _ => return Some(colon),
        }
        i = at + 1;
    }
    if digits > 0 { None } else { Some(colon) }
}

/// A scheme name, lowercased, compared without tabs and line breaks.
struct SchemeName {
    buf: [u8; 8],
    len: usize,
    too_long: bool,
}

impl SchemeName {
    fn read(text: &[u8], start: usize, colon: usize) -> Self {
        let mut name = Self {
            buf: [0; 8],
            len: 0,
            too_long: false,
        };
        for &b in text.get(start..colon).unwrap_or_default() {
            if is_ignored(b) {
                continue;
            }
            match name.buf.get_mut(name.len) {
                Some(slot) => *slot = b.to_ascii_lowercase(),
                None => name.too_long = true,
            }
            name.len += 1;
        }
        name
    }

    fn is(&self, expected: &[u8]) -> bool {
        !self.too_long && self.buf.get(..self.len) == Some(expected)
    }

    fn is_web(&self) -> bool {
        [&b"http"[..], b"https", b"ws", b"wss"]
            .iter()
            .any(|s| self.is(s))
    }
}

/// Skips any run of `/` (and `\` when `backslash`) from `from`.
fn skip_slashes(text: &[u8], mut from: usize, stop: usize, backslash: bool) -> usize {
    while let Some((at, b)) = significant(text, from, stop) {
        if b == b'/' || (backslash && b == b'\\') {
            from = at + 1;
        } else {
            return at;
        }
    }
    stop
}

/// Where the authority starts if `from` holds two slashes (`\` counting as
/// one when `backslash`).
fn two_slashes(text: &[u8], from: usize, stop: usize, backslash: bool) -> Option<usize> {
    let is_slash = |b: u8| b == b'/' || (backslash && b == b'\\');
    let (first, a) = significant(text, from, stop)?;
    let (second, b) = significant(text, first + 1, stop)?;
    (is_slash(a) && is_slash(b)).then_some(second + 1)
}

/// The authority starting at `from`, ended by `/`, `?`, `#` (and `\` when
/// `backslash`), with its host.
fn authority(text: &[u8], from: usize, stop: usize, backslash: bool) -> Authority {
    let region = text.get(from..stop).unwrap_or_default();
    let len = region
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#') || (backslash && b == b'\\'))
        .unwrap_or(region.len());
    let end = from + len;
    let auth = region.get(..len).unwrap_or_default();
    let host_start = memchr::memrchr(b'@', auth).map_or(from, |at| from + at + 1);
    let rest = text.get(host_start..end).unwrap_or_default();
    let host_len = match significant(rest, 0, rest.len()) {
        Some((_, b'[')) => memchr::memchr(b']', rest).map_or(rest.len(), |i| i + 1),
        _ => memchr::memchr(b':', rest).unwrap_or(rest.len()),
    };
    Authority {
        span: from..end,
        host: host_start..host_start + host_len,
    }
}
