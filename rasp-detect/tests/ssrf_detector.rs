//! The SSRF detector on realistic outbound URLs: internal destinations and
//! dangerous schemes it must flag, public and application-chosen
//! destinations it must let through, and hostile text it must survive.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use memchr::memmem::Finder;
use proptest::prelude::*;
use rasp_detect::Reason;
use rasp_detect::ssrf::{HostClass, classify_host, classify_ip, detect};

fn reason(url: &str, input: &str) -> Option<Reason> {
    detect(url.as_bytes(), &Finder::new(input.as_bytes())).map(|f| f.reason)
}

/// Spellings of internal hosts, each with what it reaches.
const INTERNAL_HOSTS: &[(&str, HostClass)] = &[
    ("127.0.0.1", HostClass::Loopback),
    ("127.255.0.9", HostClass::Loopback),
    ("localhost", HostClass::Loopback),
    ("LocalHost.", HostClass::Loopback),
    ("grafana.localhost", HostClass::Loopback),
    ("127.1", HostClass::Loopback),
    ("0x7f.0.0.1", HostClass::Loopback),
    ("017700000001", HostClass::Loopback),
    ("2130706433", HostClass::Loopback),
    ("%6c%6f%63%61%6c%68%6f%73%74", HostClass::Loopback),
    ("[::1]", HostClass::Loopback),
    ("[0000::0001]", HostClass::Loopback),
    ("[::ffff:127.0.0.2]", HostClass::Loopback),
    ("0.0.0.0", HostClass::Unspecified),
    ("[::]", HostClass::Unspecified),
    ("10.20.30.40", HostClass::Private),
    ("172.20.1.1", HostClass::Private),
    ("192.168.0.10", HostClass::Private),
    ("3232235530", HostClass::Private),
    ("[fd12:3456::7]", HostClass::Private),
    ("vault.service.internal", HostClass::Private),
    ("nas.local", HostClass::Private),
    ("postgres", HostClass::Private),
    ("api.default.svc", HostClass::Private),
    ("100.72.1.1", HostClass::SharedAddressSpace),
    ("169.254.10.10", HostClass::LinkLocal),
    ("[fe80::abcd]", HostClass::LinkLocal),
    ("169.254.169.254", HostClass::Metadata),
    ("0xa9.0xfe.0xa9.0xfe", HostClass::Metadata),
    ("[::ffff:a9fe:a9fe]", HostClass::Metadata),
    ("[fd00:ec2::254]", HostClass::Metadata),
    ("100.100.100.200", HostClass::Metadata),
    ("metadata.google.internal", HostClass::Metadata),
    ("224.0.0.251", HostClass::Multicast),
    ("[ff02::fb]", HostClass::Multicast),
    ("255.255.255.255", HostClass::Broadcast),
    ("250.1.2.3", HostClass::Reserved),
    ("192.168.4.2.nip.io", HostClass::Private),
];

const PUBLIC_HOSTS: &[&str] = &[
    "example.org",
    "api.stripe.com",
    "hooks.example.net",
    "93.184.216.34",
    "1.1.1.1",
    "[2001:4860:4860::8888]",
    "localhost.example.org",
    "internal.example.com",
    "10.0.0.1.example.com",
    "xn--bcher-kva.example",
    "8.8.4.4.nip.io",
];

#[test]
fn classifies_every_spelling() {
    for (host, class) in INTERNAL_HOSTS {
        assert_eq!(classify_host(host.as_bytes()), *class, "{host}");
        assert!(class.is_internal());
    }
    for host in PUBLIC_HOSTS {
        assert_eq!(classify_host(host.as_bytes()), HostClass::Public, "{host}");
    }
}

#[test]
fn classifies_resolved_addresses() {
    let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
    assert_eq!(classify_ip(v4(127, 0, 0, 1)), HostClass::Loopback);
    assert_eq!(classify_ip(v4(10, 9, 8, 7)), HostClass::Private);
    assert_eq!(classify_ip(v4(8, 8, 8, 8)), HostClass::Public);
    let v6 = |s: &str| IpAddr::V6(s.parse::<Ipv6Addr>().expect("valid"));
    assert_eq!(classify_ip(v6("::ffff:10.0.0.1")), HostClass::Private);
    assert_eq!(classify_ip(v6("64:ff9b::7f00:1")), HostClass::Loopback);
    assert_eq!(classify_ip(v6("2002:c0a8:101::1")), HostClass::Private);
    assert_eq!(classify_ip(v6("2606:4700::1111")), HostClass::Public);
}

