//! Entry guards: whether a request may enter, decided before the handler
//! runs, from its context (client address, route, user, tenant).
//!
//! [`RaspLayer`](crate::RaspLayer) asks its guard once per request with the
//! fresh context; a refusal is answered without calling the handler. Guards
//! compose as tuples: `(IpBlocklist, PerIpRateLimit)` asks the blocklist
//! first and the rate limit only for requests the blocklist let through.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use rasp_core::{Decision, RequestContext};

/// What an [`EntryGuard`] decided about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryDecision {
    /// The request goes on to the handler.
    Allow,
    /// The request is refused (403 by default).
    Block,
    /// The requester is over a rate limit (429 with `Retry-After` by default).
    Throttle {
        /// How long until a retry may succeed.
        retry_after: Duration,
    },
}

/// Decides whether a request may enter. Called once per request, before
/// the handler, with the request's context; it should be quick, since it
/// sits on every request's path.
pub trait EntryGuard: Send + Sync + 'static {
    /// The decision for the request whose context is `ctx`.
    fn check(&self, ctx: &RequestContext) -> EntryDecision;
}

/// Admits every request: the default guard.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl EntryGuard for AllowAll {
    #[inline]
    fn check(&self, _ctx: &RequestContext) -> EntryDecision {
        EntryDecision::Allow
    }
}

impl<F> EntryGuard for F
where
    F: Fn(&RequestContext) -> EntryDecision + Send + Sync + 'static,
{
    fn check(&self, ctx: &RequestContext) -> EntryDecision {
        self(ctx)
    }
}

impl<A: EntryGuard, B: EntryGuard> EntryGuard for (A, B) {
    fn check(&self, ctx: &RequestContext) -> EntryDecision {
        match self.0.check(ctx) {
            EntryDecision::Allow => self.1.check(ctx),
            refused => refused,
        }
    }
}

/// The entry rules of the installed rasp policy (`[entry]` in the policy
/// file: address, user and tenant blocks, rate limits, circuit breaker).
/// Without an installed policy every request enters. The policy reports
/// its own events.
#[derive(Debug, Clone, Copy)]
pub struct InstalledPolicy {
    retry_after: Duration,
}

impl InstalledPolicy {
    /// Asks the installed policy; throttled requests are told to retry
    /// after one second.
    pub fn new() -> Self {
        InstalledPolicy {
            retry_after: Duration::from_secs(1),
        }
    }

    /// Sets the `Retry-After` of throttled requests.
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }
}

impl Default for InstalledPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl EntryGuard for InstalledPolicy {
    fn check(&self, ctx: &RequestContext) -> EntryDecision {
        match rasp_core::policy::entry::evaluate(ctx) {
            Decision::Block => EntryDecision::Block,
            Decision::Throttle => EntryDecision::Throttle {
                retry_after: self.retry_after,
            },
            Decision::Allow | Decision::Monitor => EntryDecision::Allow,
        }
    }
}

/// Refuses requests whose client address is in one of the listed networks.
/// Requests without a known client address enter.
#[derive(Debug, Clone)]
pub struct IpBlocklist {
    networks: Vec<IpNet>,
}

impl IpBlocklist {
    /// Blocks the given networks (single addresses are `/32` or `/128`).
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        let networks: Vec<IpNet> = networks.into_iter().collect();
        IpBlocklist {
            networks: IpNet::aggregate(&networks),
        }
    }

    /// Whether `ip` is blocked.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|net| net.contains(&ip))
    }
}

impl EntryGuard for IpBlocklist {
    fn check(&self, ctx: &RequestContext) -> EntryDecision {
        match ctx.client_ip() {
            Some(ip) if self.contains(ip) => {
                refused_event(ctx, "ip_blocklist", Decision::Block);
                EntryDecision::Block
            }
            _ => EntryDecision::Allow,
        }
    }
}

/// Most client addresses a [`PerIpRateLimit`] tracks at once.
const MAX_TRACKED: usize = 100_000;

/// How often (in checks) idle addresses are forgotten.
const SWEEP_EVERY: u64 = 4096;

/// A GCRA rate limit (`governor`) per client address. Requests without a
/// known client address enter.
///
/// Memory is bounded: idle addresses are forgotten every 4096 checks, and
/// when more than 100 000 addresses are still tracked after that, the limit
/// lets requests through (fail-open) until a later sweep frees room, rather
/// than growing without bound under a flood of fresh addresses.
#[derive(Debug)]
pub struct PerIpRateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
    /// Set by a sweep that left the table over capacity. Counting the
    /// table walks every shard, so it is done only when sweeping.
    suspended: AtomicBool,
}

