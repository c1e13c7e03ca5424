//! Entry rules: decisions about a request as it enters, before any sink
//! runs. Block lists for client addresses, users and tenants; GCRA rate
//! limits (`governor`) per address, user or tenant; and a circuit breaker
//! that shuts a requester out for a while after repeated detections.
//!
//! The service calls [`evaluate`] once per request, after building its
//! [`RequestContext`], and refuses the request on `Block` or `Throttle`.
//!
//! Rate-limit and breaker state belongs to the installed policy: a reload
//! starts it afresh. Requesters are tracked by a keyed hash of their address
//! or id (SipHash with a per-policy random key, so no one can aim a
//! collision at someone else's budget). An address is counted by its
//! network ([`requester_address`]): IPv4 (and IPv4-mapped IPv6) whole, IPv6
//! by its `/64` (`[entry] ipv6_prefix`), since one subscriber commonly holds
//! a whole `/64` and could otherwise mint a fresh requester per request.
//!
//! The number tracked is bounded (`[entry] max_tracked`, default
//! [`MAX_TRACKED`]) and never at the cost of checking: idle requesters are
//! evicted every few thousand evaluations, and a requester that arrives
//! while a rate limit's table is full is limited on one overflow budget
//! shared by all such newcomers ([`RequesterLimiter`]); a breaker whose
//! table is full does not count the newcomer's detections. Either way the
//! overflow is counted and reported (a `rasp.entry.table_full` event).
//!
//! With `[fleet]` (feature `redis`), rate limits and block lists are also
//! shared by every instance through Redis; see `docs/policy.md`, "Fleet
//! state". [`admission`] is the entry decision for callers that can wait
//! asynchronously: it awaits Redis instead of blocking a worker thread.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hash};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::Quota;
use ipnet::IpNet;
use rustc_hash::{FxHashMap, FxHashSet};

use super::compile::{PolicyError, invalid, non_empty};
use super::file::{self, Requester};
#[cfg(feature = "redis")]
use super::fleet::{Fleet, Outcome, SharedQuota};
use super::store;
use crate::context::RequestContext;
use crate::decision::Decision;
use crate::telemetry::metrics;

mod limiter;

pub use crate::context::EntryMark;
pub use crate::telemetry::{EntryRule, TrackedTable};
use limiter::Pressure;
pub use limiter::{REPORT_EVERY, RequesterLimiter};

/// Most requesters tracked per rate limit and by the circuit breaker,
/// unless `[entry] max_tracked` says otherwise.
pub const MAX_TRACKED: usize = 100_000;

/// The largest `[entry] max_tracked` a policy may set.
pub const MAX_TRACKED_LIMIT: usize = 10_000_000;

/// The prefix length IPv6 requesters are counted by, unless
/// `[entry] ipv6_prefix` says otherwise.
pub const DEFAULT_IPV6_PREFIX: u8 = 64;

/// The address an entry rule counts the client `ip` as: an IPv4 address
/// (or an IPv4-mapped IPv6 one) as itself, an IPv6 address as its network
/// of `ipv6_prefix` bits (at most 128), host bits zeroed.
///
/// One subscriber usually holds a whole IPv6 `/64` (or larger) and can
/// send every request from a fresh address in it; counted one by one, such
/// a client would have a fresh budget per request and could fill any
/// table of requesters.
#[inline]
pub fn requester_address(ip: IpAddr, ipv6_prefix: u8) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let bits = u32::from(ipv6_prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

/// The longest window or refill time an entry rule may have, in seconds:
/// beyond it `Instant` and nanosecond arithmetic could overflow on some
/// platforms, and no rule needs it.
const YEAR: u64 = 365 * 24 * 3600;

/// How often (in evaluations) idle requesters are evicted from the
/// breaker's table.
const SWEEP_EVERY: u64 = 4096;

/// Decides whether the request `ctx` may enter, under the installed policy.
/// `Allow` without a policy or without an `[entry]` table. Allowlisted
/// routes and requesters (`[allow]`) always enter.
///
/// Marks `ctx` as evaluated ([`EntryMark::evaluated`]), so that a
/// `#[rasp::protect]` fn running inside a request the web layer already
/// admitted does not spend the requester's budget a second time.
///
/// With `[fleet]` this blocks the calling thread on Redis (at most about
/// `timeout_ms` per call); an async caller should use [`admission`].
pub fn evaluate(ctx: &RequestContext) -> Decision {
    ctx.entry_mark().mark_evaluated();
    match &*store::snapshot() {
        Some(policy) => policy.evaluate_entry(ctx),
        None => Decision::Allow,
    }
}

/// The entry decision for a request, now or after waiting on fleet state.
pub enum Admission {
    /// Decided without waiting.
    Decided(Decision),
    /// The decision waits on shared fleet state in Redis (`[fleet]`,
    /// feature `redis`): await it. It holds no thread while it waits, and
    /// resolves within the policy's `timeout_ms` (then the fleet's
    /// `on_error` decides). Must be polled within a tokio runtime.
    Pending(Pin<Box<dyn Future<Output = Decision> + Send>>),
}

impl fmt::Debug for Admission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Admission::Decided(decision) => f.debug_tuple("Decided").field(decision).finish(),
            Admission::Pending(_) => f.write_str("Pending"),
        }
    }
}

