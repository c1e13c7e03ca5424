//! The open-redirect detector on realistic `Location` values: off-site and
//! script targets it must flag, same-site paths and application-chosen
//! hosts it must let through, the redirect sanitizer, and hostile bytes it
//! must survive.

mod sanitizer_support;

use memchr::memmem::Finder;
use proptest::prelude::*;
use rasp_core::detect::redirect::{Destination, destination, detect};
use rasp_core::{Reason, Redirect, Url};

fn reason(location: &str, input: &str) -> Option<Reason> {
    reason_bytes(location.as_bytes(), input.as_bytes())
}

fn reason_bytes(location: &[u8], input: &[u8]) -> Option<Reason> {
    let finding = detect(location, &Finder::new(input))?;
    assert!(
        location[finding.offset..].starts_with(input),
        "the reported offset is not an occurrence of the input"
    );
    Some(finding.reason)
}

use sanitizer_support::sanitized;

/// `(Location value, recorded input)`: the input sends the browser off-site.
const OFF_SITE: &[(&str, &str)] = &[
    // The whole target, in every spelling browsers accept.
    ("https://evil.example/", "https://evil.example/"),
    ("HTTP://evil.example", "HTTP://evil.example"),
    ("//evil.example/login", "//evil.example/login"),
    ("/\\evil.example", "/\\evil.example"),
    ("\\\\evil.example", "\\\\evil.example"),
    ("\\/evil.example", "\\/evil.example"),
    ("\t//evil.example", "\t//evil.example"),
    (" //evil.example", " //evil.example"),
    ("\x0b//evil.example", "\x0b//evil.example"),
    // `/%09/evil` and `/%0a/evil` once the application decoded them.
    ("/\t/evil.example", "/\t/evil.example"),
    ("/\n/evil.example", "/\n/evil.example"),
    ("https:evil.example", "https:evil.example"),
    ("https:/\\evil.example", "https:/\\evil.example"),
    ("ht\ttps://evil.example", "ht\ttps://evil.example"),
    ("ftp://evil.example/", "ftp://evil.example/"),
    ("mailto:ceo@evil.example", "mailto:ceo@evil.example"),
    // Userinfo confusion.
    (
        "https://good.example@evil.example/",
        "https://good.example@evil.example/",
    ),
    ("https://good.example@evil.example/", "@evil.example/"),
    ("https://good.example\\@evil.example/", "\\@evil.example/"),
    // The application writes a leading `/`, the input the second one.
    ("//evil.example/x", "/evil.example/x"),
    ("/\\evil.example", "\\evil.example"),
    ("/\t\\evil.example", "\t\\evil.example"),
    // The input ends the host the application started.
    ("https://good.example.evil.net/", ".evil.net"),
    ("https://evil.example/.good.example/", "evil.example/"),
    ("https://evil.example#.good.example/", "evil.example#"),
    ("https://evil.example?.good.example/", "evil.example?"),
    ("https://evil.example\\.good.example/", "evil.example\\"),
    // The application writes `https://`, the input the host.
    ("https://evil.example/cart", "evil.example"),
    ("//evil.example/cart", "evil.example"),
];

/// `(Location value, recorded input)`: the input makes the target run script.
const SCRIPT: &[(&str, &str)] = &[
    (
        "javascript:alert(document.domain)",
        "javascript:alert(document.domain)",
    ),
    ("JaVaScRiPt:alert(1)", "JaVaScRiPt:alert(1)"),
    ("java\tscript:alert(1)", "java\tscript:alert(1)"),
    ("  javascript:alert(1)", "  javascript:alert(1)"),
    ("\x01javascript:alert(1)", "\x01javascript:alert(1)"),
    ("javascript://%0aalert(1)", "javascript://%0aalert(1)"),
    ("javascript:1337", "javascript:1337"),
    (
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    ),
    ("vbscript:msgbox(1)", "vbscript:msgbox(1)"),
];

