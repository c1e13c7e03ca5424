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
    /// The only port allowed, or any port.
    port: Option<u16>,
    /// Whether the entry names a metadata service itself: only then may it
    /// reach a metadata address.
    metadata: bool,
}

/// The internal hosts a client may reach; every other destination must be
/// public.
#[derive(Debug, Clone, Default)]
pub(super) struct Destinations {
    allowed: Vec<Allowed>,
}

impl Destinations {
    /// Adds `host`, `host:port`, `ip`, `ip:port` or `[ipv6]:port`. Returns
    /// `false` if the entry names no host.
    pub(super) fn allow(&mut self, entry: &str) -> bool {
        let entry = entry.trim();
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
        let host = host.strip_suffix('.').unwrap_or(host);
        self.allowed.push(Allowed {
            host: host.into(),
            port: explicit,
            metadata: host_class(&url) == Some(HostClass::Metadata),
        });
        true
    }

    /// Why a request to `url` must not be sent, if it must not: the scheme
    /// reaches another protocol, or the host is internal and not allowed
    /// (on this port).
    pub(super) fn check(&self, url: &Url) -> Result<(), Reason> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Reason::DangerousScheme);
        }
        // An HTTP URL without a host is refused by reqwest itself.
        let (Some(class), Some(host)) = (host_class(url), url.host_str()) else {
            return Ok(());
        };
        let host = host.strip_suffix('.').unwrap_or(host);
        let port = url.port_or_known_default();
        let mut listed = false;
        for allowed in self.allowed.iter().filter(|a| *a.host == *host) {
            listed = true;
            if allowed.port.is_none_or(|p| Some(p) == port) {
                return if class == HostClass::Metadata && !allowed.metadata {
                    Err(Reason::InternalAddress)
                } else {
                    Ok(())
                };
            }
        }
        // A host allowed on some ports only is internal on the others.
        if listed || class.is_internal() {
            Err(Reason::InternalAddress)
        } else {
            Ok(())
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

    fn check(d: &Destinations, url: &str) -> Result<(), Reason> {
        d.check(&Url::parse(url).expect("valid URL"))
    }

    #[test]
    fn public_hosts_pass_and_internal_ones_do_not() {
        let d = Destinations::default();
        for url in [
            "https://example.org/",
            "http://93.184.216.34:8080/x",
            "https://[2606:4700::1111]/",
        ] {
            assert_eq!(check(&d, url), Ok(()), "{url}");
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
            assert_eq!(check(&d, url), Err(Reason::InternalAddress), "{url}");
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
        assert_eq!(check(&d, "http://127.0.0.1:8080/health"), Ok(()));
        assert_eq!(check(&d, "http://2130706433:8080/health"), Ok(()));
        assert_eq!(
            check(&d, "http://127.0.0.1:8081/"),
            Err(Reason::InternalAddress)
        );
        assert_eq!(check(&d, "http://127.0.0.1/"), Err(Reason::InternalAddress));
        assert_eq!(check(&d, "https://billing.internal:8443/"), Ok(()));
        assert_eq!(check(&d, "http://[::1]:9000/"), Ok(()));
        assert_eq!(check(&d, "http://db.example.com/"), Ok(()));
        assert_eq!(
            check(&d, "http://db.example.com:22/"),
            Err(Reason::InternalAddress)
        );
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
        assert_eq!(check(&d, "http://169.254.169.254/latest/"), Ok(()));
        assert!(d.permits("metadata.google.internal", [169, 254, 169, 254].into()));
    }

    #[test]
    fn entries_that_name_no_host_are_rejected() {
        let mut d = Destinations::default();
        for entry in ["", "http://x/", "a/b", "user@host", "[::1", "host:99999"] {
            assert!(!d.allow(entry), "{entry:?}");
        }
    }
}
