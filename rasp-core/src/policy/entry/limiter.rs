//! A GCRA rate limit per requester whose table of requesters is bounded,
//! and what happens past the bound.
//!
//! `governor` keeps one word of state per requester. A keyed limiter's
//! table grows with every new requester, so a flood of fresh addresses
//! could grow it without bound. This store caps it: a requester already in
//! the table is always limited on its own budget, and a requester that
//! arrives while the table is full shares one overflow budget (the quota of
//! a single requester) with every other newcomer, until a sweep has evicted
//! idle requesters. Past the cap, newcomers are throttled as a group: the
//! limit is never suspended, and a flood cannot evict an abuser who is
//! still over budget (only requesters whose budget is whole again, and so
//! indistinguishable from newcomers, are evicted). Each request sent to the
//! overflow budget is counted ([`metrics::ENTRY_TABLE_OVERFLOWS`]) and
//! reported by a `rasp.entry.table_full` event, at most one per
//! [`REPORT_EVERY`] and table.
//!
//! [`metrics::ENTRY_TABLE_OVERFLOWS`]: super::super::metrics::ENTRY_TABLE_OVERFLOWS

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed, StateStore};
use governor::{Quota, RateLimiter};

use crate::event::TARGET;
use crate::telemetry::TrackedTable;
use crate::telemetry::metrics;

/// How often (in checks) a limiter evicts idle requesters.
const SWEEP_EVERY: u64 = 4096;

/// At most one `rasp.entry.table_full` event per table in this period; the
/// counter counts every overflow.
pub const REPORT_EVERY: Duration = Duration::from_secs(10);

/// Counts and reports the requests a full table could not track.
#[derive(Debug)]
pub(crate) struct Pressure {
    table: TrackedTable,
    capacity: usize,
    /// The origin of `next_report`.
    base: Instant,
    /// Nanoseconds from `base` before which no event is sent.
    next_report: AtomicU64,
    /// Overflows since the last event.
    unreported: AtomicU64,
    /// Overflows since the table was made.
    total: AtomicU64,
}

impl Pressure {
    pub(crate) fn new(table: TrackedTable, capacity: usize) -> Pressure {
        Pressure {
            table,
            capacity,
            base: Instant::now(),
            next_report: AtomicU64::new(0),
            unreported: AtomicU64::new(0),
            total: AtomicU64::new(0),
        }
    }

    /// One request the table could not track.
    pub(crate) fn overflowed(&self) {
        metrics::entry_table_overflowed(self.table);
        self.total.fetch_add(1, Ordering::Relaxed);
        self.unreported.fetch_add(1, Ordering::Relaxed);
        let now = u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let next = self.next_report.load(Ordering::Relaxed);
        let every = u64::try_from(REPORT_EVERY.as_nanos()).unwrap_or(u64::MAX);
        if now < next
            || self
                .next_report
                .compare_exchange(
                    next,
                    now.saturating_add(every),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return;
        }
        let requests = self.unreported.swap(0, Ordering::Relaxed);
        tracing::event!(
            target: TARGET,
            tracing::Level::WARN,
            event.name = "rasp.entry.table_full",
            rasp.entry.table = self.table.as_str(),
            rasp.entry.capacity = self.capacity,
            rasp.entry.overflowed = requests,
            "the {} table tracks {} requesters; {} requests from requesters it could not \
             track shared one overflow budget",
            self.table.as_str(),
            self.capacity,
            requests,
        );
    }

    pub(crate) fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

/// A GCRA rate limit (`governor`) per requester key, with a bounded table.
///
/// Up to `max_tracked` requesters each get their own budget. A requester
/// that arrives while the table is full is limited on one overflow budget
/// shared by all such newcomers (so, under a flood of fresh keys, mostly
/// throttled), and the overflow is counted and reported: the limit is never
/// suspended. Idle requesters (whose budget is whole again) are evicted
/// every 4096 checks, which frees room without forgetting anyone who is
/// still over budget.
pub struct RequesterLimiter<K: Hash + Eq + Clone> {
    limiter: RateLimiter<
        K,
        BoundedStore<K>,
        DefaultClock,
        NoOpMiddleware<<DefaultClock as Clock>::Instant>,
    >,
    checks: AtomicU64,
    /// Shared with the store: `RateLimiter` lends its store to no one.
    pressure: Arc<Pressure>,
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for RequesterLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequesterLimiter")
            .field("tracked", &self.len())
            .field("overflowed", &self.overflowed())
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> RequesterLimiter<K> {
    /// Limits each requester to `quota`, tracking at most `max_tracked`
    /// (at least 1) at once; overflows are reported under `table`.
    pub fn new(quota: Quota, max_tracked: usize, table: TrackedTable) -> Self {
        let pressure = Arc::new(Pressure::new(table, max_tracked.max(1)));
        let store = BoundedStore {
            map: RwLock::new(HashMap::default()),
            capacity: max_tracked.max(1),
            overflow: InMemoryState::default(),
            pressure: Arc::clone(&pressure),
        };
        RequesterLimiter {
            limiter: RateLimiter::new(quota, store, DefaultClock::default()),
            checks: AtomicU64::new(0),
            pressure,
        }
    }

    /// Counts one request of `key`. `Err` with the time until a retry may
    /// succeed when it is over its budget (or, for a requester the full
    /// table could not track, when the shared overflow budget is spent).
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep();
        }
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Evicts requesters whose budget is whole again.
    pub fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// How many requesters are tracked.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    /// Whether no requester is tracked.
    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }

    /// Requests limited on the shared overflow budget because the table
    /// was full, since this limiter was made.
    pub fn overflowed(&self) -> u64 {
        self.pressure.total()
    }
}

/// The bounded table behind a [`RequesterLimiter`].
struct BoundedStore<K> {
    map: RwLock<HashMap<K, InMemoryState, RandomState>>,
    capacity: usize,
    /// The budget shared by requesters that arrive while the table is full.
    overflow: InMemoryState,
    pressure: Arc<Pressure>,
}

impl<K> BoundedStore<K> {
    // Every update of the map leaves it consistent: a panic while a lock
    // was held cannot have left half an update.
    fn read(&self) -> RwLockReadGuard<'_, HashMap<K, InMemoryState, RandomState>> {
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<K, InMemoryState, RandomState>> {
        self.map.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl<K: Hash + Eq + Clone> StateStore for BoundedStore<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let full = {
            let map = self.read();
            if let Some(state) = map.get(key) {
                return state.measure_and_replace(&NotKeyed::NonKey, f);
            }
            map.len() >= self.capacity
        };
        // A full table sends newcomers to the overflow budget without
        // taking the write lock, so a flood does not serialize on it.
        if !full {
            let mut map = self.write();
            if map.len() < self.capacity || map.contains_key(key) {
                return map
                    .entry(key.clone())
                    .or_default()
                    .measure_and_replace(&NotKeyed::NonKey, f);
            }
        }
        self.pressure.overflowed();
        self.overflow.measure_and_replace(&NotKeyed::NonKey, f)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<K> for BoundedStore<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        self.write().retain(|_, state| {
            // Reads the state's arrival time without changing it: the
            // closure refuses to store anything.
            let tat = state.measure_and_replace(&NotKeyed::NonKey, |tat| {
                Err::<((), Nanos), Option<Nanos>>(tat)
            });
            matches!(tat, Err(Some(tat)) if tat > drop_below)
        });
    }

    fn shrink_to_fit(&self) {
        self.write().shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.read().len()
    }

    fn is_empty(&self) -> bool {
        self.read().is_empty()
    }
}
