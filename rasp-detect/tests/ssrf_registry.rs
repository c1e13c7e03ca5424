//! Address classes against the IANA IPv4 and IPv6 Special-Purpose Address
//! Registries, transcribed below, and against std's own predicates.
//!
//! Every block of the registries is internal to the classifier, except the
//! NAT64 well-known prefix, 6to4 and Teredo, which lead wherever the IPv4
//! address they carry leads. docs/sinks/ssrf.md gives the registry's
//! "Globally Reachable" value of each block and why it is refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;
use rasp_detect::ssrf::{HostClass, classify_host, classify_ip};

/// A registry entry: the block, its name, and its "Globally Reachable"
/// column (`None` for N/A).
struct Entry {
    block: &'static str,
    name: &'static str,
    global: Option<bool>,
}

const fn entry(block: &'static str, name: &'static str, global: Option<bool>) -> Entry {
    Entry {
        block,
        name,
        global,
    }
}

/// The IANA IPv4 Special-Purpose Address Registry.
const IPV4_REGISTRY: &[Entry] = &[
    entry("0.0.0.0/8", "this network", Some(false)),
    entry("0.0.0.0/32", "this host on this network", Some(false)),
    entry("10.0.0.0/8", "private-use", Some(false)),
    entry("100.64.0.0/10", "shared address space", Some(false)),
    entry("127.0.0.0/8", "loopback", Some(false)),
    entry("169.254.0.0/16", "link local", Some(false)),
    entry("172.16.0.0/12", "private-use", Some(false)),
    entry("192.0.0.0/24", "IETF protocol assignments", Some(false)),
    entry(
        "192.0.0.0/29",
        "IPv4 service continuity prefix",
        Some(false),
    ),
    entry("192.0.0.8/32", "IPv4 dummy address", Some(false)),
    entry("192.0.0.9/32", "port control protocol anycast", Some(true)),
    entry("192.0.0.10/32", "TURN anycast", Some(true)),
    entry("192.0.0.170/32", "NAT64/DNS64 discovery", Some(false)),
    entry("192.0.0.171/32", "NAT64/DNS64 discovery", Some(false)),
    entry("192.0.2.0/24", "documentation (TEST-NET-1)", Some(false)),
    entry("192.31.196.0/24", "AS112-v4", Some(true)),
    entry("192.52.193.0/24", "AMT", Some(true)),
    entry("192.88.99.0/24", "deprecated (6to4 relay anycast)", None),
    entry("192.168.0.0/16", "private-use", Some(false)),
    entry(
        "192.175.48.0/24",
        "direct delegation AS112 service",
        Some(true),
    ),
    entry("198.18.0.0/15", "benchmarking", Some(false)),
    entry("198.51.100.0/24", "documentation (TEST-NET-2)", Some(false)),
    entry("203.0.113.0/24", "documentation (TEST-NET-3)", Some(false)),
    entry("224.0.0.0/4", "multicast (its own registry)", None),
    entry("240.0.0.0/4", "reserved", Some(false)),
    entry("255.255.255.255/32", "limited broadcast", Some(false)),
];

/// The IANA IPv6 Special-Purpose Address Registry, with the deprecated
/// site-local prefix and multicast, which have their own registries.
const IPV6_REGISTRY: &[Entry] = &[
    entry("::1/128", "loopback", Some(false)),
    entry("::/128", "unspecified", Some(false)),
    entry("::ffff:0:0/96", "IPv4-mapped", Some(false)),
    entry("64:ff9b::/96", "IPv4-IPv6 translation", Some(true)),
    entry(
        "64:ff9b:1::/48",
        "local-use IPv4/IPv6 translation",
        Some(false),
    ),
    entry("100::/64", "discard-only", Some(false)),
    entry("100:0:0:1::/64", "dummy IPv6 prefix", Some(false)),
    entry("2001::/23", "IETF protocol assignments", Some(false)),
    entry("2001::/32", "Teredo", None),
    entry("2001:1::1/128", "port control protocol anycast", Some(true)),
    entry("2001:1::2/128", "TURN anycast", Some(true)),
    entry(
        "2001:1::3/128",
        "DNS-SD service registration protocol anycast",
        Some(true),
    ),
    entry("2001:2::/48", "benchmarking", Some(false)),
    entry("2001:3::/32", "AMT", Some(true)),
    entry("2001:4:112::/48", "AS112-v6", Some(true)),
    entry("2001:10::/28", "deprecated ORCHID", Some(false)),
    entry("2001:20::/28", "ORCHIDv2", Some(true)),
    entry("2001:30::/28", "drone remote ID entity tags", Some(true)),
    entry("2001:db8::/32", "documentation", Some(false)),
    entry("2002::/16", "6to4", None),
    entry(
        "2620:4f:8000::/48",
        "direct delegation AS112 service",
        Some(true),
    ),
    entry("3fff::/20", "documentation", Some(false)),
    entry("5f00::/16", "segment routing SIDs", Some(false)),
    entry("fc00::/7", "unique-local", Some(false)),
    entry("fe80::/10", "link-local unicast", Some(false)),
    entry("fec0::/10", "deprecated site-local", Some(false)),
    entry("ff00::/8", "multicast", Some(false)),
];

