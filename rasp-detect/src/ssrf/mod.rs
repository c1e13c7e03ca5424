//! Server-side request forgery detector.
//!
//! An application sends a request to a URL that an untrusted input helped
//! build: the whole URL (a webhook, an image to fetch), its host, or a path
//! or query part under a host the application chose. The input is an
//! injection when it decides where the request goes — it covers the URL's
//! whole scheme name or whole host, writes a delimiter inside the authority
//! (`@`, `\`, `[`, `]`), or starts inside the authority and ends past it,
//! deciding where it ends — and the destination is one the application
//! must not reach:
//!
//! - the host [classifies](classify_host) as internal: loopback, private,
//!   link-local, shared (CGNAT), unspecified, multicast, broadcast,
//!   reserved, or a cloud metadata service, in any spelling a client
//!   accepts (`2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`, `localhost.`,
//!   fullwidth digits …) — [`Reason::InternalAddress`];
//! - the scheme is not `http`, `https`, `ws` or `wss`: `file`, `gopher`,
//!   `dict`, `ftp`, `ldap`, `jar`, `netdoc`, `php` … reach other protocols
//!   or the local disk — [`Reason::DangerousScheme`].
//!
//! The URL is split the way HTTP clients split it, twice, because clients
//! disagree and attackers pick the disagreement
//! (`http://evil.example\@127.0.0.1/`): the WHATWG reading (browsers,
//! Rust's `url`, reqwest), where any run of `/` and `\` after a special
//! scheme starts the authority and `\` ends it; and the RFC 3986 reading
//! (curl, Python, Go), where the authority needs `//` and `\` is an
//! ordinary byte. Both take the host after the authority's last `@`, skip
//! tabs and line breaks, and read a text without a scheme as curl does
//! (`host[:port]/…`). A host that either reading finds internal counts.
//!
//! An input that changes a host the application wrote itself is a finding
//! wherever it leads ([`Reason::ControlsAuthority`]): in
//! `https://api.example.com{input}` the input `@evil.example`,
//! `.evil.example` (the dot also spelled `%2e`, `。` or any full stop
//! UTS #46 maps to one) or `:6379` turns the application's fixed
//! destination into the attacker's; in `https://{input}.tenant.example.com/`
//! the input `evil.example#` (or `?`, `/`, `\`) ends the authority before
//! the application's labels. Otherwise a public destination is no finding: users
//! legitimately hand out public URLs and hosts (webhooks, avatars), and
//! which public hosts are allowed is a matter of policy. Neither is an input confined to the path, query or
//! fragment: once the path has started, nothing in it can move the request
//! to another host, so `http://10.0.0.5:8080/items/{input}` is the
//! application's choice of host, not the user's. An input that is only part
//! of a host label, the port or the user information leaves the host to the
//! application, too.
//!
//! A name that needs DNS (`internal.example.com` resolving to `10.0.0.7`,
//! or a rebinding name that changes its answer) cannot be judged from the
//! text: the resolved address is checked when the connection is made, with
//! [`classify_ip`]. Only names that spell their answer without DNS — local
//! names, metadata names, wildcard-DNS services such as `10.0.0.1.nip.io` —
//! are classified here.

mod classify;
mod host;
// Also read by the open-redirect detector, which asks whether an input
// writes a label separator in any spelling.
pub(crate) mod idna;
mod ipv4;
mod ipv6;
mod name;
// Also read by the open-redirect detector, which splits a `Location` the
// same way before asking who chose its destination.
pub(crate) mod url;

#[cfg(test)]
mod tests;

use crate::Needle;

pub use self::classify::{HostClass, classify_ip};
pub use self::host::classify_host;
use self::url::{Head, Scheme};
use crate::Reason;

/// A finding of the SSRF detector: the occurrence offset and why it is an
/// injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsrfFinding {
    /// Byte offset of the offending occurrence of the input in the URL.
    pub offset: usize,
    /// What the occurrence makes the request do.
    pub reason: Reason,
}