impl Admission {
    /// The decision, waiting for it if it is pending.
    pub async fn decision(self) -> Decision {
        match self {
            Admission::Decided(decision) => decision,
            Admission::Pending(pending) => pending.await,
        }
    }
}

/// [`evaluate`] for a caller that can wait asynchronously, as a web layer
/// can: without `[fleet]`, or outside a tokio runtime, the decision is made
/// at once (exactly as [`evaluate`] makes it); with `[fleet]` inside a
/// tokio runtime, the Redis exchanges are awaited on a multiplexed
/// connection, bounded by `timeout_ms` in all, instead of blocking the
/// worker thread. Marks `ctx` as evaluated, like [`evaluate`].
pub fn admission(ctx: &Arc<RequestContext>) -> Admission {
    #[cfg(feature = "redis")]
    {
        let policy = store::snapshot();
        let waits = policy
            .as_ref()
            .and_then(|policy| policy.entry.as_ref())
            .is_some_and(EntryRules::waits_on_fleet);
        if waits && tokio::runtime::Handle::try_current().is_ok() {
            ctx.entry_mark().mark_evaluated();
            let policy = arc_swap::Guard::into_inner(policy);
            let ctx = Arc::clone(ctx);
            return Admission::Pending(Box::pin(async move {
                match policy {
                    Some(policy) => policy.evaluate_entry_async(&ctx).await,
                    None => Decision::Allow,
                }
            }));
        }
    }
    Admission::Decided(evaluate(ctx))
}

#[cfg(feature = "redis")]
impl super::Policy {
    /// [`super::Policy::evaluate_entry`], waiting on Redis asynchronously.
    async fn evaluate_entry_async(&self, ctx: &RequestContext) -> Decision {
        let Some(entry) = &self.entry else {
            return Decision::Allow;
        };
        if self.route_entry(ctx.route()).is_some_and(|e| e.allow)
            || self.allowlisted_requester(ctx.client_ip(), ctx.user(), ctx.tenant())
        {
            return Decision::Allow;
        }
        entry.evaluate_async(ctx, self.revision).await
    }
}

/// The compiled `[entry]` table of a policy.
pub(crate) struct EntryRules {
    monitor_only: bool,
    block_ips: Vec<IpNet>,
    block_users: FxHashSet<Box<str>>,
    block_tenants: FxHashSet<Box<str>>,
    rate_limits: Vec<Limit>,
    breaker: Option<Breaker>,
    ipv6_prefix: u8,
    hasher: RandomState,
    evaluations: AtomicU64,
    #[cfg(feature = "redis")]
    fleet: Option<Fleet>,
}

impl fmt::Debug for EntryRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntryRules")
            .field("monitor_only", &self.monitor_only)
            .field("block_ips", &self.block_ips)
            .field("block_users", &self.block_users.len())
            .field("block_tenants", &self.block_tenants.len())
            .field("rate_limits", &self.rate_limits.len())
            .field("breaker", &self.breaker.is_some())
            .finish_non_exhaustive()
    }
}