/// Blocks whose destination is the IPv4 address they carry, not the
/// block itself.
fn carries_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from(u32::from(hi) << 16 | u32::from(lo));
    match s {
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] | [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(v4(hi, lo)),
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        [0x2001, 0, _, _, _, _, hi, lo] => Some(v4(!hi, !lo)),
        _ => None,
    }
}

fn net(block: &str) -> IpNet {
    block.parse().expect("a CIDR block")
}

/// Addresses of a block: its first, its last, and a few in between.
fn samples(net: IpNet, seed: u128) -> Vec<IpAddr> {
    match net {
        IpNet::V4(n) => {
            let (lo, hi) = (u32::from(n.network()), u32::from(n.broadcast()));
            let span = u128::from(hi - lo) + 1;
            let mid = |k: u128| lo + ((seed.wrapping_mul(k + 7)) % span) as u32;
            [lo, hi, mid(1), mid(2), mid(3)]
                .map(|v| IpAddr::V4(Ipv4Addr::from(v)))
                .to_vec()
        }
        IpNet::V6(n) => {
            let (lo, hi) = (u128::from(n.network()), u128::from(n.broadcast()));
            let span = hi - lo;
            let mid = |k: u128| {
                let r = seed
                    .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    .wrapping_add(k * 0x1234_5678);
                lo + if span == u128::MAX { r } else { r % (span + 1) }
            };
            [lo, hi, mid(1), mid(2), mid(3)]
                .map(|v| IpAddr::V6(Ipv6Addr::from(v)))
                .to_vec()
        }
    }
}

/// What the classifier must answer for `ip` of a registry block.
fn expected_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V6(v6) => match carries_ipv4(v6) {
            Some(v4) => classify_ip(IpAddr::V4(v4)).is_internal(),
            None => true,
        },
        IpAddr::V4(_) => true,
    }
}

#[test]
fn every_registry_block_is_internal_unless_it_carries_a_public_address() {
    for (i, e) in IPV4_REGISTRY.iter().chain(IPV6_REGISTRY).enumerate() {
        for ip in samples(net(e.block), i as u128 * 31 + 5) {
            let class = classify_ip(ip);
            assert_eq!(
                class.is_internal(),
                expected_internal(ip),
                "{ip} in {} ({}, globally reachable: {:?}) is {class:?}",
                e.block,
                e.name,
                e.global
            );
            // The same address written as a URL host.
            let host = match ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("[{v6}]"),
            };
            assert_eq!(classify_host(host.as_bytes()), class, "{host}");
        }
    }
}

#[test]
fn embedded_ipv4_decides_translated_and_tunnelled_addresses() {
    let v6 = |s: &str| IpAddr::V6(s.parse::<Ipv6Addr>().expect("valid"));
    for (ip, class) in [
        ("64:ff9b::7f00:1", HostClass::Loopback),
        ("64:ff9b::a9fe:a9fe", HostClass::Metadata),
        ("64:ff9b::808:808", HostClass::Public),
        ("64:ff9b:1::a00:1", HostClass::Private),
        ("64:ff9b:1::808:808", HostClass::Private),
        ("2002:7f00:1::", HostClass::Loopback),
        ("2002:808:808::1", HostClass::Public),
        // Teredo: server 65.54.227.120, client 127.0.0.1 inverted.
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", HostClass::Loopback),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", HostClass::Private),
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", HostClass::Public),
        ("2001:db8::1", HostClass::Reserved),
        ("2001:20::1", HostClass::Reserved),
        ("fec0::1", HostClass::Private),
    ] {
        assert_eq!(classify_ip(v6(ip)), class, "{ip}");
    }
}

