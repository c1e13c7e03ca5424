//! Open-redirect detector.
//!
//! An application answers with a redirect whose `Location` an untrusted
//! input helped build: a `?next=` or `?return_to=` parameter sent back as
//! is, or a path under the application's own host. A browser resolves the
//! `Location` against the page it came from, so a relative reference
//! (`/search?q=…`, `items/42`, `?page=2`, `#top`) stays on the site
//! whoever wrote it. The redirect leaves the site only through its *head*:
//! a scheme (`https://evil.example`, `javascript:…`) or an authority
//! (`//evil.example`). The input is an injection when one of its
//! occurrences decides that head:
//!
//! - it writes the scheme's `:`, or a slash that starts an authority —
//!   including the spellings browsers accept and filters
//!   miss: `/\evil`, `\\evil`, `\t//evil`, `/<TAB>/evil` (tabs and line
//!   breaks are removed anywhere, leading controls and spaces trimmed), and
//!   `https:evil` (an authority for a page on `http`);
//! - it decides the end of the host: it covers the whole host, or writes
//!   its end from a dot on, choosing the registrable domain
//!   (`https://example.com` + `.evil.net`, or + `evil.net` for
//!   `example.comevil.net`); the dot may be spelled `%2e` or as any full
//!   stop UTS #46 maps to `.` (`。`, `．`, `｡`), as browsers read it;
//! - it writes `@`, `\`, `[` or `]` inside the authority: the userinfo
//!   confusion `https://good.example@evil.example` and its backslash
//!   variant, which clients split differently.
//!
//! An input that brings CR or LF anywhere into the value is reported as
//! [`Reason::SplitsHeader`], and one that brings another control character
//! (except tab) as [`Reason::ControlCharacter`], also in a relative
//! target: a `Location` cannot hold them, and written raw they end the
//! header (`/account\r\nSet-Cookie: …`).
//!
//! A `javascript:`, `data:` or `vbscript:` head is reported as
//! [`Reason::ScriptScheme`] (script on the site's origin when the value
//! also feeds a link or `window.location`), any other as
//! [`Reason::OffSiteRedirect`].
//!
//! An input confined to the path, query or fragment passes
//! (`https://shop.example/items/{input}`, `/search?q={input}`), and so
//! does one that is only part of a host label the application ends
//! (`https://{tenant}.shop.example/`) or only the port. The authority is
//! split with both readings of the SSRF detector's URL splitter (WHATWG and
//! RFC 3986); a scheme is read the way browsers read it, so `name:digits`
//! is a scheme too.
//!
//! The pure detector cannot know which hosts are the application's own: an
//! input that is a whole absolute URL is reported even when it names the
//! site itself. Allowing some hosts is the integration's job; it reads the
//! destination with [`destination`] and runs the detector only for
//! destinations it does not allow.

use crate::Needle;
#[cfg(test)]
use memchr::memmem::Finder;

use crate::Reason;
use crate::ssrf::idna::separates_labels;
use crate::ssrf::url::{self, Authority, Scheme, significant};

/// A finding of the open-redirect detector: the occurrence offset and why
/// it is an injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedirectFinding {
    /// Byte offset of the offending occurrence of the input in the value.
    pub offset: usize,
    /// What the occurrence makes the redirect do.
    pub reason: Reason,
}

/// Where a `Location` value sends the browser, as far as staying on the
/// site goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination<'a> {
    /// A relative reference: a path, query or fragment of the current site.
    SameSite,
    /// An `http`, `https`, `ws` or `wss` URL, or a scheme-relative
    /// `//host/…`, whose host every reading agrees on: the host as written
    /// (no port, no userinfo, not lowercased).
    Host(&'a [u8]),
    /// Anything else: another scheme, no host, or readings that disagree
    /// about the host.
    Elsewhere,
}