impl PerIpRateLimit {
    /// Limits each client address to `quota`, e.g.
    /// `Quota::per_second(NonZeroU32::new(10).unwrap())`.
    pub fn new(quota: Quota) -> Self {
        PerIpRateLimit {
            limiter: RateLimiter::keyed(quota),
            checks: AtomicU64::new(0),
            suspended: AtomicBool::new(false),
        }
    }

    fn suspended(&self) -> bool {
        let n = self.checks.fetch_add(1, Ordering::Relaxed);
        if n % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
            let full = self.limiter.len() > MAX_TRACKED;
            self.suspended.store(full, Ordering::Relaxed);
        }
        self.suspended.load(Ordering::Relaxed)
    }
}

impl EntryGuard for PerIpRateLimit {
    fn check(&self, ctx: &RequestContext) -> EntryDecision {
        let Some(ip) = ctx.client_ip() else {
            return EntryDecision::Allow;
        };
        if self.suspended() {
            return EntryDecision::Allow;
        }
        match self.limiter.check_key(&ip.to_canonical()) {
            Ok(()) => EntryDecision::Allow,
            Err(not_until) => {
                refused_event(ctx, "per_ip_rate_limit", Decision::Throttle);
                EntryDecision::Throttle {
                    retry_after: not_until.wait_time_from(self.limiter.clock().now()),
                }
            }
        }
    }
}

/// Reports a request refused by a built-in guard, with the fields of
/// rasp's other security events, deduplicated with them: a flood of
/// refused requests is counted in full and reported in bounded number.
fn refused_event(ctx: &RequestContext, guard: &'static str, decision: Decision) {
    rasp_core::event::entry_guard_refused(ctx, guard, decision);
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn from(ip: &str) -> std::sync::Arc<RequestContext> {
        RequestContext::builder()
            .client_ip(ip.parse().unwrap())
            .build()
    }

    #[test]
    fn blocklist_matches_networks_and_mapped_addresses() {
        let list = IpBlocklist::new(["192.0.2.0/24".parse().unwrap()]);
        assert_eq!(list.check(&from("192.0.2.200")), EntryDecision::Block);
        assert_eq!(list.check(&from("::ffff:192.0.2.1")), EntryDecision::Block);
        assert_eq!(list.check(&from("198.51.100.1")), EntryDecision::Allow);
        assert_eq!(list.check(&RequestContext::new()), EntryDecision::Allow);
    }

    #[test]
    fn rate_limit_is_per_address_and_says_when_to_retry() {
        let limit = PerIpRateLimit::new(Quota::per_hour(NonZeroU32::new(1).unwrap()));
        assert_eq!(limit.check(&from("198.51.100.1")), EntryDecision::Allow);
        assert_eq!(limit.check(&from("198.51.100.2")), EntryDecision::Allow);
        match limit.check(&from("198.51.100.1")) {
            EntryDecision::Throttle { retry_after } => {
                assert!(retry_after > Duration::from_secs(3500), "{retry_after:?}");
            }
            other => panic!("expected a throttle, got {other:?}"),
        }
    }

    #[test]
    fn a_tuple_asks_the_second_guard_only_for_admitted_requests() {
        let limit = PerIpRateLimit::new(Quota::per_hour(NonZeroU32::new(1).unwrap()));
        let guard = (IpBlocklist::new(["192.0.2.0/24".parse().unwrap()]), limit);
        // Blocked requests do not spend the rate limit.
        for _ in 0..3 {
            assert_eq!(guard.check(&from("192.0.2.1")), EntryDecision::Block);
        }
        assert_eq!(guard.1.limiter.len(), 0);
        assert_eq!(guard.check(&from("198.51.100.1")), EntryDecision::Allow);
    }

    #[test]
    fn installed_policy_entry_rules_decide() {
        assert_eq!(
            InstalledPolicy::new().check(&from("203.0.113.9")),
            EntryDecision::Allow,
            "no policy, no refusal"
        );
        let policy = rasp_core::policy::load_str(
            r#"
            schema_version = 1
            revision = 1
            mode = "block"
            [entry]
            action = "block"
            block_ips = ["203.0.113.0/24"]
            [[entry.rate_limits]]
            key = "ip"
            per_minute = 1
            "#,
        )
        .unwrap();
        rasp_core::policy::install(policy).unwrap();
        let guard = InstalledPolicy::new().retry_after(Duration::from_secs(7));
        assert_eq!(guard.check(&from("203.0.113.9")), EntryDecision::Block);
        assert_eq!(guard.check(&from("198.51.100.1")), EntryDecision::Allow);
        assert_eq!(
            guard.check(&from("198.51.100.1")),
            EntryDecision::Throttle {
                retry_after: Duration::from_secs(7)
            }
        );
        rasp_core::policy::uninstall();
    }
}
