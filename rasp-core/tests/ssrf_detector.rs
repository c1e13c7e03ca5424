//! The SSRF detector on realistic outbound URLs: internal destinations and
//! dangerous schemes it must flag, public and application-chosen
//! destinations it must let through, and hostile text it must survive.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use memchr::memmem::Finder;
use proptest::prelude::*;
use rasp_core::Reason;
use rasp_core::detect::ssrf::{HostClass, classify_host, classify_ip, detect};

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
