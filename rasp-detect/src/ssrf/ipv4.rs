//! Numeric hosts: the WHATWG IPv4 parser, and the readings that differ
//! from it.
//!
//! A host whose last label is a number is an IPv4 address to a URL parser,
//! in any of the forms `inet_aton` has accepted for decades: one to four
//! dot-separated parts, each decimal, `0x` hexadecimal or leading-zero
//! octal, the last part filling the bytes the others left
//! (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`). Parsers disagree on
//! some of them — `010.0.0.1` is octal to WHATWG and `inet_aton` but
//! decimal to others, `0o177` is octal to a few and no number to WHATWG —
//! so every host is read both ways and the caller classifies both.
//!
//! Two readers share the arithmetic: one over a plain ASCII host in place
//! (the common case, no decoding), and one over the decoded byte stream of
//! [`Decoded`](super::idna::Decoded), which holds a part in constant space
//! however many leading zeros an attacker pads it with.

use core::net::Ipv4Addr;

/// The WHATWG "ends in a number" test on a plain ASCII host: whether its
/// last label (after one trailing dot) is digits, `0x` and hex digits, or
/// (for the lenient reading) `0o` and octal digits.
pub(super) fn ends_in_number(host: &[u8]) -> bool {
    let host = host.strip_suffix(b".").unwrap_or(host);
    let label = host.rsplit(|&b| b == b'.').next().unwrap_or_default();
    match label {
        [] => false,
        [b'0', b'x' | b'X', hex @ ..] => hex.iter().all(u8::is_ascii_hexdigit),
        [b'0', b'o' | b'O', oct @ ..] => {
            !oct.is_empty() && oct.iter().all(|b| (b'0'..=b'7').contains(b))
        }
        digits => digits.iter().all(u8::is_ascii_digit),
    }
}

/// Radix prefix of a numeric part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    None,
    /// `0x`: hexadecimal in every reading.
    Hex,
    /// `0o`: octal to the few parsers that know it, invalid to WHATWG.
    Octal,
}

/// Significant digits kept per part: more than any value that fits in 32
/// bits needs, so a longer part is out of range whatever it holds.
const WINDOW: usize = 12;

/// Reads one dot-separated part of a host in constant space: leading zeros
/// are counted, not stored.
#[derive(Debug, Clone, Copy)]
struct PartReader {
    zeros: usize,
    prefix: Prefix,
    window: [u8; WINDOW],
    len: usize,
    /// More significant digits than the window holds.
    overflowed: bool,
    /// A byte that makes the part a name label rather than a number.
    not_number: bool,
    /// A hex letter outside a `0x` part.
    letters: bool,
}

/// One part of a numeric host, read two ways.
#[derive(Debug, Clone, Copy)]
struct Part {
    /// The WHATWG (and `inet_aton`) reading: `0x` hex, leading-zero octal,
    /// decimal. `None` when not a valid number in that reading.
    whatwg: Option<u64>,
    /// The other reading: leading zeros are decimal, `0o` is octal.
    other: Option<u64>,
    /// Whether the part is numeric at all (WHATWG "ends in a number").
    numeric: bool,
    empty: bool,
}

impl PartReader {
    const fn new() -> Self {
        Self {
            zeros: 0,
            prefix: Prefix::None,
            window: [0; WINDOW],
            len: 0,
            overflowed: false,
            not_number: false,
            letters: false,
        }
    }

    #[inline]
    fn push(&mut self, b: u8) {
        let first_after_zero = self.zeros == 1 && self.len == 0 && self.prefix == Prefix::None;
        match b {
            b'0' if self.len == 0 => self.zeros += 1,
            b'x' if first_after_zero => self.prefix = Prefix::Hex,
            b'o' if first_after_zero => self.prefix = Prefix::Octal,
            b'0'..=b'9' | b'a'..=b'f' => {
                self.letters |= b > b'9';
                match self.window.get_mut(self.len) {
                    Some(slot) => {
                        *slot = b;
                        self.len += 1;
                    }
                    None => self.overflowed = true,
                }
            }
            _ => self.not_number = true,
        }
    }

    fn finish(&self) -> Part {
        let empty = self.zeros == 0 && self.len == 0 && self.prefix == Prefix::None;
        let digits = self.window.get(..self.len).unwrap_or_default();
        let read = |radix| {
            if self.overflowed {
                number(digits, radix).map(|_| u64::MAX)
            } else {
                number(digits, radix)
            }
        };
        let (whatwg, other, numeric) = match self.prefix {
            _ if self.not_number || empty => (None, None, false),
            Prefix::Hex => (read(16), read(16), true),
            Prefix::Octal => {
                let v = read(8);
                (None, v, v.is_some())
            }
            Prefix::None if self.letters => (None, None, false),
            Prefix::None => {
                let octal = self.zeros > 0 && self.zeros + self.len >= 2;
                let whatwg = if octal { read(8) } else { read(10) };
                (whatwg, read(10), true)
            }
        };
        Part {
            whatwg,
            other,
            numeric,
            empty,
        }
    }
}

/// Parses digits in `radix` (an empty run is zero), saturating on overflow.
fn number(digits: &[u8], radix: u32) -> Option<u64> {
    let mut value = 0u64;
    for &b in digits {
        let d = u64::from(char::from(b).to_digit(radix)?);
        value = value.saturating_mul(u64::from(radix)).saturating_add(d);
    }
    Some(value)
}

