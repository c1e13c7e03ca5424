//! The resolver of a guarded client: the connect-time check.
//!
//! `reqwest` asks it for the addresses of every name it connects to — the
//! request's host and each redirect hop's — and connects to what it
//! returns. Checking here checks the address actually connected to, so a
//! name that answers a public address to one lookup and `127.0.0.1` to the
//! next (DNS rebinding) gains nothing.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;

use rasp_core::Reason;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::REQUEST;
use super::destination::Destinations;
use crate::refusal::refuse;

/// Resolves with the system resolver (or the client's fixed host table)
/// and refuses answers that lead somewhere internal.
pub(super) struct GuardedResolver {
    pub(super) destinations: Arc<Destinations>,
    /// Fixed answers, like a hosts file; checked like any other answer.
    pub(super) hosts: Arc<HashMap<Box<str>, Vec<SocketAddr>>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let destinations = Arc::clone(&self.destinations);
        let hosts = Arc::clone(&self.hosts);
        let name: Box<str> = name.as_str().into();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match hosts.get(&name) {
                Some(fixed) => fixed.clone(),
                None => tokio::net::lookup_host((&*name, 0)).await?.collect(),
            };
            // One internal answer refuses the name: a zone that mixes
            // answers would otherwise reach the internal one on a retry or
            // on the happy-eyeballs fallback.
            if addrs.iter().any(|a| !destinations.permits(&name, a.ip())) {
                let refused: Box<dyn StdError + Send + Sync> =
                    Box::new(refuse(&REQUEST, Reason::InternalAddress));
                return Err(refused);
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}
