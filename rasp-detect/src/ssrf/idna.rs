//! Host normalisation: the bytes a URL parser or resolver actually looks
//! up for a host as written.
//!
//! Clients percent-decode a host, drop the tabs and line breaks WHATWG
//! removes anywhere in a URL, lowercase ASCII, and map compatibility
//! characters through IDNA (UTS #46) before they resolve it or read it as
//! a number, so `%31%32%37.0.0.1`, `１２７．０．０．１` and `localhoſt` reach
//! the same place as their ASCII spelling. The classifiers read hosts
//! through [`Mapped`] so that every spelling is judged as the ASCII a
//! client would send; it is an iterator over the input, in constant space,
//! because a detector allocates nothing.
//!
//! Only the mappings seen in host-spelling tricks are here, not the whole
//! IDNA table: a character without a mapping passes through as its UTF-8
//! bytes, so the host is judged as the name it then is.

/// The bytes of a host after percent-decoding, skipping the tabs and line
/// breaks URL parsers drop.
#[derive(Debug, Clone)]
struct Decoded<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Iterator for Decoded<'_> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        loop {
            let b = *self.bytes.get(self.pos)?;
            self.pos += 1;
            match b {
                b'\t' | b'\n' | b'\r' => continue,
                b'%' => {
                    let hi = self.bytes.get(self.pos).copied().and_then(hex_value);
                    let lo = self.bytes.get(self.pos + 1).copied().and_then(hex_value);
                    if let (Some(hi), Some(lo)) = (hi, lo) {
                        self.pos += 2;
                        return Some(hi << 4 | lo);
                    }
                    return Some(b);
                }
                _ => return Some(b),
            }
        }
    }
}

/// Decoded host bytes with ASCII lowercased and IDNA compatibility
/// characters mapped to ASCII. Characters without a mapping pass through
/// as their UTF-8 bytes; invalid UTF-8 passes through byte by byte.
#[derive(Debug, Clone)]
pub(super) struct Mapped<'a> {
    inner: Decoded<'a>,
    pending: [u8; 4],
    pending_len: u8,
    pending_at: u8,
}

impl<'a> Mapped<'a> {
    pub(super) fn new(host: &'a [u8]) -> Self {
        Self {
            inner: Decoded {
                bytes: host,
                pos: 0,
            },
            pending: [0; 4],
            pending_len: 0,
            pending_at: 0,
        }
    }

    fn queue(&mut self, bytes: &[u8]) {
        let len = bytes.len().min(4);
        if let (Some(dst), Some(src)) = (self.pending.get_mut(..len), bytes.get(..len)) {
            dst.copy_from_slice(src);
        }
        self.pending_len = len as u8;
        self.pending_at = 0;
    }

    /// Decodes one UTF-8 character whose first byte is `lead`, consuming its
    /// continuation bytes only if they are valid.
    fn utf8(&mut self, lead: u8) -> Option<char> {
        let (len, init) = match lead {
            0xc2..=0xdf => (2, u32::from(lead & 0x1f)),
            0xe0..=0xef => (3, u32::from(lead & 0x0f)),
            0xf0..=0xf4 => (4, u32::from(lead & 0x07)),
            _ => return None,
        };
        let mut ahead = self.inner.clone();
        let mut cp = init;
        for _ in 1..len {
            let b = ahead.next()?;
            if b & 0xc0 != 0x80 {
                return None;
            }
            cp = cp << 6 | u32::from(b & 0x3f);
        }
        let c = char::from_u32(cp)?;
        if c.len_utf8() != len {
            return None;
        }
        self.inner = ahead;
        Some(c)
    }
}

impl Iterator for Mapped<'_> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        loop {
            if self.pending_at < self.pending_len {
                let b = self.pending.get(usize::from(self.pending_at)).copied();
                self.pending_at += 1;
                return b;
            }
            let b = self.inner.next()?;
            if b.is_ascii() {
                return Some(b.to_ascii_lowercase());
            }
            let Some(c) = self.utf8(b) else {
                return Some(b);
            };
            let mut out = [0u8; 4];
            match map_char(c, &mut out) {
                Some(0) => continue,
                Some(n) => {
                    let n = usize::from(n);
                    self.queue(out.get(..n).unwrap_or_default());
                }
                None => {
                    let mut utf8 = [0u8; 4];
                    let s = c.encode_utf8(&mut utf8);
                    self.queue(s.as_bytes());
                }
            }
        }
    }
}

