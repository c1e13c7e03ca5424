//! Host classification: which hosts a request must not reach.
//!
//! A host is read the way URL parsers and resolvers read it, so that every
//! spelling of an internal address classifies the same: percent-encoding is
//! decoded, ASCII is lowercased, the compatibility characters that IDNA maps
//! to ASCII (fullwidth `１２７．０．０．１`, circled `①②⑦`, `ſ` for `s`,
//! mathematical letters …) are mapped, one trailing dot is dropped, and
//! numeric hosts go through the WHATWG IPv4 parser (`2130706433`,
//! `0177.0.0.1`, `0x7f.1`, `127.1`). Where parsers disagree on a numeric
//! form (`010.0.0.1` is octal to WHATWG and `inet_aton`, decimal to some
//! others; `0o177` is octal to a few), every reading is classified and the
//! most internal one wins.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where a host leads, as far as its spelling tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostClass {
    /// A public address, or a name that needs DNS to tell (checked at
    /// connect time, not here).
    Public,
    /// The machine itself: `127.0.0.0/8`, `::1`, `localhost`, `*.localhost`.
    Loopback,
    /// A private network: `10/8`, `172.16/12`, `192.168/16`, `fc00::/7`,
    /// `fec0::/10`, and names only a local resolver can answer (single-label
    /// names, `*.internal`, `*.local`, `*.lan` …).
    Private,
    /// Link-local: `169.254/16`, `fe80::/10`.
    LinkLocal,
    /// Carrier-grade NAT shared address space `100.64/10`.
    SharedAddressSpace,
    /// The unspecified address (`0.0.0.0/8`, `::`), which connects to the
    /// machine itself on most systems.
    Unspecified,
    /// A cloud metadata service: `169.254.169.254`, `fd00:ec2::254`,
    /// `100.100.100.200`, `168.63.129.16`, `metadata.google.internal` …
    Metadata,
    /// Multicast: `224/4`, `ff00::/8`.
    Multicast,
    /// The limited broadcast address `255.255.255.255`.
    Broadcast,
    /// Reserved ranges that are not on the public internet: `240/4`,
    /// `192.0.0/24`, benchmarking `198.18/15`, `100::/64`.
    Reserved,
    /// Not a host any client would connect to (a numeric host out of
    /// range, a malformed IPv6 literal).
    Invalid,
}

impl HostClass {
    /// Whether a request to such a host reaches something internal.
    pub const fn is_internal(self) -> bool {
        !matches!(self, HostClass::Public | HostClass::Invalid)
    }

    /// Stable snake-case name, as used in events.
    pub const fn as_str(self) -> &'static str {
        match self {
            HostClass::Public => "public",
            HostClass::Loopback => "loopback",
            HostClass::Private => "private",
            HostClass::LinkLocal => "link_local",
            HostClass::SharedAddressSpace => "shared_address_space",
            HostClass::Unspecified => "unspecified",
            HostClass::Metadata => "metadata",
            HostClass::Multicast => "multicast",
            HostClass::Broadcast => "broadcast",
            HostClass::Reserved => "reserved",
            HostClass::Invalid => "invalid",
        }
    }

    /// The more internal of two readings of one host.
    fn worst(self, other: HostClass) -> HostClass {
        if !self.is_internal() && other.is_internal() {
            other
        } else {
            self
        }
    }
}

/// Classifies an IP address.
///
/// IPv6 addresses that embed an IPv4 address — IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), IPv4-translated
/// (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) —
/// classify as the IPv4 address they carry, since that is what the packets
/// reach.
pub fn classify_ip(ip: IpAddr) -> HostClass {
    match ip {
        IpAddr::V4(v4) => classify_ipv4(v4),
        IpAddr::V6(v6) => classify_ipv6(v6),
    }
}

