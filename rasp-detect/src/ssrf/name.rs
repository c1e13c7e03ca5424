//! Host names: what a name reaches without asking DNS.
//!
//! Most names need a resolver to tell where they lead, and their answer is
//! judged when the connection is made. A few spell their answer: the
//! loopback names every hosts file carries, the cloud metadata names,
//! names under suffixes no public resolver answers (single labels,
//! `.internal`, `.local` …), documented public names that resolve to
//! loopback, and wildcard-DNS services that echo the address written in the
//! name (`10.0.0.1.nip.io`). Those are classified here, from the ASCII
//! a client looks up for the host ([`super::idna`]).

use core::net::Ipv4Addr;

use super::classify::{HostClass, classify_ipv4};
use super::idna::hex_value;
use super::ipv4::decimal_octet;

/// Longest host name kept for classification; DNS names are at most 253
/// bytes, so anything longer cannot resolve.
pub(super) const MAX_NAME: usize = 256;

/// Classifies a name read from `bytes` (decoded and lowercased), copied
/// into a buffer on the stack.
pub(super) fn classify_name_bytes(bytes: impl Iterator<Item = u8>) -> HostClass {
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

/// Classifies a lowercased ASCII name (one trailing dot allowed).
pub(super) fn classify_name(name: &[u8]) -> HostClass {
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

#[cfg(test)]
mod tests {
    use crate::ssrf::{HostClass, classify_host};

    fn class(host: &str) -> HostClass {
        classify_host(host.as_bytes())
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