/// `(Location value, recorded input)`: the redirect stays where the
/// application sends it.
const STAYS: &[(&str, &str)] = &[
    (
        "/search?q=http%3A%2F%2Fevil.example",
        "http%3A%2F%2Fevil.example",
    ),
    ("/search?q=http://evil.example", "http://evil.example"),
    ("/search?q=//evil.example", "//evil.example"),
    ("/items/42", "42"),
    ("/items/42", "/items/42"),
    ("/files/a//b", "a//b"),
    ("/files/a//b", "/files/a//b"),
    ("/files/a\\b", "a\\b"),
    ("/@evil.example", "@evil.example"),
    ("/\tevil.example", "/\tevil.example"),
    ("items/42", "items/42"),
    ("?page=2", "?page=2"),
    ("#https://evil.example", "#https://evil.example"),
    ("/a?b=c:d", "/a?b=c:d"),
    ("https://shop.example/items/%2F%2Fevil", "%2F%2Fevil"),
    ("https://shop.example/items//evil.example", "//evil.example"),
    (
        "https://shop.example/items/\\evil.example",
        "\\evil.example",
    ),
    ("https://shop.example/@evil.example", "@evil.example"),
    (
        "https://shop.example/login?next=https://evil.example",
        "https://evil.example",
    ),
    (
        "https://shop.example/login?next=https://evil.example",
        "next",
    ),
    // Part of a host label or the port, the rest written by the application.
    ("https://acme.shop.example/", "acme"),
    ("https://acme-eu.shop.example/dashboard", "acme-eu"),
    ("https://shop.example:8443/", "8443"),
    ("https://shop.example:8443/", ":8443/"),
    // Letters of a scheme the application wrote.
    ("https://shop.example/search?q=https", "https"),
    ("http://shop.example/search?q=http", "http"),
    // Delimiters alone, matching the ones the application wrote.
    ("https://shop.example/search?q=%3A", ":"),
    ("https://shop.example/items/%2F", "/"),
    ("https://shop.example/search?q=%3A%2F%2F", "://"),
    ("//shop.example/search?q=%2F%2F", "//"),
    // The input does not occur.
    ("https://evil.example/", "https://elsewhere.example"),
];

#[test]
fn flags_off_site_targets() {
    for (location, input) in OFF_SITE {
        assert_eq!(
            reason(location, input),
            Some(Reason::OffSiteRedirect),
            "{location:?} with input {input:?}"
        );
    }
}

#[test]
fn flags_script_targets() {
    for (location, input) in SCRIPT {
        assert_eq!(
            reason(location, input),
            Some(Reason::ScriptScheme),
            "{location:?} with input {input:?}"
        );
    }
}

#[test]
fn lets_same_site_and_application_chosen_targets_through() {
    for (location, input) in STAYS {
        assert_eq!(
            reason(location, input),
            None,
            "{location:?} with input {input:?}"
        );
    }
}

#[test]
fn reports_the_occurrence_that_decides() {
    // The first occurrence is in the path; the second one is the host.
    let location = "//evil.example/?from=evil.example";
    let finding = detect(location.as_bytes(), &Finder::new(b"evil.example")).unwrap();
    assert_eq!(finding.offset, 2);
    let location = "/login?next=evil.example";
    assert_eq!(
        detect(location.as_bytes(), &Finder::new(b"evil.example")),
        None
    );
}

#[test]
fn reads_destinations() {
    assert_eq!(destination(b"/account"), Destination::SameSite);
    assert_eq!(destination(b"account?x=//y"), Destination::SameSite);
    assert_eq!(destination(b""), Destination::SameSite);
    assert_eq!(
        destination(b"https://u:p@Shop.Example:8443/a"),
        Destination::Host(b"Shop.Example")
    );
    assert_eq!(
        destination(b"//cdn.example/x"),
        Destination::Host(b"cdn.example")
    );
    assert_eq!(
        destination(b"\t/\\evil.example"),
        Destination::Host(b"evil.example")
    );
    assert_eq!(
        destination(b"https:evil.example"),
        Destination::Host(b"evil.example")
    );
    // Clients split this one differently: no single host.
    assert_eq!(
        destination(b"https://good.example\\@evil.example/"),
        Destination::Elsewhere
    );
    assert_eq!(destination(b"javascript:alert(1)"), Destination::Elsewhere);
    assert_eq!(destination(b"ftp://files.example/"), Destination::Elsewhere);
    assert_eq!(destination(b"https:443"), Destination::Elsewhere);
    assert_eq!(destination(b"https:///"), Destination::Elsewhere);
}

