use memchr::memmem::Finder;

use super::url::{Scheme, parse};
use super::{HostClass, classify_host, detect};
use crate::Reason::{self, DangerousScheme, InternalAddress};

fn reason(url: &str, input: &str) -> Option<Reason> {
    detect(url.as_bytes(), &Finder::new(input.as_bytes())).map(|f| f.reason)
}

fn hosts(url: &str) -> [Option<&str>; 2] {
    parse(url.as_bytes())
        .readings
        .map(|r| r.map(|a| &url[a.host]))
}

#[test]
fn parses_hosts_like_clients_do() {
    assert_eq!(hosts("http://example.com/x"), [Some("example.com"); 2]);
    assert_eq!(
        hosts("http://u:p@example.com:8080/"),
        [Some("example.com"); 2]
    );
    assert_eq!(hosts("http://a@b@example.com/"), [Some("example.com"); 2]);
    assert_eq!(hosts("http://[::1]:80/"), [Some("[::1]"); 2]);
    assert_eq!(hosts("http://evil.com#@127.0.0.1/"), [Some("evil.com"); 2]);
    assert_eq!(hosts("http://evil.com?@127.0.0.1/"), [Some("evil.com"); 2]);
    // The readings differ on backslashes.
    assert_eq!(
        hosts("http://evil.com\\@127.0.0.1/"),
        [Some("evil.com"), Some("127.0.0.1")]
    );
    assert_eq!(hosts("http:\\\\127.0.0.1/"), [Some("127.0.0.1"), None]);
    assert_eq!(hosts("http:///127.0.0.1/"), [Some("127.0.0.1"), Some("")]);
    assert_eq!(hosts("  \thttp://127.0.0.1/ "), [Some("127.0.0.1"); 2]);
    assert_eq!(hosts("ht\ttp://127.0.0.1/"), [Some("127.0.0.1"); 2]);
    // No scheme: curl's reading.
    assert_eq!(hosts("localhost:8080/x"), [Some("localhost"); 2]);
    assert_eq!(hosts("//127.0.0.1/x"), [Some("127.0.0.1"); 2]);
    assert_eq!(hosts("/relative/path"), [None, None]);
    assert_eq!(parse(b"localhost:8080").scheme, Scheme::Absent);
    assert_eq!(parse(b"gopher://x").scheme, Scheme::Other);
    assert_eq!(parse(b"HTTPS://x").scheme, Scheme::Web);
    // Non-special schemes need `//` for an authority.
    assert_eq!(hosts("mailto:a@127.0.0.1"), [None, None]);
}

#[test]
fn flags_internal_hosts_the_input_chose() {
    for (url, input) in [
        ("http://127.0.0.1/", "http://127.0.0.1/"),
        ("http://127.0.0.1/api/v1/status", "127.0.0.1"),
        ("http://localhost:9001/api", "localhost:9001"),
        ("http://2130706433/", "2130706433"),
        (
            "http://[::ffff:169.254.169.254]/latest",
            "[::ffff:169.254.169.254]",
        ),
        (
            "http://metadata.google.internal/computeMetadata/v1/",
            "metadata.google.internal",
        ),
        (
            "http://evil.com\\@127.0.0.1/",
            "http://evil.com\\@127.0.0.1/",
        ),
        ("http://api.example.com@10.0.0.1/", "@10.0.0.1/"),
    ] {
        assert_eq!(
            reason(url, input),
            Some(InternalAddress),
            "{input:?} in {url:?}"
        );
    }
}

#[test]
fn flags_dangerous_schemes_the_input_chose() {
    for (url, input) in [
        ("file:///etc/passwd", "file:///etc/passwd"),
        ("gopher://example.com:70/_x", "gopher://example.com:70/_x"),
        ("dict://127.0.0.1:6379/info", "dict://127.0.0.1:6379/info"),
        ("gopher://example.com/", "gopher"),
        ("ftp://files.example.com/a", "files.example.com"),
    ] {
        assert_eq!(
            reason(url, input),
            Some(DangerousScheme),
            "{input:?} in {url:?}"
        );
    }
}

