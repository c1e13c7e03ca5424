//! Entry guards: whether a request may enter, decided before the handler
//! runs, from its context (client address, route, user, tenant).
//!
//! [`RaspLayer`](crate::RaspLayer) asks its guard once per request with the
//! fresh context; a refusal is answered without calling the handler. Guards
//! compose as tuples: `(IpBlocklist, PerIpRateLimit)` asks the blocklist
//! first and the rate limit only for requests the blocklist let through.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use governor::Quota;
use ipnet::IpNet;
use rasp_core::policy::entry::{
    Admission, DEFAULT_IPV6_PREFIX, MAX_TRACKED, RequesterLimiter, TrackedTable, requester_address,
};
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

    /// The decision, for a caller that can wait for it without holding a
    /// thread: [`RaspLayer`](crate::RaspLayer) asks this. By default,
    /// [`EntryGuard::check`] at once; a guard that waits on I/O (the
    /// [`InstalledPolicy`] with `[fleet]`) returns a pending decision.
    fn admission(&self, ctx: &Arc<RequestContext>) -> GuardAdmission {
        GuardAdmission::Decided(self.check(ctx))
    }
}

/// An [`EntryGuard`]'s decision, now or after waiting on I/O.
pub enum GuardAdmission {
    /// Decided without waiting.
    Decided(EntryDecision),
    /// Await the decision; it holds no thread while it waits.
    Pending(Pin<Box<dyn Future<Output = EntryDecision> + Send>>),
}