/// The ASCII that IDNA (UTS #46) maps a character to, for the compatibility
/// characters seen in host-spelling tricks: written to `out`, returning its
/// length (0 for characters IDNA ignores), or `None` if the character has
/// no ASCII mapping here.
fn map_char(c: char, out: &mut [u8; 4]) -> Option<u8> {
    let cp = u32::from(c);
    let mut put = |s: &[u8]| {
        let n = s.len().min(4);
        if let (Some(dst), Some(src)) = (out.get_mut(..n), s.get(..n)) {
            dst.copy_from_slice(src);
        }
        Some(n as u8)
    };
    let letter = |i: u32| b'a' + (i % 26) as u8;
    let digit = |i: u32| b'0' + (i % 10) as u8;
    let number = |n: u32, dot: bool, put: &mut dyn FnMut(&[u8]) -> Option<u8>| {
        let tens = if n >= 10 {
            Some(b'0' + (n / 10) as u8)
        } else {
            None
        };
        let ones = b'0' + (n % 10) as u8;
        match (tens, dot) {
            (Some(t), true) => put(&[t, ones, b'.']),
            (Some(t), false) => put(&[t, ones]),
            (None, true) => put(&[ones, b'.']),
            (None, false) => put(&[ones]),
        }
    };
    match cp {
        // Ignored: soft hyphen, combining grapheme joiner, Mongolian
        // variation selectors, zero width space, word joiner, variation
        // selectors, zero width no-break space.
        0x00ad | 0x034f | 0x180b..=0x180f | 0x200b | 0x2060 | 0xfe00..=0xfe0f | 0xfeff => put(b""),
        // Full stops that separate labels like `.`.
        0x3002 | 0xff0e | 0xff61 => put(b"."),
        // Fullwidth digits and letters.
        0xff10..=0xff19 => put(&[digit(cp - 0xff10)]),
        0xff21..=0xff3a => put(&[letter(cp - 0xff21)]),
        0xff41..=0xff5a => put(&[letter(cp - 0xff41)]),
        // Fullwidth hyphen-minus.
        0xff0d => put(b"-"),
        // Superscript and subscript digits.
        0x00b9 => put(b"1"),
        0x00b2 => put(b"2"),
        0x00b3 => put(b"3"),
        0x2070 => put(b"0"),
        0x2074..=0x2079 => put(&[digit(cp - 0x2070)]),
        0x2080..=0x2089 => put(&[digit(cp - 0x2080)]),
        // Circled numbers ①–⑳, numbers with a full stop ⒈–⒛, circled
        // letters, circled zero, negative and double circled numbers.
        0x2460..=0x2473 => number(cp - 0x2460 + 1, false, &mut put),
        0x2488..=0x249b => number(cp - 0x2488 + 1, true, &mut put),
        0x24b6..=0x24cf => put(&[letter(cp - 0x24b6)]),
        0x24d0..=0x24e9 => put(&[letter(cp - 0x24d0)]),
        0x24ea | 0x24ff => put(b"0"),
        0x24eb..=0x24f4 => number(cp - 0x24eb + 11, false, &mut put),
        0x24f5..=0x24fe => number(cp - 0x24f5 + 1, false, &mut put),
        // Long s and Kelvin sign fold to ASCII letters.
        0x017f => put(b"s"),
        0x212a => put(b"k"),
        // Mathematical alphanumeric symbols: 13 alphabets of 52 letters,
        // then 5 sets of 10 digits.
        0x1d400..=0x1d6a3 => {
            let i = (cp - 0x1d400) % 52;
            put(&[letter(i)])
        }
        0x1d7ce..=0x1d7ff => put(&[digit(cp - 0x1d7ce)]),
        _ => None,
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