/// Whether the input searched by `finder` sends a request for `url`
/// somewhere it must not go.
///
/// `finder.needle()` is the recorded input (any bytes). Returns the first
/// occurrence that decides the URL's scheme or host when the scheme is
/// dangerous or the host internal (see the [module docs](self)), or `None`
/// — also when the input does not occur at all, which costs one substring
/// search, or is empty.
#[inline]
pub fn detect(url: &[u8], finder: &dyn Needle) -> Option<SsrfFinding> {
    let first = crate::first_occurrence(url, finder)?;
    examine(url, finder, first)
}

#[inline(never)]
fn examine(url: &[u8], finder: &dyn Needle, first: usize) -> Option<SsrfFinding> {
    let head = url::parse(url);
    let head_end = head.end();
    let len = finder.needle().len();
    let mut hosts = Hosts {
        url,
        head: &head,
        internal: [None; 2],
    };
    // Only occurrences starting before the path can decide the
    // destination (the head's last byte included).
    crate::occurrences_before(url, finder, first, head_end + 1).find_map(|start| {
        judge(&mut hosts, start, start + len).map(|reason| SsrfFinding {
            offset: start,
            reason,
        })
    })
}

/// Whether an occurrence of `finder`'s input decides where a request for
/// `url` goes, wherever that is: it covers the whole host or the whole
/// port, writes a delimiter inside the authority (`@`, `\`, `[`, `]`), or
/// starts inside the authority and ends past it.
///
/// [`detect`] leaves a public destination to policy. A client that may
/// reach a few internal hosts the application named asks this stricter
/// question of every URL bound for one of them: the application vouched
/// for the destination, so no input may pick it, whether it looks public
/// or not. An input that only completes part of a host label or of the
/// port is left out, as in [`detect`]: short inputs (`8`, `eu`) occur in
/// the application's own hosts and ports by coincidence, and the allowed
/// ports are enforced whoever wrote them. So is an input that covers only
/// the scheme: a client asking this question refuses schemes other than
/// `http` and `https` anyway, and `http` and `https` both lead to the
/// host the application named. Under both readings of [the
/// module docs](self); `false` when the input is empty or does not occur
/// before the path.
pub fn decides_destination(url: &[u8], finder: &dyn Needle) -> bool {
    let Some(first) = crate::first_occurrence(url, finder) else {
        return false;
    };
    let head = url::parse(url);
    let head_end = head.end();
    let len = finder.needle().len();
    crate::occurrences_before(url, finder, first, head_end + 1).any(|start| {
        let end = start + len;
        head.readings.iter().flatten().any(|auth| {
            let overlap = url
                .get(start.max(auth.span.start)..end.min(auth.span.end))
                .unwrap_or_default();
            let writes_delimiter = overlap
                .iter()
                .any(|b| matches!(b, b'@' | b'\\' | b'[' | b']'));
            let moves_end = auth.span.contains(&start) && end > auth.span.end;
            let covers = |r: &core::ops::Range<usize>| start <= r.start && end >= r.end;
            // The port's digits follow the host's `:`, up to the
            // authority's end.
            let port = auth.host.end + 1..auth.span.end;
            let host_or_port = extends_host(url, auth, start, end)
                || (!auth.host.is_empty() && covers(&auth.host))
                || (url.get(auth.host.end) == Some(&b':') && !port.is_empty() && covers(&port));
            writes_delimiter || moves_end || host_or_port
        })
    })
}

/// The URL's head with the classification of each reading's host, made
/// once, when an occurrence first chooses that host.
struct Hosts<'a> {
    url: &'a [u8],
    head: &'a Head,
    internal: [Option<bool>; 2],
}

impl Hosts<'_> {
    fn internal(&mut self, reading: usize) -> bool {
        if let Some(known) = self.internal.get(reading).copied().flatten() {
            return known;
        }
        let [whatwg, rfc] = &self.head.readings;
        let host = |a: &Option<url::Authority>| a.as_ref().map(|a| a.host.clone());
        let (w, r) = (host(whatwg), host(rfc));
        // Both readings usually find the same host: classify it once.
        let internal = match (reading, &w, &r) {
            (1, Some(w), Some(r)) if w == r => self.internal(0),
            _ => [w, r]
                .get(reading)
                .cloned()
                .flatten()
                .and_then(|h| self.url.get(h))
                .is_some_and(|h| classify_host(h).is_internal()),
        };
        if let Some(slot) = self.internal.get_mut(reading) {
            *slot = Some(internal);
        }
        internal
    }
}