#[test]
fn neighbours_of_the_blocks_are_public() {
    for host in [
        "192.0.1.255",
        "192.0.3.0",
        "192.31.195.255",
        "192.31.197.0",
        "192.52.192.255",
        "192.52.194.0",
        "192.88.98.255",
        "192.88.100.0",
        "192.175.47.255",
        "192.175.49.0",
        "198.17.255.255",
        "198.20.0.0",
        "198.51.99.255",
        "198.51.101.0",
        "203.0.112.255",
        "203.0.114.0",
        "100.63.255.255",
        "100.128.0.0",
        "223.255.255.255",
        "[2001:200::1]",
        "[2001:db7:ffff::1]",
        "[2001:db9::1]",
        "[2620:4f:7fff::1]",
        "[2620:4f:8001::1]",
        "[3fff:1000::1]",
        "[2606:4700:4700::1111]",
        "[2a00:1450:4001::1]",
        // Unallocated, but in no block of the registry.
        "[fe00::1]",
        "[4000::1]",
    ] {
        assert_eq!(classify_host(host.as_bytes()), HostClass::Public, "{host}");
    }
}

fn in_registry(ip: IpAddr) -> bool {
    IPV4_REGISTRY
        .iter()
        .chain(IPV6_REGISTRY)
        .any(|e| net(e.block).contains(&ip))
}

/// The metadata services that sit at public addresses.
fn public_metadata(ip: IpAddr) -> bool {
    ip == IpAddr::V4(Ipv4Addr::new(168, 63, 129, 16))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// std's stable predicates never call an address internal that the
    /// classifier calls public.
    #[test]
    fn agrees_with_std_where_std_has_a_predicate(bits in any::<u32>(), bits6 in any::<u128>()) {
        let v4 = Ipv4Addr::from(bits);
        let std_special = v4.is_private() || v4.is_loopback() || v4.is_link_local()
            || v4.is_broadcast() || v4.is_documentation() || v4.is_unspecified()
            || v4.is_multicast() || bits >> 24 == 0;
        if std_special {
            prop_assert!(classify_ip(IpAddr::V4(v4)).is_internal(), "{}", v4);
        }
        let v6 = Ipv6Addr::from(bits6);
        let std_special = v6.is_loopback() || v6.is_unspecified() || v6.is_multicast()
            || v6.is_unique_local() || v6.is_unicast_link_local();
        if std_special {
            prop_assert!(classify_ip(IpAddr::V6(v6)).is_internal(), "{}", v6);
        }
    }

    /// Outside the registries' blocks, an address is public.
    #[test]
    fn addresses_outside_every_block_are_public(bits in any::<u32>(), bits6 in any::<u128>()) {
        for ip in [IpAddr::V4(Ipv4Addr::from(bits)), IpAddr::V6(Ipv6Addr::from(bits6))] {
            if !in_registry(ip) && !public_metadata(ip) {
                prop_assert_eq!(classify_ip(ip), HostClass::Public, "{}", ip);
            }
        }
    }

    /// Inside a block, an address is internal unless it carries a public
    /// IPv4 address.
    #[test]
    fn addresses_inside_a_block_follow_the_table(pick in 0usize..64, offset in any::<u128>()) {
        let all: Vec<&Entry> = IPV4_REGISTRY.iter().chain(IPV6_REGISTRY).collect();
        let e = all[pick % all.len()];
        let ip = match net(e.block) {
            IpNet::V4(n) => {
                let size = 1u128 << (32 - n.prefix_len());
                IpAddr::V4(Ipv4Addr::from(u32::from(n.network()) + (offset % size) as u32))
            }
            IpNet::V6(n) => {
                let host_bits = 128 - u32::from(n.prefix_len());
                let mask = if host_bits == 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
                IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) | (offset & mask)))
            }
        };
        prop_assert_eq!(classify_ip(ip).is_internal(), expected_internal(ip), "{} in {}", ip, e.block);
    }
}

#[test]
fn the_transcribed_tables_parse() {
    for e in IPV4_REGISTRY {
        assert!(
            matches!(net(e.block), IpNet::V4(Ipv4Net { .. })),
            "{}",
            e.block
        );
    }
    for e in IPV6_REGISTRY {
        assert!(
            matches!(net(e.block), IpNet::V6(Ipv6Net { .. })),
            "{}",
            e.block
        );
    }
}
