//! Host classification: which hosts a request must not reach.
//!
//! The entry point that sends a host to the reader its spelling calls for:
//! a bracketed or colon-bearing host to the IPv6 parser ([`super::ipv6`]),
//! a host whose last label is a number to the IPv4 readings
//! ([`super::ipv4`]), anything else to the name rules ([`super::name`]),
//! through the decoding and IDNA mapping of [`super::idna`] when the host
//! is not plain ASCII. What an address then is, is decided in one place,
//! [`super::classify`].
//!
//! A host is read the way URL parsers and resolvers read it, so that every
//! spelling of an internal address classifies the same: percent-encoding is
//! decoded, ASCII is lowercased, a host that is not plain ASCII is mapped
//! through UTS #46 as the `url` crate maps it (fullwidth `１２７．０．０．１`,
//! circled `①②⑦`, `ſ` for `s`, `。` for `.`, ignored characters dropped),
//! one trailing dot is dropped, and
//! numeric hosts go through the WHATWG IPv4 parser (`2130706433`,
//! `0177.0.0.1`, `0x7f.1`, `127.1`). Where parsers disagree on a numeric
//! form (`010.0.0.1` is octal to WHATWG and `inet_aton`, decimal to some
//! others; `0o177` is octal to a few), every reading is classified and the
//! most internal one wins.

use super::classify::{HostClass, classify_ipv6, classify_readings};
use super::idna::{self, Decoded};
use super::name::{MAX_NAME, classify_name, classify_name_bytes};
use super::{ipv4, ipv6};

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
        let mut buffer = [0u8; LITERAL_BUFFER];
        return match ipv6::parse(without_tabs(inner, &mut buffer)) {
            Some(ip) => classify_ipv6(ip),
            // Not IPv6: only an IPv4 address in brackets is read, by the
            // clients that strip them; a name in brackets is no host.
            None => classify_spelling(inner, |ascii| match ipv4::readings(ascii) {
                Some(readings) => classify_readings(readings),
                None => HostClass::Invalid,
            }),
        };
    }
    if host.contains(&b':') {
        let mut buffer = [0u8; LITERAL_BUFFER];
        if let Some(ip) = ipv6::parse(without_tabs(host, &mut buffer)) {
            return classify_ipv6(ip);
        }
    }
    // Hosts are nearly always plain ASCII, which needs no decoding.
    let plain = host
        .iter()
        .all(|&b| b.is_ascii() && !matches!(b, b'%' | b'\t' | b'\n' | b'\r'));
    if plain {
        classify_plain(host)
    } else {
        classify_spelling(host, classify_bytes)
    }
}

/// Classifies a plain ASCII host (no percent sign, tab or line break).
fn classify_plain(host: &[u8]) -> HostClass {
    if !ipv4::ends_in_number(host) {
        if host.len() <= MAX_NAME && !host.iter().any(u8::is_ascii_uppercase) {
            return classify_name(host);
        }
        return classify_name_bytes(host.iter().map(u8::to_ascii_lowercase));
    }
    classify_readings(ipv4::readings_plain(host))
}

/// Hands `judge` the ASCII a client looks up for a host that is not plain
/// ASCII: decoded in place when its percent-decoded bytes are ASCII,
/// mapped through UTS #46 otherwise. A host the WHATWG parser refuses is
/// [`HostClass::Invalid`].
fn classify_spelling(host: &[u8], judge: impl FnOnce(Decoded<'_>) -> HostClass) -> HostClass {
    if Decoded::new(host).all(|b| b.is_ascii()) {
        return judge(Decoded::new(host));
    }
    idna::to_ascii(host, |ascii| match ascii {
        Some(ascii) => judge(Decoded::new(ascii)),
        None => HostClass::Invalid,
    })
}

/// Classifies a host read from `bytes` (decoded and lowercased): as an IPv4
/// address if it ends in a number, as a name otherwise.
fn classify_bytes(bytes: Decoded<'_>) -> HostClass {
    match ipv4::readings(bytes.clone()) {
        Some(readings) => classify_readings(readings),
        None => classify_name_bytes(bytes),
    }
}

/// Room for an IPv6 literal with its tabs and line breaks deleted: longer
/// than any literal WHATWG accepts (45 bytes), so a cut-off copy is one the
/// parser refuses.
const LITERAL_BUFFER: usize = 64;

/// `text` without ASCII tabs and line breaks, which URL parsers delete from
/// a whole URL before reading it (brackets included). Borrowed as it is in
/// the usual case; copied into `buffer` otherwise, without allocating.
fn without_tabs<'a>(text: &'a [u8], buffer: &'a mut [u8; LITERAL_BUFFER]) -> &'a [u8] {
    let removed = |b: &u8| matches!(b, b'\t' | b'\n' | b'\r');
    if !text.iter().any(removed) {
        return text;
    }
    let mut len = 0;
    for &b in text.iter().filter(|b| !removed(b)) {
        if len == LITERAL_BUFFER {
            // Too long to be a literal: what is kept is refused as one.
            break;
        }
        buffer[len] = b;
        len += 1;
    }
    &buffer[..len]
}

/// The host without the spaces and control characters around it, which
/// URL parsers trim.
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