#[test]
fn flags_internal_hosts_chosen_by_the_input() {
    for (host, _) in INTERNAL_HOSTS {
        // The whole URL from the user.
        let url = format!("http://{host}/status");
        assert_eq!(reason(&url, &url), Some(Reason::InternalAddress), "{url}");
        // Only the host from the user.
        let url = format!("https://{host}/v1/render");
        assert_eq!(
            reason(&url, host),
            Some(Reason::InternalAddress),
            "{host} in {url}"
        );
        // Host and port from the user.
        let input = format!("{host}:8443");
        let url = format!("https://{input}/v1/render");
        assert_eq!(
            reason(&url, &input),
            Some(Reason::InternalAddress),
            "{input} in {url}"
        );
    }
}

#[test]
fn flags_parser_confusion() {
    for url in [
        "http://trusted.example@127.0.0.1/",
        "http://trusted.example\\@169.254.169.254/",
        "http:\\\\127.0.0.1\\admin",
        "http:/127.0.0.1/admin",
        "http://127.0.0.1#@trusted.example/",
        "  http://127.0.0.1/",
        "ht\ntp://127.0.0.1/",
        "HTTP://127.0.0.1/",
        "//127.0.0.1/admin",
        "127.0.0.1:6379/",
    ] {
        assert_eq!(reason(url, url), Some(Reason::InternalAddress), "{url:?}");
    }
}

#[test]
fn flags_inputs_that_end_or_reroute_the_authority() {
    // The application appends its own domain or path; the input cuts it off.
    let url = "https://10.1.1.1#.cdn.example.net/img.png";
    assert_eq!(reason(url, "10.1.1.1#"), Some(Reason::InternalAddress));
    let url = "https://cdn.example.net@localhost/img.png";
    assert_eq!(reason(url, "@localhost"), Some(Reason::InternalAddress));
}

#[test]
fn flags_dangerous_schemes_chosen_by_the_input() {
    for url in [
        "file:///proc/self/environ",
        "file://localhost/etc/hosts",
        "gopher://10.0.0.3:11211/_stats",
        "dict://mail.example.org:25/",
        "ftp://anonymous@files.example.org/pub",
        "ldap://directory.example.org/o=x",
        "jar:https://example.org/lib.jar!/",
        "netdoc:///etc/hosts",
        "php://filter/resource=index.php",
        "tftp://files.example.org/boot",
    ] {
        assert_eq!(reason(url, url), Some(Reason::DangerousScheme), "{url}");
    }
    assert_eq!(
        reason("gopher://example.org/", "gopher"),
        Some(Reason::DangerousScheme)
    );
}

#[test]
fn allows_public_urls_from_users() {
    for host in PUBLIC_HOSTS {
        for url in [
            format!("https://{host}/"),
            format!("https://{host}/webhook?token=abc#top"),
            format!("http://user:secret@{host}:8080/a/b"),
        ] {
            assert_eq!(reason(&url, &url), None, "{url}");
        }
        let url = format!("https://{host}/v1/render");
        assert_eq!(reason(&url, host), None, "{host} in {url}");
    }
    for url in [
        "https://search.example.org/?q=http://127.0.0.1/",
        "https://example.org/redirect?to=localhost",
        "wss://stream.example.org/feed",
    ] {
        assert_eq!(reason(url, url), None, "{url}");
    }
}

#[test]
fn allows_inputs_in_the_path_of_an_internal_host() {
    for input in [
        "42",
        "order-7",
        "8080",
        "http",
        "10.0",
        "@169.254.169.254",
        "..\\..\\@localhost",
        "//evil.example",
        "?x=@127.0.0.1",
    ] {
        let url = format!("http://10.0.0.5:8080/orders/{input}?fields=id");
        assert_eq!(reason(&url, input), None, "{input} in {url}");
    }
}

