//! Which destinations a guarded client may reach: the allowlist of
//! internal hosts, and the check of a URL's host made before a request is
//! sent and before each redirect hop is followed.

use rasp_core::Reason;
use rasp_core::detect::ssrf::{HostClass, classify_host, classify_ip};
use std::net::IpAddr;
use url::{Host, Url};

/// One internal destination named by the application.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Allowed {
    /// The host as `url` serializes it: lowercase name, canonical IPv4,
    /// bracketed canonical IPv6.
    host: Box<str>,
    /// The ports allowed on it.
    ports: Ports,
    /// Whether the entry names a metadata service itself: only then may it
    /// reach a metadata address.
    metadata: bool,
}

/// Which ports of an allowed host may be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ports {
    /// The scheme's default port (80 for `http`, 443 for `https`): an entry
    /// that names no port. Another service listening on the same host is
    /// another destination, not allowed by naming the host.
    SchemeDefault,
    /// Exactly this port: a `host:port` entry.
    Exactly(u16),
    /// Every port: a `host:*` entry, the explicit opt-in.
    Any,
}

impl Ports {
    fn admit(self, url: &Url) -> bool {
        match self {
            // `url` drops a port that is the scheme's default, so `port()`
            // is `None` exactly when the default port is used.
            Ports::SchemeDefault => url.port().is_none(),
            Ports::Exactly(port) => url.port_or_known_default() == Some(port),
            Ports::Any => true,
        }
    }
}

/// How a URL a client may reach is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// A public host, or one whose name needs DNS to tell (its addresses
    /// are checked when connecting).
    Public,
    /// An allowlisted host on an allowed port: the application vouched
    /// for it, so no recorded input may choose it.
    Listed,
}

/// The internal hosts a client may reach; every other destination must be
/// public.
#[derive(Debug, Clone, Default)]
pub(super) struct Destinations {
    allowed: Vec<Allowed>,
}

impl Destinations {
    /// Adds `host` (the scheme's default port), `host:port`, `host:*`
    /// (every port), `ip`, `ip:port` or `[ipv6]:port`. Returns `false` if
    /// the entry names no host.
    pub(super) fn allow(&mut self, entry: &str) -> bool {
        let entry = entry.trim();
        let (entry, any_port) = match entry.strip_suffix(":*") {
            Some(host) => (host, true),
            None => (entry, false),
        };
        let Ok(url) = Url::parse(&format!("http://{entry}/")) else {
            return false;
        };
        let plain = url.path() == "/"
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none();
        let Some(host) = url.host_str().filter(|_| plain) else {
            return false;
        };
        // `url` drops a port that is the scheme's default; `host:80` still
        // means only port 80.
        let explicit = entry
            .rsplit_once(':')
            .filter(|(_, digits)| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|_| url.port_or_known_default());
        let ports = match (explicit, any_port) {
            (Some(_), true) => return false,
            (Some(port), false) => Ports::Exactly(port),
            (None, true) => Ports::Any,
            (None, false) => Ports::SchemeDefault,
        };
        let host = host.strip_suffix('.').unwrap_or(host);
        self.allowed.push(Allowed {
            host: host.into(),
            ports,
            metadata: host_class(&url) == Some(HostClass::Metadata),
        });
        true
    }

    /// How a request to `url` reaches its destination, or why it must not
    /// be sent: the scheme reaches another protocol, or the host is
    /// internal and not allowed (on this port).
    pub(super) fn check(&self, url: &Url) -> Result<Reach, Reason> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Reason::DangerousScheme);
        }
        // An HTTP URL without a host is refused by reqwest itself.
        let (Some(class), Some(host)) = (host_class(url), url.host_str()) else {
            return Ok(Reach::Public);
        };
        let host = host.strip_suffix('.').unwrap_or(host);
        let mut listed = false;
        for allowed in self.allowed.iter().filter(|a| *a.host == *host) {
            listed = true;
            if allowed.ports.admit(url) {
                return if class == HostClass::Metadata && !allowed.metadata {
                    Err(Reason::InternalAddress)
                } else {
                    Ok(Reach::Listed)
                };
            }
        }
        // A listed host is internal on the ports its entries do not allow,
        // whatever its name looks like: the application said it is.
        if listed || class.is_internal() {
            Err(Reason::InternalAddress)
        } else {
            Ok(Reach::Public)
        }
    }

    /// Whether a connection to `ip`, an address `name` resolved to, may be
    /// made. The port was checked with the URL, before the name was
    /// resolved.
    pub(super) fn permits(&self, name: &str, ip: IpAddr) -> bool {
        let class = classify_ip(ip);
        if !class.is_internal() {
            return true;
        }
        let name = name.strip_suffix('.').unwrap_or(name);
        self.allowed
            .iter()
            .any(|a| *a.host == *name && (class != HostClass::Metadata || a.metadata))
    }
}

