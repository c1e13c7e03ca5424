//! IPv6 literals: the address inside a URL's brackets.
//!
//! Follows the WHATWG IPv6 parser, including a dotted IPv4 tail
//! (`::ffff:127.0.0.1`), so that a literal classifies as the address a
//! browser or Rust's `url` would connect to. The caller removes the
//! brackets.

use core::net::{Ipv4Addr, Ipv6Addr};

use super::idna::hex_value;
use super::ipv4::decimal_octet;

/// Parses an IPv6 literal (without brackets; a `%zone` suffix is ignored),
/// following the WHATWG IPv6 parser, including a dotted IPv4 tail.
pub(super) fn parse(text: &[u8]) -> Option<Ipv6Addr> {
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
    use crate::ssrf::{HostClass, classify_host};

    fn class(host: &str) -> HostClass {
        classify_host(host.as_bytes())
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
}