#[test]
fn leaves_names_that_need_dns_to_the_connect_time_check() {
    // These may well resolve to internal addresses; only the resolver knows.
    for url in [
        "https://rebind.example.net/",
        "http://a.b.example.com:8080/x",
    ] {
        assert_eq!(reason(url, url), None, "{url}");
    }
}

#[test]
fn survives_hostile_text_in_linear_time() {
    let mb = 1 << 20;
    let cases: Vec<(String, &str)> = vec![
        (format!("http://{}/", "a".repeat(mb)), "aa"),
        (format!("http://{}/", "@".repeat(mb)), "@@"),
        (format!("http://{}/", "0.".repeat(mb / 2)), "0.0."),
        (format!("http://[{}]/", ":".repeat(mb)), "::"),
        (format!("http://{}/", "%31".repeat(mb / 3)), "%31%31"),
        (
            format!("http://{}/", "\u{2460}".repeat(mb / 3)),
            "\u{2460}\u{2460}",
        ),
        ("http:".repeat(mb / 5), "http:http:"),
        ("/".repeat(mb), "//"),
    ];
    for (url, input) in &cases {
        let _ = detect(url.as_bytes(), &Finder::new(input.as_bytes()));
    }
}

/// The IPv4 ranges that are not public, from the IANA special-purpose
/// registry and the clouds' documentation, in order of precedence: the
/// first range that holds an address decides its class.
const IPV4_RANGES: &[(&str, HostClass)] = &[
    ("169.254.169.254/32", HostClass::Metadata),
    ("169.254.170.2/32", HostClass::Metadata),
    ("169.254.170.23/32", HostClass::Metadata),
    ("169.254.0.23/32", HostClass::Metadata),
    ("100.100.100.200/32", HostClass::Metadata),
    ("192.0.0.192/32", HostClass::Metadata),
    ("168.63.129.16/32", HostClass::Metadata),
    ("0.0.0.0/8", HostClass::Unspecified),
    ("10.0.0.0/8", HostClass::Private),
    ("100.64.0.0/10", HostClass::SharedAddressSpace),
    ("127.0.0.0/8", HostClass::Loopback),
    ("169.254.0.0/16", HostClass::LinkLocal),
    ("172.16.0.0/12", HostClass::Private),
    ("192.168.0.0/16", HostClass::Private),
    ("192.0.0.0/24", HostClass::Reserved),
    ("192.0.2.0/24", HostClass::Reserved),
    ("198.51.100.0/24", HostClass::Reserved),
    ("203.0.113.0/24", HostClass::Reserved),
    ("192.31.196.0/24", HostClass::Reserved),
    ("192.175.48.0/24", HostClass::Reserved),
    ("192.52.193.0/24", HostClass::Reserved),
    ("192.88.99.0/24", HostClass::Reserved),
    ("198.18.0.0/15", HostClass::Reserved),
    ("224.0.0.0/4", HostClass::Multicast),
    ("255.255.255.255/32", HostClass::Broadcast),
    ("240.0.0.0/4", HostClass::Reserved),
];

/// IPv6 ranges with a class of their own, in order of precedence.
const IPV6_RANGES: &[(&str, HostClass)] = &[
    ("::/128", HostClass::Unspecified),
    ("::1/128", HostClass::Loopback),
    ("64:ff9b:1::/48", HostClass::Private),
    ("fd00:ec2::254/128", HostClass::Metadata),
    ("100::/64", HostClass::Reserved),
    ("100:0:0:1::/64", HostClass::Reserved),
    ("2001::/23", HostClass::Reserved),
    ("2001:db8::/32", HostClass::Reserved),
    ("3fff::/20", HostClass::Reserved),
    ("5f00::/16", HostClass::Reserved),
    ("2620:4f:8000::/48", HostClass::Reserved),
    ("fc00::/7", HostClass::Private),
    ("fe80::/10", HostClass::LinkLocal),
    ("fec0::/10", HostClass::Private),
    ("ff00::/8", HostClass::Multicast),
];

/// IPv6 ranges that carry an IPv4 address, with the bit offset of that
/// address: IPv4-compatible, IPv4-mapped, IPv4-translated, NAT64, 6to4.
const IPV6_EMBEDDING: &[(&str, u32)] = &[
    ("::/96", 96),
    ("::ffff:0:0/96", 96),
    ("::ffff:0:0:0/96", 96),
    ("64:ff9b::/96", 96),
    ("2002::/16", 16),
    // Teredo: the client's address, each bit inverted.
    ("2001::/32", 128),
];