struct Limit {
    key: Requester,
    /// The route templates the limit applies to (`routes`); `None` for all.
    routes: Option<Box<[Box<str>]>>,
    limiter: RequesterLimiter<u64>,
    /// The same quota for the budget shared through Redis.
    #[cfg(feature = "redis")]
    shared: SharedQuota,
    /// The limit's place in `rate_limits`: its name in Redis keys.
    #[cfg(feature = "redis")]
    index: usize,
}

impl Limit {
    /// Whether the limit counts this request: every request, or one whose
    /// route (the template the server matched, never the client's path)
    /// is one the limit names. A request with no known route is counted
    /// only by limits that name none.
    fn applies_to(&self, ctx: &RequestContext) -> bool {
        match &self.routes {
            None => true,
            Some(routes) => ctx
                .route()
                .is_some_and(|route| routes.iter().any(|r| **r == *route)),
        }
    }
}

struct Breaker {
    key: Requester,
    threshold: u32,
    window: Duration,
    open_for: Duration,
    /// Circuits open now: while zero, [`EntryRules::evaluate`] never locks.
    open: AtomicUsize,
    trips: Mutex<FxHashMap<u64, Trip>>,
    max_tracked: usize,
    pressure: Pressure,
}

#[derive(Clone, Copy)]
struct Trip {
    window_start: Instant,
    count: u32,
    open_until: Option<Instant>,
}

impl EntryRules {
    /// Compiles `[entry]` and `[fleet]`: `None` when the policy has neither.
    pub(crate) fn from_file(
        entry: Option<file::Entry>,
        fleet: Option<file::Fleet>,
    ) -> Result<Option<EntryRules>, PolicyError> {
        if entry.is_none() && fleet.is_none() {
            return Ok(None);
        }
        #[cfg(feature = "redis")]
        let fleet = fleet.map(Fleet::compile).transpose()?;
        #[cfg(not(feature = "redis"))]
        if fleet.is_some() {
            return Err(invalid(
                "fleet",
                "this build has no fleet support; enable the `redis` feature".into(),
            ));
        }
        let rules = EntryRules::compile(entry.unwrap_or_default())?;
        #[cfg(feature = "redis")]
        let rules = EntryRules { fleet, ..rules };
        Ok(Some(rules))
    }