#[test]
fn allows_public_destinations() {
    for (url, input) in [
        ("https://example.com/hook", "https://example.com/hook"),
        (
            "https://user:pw@example.com/",
            "https://user:pw@example.com/",
        ),
        ("https://8.8.8.8/dns-query", "8.8.8.8"),
        ("https://[2606:4700:4700::1111]/", "[2606:4700:4700::1111]"),
        (
            "https://www.google.com/search?q=localhost",
            "https://www.google.com/search?q=localhost",
        ),
        (
            "https://203.0.113.10.example.com/",
            "203.0.113.10.example.com",
        ),
    ] {
        assert_eq!(reason(url, input), None, "{input:?} in {url:?}");
    }
}

#[test]
fn allows_inputs_that_leave_the_host_to_the_application() {
    for (url, input) in [
        ("http://10.0.0.5:8080/items/42?fields=name", "42"),
        ("http://10.0.0.5:8080/items/80", "80"),
        (
            "http://10.0.0.5:8080/items/..%2f..%2f@evil",
            "..%2f..%2f@evil",
        ),
        ("http://10.0.0.5:8080/items//x", "//"),
        ("http://10.0.0.5:8080/items/http", "http"),
        ("http://tenant-a.svc.cluster.local/", "tenant-a"),
        ("http://10.0.0.5:8080/", "8080"),
    ] {
        assert_eq!(reason(url, input), None, "{input:?} in {url:?}");
    }
}

#[test]
fn flags_inputs_that_move_the_authority() {
    // The application appends a path, the input ends the authority early.
    assert_eq!(
        reason("http://127.0.0.1#.example.com/", "127.0.0.1#"),
        Some(InternalAddress)
    );
    assert_eq!(
        reason("http://api.example.com@localhost/x", "@localhost"),
        Some(InternalAddress)
    );
}

#[test]
fn classifies_hosts_with_ports_stripped_by_the_parser() {
    assert_eq!(classify_host(b"[::1]"), HostClass::Loopback);
    assert_eq!(classify_host(b"169.254.169.254"), HostClass::Metadata);
}

#[test]
fn never_panics_on_hostile_urls() {
    let urls = [
        "",
        ":",
        "[",
        "http://[",
        "http://[::",
        "http://@",
        "http://%",
        "http://%zz",
        "a:b:c",
        "\u{0}\u{ff}",
        "http://\u{ff10}",
        "http://①",
        "%",
    ];
    for url in urls {
        for input in [url, "::", "http", "%%"] {
            let _ = reason(url, input);
        }
    }
    let long = format!("http://{}/", "0".repeat(1 << 20));
    assert_eq!(reason(&long, "00"), None);
    assert_eq!(reason(&long, &long), Some(InternalAddress));
    let long = format!("http://{}/", "a".repeat(1 << 20));
    assert_eq!(reason(&long, "aa"), None);
}

#[test]
fn an_input_decides_the_destination_when_it_covers_host_or_port() {
    let decides = |url: &str, input: &str| {
        super::decides_destination(url.as_bytes(), &Finder::new(input.as_bytes()))
    };
    for (url, input) in [
        (
            "http://avatars.shop.example:18099/x",
            "http://avatars.shop.example:18099/x",
        ),
        (
            "http://avatars.shop.example:18099/x",
            "avatars.shop.example",
        ),
        ("http://avatars.shop.example:18099/x", "18099"),
        ("http://avatars.shop.example:18099/x", "example:18099"),
        ("http://u@avatars.shop.example/x", "u@"),
        ("http://evil.example\\@avatars.shop.example/", "\\@"),
        ("http://avatars.shop.example/x", "e/x"),
        ("http://[::1]:9000/x", "[::1]"),
    ] {
        assert!(decides(url, input), "{url} / {input}");
    }
    for (url, input) in [
        (
            "http://avatars.shop.example/x/avatars.shop.example",
            "x/avatars.shop.example",
        ),
        ("http://avatars.shop.example/ann.png", "ann.png"),
        ("http://user@avatars.shop.example/", "user"),
        ("http://avatars.shop.example/?q=1", "q=1"),
        ("http://avatars.shop.example/", ""),
        ("http://avatars.shop.example/", "absent"),
        // Coincidences in the application's own host and port.
        ("http://billing.internal:8443/v1", "8"),
        ("http://billing.internal:8443/v1", "44"),
        ("http://eu.billing.internal/v1", "eu"),
        ("https://billing.internal/v1", "https"),
    ] {
        assert!(!decides(url, input), "{url} / {input}");
    }
}