fn v4_nets() -> Vec<(Ipv4Net, HostClass)> {
    IPV4_RANGES
        .iter()
        .map(|(net, class)| (net.parse().expect("a CIDR"), *class))
        .collect()
}

fn oracle_v4(ip: Ipv4Addr) -> HostClass {
    v4_nets()
        .into_iter()
        .find(|(net, _)| net.contains(&ip))
        .map_or(HostClass::Public, |(_, class)| class)
}

fn oracle_v6(ip: Ipv6Addr) -> HostClass {
    // The loopback and unspecified addresses are also IPv4-compatible.
    for (net, class) in &IPV6_RANGES[..2] {
        if net.parse::<Ipv6Net>().expect("a CIDR").contains(&ip) {
            return *class;
        }
    }
    for (net, offset) in IPV6_EMBEDDING {
        if net.parse::<Ipv6Net>().expect("a CIDR").contains(&ip) {
            if *offset == 128 {
                return oracle_v4(Ipv4Addr::from(!(u128::from(ip) as u32)));
            }
            let bits = u128::from(ip) >> (96 - offset) & 0xffff_ffff;
            return oracle_v4(Ipv4Addr::from(bits as u32));
        }
    }
    IPV6_RANGES[2..]
        .iter()
        .find(|(net, _)| net.parse::<Ipv6Net>().expect("a CIDR").contains(&ip))
        .map_or(HostClass::Public, |(_, class)| *class)
}

/// An address inside one of the listed ranges (host bits from `bits`), or
/// anywhere.
fn near_ranges() -> impl Strategy<Value = IpAddr> {
    let nets: Vec<IpNet> = IPV4_RANGES
        .iter()
        .chain(IPV6_RANGES)
        .map(|(net, _)| net)
        .chain(IPV6_EMBEDDING.iter().map(|(net, _)| net))
        .map(|net| net.parse().expect("a CIDR"))
        .collect();
    prop_oneof![
        (0..nets.len(), any::<u128>()).prop_map(move |(i, bits)| match nets[i] {
            IpNet::V4(net) => {
                let host = u32::from(net.hostmask()) & bits as u32;
                IpAddr::V4(Ipv4Addr::from(u32::from(net.network()) | host))
            }
            IpNet::V6(net) => {
                let host = u128::from(net.hostmask()) & bits;
                IpAddr::V6(Ipv6Addr::from(u128::from(net.network()) | host))
            }
        }),
        any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(n))),
        any::<u128>().prop_map(|n| IpAddr::V6(Ipv6Addr::from(n))),
    ]
}