/// Reads one part of a plain ASCII host (known to end in a number).
fn read_part_plain(part: &[u8]) -> Part {
    let zeros = part.iter().take_while(|&&b| b == b'0').count();
    let (whatwg, other, numeric) = match part {
        [] => (None, None, false),
        [b'0', b'x' | b'X', hex @ ..] => {
            let v = number(hex, 16);
            (v, v, v.is_some())
        }
        [b'0', b'o' | b'O', oct @ ..] => {
            let v = number(oct, 8);
            (None, v, v.is_some())
        }
        digits => {
            let decimal = number(digits, 10);
            let whatwg = if zeros > 0 && digits.len() >= 2 {
                // Leading-zero octal; `08` is no number to WHATWG.
                number(digits, 8)
            } else {
                decimal
            };
            (whatwg, decimal, decimal.is_some())
        }
    };
    Part {
        whatwg,
        other,
        numeric,
        empty: part.is_empty(),
    }
}

/// [`readings`] for a plain ASCII host that ends in a number, reading
/// the parts in place.
pub(super) fn readings_plain(host: &[u8]) -> [Option<Ipv4Addr>; 2] {
    let host = host.strip_suffix(b".").unwrap_or(host);
    let mut parts = [Part {
        whatwg: None,
        other: None,
        numeric: false,
        empty: true,
    }; 4];
    let mut count = 0;
    for part in host.split(|&b| b == b'.') {
        match parts.get_mut(count) {
            Some(slot) => *slot = read_part_plain(part),
            None => return [None, None],
        }
        count += 1;
    }
    match parts.get(..count) {
        Some(parts) if parts.iter().all(|p| p.numeric) => {
            [compose(parts, |p| p.whatwg), compose(parts, |p| p.other)]
        }
        _ => [None, None],
    }
}

/// The address `parts` spell in one reading: every part but the last is one
/// byte, the last fills the remaining bytes.
fn compose(parts: &[Part], pick: fn(&Part) -> Option<u64>) -> Option<Ipv4Addr> {
    let (last, init) = parts.split_last()?;
    let mut value = 0u64;
    for (i, p) in init.iter().enumerate() {
        let v = pick(p)?;
        if v > 255 {
            return None;
        }
        value |= v << (8 * (3 - i));
    }
    let v = pick(last)?;
    let room = 8 * (5 - parts.len() as u32);
    if room < 64 && v >= 1u64 << room {
        return None;
    }
    u32::try_from(value | v).ok().map(Ipv4Addr::from)
}

/// Reads a host as an IPv4 address, the WHATWG way and the lenient way.
///
/// Returns `None` when the host is a name (its last label is not a number,
/// the WHATWG "ends in a number" test). A host that ends in a number but is
/// no address in either reading yields two `None`s: URL parsers reject it.
pub(super) fn readings(bytes: impl Iterator<Item = u8>) -> Option<[Option<Ipv4Addr>; 2]> {
    const NONE: Part = Part {
        whatwg: None,
        other: None,
        numeric: false,
        empty: true,
    };
    // The first four parts, and the last two wherever they are.
    let mut parts = [NONE; 4];
    let (mut prev, mut last) = (NONE, NONE);
    let mut count = 0usize;
    let mut reader = PartReader::new();
    let mut store = |part: Part| {
        if let Some(slot) = parts.get_mut(count) {
            *slot = part;
        }
        count += 1;
        prev = last;
        last = part;
    };
    for b in bytes {
        if b == b'.' {
            store(reader.finish());
            reader = PartReader::new();
        } else {
            reader.push(b);
        }
    }
    store(reader.finish());
    // One trailing dot is allowed: drop the empty last part.
    if last.empty && count > 1 {
        count -= 1;
        last = prev;
    }
    if !last.numeric {
        return None;
    }
    let parts = match parts.get(..count) {
        Some(parts) if parts.iter().all(|p| p.numeric) => parts,
        // Five parts or more, or a label that is not a number.
        _ => return Some([None, None]),
    };
    Some([compose(parts, |p| p.whatwg), compose(parts, |p| p.other)])
}

/// A decimal number from 0 to 255 of one to three digits, as wildcard-DNS
/// names spell the bytes of an address.
pub(super) fn decimal_octet(s: &[u8]) -> Option<u8> {
    if s.is_empty() || s.len() > 3 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = s.iter().fold(0u32, |v, &b| v * 10 + u32::from(b - b'0'));
    u8::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use crate::ssrf::{HostClass, classify_host};

    fn class(host: &str) -> HostClass {
        classify_host(host.as_bytes())
    }

    #[test]
    fn ipv4_forms() {
        for host in [
            "127.0.0.1",
            "127.1",
            "127.0.1",
            "2130706433",
            "0x7f000001",
            "0x7f.1",
            "0177.0.0.1",
            "0177.1",
            "00000000000000000000000000000000000177.0.0.1",
            "0x00000000000000000000000000000007f.0.0.1",
            "0o177.0.0.1",
            "127.0.0.1.",
            "%31%32%37.0.0.1",
            "１２７．０．０．１",
            "①②⑦.⓪.⓪.①",
            "127.000.000.001",
        ] {
            assert_eq!(class(host), HostClass::Loopback, "{host}");
        }
        assert_eq!(class("0"), HostClass::Unspecified);
        assert_eq!(class("010.0.0.1"), HostClass::Private, "decimal reading");
        assert_eq!(class("0xA9FEA9FE"), HostClass::Metadata);
        assert_eq!(class("0251.0376.0251.0376"), HostClass::Metadata);
        assert_eq!(class("8.8.8.8"), HostClass::Public);
        assert_eq!(class("134744072"), HostClass::Public);
        assert_eq!(class("256.0.0.1"), HostClass::Invalid);
        assert_eq!(class("1.2.3.4.5"), HostClass::Invalid);
        assert_eq!(class("4294967296"), HostClass::Invalid);
    }
}