    fn compile(entry: file::Entry) -> Result<EntryRules, PolicyError> {
        let set = |key: &str, items: Vec<String>| -> Result<FxHashSet<Box<str>>, PolicyError> {
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    non_empty(&format!("entry.{key}[{i}]"), &item)?;
                    Ok(item.into_boxed_str())
                })
                .collect()
        };
        let max_tracked = entry.max_tracked.unwrap_or(MAX_TRACKED);
        if !(1..=MAX_TRACKED_LIMIT).contains(&max_tracked) {
            return Err(invalid(
                "entry.max_tracked",
                format!("from 1 to {MAX_TRACKED_LIMIT}"),
            ));
        }
        let ipv6_prefix = entry.ipv6_prefix.unwrap_or(DEFAULT_IPV6_PREFIX);
        if !(1..=128).contains(&ipv6_prefix) {
            return Err(invalid("entry.ipv6_prefix", "from 1 to 128".into()));
        }
        let mut rate_limits = Vec::with_capacity(entry.rate_limits.len());
        for (i, limit) in entry.rate_limits.into_iter().enumerate() {
            let key = |field: &str| format!("entry.rate_limits[{i}].{field}");
            let positive = |field: &str, n: u32| {
                NonZeroU32::new(n).ok_or_else(|| invalid(&key(field), "must be at least 1".into()))
            };
            let quota = match (limit.per_second, limit.per_minute) {
                (Some(n), None) => Quota::per_second(positive("per_second", n)?),
                (None, Some(n)) => Quota::per_minute(positive("per_minute", n)?),
                _ => {
                    return Err(invalid(
                        &format!("entry.rate_limits[{i}]"),
                        "set exactly one of `per_second` and `per_minute`".into(),
                    ));
                }
            };
            let quota = match limit.burst {
                Some(n) => quota.allow_burst(positive("burst", n)?),
                None => quota,
            };
            // The limiter multiplies the interval by the burst in 64-bit
            // nanoseconds; a burst that takes more than a year to refill
            // would overflow it, and no limit needs one.
            let refill =
                quota.replenish_interval().as_secs_f64() * f64::from(quota.burst_size().get());
            if refill > YEAR as f64 {
                return Err(invalid(
                    &key("burst"),
                    "the burst would take more than a year to refill at this rate".into(),
                ));
            }
            let routes = match limit.routes {
                None => None,
                Some(routes) if routes.is_empty() => {
                    return Err(invalid(
                        &key("routes"),
                        "name at least one route, or leave `routes` out to limit every route"
                            .into(),
                    ));
                }
                Some(routes) => {
                    if let Some(bad) = routes.iter().find(|r| !r.starts_with('/')) {
                        return Err(invalid(
                            &key("routes"),
                            format!("`{bad}` is not a route template (they start with `/`)"),
                        ));
                    }
                    Some(routes.into_iter().map(String::into_boxed_str).collect())
                }
            };
            rate_limits.push(Limit {
                key: limit.key,
                routes,
                limiter: RequesterLimiter::new(quota, max_tracked, TrackedTable::RateLimit),
                #[cfg(feature = "redis")]
                shared: SharedQuota::new(quota),
                #[cfg(feature = "redis")]
                index: i,
            });
        }
        let breaker = match entry.circuit_breaker {
            None => None,
            Some(b) => {
                let key = |field: &str| format!("entry.circuit_breaker.{field}");
                for (field, value) in [
                    ("detections", u64::from(b.detections)),
                    ("window_secs", b.window_secs),
                    ("open_secs", b.open_secs),
                ] {
                    if value == 0 {
                        return Err(invalid(&key(field), "must be at least 1".into()));
                    }
                }
                for (field, value) in [("window_secs", b.window_secs), ("open_secs", b.open_secs)] {
                    if value > YEAR {
                        return Err(invalid(&key(field), format!("at most {YEAR} seconds")));
                    }
                }
                Some(Breaker {
                    key: b.key,
                    threshold: b.detections,
                    window: Duration::from_secs(b.window_secs),
                    open_for: Duration::from_secs(b.open_secs),
                    open: AtomicUsize::new(0),
                    trips: Mutex::new(FxHashMap::default()),
                    max_tracked,
                    pressure: Pressure::new(TrackedTable::CircuitBreaker, max_tracked),
                })
            }
        };
        Ok(EntryRules {
            monitor_only: matches!(entry.action, Some(file::Mode::Monitor)),
            block_ips: entry.block_ips,
            block_users: set("block_users", entry.block_users)?,
            block_tenants: set("block_tenants", entry.block_tenants)?,
            rate_limits,
            breaker,
            ipv6_prefix,
            hasher: RandomState::new(),
            evaluations: AtomicU64::new(0),
            #[cfg(feature = "redis")]
            fleet: None,
        })
    }

    /// The keyed hash of the requester `ctx` for `key`, if it has one.
    fn requester(&self, key: Requester, ctx: &RequestContext) -> Option<u64> {
        match key {
            Requester::Ip => ctx
                .client_ip()
                .map(|ip| self.hash(requester_address(ip, self.ipv6_prefix))),
            Requester::User => ctx.user().map(|user| self.hash(user)),
            Requester::Tenant => ctx.tenant().map(|tenant| self.hash(tenant)),
        }
    }

    fn hash(&self, value: impl Hash) -> u64 {
        self.hasher.hash_one(value)
    }

    pub(crate) fn evaluate(&self, ctx: &RequestContext, revision: u64) -> Decision {
        self.tick();
        let refused = if self.on_block_list(ctx) {
            Some((Decision::Block, EntryRule::BlockList))
        } else if let Some(refused) = self.fleet_block_listed(ctx) {
            Some(refused)
        } else if self.breaker_open(ctx) {
            Some((Decision::Block, EntryRule::CircuitBreaker))
        } else {
            self.rate_limited(ctx)
        };
        self.finish(ctx, refused, revision)
    }

    /// [`Self::evaluate`], waiting on Redis asynchronously.
    #[cfg(feature = "redis")]
    pub(crate) async fn evaluate_async(&self, ctx: &RequestContext, revision: u64) -> Decision {
        self.tick();
        let mut refused = None;
        if self.on_block_list(ctx) {
            refused = Some((Decision::Block, EntryRule::BlockList));
        }
        if let (None, Some(fleet)) = (refused, &self.fleet) {
            refused = match fleet.block_listed_async(ctx).await {
                Outcome::Pass => None,
                Outcome::Refuse => Some((Decision::Block, EntryRule::BlockList)),
                Outcome::Unavailable => fleet_unavailable(fleet),
            };
        }
        if refused.is_none() && self.breaker_open(ctx) {
            refused = Some((Decision::Block, EntryRule::CircuitBreaker));
        }
        if refused.is_none() {
            refused = self.rate_limited_async(ctx).await;
        }
        self.finish(ctx, refused, revision)
    }

    /// Whether deciding may wait on Redis: with `[fleet]`, before the first
    /// read of the shared block lists, and whenever a rate limit is shared.
    #[cfg(feature = "redis")]
    pub(crate) fn waits_on_fleet(&self) -> bool {
        self.fleet
            .as_ref()
            .is_some_and(|fleet| fleet.waits(self.rate_limits.len()))
    }

    /// Counts an evaluation; every [`SWEEP_EVERY`] evicts idle requesters.
    fn tick(&self) {
        if self.evaluations.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep();
        }
    }

    /// The decision for `refused`, counted and reported.
    fn finish(
        &self,
        ctx: &RequestContext,
        refused: Option<(Decision, EntryRule)>,
        revision: u64,
    ) -> Decision {
        let Some((decision, rule)) = refused else {
            return Decision::Allow;
        };
        let decision = if self.monitor_only {
            Decision::Monitor
        } else {
            decision
        };
        metrics::entry_decided(decision, rule);
        report(ctx, decision, rule, revision);
        decision
    }

    fn on_block_list(&self, ctx: &RequestContext) -> bool {
        fn has(set: &FxHashSet<Box<str>>, key: Option<&str>) -> bool {
            !set.is_empty() && key.is_some_and(|k| set.contains(k))
        }
        has(&self.block_users, ctx.user())
            || has(&self.block_tenants, ctx.tenant())
            || ctx
                .client_ip()
                .is_some_and(|ip| self.block_ips.iter().any(|net| net.contains(&ip)))
    }

    /// The shared block lists: `None` without `[fleet]`, or when the
    /// request is not on them (or they are unavailable and the policy
    /// fails open).
    fn fleet_block_listed(&self, _ctx: &RequestContext) -> Option<(Decision, EntryRule)> {
        #[cfg(feature = "redis")]
        if let Some(fleet) = &self.fleet {
            return match fleet.block_listed(_ctx) {
                Outcome::Pass => None,
                Outcome::Refuse => Some((Decision::Block, EntryRule::BlockList)),
                Outcome::Unavailable => fleet_unavailable(fleet),
            };
        }
        None
    }

    /// Each rate limit in turn: the local tier first, then, for a request
    /// it allows, the budget shared through Redis.
    fn rate_limited(&self, ctx: &RequestContext) -> Option<(Decision, EntryRule)> {
        let throttled = Some((Decision::Throttle, EntryRule::RateLimit));
        for limit in self.rate_limits.iter().filter(|l| l.applies_to(ctx)) {
            let Some(requester) = self.requester(limit.key, ctx) else {
                continue;
            };
            if limit.limiter.check(&requester).is_err() {
                return throttled;
            }
            #[cfg(feature = "redis")]
            if let Some(fleet) = &self.fleet {
                match fleet.rate_limit(limit.index, limit.key, limit.shared, self.ipv6_prefix, ctx)
                {
                    Outcome::Pass => {}
                    Outcome::Refuse => return throttled,
                    Outcome::Unavailable => {
                        if let Some(refused) = fleet_unavailable(fleet) {
                            return Some(refused);
                        }
                    }
                }
            }
        }
        None
    }

    /// [`Self::rate_limited`], waiting on Redis asynchronously.
    #[cfg(feature = "redis")]
    async fn rate_limited_async(&self, ctx: &RequestContext) -> Option<(Decision, EntryRule)> {
        let throttled = Some((Decision::Throttle, EntryRule::RateLimit));
        for limit in self.rate_limits.iter().filter(|l| l.applies_to(ctx)) {
            let Some(requester) = self.requester(limit.key, ctx) else {
                continue;
            };
            if limit.limiter.check(&requester).is_err() {
                return throttled;
            }
            if let Some(fleet) = &self.fleet {
                let outcome = fleet
                    .rate_limit_async(limit.index, limit.key, limit.shared, self.ipv6_prefix, ctx)
                    .await;
                match outcome {
                    Outcome::Pass => {}
                    Outcome::Refuse => return throttled,
                    Outcome::Unavailable => {
                        if let Some(refused) = fleet_unavailable(fleet) {
                            return Some(refused);
                        }
                    }
                }
            }
        }
        None
    }

    fn breaker_open(&self, ctx: &RequestContext) -> bool {
        let Some(breaker) = &self.breaker else {
            return false;
        };
        if breaker.open.load(Ordering::Acquire) == 0 {
            return false;
        }
        let Some(requester) = self.requester(breaker.key, ctx) else {
            return false;
        };
        let mut trips = lock(&breaker.trips);
        let Some(trip) = trips.get_mut(&requester) else {
            return false;
        };
        match trip.open_until {
            Some(until) if Instant::now() < until => true,
            Some(_) => {
                // Half-open: the requester gets a fresh window.
                trips.remove(&requester);
                breaker.open.fetch_sub(1, Ordering::Release);
                false
            }
            None => false,
        }
    }

    /// Counts a detection against the requester of `ctx`; opens its circuit
    /// at the threshold.
    pub(crate) fn record_detection(&self, ctx: &RequestContext) {
        let Some(breaker) = &self.breaker else {
            return;
        };
        let Some(requester) = self.requester(breaker.key, ctx) else {
            return;
        };
        let now = Instant::now();
        let mut trips = lock(&breaker.trips);
        if trips.len() >= breaker.max_tracked && !trips.contains_key(&requester) {
            prune(&mut trips, breaker, now);
            if trips.len() >= breaker.max_tracked {
                drop(trips);
                breaker.pressure.overflowed();
                return;
            }
        }
        let trip = trips.entry(requester).or_insert(Trip {
            window_start: now,
            count: 0,
            open_until: None,
        });
        if trip.open_until.is_some() {
            return;
        }
        if now.duration_since(trip.window_start) > breaker.window {
            trip.window_start = now;
            trip.count = 0;
        }
        trip.count += 1;
        if trip.count >= breaker.threshold {
            trip.open_until = Some(now + breaker.open_for);
            breaker.open.fetch_add(1, Ordering::Release);
        }
    }

    /// Evicts idle requesters from the breaker's table (each rate limit
    /// sweeps its own).
    fn sweep(&self) {
        if let Some(breaker) = &self.breaker {
            prune(&mut lock(&breaker.trips), breaker, Instant::now());
        }
    }
}