#[test]
fn range_tables_cover_every_class() {
    for (net, class) in IPV4_RANGES.iter().chain(IPV6_RANGES) {
        let net: IpNet = net.parse().expect("a CIDR");
        for ip in [net.network(), net.broadcast()] {
            let expected = match ip {
                IpAddr::V4(v4) => oracle_v4(v4),
                IpAddr::V6(v6) => oracle_v6(v6),
            };
            assert_eq!(classify_ip(ip), expected, "{ip} in {net}");
        }
        assert!(class.is_internal());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn classifies_addresses_like_the_range_tables(ip in near_ranges()) {
        let expected = match ip {
            IpAddr::V4(v4) => oracle_v4(v4),
            IpAddr::V6(v6) => oracle_v6(v6),
        };
        prop_assert_eq!(classify_ip(ip), expected, "{}", ip);
        let host = match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        prop_assert_eq!(classify_host(host.as_bytes()), expected, "{}", host);
    }
}

proptest! {
    #[test]
    fn never_panics(text in proptest::collection::vec(any::<u8>(), 0..256), from in 0usize..256, len in 0usize..32) {
        let start = from.min(text.len());
        let end = (start + len).min(text.len());
        let input = &text[start..end];
        if let Some(f) = detect(&text, &Finder::new(input)) {
            prop_assert!(text[f.offset..].starts_with(input));
        }
        let _ = classify_host(&text);
    }

    #[test]
    fn agrees_with_the_standard_parser_on_dotted_quads(a: u8, b: u8, c: u8, d: u8) {
        let host = format!("{a}.{b}.{c}.{d}");
        let ip = IpAddr::V4(Ipv4Addr::new(a, b, c, d));
        prop_assert_eq!(classify_host(host.as_bytes()), classify_ip(ip));
    }

    #[test]
    fn agrees_with_the_standard_parser_on_ipv6(segments: [u16; 8]) {
        let ip = Ipv6Addr::from(segments);
        let host = format!("[{ip}]");
        prop_assert_eq!(classify_host(host.as_bytes()), classify_ip(IpAddr::V6(ip)));
    }

    #[test]
    fn reads_one_number_as_the_whole_address(n: u32) {
        let ip = IpAddr::V4(Ipv4Addr::from(n));
        prop_assert_eq!(classify_host(n.to_string().as_bytes()), classify_ip(ip));
        prop_assert_eq!(classify_host(format!("{n:#x}").as_bytes()), classify_ip(ip));
    }
}

#[test]
fn an_input_that_changes_a_host_the_application_fixed_is_flagged_wherever_it_leads() {
    for (input, why) in [
        (
            "@evil.example/",
            "userinfo turns the fixed host into a user name",
        ),
        (
            ".evil.example/",
            "extends the fixed host into the attacker's domain",
        ),
        (
            ":6379/",
            "moves the request to another port of the fixed host",
        ),
    ] {
        let url = format!("https://api.example.com{input}");
        assert_eq!(
            reason(&url, input),
            Some(Reason::ControlsAuthority),
            "{url}: {why}"
        );
    }
}

#[test]
fn an_input_that_only_names_a_public_host_or_a_label_of_it_is_not_flagged() {
    for (url, input) in [
        (
            "https://hooks.slack.com/services/T000/B000",
            "https://hooks.slack.com/services/T000/B000",
        ),
        ("https://cdn.example.org:8443/api", "cdn.example.org:8443"),
        ("https://acme.example.com/dashboard", "acme"),
        ("https://api.example.com/v1/users/@me", "@me"),
        ("https://api.example.com/search?q=a:b/c", "a:b/c"),
    ] {
        assert_eq!(reason(url, input), None, "{url} with {input:?}");
    }
}

/// URL parsers delete ASCII tabs and line breaks from the whole URL before
/// they read it, brackets included: `http://[::\t1]/` reaches loopback. The
/// host classifier must read the literal the same way, and `url` (WHATWG)
/// is the oracle of what a client connects to.
#[test]
fn tabs_and_line_breaks_inside_an_ipv6_literal_are_deleted_as_clients_do() {
    for host in [
        "[::\t1]",
        "[:\n:1]",
        "[::\r1]",
        "[::ffff:\t127.0.0.1]",
        "[fe80::\n1]",
    ] {
        let url = format!("http://{host}/x");
        let parsed = url::Url::parse(&url).expect("WHATWG accepts it");
        let Some(url::Host::Ipv6(ip)) = parsed.host() else {
            panic!("{host:?}: not an IPv6 host for WHATWG");
        };
        assert_eq!(
            classify_host(host.as_bytes()),
            classify_ip(IpAddr::V6(ip)),
            "{host:?} is {ip} to a client"
        );
        assert_ne!(reason(&url, host), None, "{url:?} chosen by the input");
    }
}

/// The copy of a literal without its tabs holds 64 bytes, more than any
/// literal WHATWG accepts (45). Past it the literal is refused as one, as
/// clients refuse it; and any number of tabs around a short literal still
/// reads as that literal.
#[test]
fn a_literal_longer_than_its_buffer_is_invalid_and_tabs_cost_nothing() {
    let long = format!("[\t{}1]", "0000:".repeat(14));
    assert!(
        url::Url::parse(&format!("http://{long}/")).is_err(),
        "clients refuse it too"
    );
    assert_eq!(classify_host(long.as_bytes()), HostClass::Invalid);

    let padded = format!("[{}::1{}]", "\t".repeat(1 << 20), "\n".repeat(1 << 20));
    assert_eq!(classify_host(padded.as_bytes()), HostClass::Loopback);
}