fn classify_ipv4(ip: Ipv4Addr) -> HostClass {
    let [a, b, c, d] = ip.octets();
    match (a, b, c, d) {
        // AWS, GCP, Azure, OpenStack and most others; AWS ECS task
        // metadata and its v4 endpoint; Alibaba Cloud; Oracle Cloud's
        // legacy endpoint; Azure's WireServer, a public address that every
        // Azure VM reaches and that serves the VM's extension settings.
        (169, 254, 169, 254)
        | (169, 254, 170, 2)
        | (169, 254, 170, 23)
        | (169, 254, 0, 23)
        | (100, 100, 100, 200)
        | (192, 0, 0, 192)
        | (168, 63, 129, 16) => HostClass::Metadata,
        (0, ..) => HostClass::Unspecified,
        (10, ..) => HostClass::Private,
        (100, 64..=127, ..) => HostClass::SharedAddressSpace,
        (127, ..) => HostClass::Loopback,
        (169, 254, ..) => HostClass::LinkLocal,
        (172, 16..=31, ..) | (192, 168, ..) => HostClass::Private,
        (192, 0, 0, _) | (198, 18..=19, ..) => HostClass::Reserved,
        (224..=239, ..) => HostClass::Multicast,
        (255, 255, 255, 255) => HostClass::Broadcast,
        (240..=255, ..) => HostClass::Reserved,
        _ => HostClass::Public,
    }
}

fn classify_ipv6(ip: Ipv6Addr) -> HostClass {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        classify_ipv4(Ipv4Addr::new(a, b, c, d))
    };
    match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => HostClass::Unspecified,
        [0, 0, 0, 0, 0, 0, 0, 1] => HostClass::Loopback,
        // IPv4-mapped, IPv4-translated, IPv4-compatible.
        [0, 0, 0, 0, 0, 0xffff, hi, lo]
        | [0, 0, 0, 0, 0xffff, 0, hi, lo]
        | [0, 0, 0, 0, 0, 0, hi, lo] => embedded(hi, lo),
        // NAT64, well-known prefix.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => embedded(hi, lo),
        // NAT64, local-use prefix.
        [0x64, 0xff9b, 1, ..] => HostClass::Private,
        // 6to4 carries the IPv4 address right after the prefix.
        [0x2002, hi, lo, ..] => embedded(hi, lo),
        [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254] => HostClass::Metadata,
        [0x100, 0, 0, 0, ..] => HostClass::Reserved,
        [first, ..] if first & 0xfe00 == 0xfc00 => HostClass::Private,
        [first, ..] if first & 0xffc0 == 0xfe80 => HostClass::LinkLocal,
        [first, ..] if first & 0xffc0 == 0xfec0 => HostClass::Private,
        [first, ..] if first & 0xff00 == 0xff00 => HostClass::Multicast,
        _ => HostClass::Public,
    }
}

/// Classifies a host as written in a URL's authority (without the port) or
/// handed to a connect call: a name, an IPv4 address in any form the WHATWG
/// URL parser (or `inet_aton`) accepts, or a bracketed IPv6 literal (an
/// unbracketed one is accepted too).
///
/// The host is read the way URL parsers and resolvers read it, so that every
/// spelling of an address classifies the same: percent-encoding is decoded,
/// ASCII is lowercased, the compatibility characters that IDNA maps to ASCII
/// (fullwidth `１２７．０．０．１`, circled `①②⑦`, `ſ` for `s`, mathematical
/// letters …) are mapped, one trailing dot is dropped, and a host whose last
/// label is a number goes through the WHATWG IPv4 parser (`2130706433`,
/// `0177.0.0.1`, `0x7f.1`, `127.1`). Where parsers disagree on a numeric
/// form (`010.0.0.1` is octal to WHATWG and `inet_aton`, decimal to some
/// others; `0o177` is octal to a few), every reading is classified and the
/// most internal one wins.
///
/// Names classify by what they are known to reach without asking DNS:
/// `localhost` and `*.localhost` (and the `ip6-localhost` family) are
/// loopback; known metadata names are [`HostClass::Metadata`]; names that
/// only a local resolver can answer — single-label names like `redis` or
/// `metadata`, and names under `.internal`, `.local`, `.localdomain`,
/// `.home.arpa`, `.lan`, `.corp`, `.home`, `.intranet`, `.svc` — are
/// [`HostClass::Private`]; names under public wildcard-DNS services that
/// spell their answer (`10.0.0.1.nip.io`, `10-0-0-1.sslip.io`) classify as
/// the address they spell. Any other name is [`HostClass::Public`]: what it
/// resolves to (perhaps an internal address) can only be checked when the
/// connection is made.
pub fn classify_host(host: &[u8]) -> HostClass {
    let host = trim_controls(host);
    if let [b'[', inner @ ..] = host {
        let inner = inner.strip_suffix(b"]").unwrap_or(inner);
        return match parse_ipv6(inner) {
            Some(ip) => classify_ipv6(ip),
            None => match ipv4_readings(Mapped::new(inner)) {
                Some(readings) => classify_readings(readings),
                None => HostClass::Invalid,
            },
        };
    }
    if host.contains(&b':')
        && let Some(ip) = parse_ipv6(host)
    {
        return classify_ipv6(ip);
    }
    // Hosts are nearly always plain ASCII, which needs no decoding.
    let plain = host
        .iter()
        .all(|&b| b.is_ascii() && !matches!(b, b'%' | b'\t' | b'\n' | b'\r'));
    if plain {
        if !ends_in_number(host) {
            if host.len() <= MAX_NAME && !host.iter().any(u8::is_ascii_uppercase) {
                return classify_name(host);
            }
            return classify_name_bytes(host.iter().map(u8::to_ascii_lowercase));
        }
        classify_readings(ipv4_readings_plain(host))
    } else {
        classify_bytes(Mapped::new(host))
    }
}