/// What fleet state that could not be read means for a request: refused
/// (throttled: it may succeed later) under `on_error = "closed"`.
#[cfg(feature = "redis")]
fn fleet_unavailable(fleet: &Fleet) -> Option<(Decision, EntryRule)> {
    fleet
        .fails_closed()
        .then_some((Decision::Throttle, EntryRule::FleetUnavailable))
}

/// Drops trips whose window has passed and whose circuit is closed or has
/// expired.
fn prune(trips: &mut FxHashMap<u64, Trip>, breaker: &Breaker, now: Instant) {
    trips.retain(|_, trip| match trip.open_until {
        Some(until) if now < until => true,
        Some(_) => {
            breaker.open.fetch_sub(1, Ordering::Release);
            false
        }
        None => now.duration_since(trip.window_start) <= breaker.window,
    });
}

/// Locks `mutex`, recovering it from a poisoning panic: every table behind
/// one of these mutexes is left consistent by each update.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update leaves the table consistent; a panic while it was held
    // cannot have left half an update.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn report(ctx: &RequestContext, decision: Decision, rule: EntryRule, revision: u64) {
    // Deduplicated with every other security event: a flood of refused
    // requests is counted in full, reported in bounded number.
    crate::event::entry_decision(ctx, decision, rule, revision);
}
