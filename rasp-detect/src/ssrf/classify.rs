//! Address classes: where an IP address leads.
//!
//! The one place that knows the special-purpose ranges (loopback, private,
//! link-local, shared, metadata, multicast, reserved …), so that a host
//! spelled in a URL and an address resolved at connect time are judged by
//! the same table. The parsers beside this module only turn spellings into
//! addresses; they never decide what an address is.

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
    /// Special-purpose ranges of the IANA registries where no public web
    /// service is: reserved `240/4`, IETF protocol assignments
    /// `192.0.0/24`, documentation (`192.0.2/24`, `198.51.100/24`,
    /// `203.0.113/24`, `2001:db8::/32`, `3fff::/20`), benchmarking
    /// `198.18/15`, `2001:2::/48`, anycast infrastructure (AS112, AMT),
    /// ORCHIDs, discard-only `100::/64`, segment-routing `5f00::/16`.
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

pub(super) fn classify_ipv4(ip: Ipv4Addr) -> HostClass {
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
        (224..=239, ..) => HostClass::Multicast,
        (255, 255, 255, 255) => HostClass::Broadcast,
        _ if is_special_ipv4(a, b, c) => HostClass::Reserved,
        _ => HostClass::Public,
    }
}

/// The blocks of the IANA IPv4 Special-Purpose Address Registry that no
/// web service is reached at, beyond the private, loopback, link-local and
/// shared ones named above. docs/sinks/ssrf.md lists each with the
/// registry's "Globally Reachable" value and why it is refused.
const fn is_special_ipv4(a: u8, b: u8, c: u8) -> bool {
    matches!(
        (a, b, c),
        // IETF protocol assignments: DS-Lite, dummy, PCP and TURN anycast
        // (answered by the nearest on-path server), NAT64 discovery.
        (192, 0, 0)
        // Documentation: TEST-NET-1, -2 and -3.
        | (192, 0, 2)
        | (198, 51, 100)
        | (203, 0, 113)
        // AS112 DNS sinks and AMT relays: anycast infrastructure.
        | (192, 31, 196)
        | (192, 175, 48)
        | (192, 52, 193)
        // Deprecated 6to4 relay anycast.
        | (192, 88, 99)
        // Benchmarking.
        | (198, 18..=19, _)
        // Reserved for future use.
        | (240..=255, _, _)
    )
}

pub(super) fn classify_ipv6(ip: Ipv6Addr) -> HostClass {
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
        // NAT64, well-known prefix: the translator forwards to the IPv4
        // address it carries.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => embedded(hi, lo),
        // NAT64, local-use prefix: a translator of the local network.
        [0x64, 0xff9b, 1, ..] => HostClass::Private,
        // 6to4 carries the IPv4 address right after the prefix.
        [0x2002, hi, lo, ..] => embedded(hi, lo),
        // Teredo carries its client's IPv4 address in the last 32 bits,
        // each bit inverted; packets are relayed to that address.
        [0x2001, 0, _, _, _, _, hi, lo] => embedded(!hi, !lo),
        [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254] => HostClass::Metadata,
        [first, ..] if first & 0xfe00 == 0xfc00 => HostClass::Private,
        [first, ..] if first & 0xffc0 == 0xfe80 => HostClass::LinkLocal,
        // Deprecated site-local: still routed inside many sites.
        [first, ..] if first & 0xffc0 == 0xfec0 => HostClass::Private,
        [first, ..] if first & 0xff00 == 0xff00 => HostClass::Multicast,
        _ if is_special_ipv6(s) => HostClass::Reserved,
        _ => HostClass::Public,
    }
}

/// The blocks of the IANA IPv6 Special-Purpose Address Registry that no
/// web service is reached at (see docs/sinks/ssrf.md for each).
const fn is_special_ipv6(s: [u16; 8]) -> bool {
    matches!(
        s,
        // Discard-only and dummy prefixes.
        [0x100, 0, 0, 0 | 1, ..]
        // IETF protocol assignments: PCP, TURN and DNS-SD anycast,
        // benchmarking, AMT, AS112, ORCHIDs, drone entity tags.
        | [0x2001, 0x0000..=0x01ff, ..]
        // Documentation.
        | [0x2001, 0x0db8, ..]
        | [0x3fff, 0x0000..=0x0fff, ..]
        // Segment routing SIDs.
        | [0x5f00, ..]
        // Direct delegation AS112.
        | [0x2620, 0x4f, 0x8000, ..]
    )
}

/// The class of a numeric host read two ways (WHATWG, and the lenient
/// reading of the parsers that differ from it): the more internal one, since
/// an attacker picks the client whose reading reaches further in.
pub(super) fn classify_readings(readings: [Option<Ipv4Addr>; 2]) -> HostClass {
    let [whatwg, other] = readings.map(|r| r.map(classify_ipv4));
    match (whatwg, other) {
        (Some(a), Some(b)) => a.worst(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => HostClass::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::HostClass;
    use crate::ssrf::classify_host;

    fn class(host: &str) -> HostClass {
        classify_host(host.as_bytes())
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
}
