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
//! collision at someone else's budget), and the number tracked is bounded:
//! idle requesters are evicted every few thousand evaluations, and a rate
//! limit whose table still holds [`MAX_TRACKED`] requesters after eviction
//! is suspended (fail-open) until a later eviction frees room, rather than
//! letting a flood of fresh addresses grow memory without bound. The breaker
//! stops tracking new requesters at the same bound.
//!
//! With `[fleet]` (feature `redis`), rate limits and block lists are also
//! shared by every instance through Redis; see `docs/policy.md`, "Fleet
//! state".

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use rustc_hash::{FxHashMap, FxHashSet};

use super::compile::{PolicyError, invalid, non_empty};
use super::file::{self, Requester};
#[cfg(feature = "redis")]
use super::fleet::{Fleet, Outcome, SharedQuota};
use super::{metrics, store};
use crate::context::RequestContext;
use crate::decision::Decision;

/// Most requesters tracked per rate limit and by the circuit breaker.
pub const MAX_TRACKED: usize = 100_000;

/// The longest window or refill time an entry rule may have, in seconds:
/// beyond it `Instant` and nanosecond arithmetic could overflow on some
/// platforms, and no rule needs it.
const YEAR: u64 = 365 * 24 * 3600;

/// How often (in evaluations) idle requesters are evicted.
const SWEEP_EVERY: u64 = 4096;

/// Which entry rule refused a request; the `rule` label of
/// [`metrics::ENTRY_DECISIONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryRule {
    /// `block_ips`, `block_users` or `block_tenants`.
    BlockList,
    /// The circuit breaker is open for this requester.
    CircuitBreaker,
    /// A rate limit is exhausted.
    RateLimit,
    /// The shared fleet state could not be read and `[fleet] on_error` is
    /// `closed`.
    FleetUnavailable,
}

impl EntryRule {
    /// Stable snake-case name, as used in events and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            EntryRule::BlockList => "block_list",
            EntryRule::CircuitBreaker => "circuit_breaker",
            EntryRule::RateLimit => "rate_limit",
            EntryRule::FleetUnavailable => "fleet_unavailable",
        }
    }
}

/// Decides whether the request `ctx` may enter, under the installed policy.
/// `Allow` without a policy or without an `[entry]` table. Allowlisted
/// routes and requesters (`[allow]`) always enter.
pub fn evaluate(ctx: &RequestContext) -> Decision {
    match &*store::snapshot() {
        Some(policy) => policy.evaluate_entry(ctx),
        None => Decision::Allow,
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
    limiter: DefaultKeyedRateLimiter<u64>,
    /// Set by a sweep that found the table full: the limit is suspended
    /// until a later sweep has evicted enough idle requesters.
    full: AtomicBool,
    /// The same quota for the budget shared through Redis.
    #[cfg(feature = "redis")]
    shared: SharedQuota,
    /// The limit's place in `rate_limits`: its name in Redis keys.
    #[cfg(feature = "redis")]
    index: usize,
}

struct Breaker {
    key: Requester,
    threshold: u32,
    window: Duration,
    open_for: Duration,
    /// Circuits open now: while zero, [`EntryRules::evaluate`] never locks.
    open: AtomicUsize,
    trips: Mutex<FxHashMap<u64, Trip>>,
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
            rate_limits.push(Limit {
                key: limit.key,
                limiter: RateLimiter::keyed(quota),
                full: AtomicBool::new(false),
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
            hasher: RandomState::new(),
            evaluations: AtomicU64::new(0),
            #[cfg(feature = "redis")]
            fleet: None,
        })
    }

    /// The keyed hash of the requester `ctx` for `key`, if it has one.
    fn requester(&self, key: Requester, ctx: &RequestContext) -> Option<u64> {
        match key {
            Requester::Ip => ctx.client_ip().map(|ip| self.hash(ip)),
            Requester::User => ctx.user().map(|user| self.hash(user)),
            Requester::Tenant => ctx.tenant().map(|tenant| self.hash(tenant)),
        }
    }

    fn hash(&self, value: impl Hash) -> u64 {
        self.hasher.hash_one(value)
    }

    pub(crate) fn evaluate(&self, ctx: &RequestContext, revision: u64) -> Decision {
        if self.evaluations.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep();
        }
        let refused = if self.on_block_list(ctx) {
            Some((Decision::Block, EntryRule::BlockList))
        } else if let Some(refused) = self.fleet_block_listed(ctx) {
            Some(refused)
        } else if self.breaker_open(ctx) {
            Some((Decision::Block, EntryRule::CircuitBreaker))
        } else {
            self.rate_limited(ctx)
        };
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
        for limit in &self.rate_limits {
            if limit.full.load(Ordering::Relaxed) {
                continue;
            }
            let Some(requester) = self.requester(limit.key, ctx) else {
                continue;
            };
            if limit.limiter.check_key(&requester).is_err() {
                return throttled;
            }
            #[cfg(feature = "redis")]
            if let Some(fleet) = &self.fleet {
                match fleet.rate_limit(limit.index, limit.key, limit.shared, ctx) {
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
        if trips.len() >= MAX_TRACKED && !trips.contains_key(&requester) {
            prune(&mut trips, breaker, now);
            if trips.len() >= MAX_TRACKED {
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

    /// Evicts idle requesters from every table.
    fn sweep(&self) {
        for limit in &self.rate_limits {
            limit.limiter.retain_recent();
            limit.limiter.shrink_to_fit();
            let full = limit.limiter.len() >= MAX_TRACKED;
            limit.full.store(full, Ordering::Relaxed);
        }
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