/// Where `location` sends the browser (see [`Destination`]).
///
/// ```
/// use rasp_detect::redirect::{Destination, destination};
///
/// assert_eq!(destination(b"/account"), Destination::SameSite);
/// assert_eq!(destination(b"https://Shop.example:8443/a"), Destination::Host(b"Shop.example"));
/// assert_eq!(destination(b"/\\evil.example"), Destination::Host(b"evil.example"));
/// assert_eq!(destination(b"javascript:alert(1)"), Destination::Elsewhere);
/// ```
pub fn destination(location: &[u8]) -> Destination<'_> {
    let head = Head::read(location);
    match head.kind {
        Kind::Relative => Destination::SameSite,
        Kind::SchemeOnly | Kind::Absolute { web: false } => Destination::Elsewhere,
        Kind::Absolute { web: true } | Kind::SchemeRelative => {
            let mut hosts = head.readings.iter().flatten().map(|a| a.host.clone());
            let Some(first) = hosts.next() else {
                return Destination::Elsewhere;
            };
            let host = location.get(first).unwrap_or_default();
            if host.is_empty() || hosts.any(|h| location.get(h) != Some(host)) {
                Destination::Elsewhere
            } else {
                Destination::Host(host)
            }
        }
    }
}

/// Whether the input searched by `finder` decides where the redirect to
/// `location` (a `Location` header value) leaves the site for.
///
/// `finder.needle()` is the recorded input (any bytes). Returns the first
/// occurrence that writes the scheme, the slashes of an authority, the end
/// of the host or a delimiter inside the authority (see the
/// [module docs](self)), or `None` — also when the input does not occur at
/// all, which costs one substring search, or is empty.
#[inline]
pub fn detect(location: &[u8], finder: &dyn Needle) -> Option<RedirectFinding> {
    let first = crate::first_occurrence(location, finder)?;
    examine(location, finder, first)
}

#[inline(never)]
fn examine(location: &[u8], finder: &dyn Needle, first: usize) -> Option<RedirectFinding> {
    let head = Head::read(location);
    let head_end = head.end();
    let len = finder.needle().len();
    let decided = crate::occurrences_before(location, finder, first, head_end)
        .find(|&start| head.decided_by(location, start, start + len));
    let Some(start) = decided else {
        return header_control(finder.needle(), first);
    };
    let reason = if head.script {
        Reason::ScriptScheme
    } else {
        Reason::OffSiteRedirect
    };
    Some(RedirectFinding {
        offset: start,
        reason,
    })
}

/// An input that brings a line break or another control character into a
/// `Location` value, wherever it lands: in a header value it would end the
/// header and start another one (`/account\r\nSet-Cookie: …`), and no
/// `Location` can hold it. Tabs are left alone: a header value may hold
/// one, and where one matters (`/\t/evil`) the head already decides.
fn header_control(needle: &[u8], first: usize) -> Option<RedirectFinding> {
    let reason = if needle.iter().any(|&b| b == b'\r' || b == b'\n') {
        Reason::SplitsHeader
    } else if needle
        .iter()
        .any(|&b| (b < b' ' && b != b'\t') || b == 0x7f)
    {
        Reason::ControlCharacter
    } else {
        return None;
    };
    Some(RedirectFinding {
        offset: first,
        reason,
    })
}

/// What a `Location` starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No scheme and fewer than two leading slashes.
    Relative,
    /// A scheme without an authority: `javascript:…`, `mailto:…`, `name:80`.
    SchemeOnly,
    /// A scheme and an authority; `web` for `http`, `https`, `ws`, `wss`.
    Absolute {
        /// Whether the scheme is a web one.
        web: bool,
    },
    /// `//host…` (or any two of `/` and `\`).
    SchemeRelative,
}

/// The part of a `Location` that decides which site it sends the browser
/// to.
struct Head {
    kind: Kind,
    /// The scheme's `:`, if there is a scheme.
    colon: Option<usize>,
    /// End of the scheme's `:` and of the slashes before the authority:
    /// every byte before it is scheme, delimiter or trimmed space.
    lead_end: usize,
    /// The authority under the WHATWG and RFC 3986 readings.
    readings: [Option<Authority>; 2],
    /// Whether the scheme runs script (`javascript:`, `data:`, `vbscript:`).
    script: bool,
}

