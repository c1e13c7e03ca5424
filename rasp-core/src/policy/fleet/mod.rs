//! Fleet state: rate limits and block lists shared by every instance of a
//! service through Redis (`[fleet]` in the policy, feature `redis`).
//!
//! Each rate limit keeps its local `governor` limiter as the first tier: a
//! request the local tier refuses never reaches Redis; one it allows is
//! then counted against the shared budget by one atomic script call
//! ([`gcra`]). The shared block lists are read by a background thread
//! ([`block_list`]), so no request waits on them after the first.
//!
//! Every Redis exchange made for a request is bounded by `timeout_ms` in
//! all. An asynchronous caller (the axum layer, an async
//! `#[rasp::protect]` fn through [`super::entry::admission`]) waits on a
//! multiplexed tokio connection and holds no thread; a synchronous caller
//! ([`super::entry::evaluate`]) blocks its thread on a pooled synchronous
//! connection for at most that long. When Redis fails or does
//! not answer in time, the failure is counted and reported, requests skip
//! Redis for a short back-off ([`link`]), and `on_error` decides: `open`
//! (the default) lets the local tier decide alone, `closed` refuses.
//!
//! Redis key names never carry a raw address or id: a requester is named
//! by a SipHash-1-3 of its identity under a fixed key, the same in every
//! instance and every release. This keeps addresses and user names out of
//! key listings, slow logs and `MONITOR` output, and gives keys a fixed
//! length whatever the input; it is pseudonymisation, not secrecy (an
//! IPv4 address can be found again by hashing all of them).

mod block_list;
mod gcra;
mod link;

use std::fmt;
use std::hash::Hasher;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use redis::{Client, Script};
use siphasher::sip::SipHasher13;

use super::compile::{PolicyError, invalid};
use super::file::{self, OnError, Requester};
use crate::context::RequestContext;
pub(crate) use crate::telemetry::FleetOp as Op;
pub(crate) use block_list::Listed;
pub(crate) use gcra::SharedQuota;
use link::Link;

/// Default bound on one Redis call made for a request, in milliseconds.
const DEFAULT_TIMEOUT_MS: u64 = 50;
/// Most a policy may set: a request should never wait longer on Redis.
const MAX_TIMEOUT_MS: u64 = 10_000;
/// Default period of the block-list refresh, in milliseconds.
const DEFAULT_REFRESH_MS: u64 = 2_000;
const DEFAULT_PREFIX: &str = "rasp:";
const MAX_PREFIX_BYTES: usize = 64;

/// The requester hash key: fixed, so that every instance and every release
/// names a requester's key alike.
const HASH_KEY: (u64, u64) = (0x7261_7370_666c_6565, 0x742d_7374_6174_6531);

/// What the fleet tier says about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Pass,
    Refuse,
    /// Redis could not be asked: the policy's `on_error` decides.
    Unavailable,
}

/// The compiled `[fleet]` table.
pub(crate) struct Fleet {
    link: Arc<Link>,
    lists: Arc<block_list::BlockLists>,
    script: Script,
    prefix: Box<str>,
    timeout: Duration,
    on_error: OnError,
}

impl fmt::Debug for Fleet {
    // The URL may carry a password: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("on_error", &self.on_error)
            .finish_non_exhaustive()
    }
}