/// Whether the occurrence `start..end` writes the end of a host whose start
/// the application wrote, adding a label (`api.example.com` + `.evil.example`,
/// the dot spelled `.`, `%2e`, `。` or any other way UTS #46 maps to one):
/// the input then chooses the domain the request goes to.
fn extends_host(url: &[u8], auth: &url::Authority, start: usize, end: usize) -> bool {
    let host = &auth.host;
    host.start < start
        && start < host.end
        && end >= host.end
        && url.get(start..host.end).is_some_and(idna::separates_labels)
}

/// Whether the occurrence `start..end` ends the authority before text of
/// the application's that was meant for it: a label, a port or userinfo
/// rather than a path, query or fragment (`evil.example#` in
/// `https://{input}.tenant.example.com/`). Text that goes on with a query
/// parameter (`{url}&key=…`) is not taken for part of the authority.
fn ends_early(url: &[u8], auth: &url::Authority, start: usize, end: usize) -> bool {
    let continues_authority = url::significant(url, end, url.len()).is_some_and(|(_, b)| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'@' | b'%') || b >= 0x80
    });
    start < auth.span.end && end > auth.span.end && continues_authority
}

/// Whether the occurrence `start..end` decides the destination, and if so
/// whether that destination is forbidden.
fn judge(hosts: &mut Hosts<'_>, start: usize, end: usize) -> Option<Reason> {
    let (url, head) = (hosts.url, hosts.head);
    let covers = |r: &core::ops::Range<usize>| start <= r.start && end >= r.end;
    let scheme_chosen = head.scheme != Scheme::Absent && covers(&head.scheme_span);
    let mut internal = false;
    let mut host_chosen = false;
    let mut fixed_host_changed = false;
    for (reading, auth) in head.readings.iter().enumerate() {
        let Some(auth) = auth else { continue };
        let inside = auth.span.contains(&start);
        let overlap = url
            .get(start.max(auth.span.start)..end.min(auth.span.end))
            .unwrap_or_default();
        let writes_delimiter = overlap
            .iter()
            .any(|b| matches!(b, b'@' | b'\\' | b'[' | b']'));
        let moves_end = inside && end > auth.span.end;
        let extends = extends_host(url, auth, start, end);
        let chosen = covers(&auth.host) || writes_delimiter || moves_end || extends;
        host_chosen |= chosen;
        // The application wrote the start of the authority itself, so it
        // meant to fix the host; an input that then writes a delimiter,
        // ends the authority or adds labels moves the request elsewhere
        // (`@evil`, `.evil.example`, `:6379/`), wherever that is. So does
        // one that ends the authority before text the application meant
        // for it (`evil.example#` in `https://{input}.tenant.example/`).
        // Writing the port's `:` after such a host picks another service
        // on it (`:6379`); digits alone in a port the application
        // delimited are its own business, as in `decides_destination`.
        let writes_port = start > auth.span.start
            && start <= auth.host.end
            && auth.host.end + 1 < end.min(auth.span.end)
            && url.get(auth.host.end) == Some(&b':');
        fixed_host_changed |= ((writes_delimiter || moves_end) && start > auth.span.start)
            || extends
            || writes_port
            || ends_early(url, auth, start, end);
        internal = internal || (chosen && hosts.internal(reading));
    }
    if !(scheme_chosen || host_chosen || fixed_host_changed) {
        return None;
    }
    if head.scheme == Scheme::Other {
        Some(Reason::DangerousScheme)
    } else if internal {
        Some(Reason::InternalAddress)
    } else if fixed_host_changed {
        Some(Reason::ControlsAuthority)
    } else {
        None
    }
}
