//! The open-redirect detector against Rust's `url` crate (WHATWG, as
//! browsers resolve a `Location`), on generated inputs placed in the
//! templates applications write.
//!
//! A `Location` is resolved against the page that answered,
//! `https://shop.example/account/login`. The input is an attack when the
//! resolved target leaves `shop.example` (another host, or a scheme other
//! than `http` and `https`) and the target without the input would not, or
//! when it brings a line break or another control character (except tab)
//! into the header. Two documented limits are counted apart: a whole
//! absolute URL naming the site itself (the pure detector cannot know the
//! site's hosts), and an input that lengthens the host's last label
//! without a dot. Targets `url` cannot resolve are skipped and counted.
//!
//! When `node` is installed, its WHATWG `URL` resolves a sample of the
//! targets as a second opinion (see `node_agrees_with_url_on_targets`).
//!
//! `RASP_ORACLE_CASES` sets the number of cases (default 40,000).

use memchr::memmem::Finder;
use rasp_detect::redirect::detect;

const BASE: &str = "https://shop.example/account/login";

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

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const PIECES: &[&str] = &[
    "/",
    "\\",
    "//",
    "evil.example",
    "evil",
    ".",
    "%2e",
    "%2E",
    "\u{3002}",
    "\u{ff0e}",
    "\u{ff61}",
    "@",
    ":",
    "https:",
    "http:",
    "javascript:alert(1)",
    "\t",
    "?",
    "#",
    "x",
    "shop.example",
    "%2f",
    "..",
    "8443",
    "com",
    "-",
    "\u{ad}",
    " ",
    "\r\n",
    "%0d%0a",
    "ｅｖｉｌ",
];

const HOSTS: &[&str] = &[
    "evil.example",
    "shop.example",
    "SHOP.example",
    "evil\u{3002}example",
    "evil%2eexample",
    "ｅｖｉｌ.example",
    "shop.example.evil.example",
    "shop.example@evil.example",
    "evil.example\\@shop.example",
    "127.0.0.1",
];

#[derive(Clone, Copy, Debug)]
enum Slot {
    /// `{input}`: a `?next=` target sent back as is.
    Whole,
    /// `/{input}`: a path the application roots.
    Rooted,
    /// `https://shop.example{input}`.
    Suffix,
    /// `https://{input}.shop.example/`.
    Prefix,
    /// `/account/{input}`.
    Path,
    /// `/search?q={input}`.
    Query,
}

const SLOTS: &[Slot] = &[
    Slot::Whole,
    Slot::Rooted,
    Slot::Suffix,
    Slot::Prefix,
    Slot::Path,
    Slot::Query,
];

impl Slot {
    fn place(self, input: &str) -> String {
        match self {
            Slot::Whole => input.to_owned(),
            Slot::Rooted => format!("/{input}"),
            Slot::Suffix => format!("https://shop.example{input}"),
            Slot::Prefix => format!("https://{input}.shop.example/"),
            Slot::Path => format!("/account/{input}"),
            Slot::Query => format!("/search?q={input}"),
        }
    }

    fn input(self, rng: &mut Rng) -> String {
        if matches!(self, Slot::Whole) && rng.below(2) == 0 {
            let lead = *rng.pick(&["https://", "//", "/\\", "\\\\", "https:", "\t//", "/\t/"]);
            return format!("{lead}{}/{}", rng.pick(HOSTS), rng.pick(PIECES));
        }
        let mut s = String::new();
        for _ in 0..1 + rng.below(5) {
            s.push_str(rng.pick::<&str>(PIECES));
        }
        s
    }
}

/// Where a browser goes for `location`: scheme and host, or `None` when
/// the target does not resolve.
fn resolve(location: &str) -> Option<(String, Option<String>)> {
    let base = url::Url::parse(BASE).ok()?;
    let target = base.join(location).ok()?;
    Some((
        target.scheme().to_owned(),
        target.host_str().map(str::to_owned),
    ))
}

fn off_site(to: &(String, Option<String>)) -> bool {
    !matches!(to.0.as_str(), "http" | "https") || to.1.as_deref() != Some("shop.example")
}

#[derive(Debug, PartialEq)]
enum Verdict {
    Attack,
    Benign,
    Limit,
    Refused,
}