impl Fleet {
    /// Validates `[fleet]`; connects to nothing (the first request does).
    pub(crate) fn compile(fleet: file::Fleet) -> Result<Fleet, PolicyError> {
        // The parse error is not quoted: it may echo the URL's password.
        let client = Client::open(fleet.redis_url.as_str()).map_err(|_| {
            invalid(
                "fleet.redis_url",
                "not a Redis URL (redis://[user:password@]host[:port][/db])".into(),
            )
        })?;
        let timeout_ms = fleet.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
        if !(1..=MAX_TIMEOUT_MS).contains(&timeout_ms) {
            return Err(invalid(
                "fleet.timeout_ms",
                format!("from 1 to {MAX_TIMEOUT_MS} milliseconds"),
            ));
        }
        let refresh_ms = fleet.refresh_ms.unwrap_or(DEFAULT_REFRESH_MS);
        if !(100..=3_600_000).contains(&refresh_ms) {
            return Err(invalid(
                "fleet.refresh_ms",
                "from 100 milliseconds to one hour".into(),
            ));
        }
        let prefix = fleet.key_prefix.unwrap_or_else(|| DEFAULT_PREFIX.into());
        if prefix.is_empty()
            || prefix.len() > MAX_PREFIX_BYTES
            || !prefix.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(invalid(
                "fleet.key_prefix",
                format!("1 to {MAX_PREFIX_BYTES} printable ASCII characters, no spaces"),
            ));
        }
        Ok(Fleet {
            link: Arc::new(Link::new(client)),
            lists: Arc::new(block_list::BlockLists::new(
                &prefix,
                Duration::from_millis(refresh_ms),
            )),
            script: gcra::script(),
            prefix: prefix.into_boxed_str(),
            timeout: Duration::from_millis(timeout_ms),
            on_error: fleet.on_error.unwrap_or_default(),
        })
    }

    /// Whether a request whose fleet state is unavailable is refused.
    pub(crate) fn fails_closed(&self) -> bool {
        self.on_error == OnError::Closed
    }

    /// Whether `ctx` is on a shared block list.
    pub(crate) fn block_listed(&self, ctx: &RequestContext) -> Outcome {
        listed_outcome(self.lists.check(&self.link, ctx, self.timeout))
    }

    /// [`Self::block_listed`] for a caller that waits asynchronously.
    pub(crate) async fn block_listed_async(&self, ctx: &RequestContext) -> Outcome {
        listed_outcome(self.lists.check_async(&self.link, ctx, self.timeout).await)
    }

    /// Whether a request must wait on Redis before its entry decision:
    /// the shared block lists were never read, or a shared rate limit is
    /// to be counted.
    pub(crate) fn waits(&self, rate_limits: usize) -> bool {
        rate_limits > 0 || !self.lists.started()
    }

    /// Counts one request of `ctx` against the shared budget of rate limit
    /// number `rule`. `Pass` for a request without that requester.
    pub(crate) fn rate_limit(
        &self,
        rule: usize,
        key: Requester,
        quota: SharedQuota,
        ipv6_prefix: u8,
        ctx: &RequestContext,
    ) -> Outcome {
        let Some(requester) = requester_hash(key, ipv6_prefix, ctx) else {
            return Outcome::Pass;
        };
        let [interval, tolerance] = quota.args();
        let allowed = self.link.run(Op::RateLimit, self.timeout, |connection| {
            // Named only once Redis is to be asked: during a back-off a
            // request costs no allocation.
            let name = format!("{}rl:{rule}:{requester:016x}", self.prefix);
            self.script
                .key(name)
                .arg(interval)
                .arg(tolerance)
                .invoke::<i64>(connection)
        });
        allowed_outcome(allowed)
    }

    /// [`Self::rate_limit`] for a caller that waits asynchronously: one
    /// script call on the multiplexed connection, within `timeout_ms` in
    /// all.
    pub(crate) async fn rate_limit_async(
        &self,
        rule: usize,
        key: Requester,
        quota: SharedQuota,
        ipv6_prefix: u8,
        ctx: &RequestContext,
    ) -> Outcome {
        let Some(requester) = requester_hash(key, ipv6_prefix, ctx) else {
            return Outcome::Pass;
        };
        let [interval, tolerance] = quota.args();
        let allowed = self
            .link
            .run_async(Op::RateLimit, self.timeout, |mut connection| async move {
                let name = format!("{}rl:{rule}:{requester:016x}", self.prefix);
                self.script
                    .key(name)
                    .arg(interval)
                    .arg(tolerance)
                    .invoke_async::<i64>(&mut connection)
                    .await
            })
            .await;
        allowed_outcome(allowed)
    }
}

fn listed_outcome(listed: Listed) -> Outcome {
    match listed {
        Listed::Yes => Outcome::Refuse,
        Listed::No => Outcome::Pass,
        // A stale copy still names who was blocked when it was read.
        Listed::Stale(true) => Outcome::Refuse,
        Listed::Stale(false) => Outcome::Unavailable,
    }
}

fn allowed_outcome(allowed: Option<i64>) -> Outcome {
    match allowed {
        Some(1) => Outcome::Pass,
        Some(_) => Outcome::Refuse,
        None => Outcome::Unavailable,
    }
}

/// The fleet-wide name of the requester of `ctx` for `key`; addresses are
/// counted by network as the local tier counts them.
fn requester_hash(key: Requester, ipv6_prefix: u8, ctx: &RequestContext) -> Option<u64> {
    let mut hasher = SipHasher13::new_with_keys(HASH_KEY.0, HASH_KEY.1);
    match key {
        Requester::Ip => {
            // IPv4-mapped IPv6 and IPv4 are one requester.
            match super::entry::requester_address(ctx.client_ip()?, ipv6_prefix) {
                IpAddr::V4(ip) => hasher.write(&ip.octets()),
                IpAddr::V6(ip) => hasher.write(&ip.octets()),
            }
            hasher.write_u8(b'i');
        }
        Requester::User => {
            hasher.write(ctx.user()?.as_bytes());
            hasher.write_u8(b'u');
        }
        Requester::Tenant => {
            hasher.write(ctx.tenant()?.as_bytes());
            hasher.write_u8(b't');
        }
    }
    Some(hasher.finish())
}