/// Classifies a host read from `bytes` (decoded and lowercased): as an IPv4
/// address if it ends in a number, as a name otherwise.
fn classify_bytes(bytes: impl Iterator<Item = u8> + Clone) -> HostClass {
    match ipv4_readings(bytes.clone()) {
        Some(readings) => classify_readings(readings),
        None => classify_name_bytes(bytes),
    }
}

fn classify_name_bytes(bytes: impl Iterator<Item = u8>) -> HostClass {
    let mut buf = [0u8; MAX_NAME];
    let mut len = 0;
    for b in bytes {
        match buf.get_mut(len) {
            Some(slot) => *slot = b,
            // Longer than any name DNS can resolve.
            None => return HostClass::Invalid,
        }
        len += 1;
    }
    classify_name(buf.get(..len).unwrap_or_default())
}

/// The WHATWG "ends in a number" test on a plain ASCII host: whether its
/// last label (after one trailing dot) is digits, `0x` and hex digits, or
/// (for the lenient reading) `0o` and octal digits.
fn ends_in_number(host: &[u8]) -> bool {
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

/// Longest host name kept for classification; DNS names are at most 253
/// bytes, so anything longer cannot resolve.
const MAX_NAME: usize = 256;

fn trim_controls(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s
        && *first <= b' '
    {
        s = rest;
    }
    while let [rest @ .., last] = s
        && *last <= b' '
    {
        s = rest;
    }
    s
}

fn classify_readings(readings: [Option<Ipv4Addr>; 2]) -> HostClass {
    let [whatwg, other] = readings.map(|r| r.map(classify_ipv4));
    match (whatwg, other) {
        (Some(a), Some(b)) => a.worst(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => HostClass::Invalid,
    }
}

/// Names and suffixes a resolver answers locally.
const LOOPBACK_NAMES: &[&[u8]] = &[
    b"localhost",
    b"ip6-localhost",
    b"ip6-loopback",
    b"localhost.localdomain",
    b"localhost6",
    b"localhost6.localdomain6",
];

/// Cloud metadata services reached by name.
const METADATA_NAMES: &[&[u8]] = &[
    b"metadata",
    b"metadata.google.internal",
    b"metadata.goog",
    b"instance-data",
    b"instance-data.ec2.internal",
    b"metadata.tencentyun.com",
];

/// Top-level domains (and one second-level) for private use: no public
/// resolver answers for them, so they lead into the local network.
const PRIVATE_SUFFIXES: &[&[u8]] = &[
    b".internal",
    b".local",
    b".localdomain",
    b".home.arpa",
    b".lan",
    b".corp",
    b".home",
    b".intranet",
    b".svc",
];

/// Public wildcard-DNS services whose names spell the address they resolve
/// to (`10.0.0.1.nip.io`, `app-10-0-0-1.sslip.io`, `app-0a000001.nip.io`).
const SPELLING_SUFFIXES: &[&[u8]] = &[b".nip.io", b".sslip.io", b".xip.io", b".nip.direct"];

/// Public names documented to resolve to loopback, subdomains included.
const LOOPBACK_DOMAINS: &[&[u8]] = &[b"localtest.me", b"lvh.me", b"vcap.me"];

fn classify_name(name: &[u8]) -> HostClass {
    let name = name.strip_suffix(b".").unwrap_or(name);
    if name.is_empty() {
        return HostClass::Invalid;
    }
    if LOOPBACK_NAMES.contains(&name) || name.ends_with(b".localhost") {
        return HostClass::Loopback;
    }
    if METADATA_NAMES.contains(&name) {
        return HostClass::Metadata;
    }
    for domain in LOOPBACK_DOMAINS {
        if name == *domain
            || (name.len() > domain.len()
                && name.ends_with(domain)
                && name.get(name.len() - domain.len() - 1) == Some(&b'.'))
        {
            return HostClass::Loopback;
        }
    }
    for suffix in SPELLING_SUFFIXES {
        if let Some(spelled) = name.strip_suffix(*suffix) {
            return spelled_address(spelled).map_or(HostClass::Public, classify_ipv4);
        }
    }
    if !name.contains(&b'.') {
        // A single label is only ever answered by the hosts file or a
        // search domain of the local network.
        return HostClass::Private;
    }
    if PRIVATE_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return HostClass::Private;
    }
    HostClass::Public
}

/// The IPv4 address a wildcard-DNS name spells before its service suffix:
/// dotted (`…10.0.0.1`), dashed (`…-10-0-0-1` or `10-0-0-1`) or eight hex
/// digits (`…-0a000001`).
fn spelled_address(spelled: &[u8]) -> Option<Ipv4Addr> {
    let dotted = || {
        let mut octets = [0u8; 4];
        let mut labels = spelled.rsplit(|&b| b == b'.');
        for slot in octets.iter_mut().rev() {
            *slot = decimal_octet(labels.next()?)?;
        }
        Some(Ipv4Addr::from(octets))
    };
    let last = spelled.rsplit(|&b| b == b'.').next()?;
    let dashed = || {
        let mut octets = [0u8; 4];
        let mut parts = last.rsplit(|&b| b == b'-');
        for slot in octets.iter_mut().rev() {
            *slot = decimal_octet(parts.next()?)?;
        }
        Some(Ipv4Addr::from(octets))
    };
    let hex = || {
        let part = last.rsplit(|&b| b == b'-').next()?;
        if part.len() != 8 {
            return None;
        }
        let mut value = 0u32;
        for &b in part {
            value = value << 4 | u32::from(hex_value(b)?);
        }
        Some(Ipv4Addr::from(value))
    };
    dotted().or_else(dashed).or_else(hex)
}

fn decimal_octet(s: &[u8]) -> Option<u8> {
    if s.is_empty() || s.len() > 3 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = s.iter().fold(0u32, |v, &b| v * 10 + u32::from(b - b'0'));
    u8::try_from(value).ok()
}

const fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

// ------------------------------------------------------------------ decoding

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
struct Mapped<'a> {
    inner: Decoded<'a>,
    pending: [u8; 4],
    pending_len: u8,
    pending_at: u8,
}