impl std::fmt::Debug for GuardAdmission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GuardAdmission::Decided(decision) => f.debug_tuple("Decided").field(decision).finish(),
            GuardAdmission::Pending(_) => f.write_str("Pending"),
        }
    }
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

    /// The second guard may wait; a first guard that would wait is asked
    /// with [`EntryGuard::check`] instead, since the second must be asked
    /// only after it (put a guard that waits, such as [`InstalledPolicy`]
    /// with `[fleet]`, last).
    fn admission(&self, ctx: &Arc<RequestContext>) -> GuardAdmission {
        match self.0.admission(ctx) {
            GuardAdmission::Decided(EntryDecision::Allow) => self.1.admission(ctx),
            GuardAdmission::Decided(refused) => GuardAdmission::Decided(refused),
            GuardAdmission::Pending(_) => GuardAdmission::Decided(self.check(ctx)),
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

impl InstalledPolicy {
    fn entry_decision(retry_after: Duration, decision: Decision) -> EntryDecision {
        match decision {
            Decision::Block => EntryDecision::Block,
            Decision::Throttle => EntryDecision::Throttle { retry_after },
            Decision::Allow | Decision::Monitor => EntryDecision::Allow,
            // A decision this layer does not know yet refuses: the safe side.
            _ => EntryDecision::Block,
        }
    }
}

impl EntryGuard for InstalledPolicy {
    /// Blocks the calling thread on Redis (at most the policy's
    /// `timeout_ms`) when the policy has `[fleet]`;
    /// [`EntryGuard::admission`], which the layer asks, does not.
    fn check(&self, ctx: &RequestContext) -> EntryDecision {
        Self::entry_decision(self.retry_after, rasp_core::policy::entry::evaluate(ctx))
    }

    fn admission(&self, ctx: &Arc<RequestContext>) -> GuardAdmission {
        let retry_after = self.retry_after;
        match rasp_core::policy::entry::admission(ctx) {
            Admission::Decided(decision) => {
                GuardAdmission::Decided(Self::entry_decision(retry_after, decision))
            }
            Admission::Pending(pending) => GuardAdmission::Pending(Box::pin(async move {
                Self::entry_decision(retry_after, pending.await)
            })),
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

/// A GCRA rate limit (`governor`) per client address. Requests without a
/// known client address enter.
///
/// Addresses are counted by network
/// ([`requester_address`](rasp_core::policy::entry::requester_address)):
/// IPv4 and IPv4-mapped IPv6 by address, other IPv6 by their `/64` (see
/// [`PerIpRateLimit::ipv6_prefix`]), so a client holding a whole IPv6
/// network cannot mint a fresh budget per request.
///
/// Memory is bounded: at most 100 000 networks are tracked (see
/// [`PerIpRateLimit::max_tracked`]); idle ones are forgotten every 4096
/// checks. A client that arrives while the table is full shares one
/// overflow budget with every other such newcomer (so a flood of fresh
/// addresses is throttled as a group), and the overflow is counted in
/// `rasp_entry_table_overflows_total{table="per_ip_rate_limit"}` and
/// reported by a `rasp.entry.table_full` event. The limit is never
/// suspended, and an address over its budget is never forgotten.
#[derive(Debug)]
pub struct PerIpRateLimit {
    limiter: RequesterLimiter<IpAddr>,
    quota: Quota,
    ipv6_prefix: u8,
}

impl PerIpRateLimit {
    /// Limits each client address to `quota`, e.g.
    /// `Quota::per_second(NonZeroU32::new(10).unwrap())`.
    pub fn new(quota: Quota) -> Self {
        PerIpRateLimit {
            limiter: RequesterLimiter::new(quota, MAX_TRACKED, TrackedTable::PerIpRateLimit),
            quota,
            ipv6_prefix: DEFAULT_IPV6_PREFIX,
        }
    }

    /// Sets the prefix length (1 to 128, default 64) IPv6 clients are
    /// counted by; every address in one such network shares one budget.
    pub fn ipv6_prefix(mut self, bits: u8) -> Self {
        self.ipv6_prefix = bits.clamp(1, 128);
        self
    }

    /// Sets how many client networks are tracked at once (default
    /// 100 000, at least 1). Starts the table afresh.
    pub fn max_tracked(mut self, max_tracked: usize) -> Self {
        self.limiter = RequesterLimiter::new(self.quota, max_tracked, TrackedTable::PerIpRateLimit);
        self
    }

    /// Requests limited on the shared overflow budget because the table
    /// was full, since this guard was made.
    pub fn overflowed(&self) -> u64 {
        self.limiter.overflowed()
    }
}

impl EntryGuard for PerIpRateLimit {
    fn check(&self, ctx: &RequestContext) -> EntryDecision {
        let Some(ip) = ctx.client_ip() else {
            return EntryDecision::Allow;
        };
        match self.limiter.check(&requester_address(ip, self.ipv6_prefix)) {
            Ok(()) => EntryDecision::Allow,
            Err(retry_after) => {
                refused_event(ctx, "per_ip_rate_limit", Decision::Throttle);
                EntryDecision::Throttle { retry_after }
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
    fn one_ipv6_network_shares_one_budget() {
        let limit = PerIpRateLimit::new(Quota::per_hour(NonZeroU32::new(1).unwrap()));
        assert_eq!(limit.check(&from("2001:db8:1:2::1")), EntryDecision::Allow);
        // Another address in the same /64: the same requester.
        assert!(matches!(
            limit.check(&from("2001:db8:1:2:ffff::9")),
            EntryDecision::Throttle { .. }
        ));
        assert_eq!(limit.check(&from("2001:db8:1:3::1")), EntryDecision::Allow);
        // IPv4 and its mapped form are one requester.
        assert_eq!(limit.check(&from("198.51.100.7")), EntryDecision::Allow);
        assert!(matches!(
            limit.check(&from("::ffff:198.51.100.7")),
            EntryDecision::Throttle { .. }
        ));
        let per_address =
            PerIpRateLimit::new(Quota::per_hour(NonZeroU32::new(1).unwrap())).ipv6_prefix(128);
        assert_eq!(
            per_address.check(&from("2001:db8::1")),
            EntryDecision::Allow
        );
        assert_eq!(
            per_address.check(&from("2001:db8::2")),
            EntryDecision::Allow
        );
    }

    #[test]
    fn a_flood_of_networks_never_lifts_the_limit() {
        let limit =
            PerIpRateLimit::new(Quota::per_hour(NonZeroU32::new(2).unwrap())).max_tracked(100);
        let abuser = from("203.0.113.66");
        for _ in 0..2 {
            assert_eq!(limit.check(&abuser), EntryDecision::Allow);
        }
        let mut flood_admitted = 0;
        for n in 0..5_000u32 {
            let ip = format!("2001:db8:{:x}:{:x}::1", n >> 16, n & 0xffff);
            if limit.check(&from(&ip)) == EntryDecision::Allow {
                flood_admitted += 1;
            }
        }
        assert!(
            matches!(limit.check(&abuser), EntryDecision::Throttle { .. }),
            "the abuser is still throttled"
        );
        // 99 networks fit the table with a budget of two each; the rest
        // shared one budget of two.
        assert!(flood_admitted <= 99 * 2 + 2, "{flood_admitted}");
        assert!(limit.overflowed() >= 4_900, "{}", limit.overflowed());
        assert!(limit.limiter.len() <= 100);
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