#[test]
fn flags_inputs_that_extend_a_host_the_application_fixed() {
    use crate::Reason::ControlsAuthority;
    // The application wrote the host and expects a path after it.
    for input in [
        ".evil.example",
        ".evil.example/x",
        "%2eevil%2eexample",
        "\u{3002}evil\u{3002}example",
        "\u{ff0e}evil",
        "\u{ff61}evil",
        "%E3%80%82evil",
        "@evil.example",
        ":80@evil.example",
        ":6379",
        ":6379/",
    ] {
        let url = format!("https://api.example.com{input}");
        assert_eq!(reason(&url, input), Some(ControlsAuthority), "{url:?}");
    }
    // Paths, queries and fragments leave the host alone.
    for input in ["/v1/users/42", "?q=.evil.example", "#.evil.example", ""] {
        let url = format!("https://api.example.com{input}");
        assert_eq!(reason(&url, input), None, "{url:?}");
    }
    assert_eq!(
        reason("https://api.example.com.localhost/", ".localhost"),
        Some(InternalAddress)
    );
}

#[test]
fn flags_inputs_that_end_a_tenant_host_early() {
    use crate::Reason::ControlsAuthority;
    for input in [
        "evil.example#",
        "evil.example?",
        "evil.example/",
        "evil.example\\",
        "x@evil.example#",
        "evil.example:8080/",
    ] {
        let url = format!("https://{input}.tenant.example.com/");
        assert_eq!(reason(&url, input), Some(ControlsAuthority), "{url:?}");
    }
    for input in ["acme", "acme-eu", "eu.acme"] {
        let url = format!("https://{input}.tenant.example.com/");
        assert_eq!(reason(&url, input), None, "{url:?}");
    }
    // A whole host or URL followed by the application's path is the
    // user's public destination, as before.
    assert_eq!(
        reason("https://evil.example#/v1/render", "evil.example#"),
        None
    );
    assert_eq!(
        reason("https://evil.example/?x=1", "https://evil.example/"),
        None
    );
    assert_eq!(
        reason("https://127.0.0.1#.tenant.example.com/", "127.0.0.1#"),
        Some(InternalAddress)
    );
}

/// A host whose Punycode form is longer than the stack buffer: `idna`
/// panics on a sink that refuses a write, so the buffer drops the rest
/// instead, and the host, longer than any DNS name, is no name at all.
/// (The bytes are the ones fuzzing found, input and text split at 0xFF.)
#[test]
fn a_host_longer_than_any_name_maps_without_a_panic() {
    let host = format!(
        "hxme\u{330a}0a{}ttslxme\u{3302}0lxme\u{330a}0a",
        "z".repeat(300)
    );
    assert_eq!(classify_host(host.as_bytes()), HostClass::Invalid);
    let data = include_bytes!("../../tests/data/ssrf_long_punycode.bin");
    let cut = data.iter().position(|&b| b == 0xFF).unwrap();
    let (input, text) = (&data[..cut], &data[cut + 1..]);
    assert_eq!(detect(text, &Finder::new(input)), None);
}