impl<'a> Mapped<'a> {
    fn new(host: &'a [u8]) -> Self {
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

// ---------------------------------------------------------------------- IPv4

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

/// [`ipv4_readings`] for a plain ASCII host that ends in a number, reading
/// the parts in place.
fn ipv4_readings_plain(host: &[u8]) -> [Option<Ipv4Addr>; 2] {
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
fn ipv4_readings(bytes: impl Iterator<Item = u8>) -> Option<[Option<Ipv4Addr>; 2]> {
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

// ---------------------------------------------------------------------- IPv6

/// Parses an IPv6 literal (without brackets; a `%zone` suffix is ignored),
/// following the WHATWG IPv6 parser, including a dotted IPv4 tail.
fn parse_ipv6(text: &[u8]) -> Option<Ipv6Addr> {
    let text = match memchr::memchr(b'%', text) {
        Some(zone) => text.get(..zone)?,
        None => text,
    };
    let mut pieces = [0u16; 8];
    let mut index = 0usize;
    let mut compress: Option<usize> = None;
    let mut i = 0usize;
    let at = |i: usize| text.get(i).copied();
    if at(0) == Some(b':') {
        if at(1) != Some(b':') {
            return None;
        }
        i = 2;
        index = 1;
        compress = Some(1);
    }
    while i < text.len() {
        if index == 8 {
            return None;
        }
        if at(i) == Some(b':') {
            if compress.is_some() {
                return None;
            }
            i += 1;
            index += 1;
            compress = Some(index);
            continue;
        }
        let mut value = 0u16;
        let mut length = 0;
        while length < 4
            && let Some(h) = at(i).and_then(hex_value)
        {
            value = value << 4 | u16::from(h);
            i += 1;
            length += 1;
        }
        match at(i) {
            Some(b'.') => {
                if length == 0 || index > 6 {
                    return None;
                }
                i -= length;
                let v4 = parse_dotted_quad(text.get(i..)?)?;
                let [a, b, c, d] = v4.octets();
                *pieces.get_mut(index)? = u16::from_be_bytes([a, b]);
                *pieces.get_mut(index + 1)? = u16::from_be_bytes([c, d]);
                index += 2;
                break;
            }
            Some(b':') => {
                i += 1;
                if i == text.len() {
                    return None;
                }
            }
            Some(_) => return None,
            None => {}
        }
        *pieces.get_mut(index)? = value;
        index += 1;
    }
    match compress {
        Some(c) => {
            let moved = index - c;
            let mut swap = 7;
            for k in 0..moved {
                pieces.swap(swap, c + moved - 1 - k);
                swap -= 1;
                if swap < c {
                    break;
                }
            }
        }
        None if index != 8 => return None,
        None => {}
    }
    Some(Ipv6Addr::from(pieces))
}

/// A strict dotted-quad IPv4 address, as allowed at the end of an IPv6
/// literal.
fn parse_dotted_quad(text: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = text.split(|&b| b == b'.');
    for slot in &mut octets {
        let part = parts.next()?;
        if part.len() > 1 && part.first() == Some(&b'0') {
            return None;
        }
        *slot = decimal_octet(part)?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn ipv4_ranges() {
        for (host, expected) in [
            ("10.1.2.3", HostClass::Private),
            ("172.16.0.1", HostClass::Private),
            ("172.32.0.1", HostClass::Public),
            ("192.168.1.1", HostClass::Private),
            ("100.64.0.1", HostClass::SharedAddressSpace),
            ("100.100.100.200", HostClass::Metadata),
            ("169.254.1.1", HostClass::LinkLocal),
            ("169.254.169.254", HostClass::Metadata),
            ("224.0.0.1", HostClass::Multicast),
            ("255.255.255.255", HostClass::Broadcast),
            ("240.0.0.1", HostClass::Reserved),
            ("0.0.0.0", HostClass::Unspecified),
            ("93.184.216.34", HostClass::Public),
        ] {
            assert_eq!(class(host), expected, "{host}");
        }
    }

    #[test]
    fn ipv6_forms() {
        for (host, expected) in [
            ("[::1]", HostClass::Loopback),
            ("[0:0:0:0:0:0:0:1]", HostClass::Loopback),
            ("[::]", HostClass::Unspecified),
            ("[::ffff:127.0.0.1]", HostClass::Loopback),
            ("[::ffff:7f00:1]", HostClass::Loopback),
            ("[::127.0.0.1]", HostClass::Loopback),
            ("[64:ff9b::a9fe:a9fe]", HostClass::Metadata),
            ("[2002:a00:1::]", HostClass::Private),
            ("[fe80::1%25eth0]", HostClass::LinkLocal),
            ("[fd00:ec2::254]", HostClass::Metadata),
            ("[fc00::1]", HostClass::Private),
            ("[ff02::1]", HostClass::Multicast),
            ("[2606:4700:4700::1111]", HostClass::Public),
            ("[::ffff:8.8.8.8]", HostClass::Public),
            ("::1", HostClass::Loopback),
            ("[1::2::3]", HostClass::Invalid),
        ] {
            assert_eq!(class(host), expected, "{host}");
        }
    }

    #[test]
    fn names() {
        for (host, expected) in [
            ("localhost", HostClass::Loopback),
            ("LOCALHOST.", HostClass::Loopback),
            ("api.localhost", HostClass::Loopback),
            ("ｌｏｃａｌｈｏｓｔ", HostClass::Loopback),
            ("localhoſt", HostClass::Loopback),
            ("metadata.google.internal", HostClass::Metadata),
            ("metadata", HostClass::Metadata),
            ("redis", HostClass::Private),
            ("db.prod.internal", HostClass::Private),
            ("printer.local", HostClass::Private),
            ("10.0.0.1.nip.io", HostClass::Private),
            ("app-127-0-0-1.sslip.io", HostClass::Loopback),
            ("app-a9fea9fe.nip.io", HostClass::Metadata),
            ("8.8.8.8.nip.io", HostClass::Public),
            ("foo.localtest.me", HostClass::Loopback),
            ("example.com", HostClass::Public),
            ("203.0.113.10.example.com", HostClass::Public),
            ("localhost.example.com", HostClass::Public),
        ] {
            assert_eq!(class(host), expected, "{host}");
        }
    }
}
