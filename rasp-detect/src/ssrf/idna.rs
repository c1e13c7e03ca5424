//! Host normalisation: the bytes a URL parser or resolver actually looks
//! up for a host as written.
//!
//! The WHATWG host parser (browsers, Rust's `url`, reqwest) percent-decodes
//! a host, then runs it through UTS #46 ToASCII with the URL Standard's
//! forbidden code points (the `idna` crate's `AsciiDenyList::URL`): that
//! lowercases it, maps compatibility characters (fullwidth
//! `１２７．０．０．１`, circled `ⓛⓞⓒⓐⓛⓗⓞⓢⓣ`, `ſ` for `s`, the ideographic
//! full stop `。` for `.` …), drops the characters UTS #46 ignores (soft
//! hyphen, variation selectors, `U+180B`…), and refuses what it disallows.
//! Only then is the host read as a number or kept as a name. Every
//! spelling of an internal host must classify as the ASCII a client
//! sends, so a host that is not plain ASCII goes through the very same
//! mapping, the `idna` crate `url` itself calls; a partial table of
//! "known tricks" is what attackers search for the holes of.
//!
//! Two paths, both without allocating for any host a DNS name can hold:
//! [`Decoded`] streams a host whose percent-decoded bytes are ASCII (the
//! common `%6c%6f…` case, lowercased as ToASCII would); [`to_ascii`] maps
//! any other host into a buffer on the stack.

use core::fmt;

use idna::uts46::{AsciiDenyList, ErrorPolicy, Hyphens, ProcessingSuccess, Uts46};

/// The bytes of a host after percent-decoding, ASCII lowercased, skipping
/// the tabs and line breaks URL parsers drop. Decoded non-ASCII bytes pass
/// through unchanged; callers that may meet them use [`to_ascii`].
#[derive(Debug, Clone)]
pub(super) struct Decoded<'a> {
    bytes: &'a [u8],
    pos: usize,
    lowercase: bool,
}

impl<'a> Decoded<'a> {
    pub(super) const fn new(host: &'a [u8]) -> Self {
        Self {
            bytes: host,
            pos: 0,
            lowercase: true,
        }
    }

    /// Percent-decoded bytes with their case kept: UTS #46 sees the text
    /// as the host parser does, and does its own case mapping.
    const fn raw(host: &'a [u8]) -> Self {
        Self {
            bytes: host,
            pos: 0,
            lowercase: false,
        }
    }
}

impl Iterator for Decoded<'_> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let b = loop {
            let b = *self.bytes.get(self.pos)?;
            self.pos += 1;
            match b {
                b'\t' | b'\n' | b'\r' => continue,
                b'%' => {
                    let hi = self.bytes.get(self.pos).copied().and_then(hex_value);
                    let lo = self.bytes.get(self.pos + 1).copied().and_then(hex_value);
                    if let (Some(hi), Some(lo)) = (hi, lo) {
                        self.pos += 2;
                        break hi << 4 | lo;
                    }
                    break b;
                }
                _ => break b,
            }
        };
        Some(if self.lowercase {
            b.to_ascii_lowercase()
        } else {
            b
        })
    }
}

/// Longest host, percent-decoded, that is mapped on the stack. Ignored
/// characters can pad a host well past the 253 bytes of a DNS name and
/// still map to one, so a longer host is mapped too, from the heap.
const DECODED_ON_STACK: usize = 1024;

/// Longest ASCII form kept: DNS names are at most 253 bytes, so a longer
/// one resolves nowhere.
pub(super) const MAX_ASCII: usize = 256;

/// The ASCII form of `host` (a host as written in a URL, without brackets
/// or port) that the WHATWG host parser would look up, handed to `judge`;
/// `None` when that parser refuses the host (UTS #46 disallows a
/// character, a label fails its checks, invalid UTF-8) or its ASCII form
/// is longer than [`MAX_ASCII`].
pub(super) fn to_ascii<R>(host: &[u8], judge: impl FnOnce(Option<&[u8]>) -> R) -> R {
    with_decoded(host, |decoded| map(decoded, judge))
}

/// Hands `text` percent-decoded (tabs and line breaks dropped, case kept)
/// to `f`, from the stack unless it is longer than [`DECODED_ON_STACK`].
fn with_decoded<R>(text: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    let len = Decoded::raw(text).count();
    if len <= DECODED_ON_STACK {
        let mut buf = [0u8; DECODED_ON_STACK];
        for (slot, b) in buf.iter_mut().zip(Decoded::raw(text)) {
            *slot = b;
        }
        f(buf.get(..len).unwrap_or_default())
    } else {
        let decoded: Vec<u8> = Decoded::raw(text).collect();
        f(&decoded)
    }
}

/// UTS #46 ToASCII of decoded host bytes, as `idna::domain_to_ascii_cow`
/// with `AsciiDenyList::URL` runs it for `url`, written to the stack.
fn map<R>(decoded: &[u8], judge: impl FnOnce(Option<&[u8]>) -> R) -> R {
    let mut out = AsciiBuffer {
        buf: [0; MAX_ASCII],
        len: 0,
        overflowed: false,
    };
    let result = Uts46::new().process(
        decoded,
        AsciiDenyList::URL,
        Hyphens::Allow,
        ErrorPolicy::FailFast,
        |_, _, _| false,
        &mut out,
        None,
    );
    match result {
        Ok(ProcessingSuccess::Passthrough) if decoded.len() <= MAX_ASCII => judge(Some(decoded)),
        Ok(ProcessingSuccess::WroteToSink) if !out.overflowed => judge(out.buf.get(..out.len)),
        _ => judge(None),
    }
}

/// The ASCII a host maps to, held on the stack. A longer one is noted
/// and dropped rather than failing the write: `idna` treats a sink error
/// met while it writes Punycode as impossible and panics.
struct AsciiBuffer {
    buf: [u8; MAX_ASCII],
    len: usize,
    overflowed: bool,
}

impl fmt::Write for AsciiBuffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        match self.buf.get_mut(self.len..end) {
            Some(slot) if !self.overflowed => {
                slot.copy_from_slice(s.as_bytes());
                self.len = end;
            }
            _ => self.overflowed = true,
        }
        Ok(())
    }

    fn write_char(&mut self, c: char) -> fmt::Result {
        self.write_str(c.encode_utf8(&mut [0; 4]))
    }
}

/// Whether `text` (a piece of a host, as written) holds a label separator
/// once decoded and mapped: `.`, `%2e`, or a character UTS #46 maps to a
/// full stop (`。`, `．`, `｡`). Used to tell an input
/// that adds labels to a host from one that only extends the last.
pub(crate) fn separates_labels(text: &[u8]) -> bool {
    if Decoded::new(text).any(|b| b == b'.') {
        return true;
    }
    if Decoded::new(text).all(|b| b.is_ascii()) {
        return false;
    }
    // Map without refusing: a piece of a host need not be a valid host
    // itself, only its separators matter.
    with_decoded(text, |decoded| {
        let mut found = DotFinder(false);
        let _ = Uts46::new().process(
            decoded,
            AsciiDenyList::EMPTY,
            Hyphens::Allow,
            ErrorPolicy::MarkErrors,
            |_, _, _| true,
            &mut found,
            None,
        );
        found.0
    })
}

/// A sink that only notes whether a full stop was written.
struct DotFinder(bool);

impl fmt::Write for DotFinder {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 |= s.contains('.');
        Ok(())
    }
}

/// The value of an ASCII hex digit, for percent-encoding here and for the
/// hex spelling of wildcard-DNS names.
pub(super) const fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
