//! Which address a request comes from.
//!
//! By default the client address is the TCP peer from axum's
//! `ConnectInfo<SocketAddr>`: forwarding headers are written by whoever
//! sends the request, so trusting them by default would let any client
//! pick the address that rate limits and blocklists see. Behind a reverse
//! proxy, name the proxies; only a request whose peer is one of them has
//! its forwarding header read, from the right (the hop nearest to us) to
//! the left, skipping further trusted proxies. The first address that is
//! not a trusted proxy is the client.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderName, Request};
use ipnet::IpNet;

/// Most forwarding-header entries looked at, from the right: enough for any
/// real proxy chain, and a bound on the work a forged header can cause.
const MAX_HOPS: usize = 16;

/// How the client address of a request is found.
#[derive(Debug, Clone)]
pub struct ClientAddrPolicy {
    trusted_proxies: Vec<IpNet>,
    header: HeaderName,
}

impl Default for ClientAddrPolicy {
    fn default() -> Self {
        ClientAddrPolicy {
            trusted_proxies: Vec::new(),
            header: HeaderName::from_static("x-forwarded-for"),
        }
    }
}

impl ClientAddrPolicy {
    /// The TCP peer, no forwarding header trusted.
    pub fn peer_only() -> Self {
        Self::default()
    }

    /// Trusts the forwarding header of requests whose peer is in one of
    /// `proxies`, and skips those proxies inside the header.
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = IpNet>) -> Self {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }

    /// The forwarding header to read (`x-forwarded-for` by default, or e.g.
    /// `x-real-ip`): a comma-separated list of addresses, nearest hop last.
    pub fn header(mut self, header: HeaderName) -> Self {
        self.header = header;
        self
    }

    /// The client address of `req`, if known.
    pub fn client_ip<B>(&self, req: &Request<B>) -> Option<IpAddr> {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_canonical())?;
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        Some(self.forwarded_client(req.headers()).unwrap_or(peer))
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }

    /// The nearest untrusted hop of the forwarding header. A malformed
    /// entry stops the walk: what lies left of it cannot be trusted, so
    /// the last trusted hop seen (or the peer) stands as the client.
    fn forwarded_client(&self, headers: &HeaderMap) -> Option<IpAddr> {
        let entries = headers
            .get_all(&self.header)
            .iter()
            .rev()
            .flat_map(|value| value.as_bytes().rsplit(|&b| b == b','))
            .take(MAX_HOPS);
        let mut nearest_trusted = None;
        for entry in entries {
            let Some(ip) = parse_hop(entry) else {
                return nearest_trusted;
            };
            if !self.is_trusted(ip) {
                return Some(ip);
            }
            nearest_trusted = Some(ip);
        }
        nearest_trusted
    }
}

/// One hop: an address, optionally with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_hop(entry: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(entry).ok()?.trim();
    text.parse::<IpAddr>()
        .or_else(|_| text.parse::<SocketAddr>().map(|addr| addr.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, forwarded: &[&str]) -> Request<()> {
        let mut req = Request::new(());
        req.extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        for value in forwarded {
            req.headers_mut()
                .append("x-forwarded-for", value.parse().unwrap());
        }
        req
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    fn behind_proxy() -> ClientAddrPolicy {
        ClientAddrPolicy::default().trusted_proxies(["10.0.0.0/8".parse().unwrap()])
    }

    #[test]
    fn forwarding_header_is_ignored_by_default() {
        let req = request("203.0.113.7:5000", &["198.51.100.1"]);
        assert_eq!(
            ClientAddrPolicy::default().client_ip(&req),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn forwarding_header_from_an_untrusted_peer_is_ignored() {
        let req = request("203.0.113.7:5000", &["198.51.100.1"]);
        assert_eq!(behind_proxy().client_ip(&req), ip("203.0.113.7"));
    }

    #[test]
    fn nearest_untrusted_hop_is_the_client() {
        // The client forged the leftmost entry; the proxies appended the rest.
        let req = request("10.0.0.1:5000", &["1.1.1.1, 198.51.100.1", "10.0.0.2"]);
        assert_eq!(behind_proxy().client_ip(&req), ip("198.51.100.1"));
    }

    #[test]
    fn ports_and_mapped_addresses_are_normalized() {
        let req = request("[::ffff:10.0.0.1]:5000", &["[2001:db8::1]:443"]);
        assert_eq!(behind_proxy().client_ip(&req), ip("2001:db8::1"));
        let req = request("10.0.0.1:5000", &["198.51.100.1:8080"]);
        assert_eq!(behind_proxy().client_ip(&req), ip("198.51.100.1"));
    }

    #[test]
    fn malformed_or_missing_header_falls_back_to_the_trusted_hop() {
        let req = request("10.0.0.1:5000", &["198.51.100.1, garbage, 10.0.0.3"]);
        assert_eq!(behind_proxy().client_ip(&req), ip("10.0.0.3"));
        let req = request("10.0.0.1:5000", &[]);
        assert_eq!(behind_proxy().client_ip(&req), ip("10.0.0.1"));
    }

    #[test]
    fn no_connect_info_means_no_address() {
        assert_eq!(
            ClientAddrPolicy::default().client_ip(&Request::new(())),
            None
        );
    }
}