fn judge(slot: Slot, input: &str) -> Verdict {
    if input.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7f) {
        return Verdict::Attack;
    }
    let location = slot.place(input);
    let Some(to) = resolve(&location) else {
        return Verdict::Refused;
    };
    let without = resolve(&slot.place(""));
    let changed = without.as_ref() != Some(&to);
    match slot {
        Slot::Whole if !off_site(&to) => {
            // An absolute target naming the site itself.
            let lead: String = location
                .trim_start_matches(|c: char| c <= ' ')
                .chars()
                .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                .take(2)
                .collect();
            let absolute = url::Url::parse(&location).is_ok()
                || matches!(lead.as_str(), "//" | "/\\" | "\\/" | "\\\\");
            if absolute {
                Verdict::Limit
            } else {
                Verdict::Benign
            }
        }
        Slot::Suffix
            if to.0 == "https"
                && to.1.as_deref().is_some_and(|h| {
                    h.strip_prefix("shop.example")
                        .is_some_and(|rest| !rest.is_empty() && !rest.contains('.'))
                }) =>
        {
            Verdict::Limit
        }
        Slot::Prefix => {
            let kept = to.0 == "https"
                && to
                    .1
                    .as_deref()
                    .is_some_and(|h| h.ends_with(".shop.example"));
            if kept {
                Verdict::Benign
            } else {
                Verdict::Attack
            }
        }
        _ if changed && off_site(&to) => Verdict::Attack,
        _ => Verdict::Benign,
    }
}

fn cases() -> usize {
    std::env::var("RASP_ORACLE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40_000)
}

#[derive(Default, Debug)]
struct Tally {
    cases: usize,
    agree: usize,
    detector_only: usize,
    oracle_only: usize,
    limit: usize,
    refused: usize,
}

#[test]
fn agrees_with_url_on_generated_inputs_in_templates() {
    let mut rng = Rng(0x00c0_ffee_5eed_4321);
    let mut tally = Tally::default();
    let (mut misses, mut extra) = (Vec::new(), Vec::new());
    for i in 0..cases() {
        let slot = SLOTS[i % SLOTS.len()];
        let input = slot.input(&mut rng);
        let location = slot.place(&input);
        let flagged = detect(location.as_bytes(), &Finder::new(input.as_bytes())).is_some();
        tally.cases += 1;
        match (judge(slot, &input), flagged) {
            (Verdict::Refused, _) => tally.refused += 1,
            (Verdict::Limit, _) => tally.limit += 1,
            (Verdict::Attack, true) | (Verdict::Benign, false) => tally.agree += 1,
            (Verdict::Attack, false) => {
                tally.oracle_only += 1;
                if misses.len() < 20 {
                    misses.push((slot, input, location));
                }
            }
            (Verdict::Benign, true) => {
                tally.detector_only += 1;
                if extra.len() < 20 {
                    extra.push((slot, input, location));
                }
            }
        }
    }
    eprintln!("{tally:?}");
    for (slot, input, location) in &extra {
        eprintln!("detector only: {slot:?} {input:?} -> {location:?}");
    }
    assert!(misses.is_empty(), "missed: {misses:#?}");
    let judged = tally.agree + tally.detector_only;
    assert!(
        tally.detector_only * 20 <= judged,
        "too many flags url does not share: {tally:?}"
    );
}

/// Node's WHATWG `URL` resolves targets as `url` does, on the spellings
/// this detector depends on; skipped when `node` is not installed.
#[test]
// The second opinion is another program; no sink is involved.
#[allow(clippy::disallowed_methods)]
fn node_agrees_with_url_on_targets() {
    let targets = [
        "https://shop.example%2eevil/",
        "https://shop.example\u{3002}evil/",
        "https://shop.example\u{ff0e}evil/",
        "https://shop.example\u{ff61}evil/",
        "/\\evil.example",
        "\t//evil.example",
        "https:evil.example",
        "https://ｅｖｉｌ.example/",
        "https://evil.example\\@shop.example/",
    ];
    let script = format!(
        "for (const t of {}) {{ try {{ console.log(new URL(t, {:?}).host) }} catch (e) {{ console.log('!') }} }}",
        serde_like_array(&targets),
        BASE
    );
    let output = match std::process::Command::new("node")
        .arg("-e")
        .arg(&script)
        .output()
    {
        Ok(output) if output.status.success() => output,
        _ => {
            eprintln!("node is not installed: skipping the second opinion");
            return;
        }
    };
    let hosts: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(hosts.len(), targets.len(), "{hosts:?}");
    for (target, node_host) in targets.iter().zip(&hosts) {
        let url_host = resolve(target).and_then(|(_, h)| h).unwrap_or("!".into());
        assert_eq!(&url_host, node_host, "{target:?}");
    }
}

/// A JavaScript array literal of strings, escaped as JSON.
fn serde_like_array(items: &[&str]) -> String {
    let escaped: Vec<String> = items
        .iter()
        .map(|s| {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                        out.push_str(&format!("\\u{:04x}", c as u32));
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        })
        .collect();
    format!("[{}]", escaped.join(","))
}