impl Head {
    fn read(text: &[u8]) -> Head {
        let relative = Head {
            kind: Kind::Relative,
            colon: None,
            lead_end: 0,
            readings: [None, None],
            script: false,
        };
        // Browsers trim leading C0 controls and spaces.
        let Some(start) = text.iter().position(|&b| b > b' ') else {
            return relative;
        };
        let stop = text.len();
        let Some((_, first)) = significant(text, start, stop) else {
            return relative;
        };
        if first.is_ascii_alphabetic() {
            let Some(colon) = scheme_colon(text, start, stop) else {
                return relative;
            };
            let script = is_script_scheme(text.get(start..colon).unwrap_or_default());
            let parsed = url::parse(text);
            let readings = if parsed.scheme == Scheme::Absent {
                // `name:digits`: curl's host and port, a browser's scheme.
                [None, None]
            } else {
                parsed.readings
            };
            let kind = match &readings {
                [None, None] => Kind::SchemeOnly,
                _ => Kind::Absolute {
                    web: parsed.scheme == Scheme::Web,
                },
            };
            let lead_end = readings
                .iter()
                .flatten()
                .map(|a| a.span.start)
                .max()
                .unwrap_or(colon + 1);
            return Head {
                kind,
                colon: Some(colon),
                lead_end,
                readings,
                script,
            };
        }
        if leading_slashes(text, start, stop) < 2 {
            return relative;
        }
        let readings = url::parse(text).readings;
        let lead_end = readings
            .iter()
            .flatten()
            .map(|a| a.span.start)
            .max()
            .unwrap_or(start);
        Head {
            kind: Kind::SchemeRelative,
            colon: None,
            lead_end,
            readings,
            script: false,
        }
    }

    /// Offset past which no occurrence can start and still decide the head.
    fn end(&self) -> usize {
        self.readings
            .iter()
            .flatten()
            .map(|a| a.span.end)
            .fold(self.lead_end, usize::max)
    }

    /// Whether the occurrence `start..end` decides the head.
    fn decided_by(&self, text: &[u8], start: usize, end: usize) -> bool {
        if self.kind == Kind::Relative {
            return false;
        }
        // An input of delimiters alone (a search for `:` or `/`) matches the
        // application's own `https://`; the scheme and the host around it
        // are still the application's.
        let delimiters_only = end <= self.lead_end
            && text
                .get(start..end)
                .unwrap_or_default()
                .iter()
                .all(|&b| matches!(b, b':' | b'/' | b'\\') || b <= b' ');
        if delimiters_only {
            return false;
        }
        // The scheme is chosen with its `:`, the authority with its
        // slashes. Writing only letters of the scheme (`http` in a search
        // for "http") chooses nothing the application did not write.
        let writes_colon = self.colon.is_some_and(|c| start <= c && c < end);
        let slashes = self.colon.map_or(0, |c| c + 1)..self.lead_end;
        let writes_slash = text
            .get(start.max(slashes.start)..end.min(slashes.end))
            .unwrap_or_default()
            .iter()
            .any(|b| matches!(b, b'/' | b'\\'));
        if writes_colon || writes_slash {
            return true;
        }
        self.readings.iter().flatten().any(|auth| {
            let host = &auth.host;
            // Writing the last label alone (`com` of `shop.com`) is as
            // likely a coincidence as a choice among the application's
            // own domains; writing a dot in it chooses a domain, however
            // the dot is spelled (`.`, `%2e`, `。` and the other full
            // stops browsers map to one).
            let ends_host = start < host.end
                && end >= host.end
                && (start <= host.start || text.get(start..host.end).is_some_and(separates_labels));
            let overlap = text
                .get(start.max(auth.span.start)..end.min(auth.span.end))
                .unwrap_or_default();
            let writes_delimiter = overlap
                .iter()
                .any(|b| matches!(b, b'@' | b'\\' | b'[' | b']'));
            ends_host || writes_delimiter
        })
    }
}

/// The `:` ending a scheme that starts at `start`, read as browsers do:
/// an ASCII letter, then letters, digits, `+`, `-` or `.`, tabs and line
/// breaks skipped; a port-like `name:80` is a scheme as well.
fn scheme_colon(text: &[u8], start: usize, stop: usize) -> Option<usize> {
    let mut i = start;
    while let Some((at, b)) = significant(text, i, stop) {
        match b {
            b':' if at > start => return Some(at),
            b if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.') => i = at + 1,
            _ => return None,
        }
    }
    None
}

/// How many `/` and `\` start the text at `start`, tabs and line breaks
/// skipped (browsers read `\` as `/` in web URLs).
fn leading_slashes(text: &[u8], start: usize, stop: usize) -> usize {
    let mut count = 0;
    let mut i = start;
    while let Some((at, b'/' | b'\\')) = significant(text, i, stop) {
        count += 1;
        if count == 2 {
            break;
        }
        i = at + 1;
    }
    count
}

