//! Unicode spellings of internal hosts, judged by Rust's `url` crate.
//!
//! Every character UTS #46 maps to an ASCII letter, digit or full stop is
//! found by asking the `url` crate's host parser (which runs the `idna`
//! crate) about each code point, and the ones it ignores likewise. Hosts
//! of internal destinations are then respelled with them: characters
//! replaced by others that map to them, ignored characters inserted,
//! characters percent-encoded, case changed. Whenever `url::Url::parse`
//! finds an internal host in the result, the detector must flag the URL
//! and the classifier the host.
//!
//! `RASP_ORACLE_CASES` sets the number of spellings (default 10,000).

use std::collections::BTreeMap;
use std::net::IpAddr;

use memchr::memmem::Finder;
use rasp_detect::Reason;
use rasp_detect::ssrf::{classify_host, classify_ip, detect};

/// Internal hosts to respell.
const HOSTS: &[&str] = &[
    "127.0.0.1",
    "localhost",
    "169.254.169.254",
    "10.0.0.1",
    "192.168.1.10",
    "172.16.0.5",
    "0.0.0.0",
    "2130706433",
    "0x7f.0.0.1",
    "127.1",
    "metadata.google.internal",
    "metadata",
    "instance-data",
    "100.100.100.200",
    "api.localhost",
    "redis.internal",
    "10.0.0.1.nip.io",
];

/// A small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The host `url` finds in `http://{host}/`, if it finds one.
fn url_host(host: &str) -> Option<url::Host<String>> {
    let url = url::Url::parse(&format!("http://{host}/")).ok()?;
    url.host().map(|h| h.to_owned())
}

/// Whether `url` reads `host` as an internal destination: an address
/// classified as such, or a name the classifier calls internal in the
/// plain ASCII `url` turned it into.
fn url_says_internal(host: &str) -> Option<bool> {
    Some(match url_host(host)? {
        url::Host::Ipv4(v4) => classify_ip(IpAddr::V4(v4)).is_internal(),
        url::Host::Ipv6(v6) => classify_ip(IpAddr::V6(v6)).is_internal(),
        url::Host::Domain(name) => classify_host(name.as_bytes()).is_internal(),
    })
}

/// For each ASCII character of the hosts, the code points UTS #46 maps to
/// it, and the code points it ignores (under the key `None`).
fn alternatives() -> BTreeMap<Option<char>, Vec<char>> {
    let mut map: BTreeMap<Option<char>, Vec<char>> = BTreeMap::new();
    let wanted: Vec<char> = HOSTS
        .iter()
        .flat_map(|h| h.chars())
        .chain('a'..='z')
        .collect();
    for cp in 0x80u32..0x20000 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        // Between two letters, so a mapping to a full stop or to nothing
        // shows in the result.
        let Some(url::Host::Domain(d)) = url_host(&format!("a{c}b")) else {
            continue;
        };
        let key = match d.as_bytes() {
            [b'a', b'b'] => None,
            [b'a', m, b'b'] if wanted.contains(&char::from(*m)) => Some(char::from(*m)),
            _ => continue,
        };
        map.entry(key).or_default().push(c);
    }
    map
}

fn percent_encode(c: char) -> String {
    let mut buf = [0; 4];
    c.encode_utf8(&mut buf)
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect()
}

/// One respelling of `host`.
fn respell(host: &str, alts: &BTreeMap<Option<char>, Vec<char>>, rng: &mut Rng) -> String {
    let ignored = alts.get(&None).map(Vec::as_slice).unwrap_or_default();
    let mut out = String::new();
    let rate = 1 + rng.below(4);
    for c in host.chars() {
        if !ignored.is_empty() && rng.below(8) == 0 {
            let i = ignored[rng.below(ignored.len())];
            if rng.below(4) == 0 {
                out.push_str(&percent_encode(i));
            } else {
                out.push(i);
            }
        }
        let options = alts.get(&Some(c.to_ascii_lowercase()));
        match options {
            Some(options) if rng.below(rate) == 0 => {
                let alt = options[rng.below(options.len())];
                if rng.below(6) == 0 {
                    out.push_str(&percent_encode(alt));
                } else {
                    out.push(alt);
                }
            }
            _ if rng.below(10) == 0 => out.push_str(&percent_encode(c)),
            _ if rng.below(3) == 0 => out.push(c.to_ascii_uppercase()),
            _ => out.push(c),
        }
    }
    out
}

fn cases() -> usize {
    std::env::var("RASP_ORACLE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

#[test]
fn every_spelling_url_reads_as_internal_is_flagged() {
    let alts = alternatives();
    // The table is what makes the test: it must hold the characters that
    // were missed before (ideographic full stops, soft hyphen, Mongolian
    // free variation selectors, compatibility letters).
    for (ascii, c) in [
        (Some('.'), '\u{3002}'),
        (Some('.'), '\u{ff0e}'),
        (Some('.'), '\u{ff61}'),
        (None, '\u{ad}'),
        (None, '\u{180b}'),
        (None, '\u{fe0f}'),
        (Some('l'), '\u{2113}'),
        (Some('1'), '\u{ff11}'),
    ] {
        assert!(alts[&ascii].contains(&c), "{c:?} maps to {ascii:?}");
    }
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let total = cases();
    let (mut internal, mut flagged, mut refused, mut lenient) = (0, 0, 0, 0);
    let mut missed = Vec::new();
    for i in 0..total {
        let host = respell(HOSTS[i % HOSTS.len()], &alts, &mut rng);
        let judged = classify_host(host.as_bytes()).is_internal();
        match url_says_internal(&host) {
            Some(true) => {
                internal += 1;
                let url = format!("http://{host}/latest");
                let hit = detect(url.as_bytes(), &Finder::new(url.as_bytes())).map(|f| f.reason);
                let by_host =
                    detect(url.as_bytes(), &Finder::new(host.as_bytes())).map(|f| f.reason);
                if judged
                    && hit == Some(Reason::InternalAddress)
                    && by_host == Some(Reason::InternalAddress)
                {
                    flagged += 1;
                } else if missed.len() < 20 {
                    missed.push(host.clone());
                }
            }
            Some(false) => lenient += usize::from(judged),
            None => refused += 1,
        }
    }
    eprintln!(
        "unicode spellings: {total} cases, {internal} internal to url, {flagged} flagged, \
         {refused} refused by url, {lenient} flagged although url reads a public host"
    );
    assert!(missed.is_empty(), "missed: {missed:?}");
    assert!(
        internal > total / 4,
        "the generator must mostly spell internal hosts"
    );
    assert_eq!(
        lenient, 0,
        "a host url reads as public is classified internal"
    );
}

#[test]
fn mapped_spellings_that_were_missed() {
    // Characters UTS #46 maps to ASCII that a table of known tricks
    // lacked: small roman numerals, letterlike symbols, modifier letters.
    for host in [
        "metadata.google.\u{2170}nternal",
        "api.\u{2113}ocalhost",
        "\u{1d43}pi.localhos\u{1d57}",
        "redis.\u{2170}nternal",
        "db.loca\u{2113}",
    ] {
        assert_eq!(
            url_says_internal(host),
            Some(true),
            "the oracle on {host:?}"
        );
        assert!(classify_host(host.as_bytes()).is_internal(), "{host:?}");
        let url = format!("http://{host}/");
        assert!(
            detect(url.as_bytes(), &Finder::new(host.as_bytes())).is_some(),
            "{url:?}"
        );
    }
}
