//! IPv6 literals: the address inside a URL's brackets.
//!
//! A literal must classify as the address a browser or Rust's `url` would
//! connect to, so it is read with the WHATWG URL Standard's IPv6 parser.
//! That parser and the one behind `str::parse::<Ipv6Addr>()` accept the
//! same literals and read the same address from each, so std does the work
//! and only the edges below are handled here. The agreement is checked by
//! the tests of this module against the `url` crate's WHATWG parser, on
//! every textual form of random addresses and on mutated and random text.
//!
//! # Where they agree
//!
//! - Pieces of one to four hex digits in either case; eight of them, or
//!   fewer with exactly one `::` standing for one or more zero pieces
//!   (`1:2:3:4:5:6:7::`, where `::` stands for a single piece, is accepted
//!   by both; RFC 5952 only advises against writing it).
//! - A dotted-quad tail in place of the last two pieces: only at the end,
//!   only where two pieces remain (`::ffff:1.2.3.4`, `::1.2.3.4`,
//!   `1:2:3:4:5:6:1.2.3.4`, not `1.2.3.4::` nor `1:2:3:4:5:6::1.2.3.4`),
//!   with exactly four decimal octets of at most 255 and no leading zero
//!   (`::ffff:01.2.3.4` and `::ffff:00.1.2.3` fail in both; std has
//!   rejected such octets since rust-lang/rust#86984, long before this
//!   workspace's `rust-version`).
//! - No single leading or trailing colon, no second `::`, no empty
//!   literal, no fifth hex digit, and nothing else: no brackets,
//!   whitespace, sign or zone.
//!
//! # Where they differ, and what is done here
//!
//! - **Zone identifiers.** WHATWG rejects a `%` inside the brackets
//!   (`http://[fe80::1%25eth0]/` is no URL to it), and `Ipv6Addr` rejects a
//!   zone too (only `SocketAddrV6`'s parser takes a numeric scope). curl
//!   and the clients that hand the host to `getaddrinfo` accept an
//!   RFC 6874 zone and connect to the address before it, so the zone is
//!   cut off here and the rest parsed: a request some client will send is
//!   judged by where it goes. This is the one place where this parser
//!   accepts what WHATWG rejects, on purpose.
//! - **Bytes, not text.** WHATWG reads code points; std's `FromStr` takes
//!   a `&str`, and its parser over bytes (`Ipv6Addr::parse_ascii`) is not
//!   stable, so the bytes are validated as UTF-8 first. Text that is not
//!   UTF-8 is rejected, as WHATWG rejects every non-ASCII code point here.
//! - **Length.** Neither parser caps the input, but no literal WHATWG
//!   accepts is longer than [`MAX_LITERAL`] bytes, so longer text is
//!   rejected before it is validated: once the zone is searched for, a
//!   megabyte of colons is turned away by one comparison, not read as
//!   UTF-8 (the hand-written parser this replaces gave up on it at the
//!   third byte).
//! - **What the caller strips.** The brackets are removed by the caller,
//!   as the WHATWG host parser removes them before its IPv6 parser runs.
//!   The WHATWG URL parser also deletes ASCII tabs and line breaks from the
//!   whole URL before any of this; the bytes that reach this function are
//!   the URL's own, and a tab between them makes the literal invalid here.
//!
//! Neither parser allocates: std reads the `&str` in place and fails with
//! an error that owns no memory, so a host check still allocates nothing.

use core::net::Ipv6Addr;

/// Length of the longest literal WHATWG accepts: six pieces of four digits
/// and a dotted quad of three-digit octets,
/// `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`. Eight pieces take at
/// most 39 bytes, and a `::` stands for at least one piece of five bytes
/// (four digits and a colon) while taking two.
const MAX_LITERAL: usize = 45;

/// Parses an IPv6 literal without its brackets; a `%zone` suffix is
/// ignored.
pub(super) fn parse(text: &[u8]) -> Option<Ipv6Addr> {
    let address = match memchr::memchr(b'%', text) {
        Some(zone) => text.get(..zone)?,
        None => text,
    };
    parse_address(address)
}