/// How `url`'s host classifies: IP literals by address, names by what
/// their spelling tells (local names, metadata names, wildcard-DNS names).
fn host_class(url: &Url) -> Option<HostClass> {
    Some(match url.host()? {
        Host::Ipv4(ip) => classify_ip(ip.into()),
        Host::Ipv6(ip) => classify_ip(ip.into()),
        Host::Domain(name) => classify_host(name.as_bytes()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(d: &Destinations, url: &str) -> Result<Reach, Reason> {
        d.check(&Url::parse(url).expect("valid URL"))
    }

    const PUBLIC: Result<Reach, Reason> = Ok(Reach::Public);
    const LISTED: Result<Reach, Reason> = Ok(Reach::Listed);
    const INTERNAL: Result<Reach, Reason> = Err(Reason::InternalAddress);

    #[test]
    fn public_hosts_pass_and_internal_ones_do_not() {
        let d = Destinations::default();
        for url in [
            "https://example.org/",
            "http://93.184.216.34:8080/x",
            "https://[2606:4700::1111]/",
        ] {
            assert_eq!(check(&d, url), PUBLIC, "{url}");
        }
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00:ec2::254]/",
            "http://metadata.google.internal/",
            "http://localhost:8080/",
            "http://redis:6379/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://10.0.0.1.nip.io/",
        ] {
            assert_eq!(check(&d, url), INTERNAL, "{url}");
        }
        assert_eq!(
            check(&d, "file:///etc/passwd"),
            Err(Reason::DangerousScheme)
        );
        assert_eq!(
            check(&d, "gopher://example.org/"),
            Err(Reason::DangerousScheme)
        );
    }

    #[test]
    fn allowlisted_hosts_pass_on_their_ports_only() {
        let mut d = Destinations::default();
        assert!(d.allow("127.0.0.1:8080"));
        assert!(d.allow("Billing.Internal."));
        assert!(d.allow("db.example.com:80"));
        assert!(d.allow("[::1]:9000"));
        assert!(d.allow("avatars.shop.example"));
        assert!(d.allow("cache.internal:*"));
        assert_eq!(check(&d, "http://127.0.0.1:8080/health"), LISTED);
        assert_eq!(check(&d, "http://2130706433:8080/health"), LISTED);
        assert_eq!(check(&d, "http://127.0.0.1:8081/"), INTERNAL);
        assert_eq!(check(&d, "http://127.0.0.1/"), INTERNAL);
        // No port in the entry: the scheme's default port only.
        assert_eq!(check(&d, "https://billing.internal/"), LISTED);
        assert_eq!(check(&d, "http://billing.internal:80/"), LISTED);
        assert_eq!(check(&d, "https://billing.internal:8443/"), INTERNAL);
        assert_eq!(check(&d, "http://billing.internal:443/"), INTERNAL);
        // A public-looking name, once listed, is internal on other ports.
        assert_eq!(check(&d, "http://avatars.shop.example/a.png"), LISTED);
        assert_eq!(
            check(&d, "http://avatars.shop.example:18099/secret"),
            INTERNAL
        );
        assert_eq!(check(&d, "http://cache.internal:6380/"), LISTED);
        assert_eq!(check(&d, "http://[::1]:9000/"), LISTED);
        assert_eq!(check(&d, "http://db.example.com/"), LISTED);
        assert_eq!(check(&d, "http://db.example.com:22/"), INTERNAL);
        assert_eq!(check(&d, "http://unlisted.example.com:22/"), PUBLIC);
        assert!(d.permits("billing.internal", [10, 0, 0, 7].into()));
        assert!(d.permits("db.example.com.", [192, 168, 1, 7].into()));
        assert!(!d.permits("billing.internal", [169, 254, 169, 254].into()));
        assert!(!d.permits("other.example.com", [10, 0, 0, 7].into()));
        assert!(d.permits("other.example.com", [93, 184, 216, 34].into()));
    }

    #[test]
    fn only_a_metadata_entry_reaches_metadata() {
        let mut d = Destinations::default();
        assert!(d.allow("169.254.169.254"));
        assert!(d.allow("metadata.google.internal"));
        assert_eq!(check(&d, "http://169.254.169.254/latest/"), LISTED);
        assert!(d.permits("metadata.google.internal", [169, 254, 169, 254].into()));
    }

    #[test]
    fn entries_that_name_no_host_are_rejected() {
        let mut d = Destinations::default();
        for entry in [
            "",
            "http://x/",
            "a/b",
            "user@host",
            "[::1",
            "host:99999",
            "host:80:*",
            ":*",
        ] {
            assert!(!d.allow(entry), "{entry:?}");
        }
    }
}