#[test]
fn sanitizer_makes_same_site_paths() {
    for (input, expected) in [
        ("/account?tab=1", "/account?tab=1"),
        ("/search?q=http%3A%2F%2F", "/search?q=http%3A%2F%2F"),
        ("//evil.example", "/%2Fevil.example"),
        ("/\\evil.example", "/%5Cevil.example"),
        ("\\\\evil.example", "/%5C%5Cevil.example"),
        ("/\t/evil.example", "/%09/evil.example"),
        ("https://evil.example", "/https://evil.example"),
        ("javascript:alert(1)", "/javascript:alert(1)"),
        ("evil.example", "/evil.example"),
        (" //evil.example", "/%20//evil.example"),
        ("/caf\u{e9}", "/caf%C3%A9"),
        ("", "/"),
    ] {
        assert_eq!(sanitized::<Redirect>(input), expected, "{input:?}");
    }
}

/// Host names an attacker might register or control.
fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,12}(\\.[a-z][a-z0-9-]{0,12}){1,3}",
        "[0-9]{1,3}(\\.[0-9]{1,3}){3}",
        Just("[::1]".to_owned()),
    ]
}

proptest! {
    #[test]
    fn any_host_the_input_supplies_is_off_site(
        host in host(),
        prefix in prop_oneof![
            Just("https://"), Just("http://"), Just("//"), Just("/\\"),
            Just("\\\\"), Just("\t//"), Just("/\t/"), Just("https:"),
        ],
        path in "(/[a-z0-9]{0,8}){0,3}",
    ) {
        let target = format!("{prefix}{host}{path}");
        prop_assert_eq!(reason(&target, &target), Some(Reason::OffSiteRedirect));
        // Behind a fixed path the same text is harmless.
        let inside = format!("/go?to={target}");
        prop_assert_eq!(reason(&inside, &target), None);
    }

    #[test]
    fn url_sanitized_inputs_never_redirect(input in any::<String>()) {
        let encoded = sanitized::<Url>(&input);
        for location in [
            format!("/search?q={encoded}"),
            format!("https://shop.example/items/{encoded}"),
            format!("/{encoded}"),
        ] {
            prop_assert_eq!(reason(&location, &encoded), None);
            prop_assert_eq!(reason(&location, &input), None);
        }
    }

    #[test]
    fn redirect_sanitized_inputs_stay_on_site(input in any::<String>()) {
        let path = sanitized::<Redirect>(&input);
        prop_assert_eq!(destination(path.as_bytes()), Destination::SameSite);
        prop_assert_eq!(reason(&path, &path), None);
        prop_assert_eq!(reason(&path, &input), None);
        // Sanitizing twice changes nothing.
        prop_assert_eq!(sanitized::<Redirect>(&path), path);
    }

    #[test]
    fn hostile_bytes_never_panic(
        location in proptest::collection::vec(any::<u8>(), 0..256),
        start in any::<prop::sample::Index>(),
        len in 0usize..64,
    ) {
        let from = start.index(location.len() + 1);
        let input = &location[from..(from + len).min(location.len())];
        let first = reason_bytes(&location, input);
        prop_assert_eq!(first, reason_bytes(&location, input));
        let _ = destination(&location);
    }
}

#[test]
fn periodic_inputs_stay_linear() {
    let location = format!("https://{}/", "a".repeat(200_000));
    let started = std::time::Instant::now();
    for input in ["aa", "aaaa", &"a".repeat(1000)] {
        assert_eq!(reason(&location, input), None);
    }
    let slashes = "/".repeat(200_000);
    // Slashes alone choose no host; slashes and a host do.
    assert_eq!(reason(&slashes, "//"), None);
    assert_eq!(
        reason(&format!("{slashes}evil.example"), "/evil.example"),
        Some(Reason::OffSiteRedirect)
    );
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_coincidental_last_label_is_not_a_choice() {
    assert_eq!(reason("https://shop.example.com/cart", "com"), None);
    assert_eq!(
        reason("https://shop.example.com/cart", "le.com"),
        Some(Reason::OffSiteRedirect)
    );
    assert_eq!(
        reason("https://example.comevil.net/", "evil.net"),
        Some(Reason::OffSiteRedirect)
    );
}