/// The WHATWG IPv6 parser, without zone or brackets.
fn parse_address(text: &[u8]) -> Option<Ipv6Addr> {
    if text.len() > MAX_LITERAL {
        return None;
    }
    core::str::from_utf8(text).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use core::net::{Ipv4Addr, Ipv6Addr};

    use proptest::prelude::*;

    use super::{MAX_LITERAL, parse};
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

    /// The WHATWG IPv6 parser, as the `url` crate implements it.
    fn whatwg(literal: &str) -> Option<Ipv6Addr> {
        match url::Host::parse(&format!("[{literal}]")) {
            Ok(url::Host::Ipv6(ip)) => Some(ip),
            _ => None,
        }
    }

    /// What [`parse`] must answer: WHATWG's reading of the literal, with a
    /// zone cut off rather than rejected.
    fn expected(literal: &str) -> Option<Ipv6Addr> {
        let address = literal.split('%').next().unwrap_or_default();
        whatwg(address)
    }

    fn agrees(literal: &str) -> Result<(), TestCaseError> {
        prop_assert_eq!(
            parse(literal.as_bytes()),
            expected(literal),
            "{:?}",
            literal
        );
        if literal.contains('%') {
            prop_assert_eq!(whatwg(literal), None, "WHATWG takes no zone: {:?}", literal);
        }
        Ok(())
    }

    #[test]
    fn agrees_with_whatwg_on_the_edges_of_the_grammar() {
        let ip = |s: &str| Some(s.parse::<Ipv6Addr>().expect("valid"));
        for (literal, address) in [
            ("::", ip("::")),
            ("1:2:3:4:5:6:7::", ip("1:2:3:4:5:6:7:0")),
            ("::2:3:4:5:6:7:8", ip("0:2:3:4:5:6:7:8")),
            ("1:2:3:4:5:6:7:8", ip("1:2:3:4:5:6:7:8")),
            (
                "0001:0002:0003:0004:0005:0006:0007:0008",
                ip("1:2:3:4:5:6:7:8"),
            ),
            ("ABCD::EF", ip("abcd::ef")),
            ("::ffff:1.2.3.4", ip("::ffff:102:304")),
            ("::1.2.3.4", ip("::102:304")),
            ("::0.0.0.0", ip("::")),
            ("1:2:3:4:5:6:1.2.3.4", ip("1:2:3:4:5:6:102:304")),
            ("1:2:3:4:5::1.2.3.4", ip("1:2:3:4:5:0:102:304")),
            (
                "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
                ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            ),
            ("", None),
            (":", None),
            (":::", None),
            (":1::", None),
            ("1::2:", None),
            ("1::2::3", None),
            ("1:2:3:4:5:6:7", None),
            ("1:2:3:4:5:6:7:8:9", None),
            ("1:2:3:4:5:6:7:8::", None),
            ("::1:2:3:4:5:6:7:8", None),
            ("12345::", None),
            ("g::", None),
            (" ::1", None),
            ("::1 ", None),
            ("[::1]", None),
            ("1.2.3.4", None),
            ("1.2.3.4::", None),
            ("::1.2.3", None),
            ("::1.2.3.4.", None),
            ("::1.2.3.4.5", None),
            ("::256.0.0.1", None),
            ("::ffff:01.2.3.4", None),
            ("::ffff:1.2.3.00", None),
            ("::0x1.2.3.4", None),
            ("1:2:3:4:5:6:7:1.2.3.4", None),
            ("1:2:3:4:5:6::1.2.3.4", None),
            ("::1.2.3.4:5", None),
            ("::１", None),
        ] {
            assert_eq!(whatwg(literal), address, "the oracle on {literal:?}");
            assert_eq!(parse(literal.as_bytes()), address, "{literal:?}");
        }
    }

    #[test]
    fn cuts_a_zone_off_where_whatwg_rejects_it() {
        let link_local = Some("fe80::1".parse::<Ipv6Addr>().expect("valid"));
        for literal in ["fe80::1%25eth0", "fe80::1%eth0", "fe80::1%2", "fe80::1%"] {
            assert_eq!(whatwg(literal), None, "{literal:?}");
            assert_eq!(parse(literal.as_bytes()), link_local, "{literal:?}");
        }
        // The zone is no licence for a malformed address before it.
        assert_eq!(parse(b"fe80::1::%25eth0"), None);
        assert_eq!(parse(b"%25eth0"), None);
    }

    #[test]
    fn no_accepted_literal_is_longer_than_the_cap() {
        let longest = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
        assert_eq!(longest.len(), MAX_LITERAL);
        assert!(parse(longest.as_bytes()).is_some());
        // One byte more is no literal to WHATWG either, whichever byte.
        for padded in [format!("0{longest}"), format!("{longest}0")] {
            assert_eq!(whatwg(&padded), None, "{padded}");
            assert_eq!(parse(padded.as_bytes()), None, "{padded}");
        }
        let colons = ":".repeat(1 << 20);
        assert_eq!(parse(colons.as_bytes()), None);
    }

    /// Writes `segments` as a literal: each piece in hex (upper case if
    /// `upper`, padded to four digits if `pad`), the last two pieces as a
    /// dotted quad if `dotted`, and the zero pieces `zeros` (a range, if
    /// any) as `::`.
    fn render(
        segments: [u16; 8],
        zeros: Option<(usize, usize)>,
        dotted: bool,
        upper: bool,
        pad: bool,
    ) -> String {
        let hex_pieces = if dotted { 6 } else { 8 };
        let mut units: Vec<String> = segments[..hex_pieces]
            .iter()
            .map(|&s| match (upper, pad) {
                (false, false) => format!("{s:x}"),
                (false, true) => format!("{s:04x}"),
                (true, false) => format!("{s:X}"),
                (true, true) => format!("{s:04X}"),
            })
            .collect();
        if dotted {
            let [a, b] = segments[6].to_be_bytes();
            let [c, d] = segments[7].to_be_bytes();
            units.push(Ipv4Addr::new(a, b, c, d).to_string());
        }
        match zeros {
            Some((start, end)) => {
                format!("{}::{}", units[..start].join(":"), units[end..].join(":"))
            }
            None => units.join(":"),
        }
    }

    /// The runs of zero pieces that `::` may stand for, among the hex
    /// pieces: every non-empty range of zeros, not only the longest.
    fn zero_runs(segments: [u16; 8], hex_pieces: usize) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        for start in 0..hex_pieces {
            for end in start + 1..=hex_pieces {
                if segments[start..end].iter().all(|&s| s == 0) {
                    runs.push((start, end));
                }
            }
        }
        runs
    }

    /// Addresses with the shapes literals take: zero runs to compress,
    /// IPv4-mapped, -compatible and -translated addresses, and any address.
    fn address() -> impl Strategy<Value = Ipv6Addr> {
        let piece = prop_oneof![Just(0u16), Just(0xffff), 0u16..0x100, any::<u16>()];
        prop_oneof![
            proptest::array::uniform8(piece).prop_map(Ipv6Addr::from),
            any::<u32>().prop_map(|v4| Ipv4Addr::from(v4).to_ipv6_mapped()),
            any::<u32>().prop_map(|v4| Ipv4Addr::from(v4).to_ipv6_compatible()),
            any::<u32>().prop_map(|v4| Ipv6Addr::from(0xffff_u128 << 48 | u128::from(v4))),
            any::<u128>().prop_map(Ipv6Addr::from),
        ]
    }

    /// A valid literal of an address, written any way WHATWG accepts.
    fn literal() -> impl Strategy<Value = (Ipv6Addr, String)> {
        (address(), 0usize..8, any::<usize>(), any::<[bool; 3]>()).prop_map(
            |(ip, form, pick, [dotted, upper, pad])| {
                let segments = ip.segments();
                let text = match form {
                    // std's canonical form: the longest zero run
                    // compressed, `::ffff:a.b.c.d` for mapped addresses.
                    0 => ip.to_string(),
                    1 => render(segments, None, dotted, upper, pad),
                    _ => {
                        let runs = zero_runs(segments, if dotted { 6 } else { 8 });
                        let zeros = (!runs.is_empty()).then(|| runs[pick % runs.len()]);
                        render(segments, zeros, dotted, upper, pad)
                    }
                };
                (ip, text)
            },
        )
    }

    /// Bytes that matter to the grammar, and a few that are never in it.
    const ALPHABET: &[char] = &[
        ':', ':', '.', '.', '0', '1', '2', '5', '9', 'a', 'f', 'F', 'g', 'x', '%', '[', ']', ' ',
        '\t', '-', '１',
    ];

    /// A valid literal with a few characters inserted, deleted or replaced.
    fn mutated() -> impl Strategy<Value = String> {
        let edit = (0usize..3, any::<usize>(), 0..ALPHABET.len());
        (literal(), proptest::collection::vec(edit, 1..4)).prop_map(|((_, text), edits)| {
            let mut chars: Vec<char> = text.chars().collect();
            for (kind, at, c) in edits {
                let at = at % (chars.len() + 1);
                match kind {
                    0 => chars.insert(at, ALPHABET[c]),
                    1 if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ if at < chars.len() => chars[at] = ALPHABET[c],
                    _ => chars.push(ALPHABET[c]),
                }
            }
            chars.into_iter().collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn reads_every_form_of_an_address_as_whatwg_does((ip, text) in literal()) {
            prop_assert_eq!(whatwg(&text), Some(ip), "the oracle on {:?}", text);
            prop_assert_eq!(parse(text.as_bytes()), Some(ip), "{:?}", text);
        }

        #[test]
        fn agrees_with_whatwg_on_mutated_literals(text in mutated()) {
            agrees(&text)?;
        }

        #[test]
        fn agrees_with_whatwg_on_text_near_the_grammar(text in "[0-9a-fA-F:.%]{0,50}") {
            agrees(&text)?;
        }

        #[test]
        fn agrees_with_whatwg_on_any_text(text in "\\PC{0,50}") {
            agrees(&text)?;
        }

        #[test]
        fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            // Only the bytes before a zone are read, so only they need to
            // be text.
            let address = bytes.split(|&b| b == b'%').next().unwrap_or_default();
            let want = core::str::from_utf8(address).ok().and_then(whatwg);
            prop_assert_eq!(parse(&bytes), want, "{:?}", bytes);
        }
    }
}