/// Whether a scheme name (as written, tabs and line breaks included) is
/// one that runs script in the page.
fn is_script_scheme(name: &[u8]) -> bool {
    const SCRIPT: [&[u8]; 3] = [b"javascript", b"data", b"vbscript"];
    let letters = name
        .iter()
        .filter(|b| !matches!(b, b'\t' | b'\n' | b'\r'))
        .map(u8::to_ascii_lowercase);
    SCRIPT.iter().any(|s| {
        let mut letters = letters.clone();
        s.iter().all(|&c| letters.next() == Some(c)) && letters.next().is_none()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(location: &str, input: &str) -> Option<Reason> {
        detect(location.as_bytes(), &Finder::new(input.as_bytes())).map(|f| f.reason)
    }

    #[test]
    fn reads_heads_like_browsers() {
        let kind = |t: &str| Head::read(t.as_bytes()).kind;
        assert_eq!(kind("/a/b"), Kind::Relative);
        assert_eq!(kind("a/b"), Kind::Relative);
        assert_eq!(kind("?q=1"), Kind::Relative);
        assert_eq!(kind("/\t"), Kind::Relative);
        assert_eq!(kind("/\tevil"), Kind::Relative);
        assert_eq!(kind("/\t/evil"), Kind::SchemeRelative);
        assert_eq!(kind(" \\\\evil"), Kind::SchemeRelative);
        assert_eq!(kind("https://x"), Kind::Absolute { web: true });
        assert_eq!(kind("ftp://x"), Kind::Absolute { web: false });
        assert_eq!(kind("javascript:alert(1)"), Kind::SchemeOnly);
        assert_eq!(kind("evil:80"), Kind::SchemeOnly);
        assert_eq!(kind(":80"), Kind::Relative);
    }

    #[test]
    fn names_script_schemes() {
        assert!(is_script_scheme(b"JavaScript"));
        assert!(is_script_scheme(b"java\tscript"));
        assert!(is_script_scheme(b"data"));
        assert!(!is_script_scheme(b"javascripts"));
        assert!(!is_script_scheme(b"dat"));
        assert!(!is_script_scheme(b""));
    }

    #[test]
    fn line_breaks_and_controls_are_reported_wherever_they_land() {
        let split = "/account\r\nSet-Cookie: session=evil";
        assert_eq!(reason(split, split), Some(Reason::SplitsHeader));
        assert_eq!(reason("/search?q=a\nb", "a\nb"), Some(Reason::SplitsHeader));
        assert_eq!(
            reason("/items/a\x00b", "a\x00b"),
            Some(Reason::ControlCharacter)
        );
        assert_eq!(
            reason("/items/a\x7f", "a\x7f"),
            Some(Reason::ControlCharacter)
        );
        // The head still decides first: the reason is the one that matters.
        assert_eq!(
            reason("java\nscript:alert(1)", "java\nscript:alert(1)"),
            Some(Reason::ScriptScheme)
        );
        // Tabs, and line breaks the application wrote, are not the input's.
        assert_eq!(reason("/items/a\tb", "a\tb"), None);
        assert_eq!(reason("/items/ab\r\n", "ab"), None);
        assert_eq!(reason("/search?q=a%0D%0Ab", "a%0D%0Ab"), None);
    }

    #[test]
    fn a_dot_in_any_spelling_chooses_the_domain() {
        for input in [
            ".evil",
            "%2eevil",
            "%2Eevil%2Enet",
            "\u{3002}evil\u{3002}net",
            "\u{ff0e}evil",
            "\u{ff61}evil",
            "%E3%80%82evil",
        ] {
            let location = format!("https://shop.example{input}/cart");
            assert_eq!(
                reason(&location, input),
                Some(Reason::OffSiteRedirect),
                "{location:?}"
            );
        }
        // The last label alone is still no choice.
        assert_eq!(reason("https://shop.example/cart", "example"), None);
    }

    #[test]
    fn the_head_bounds_the_search() {
        assert_eq!(
            reason("/next?u=https://evil.example", "https://evil.example"),
            None
        );
        assert_eq!(
            reason(
                "https://evil.example/?u=https://evil.example",
                "https://evil.example"
            ),
            Some(Reason::OffSiteRedirect)
        );
    }
}
