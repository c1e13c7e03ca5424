//! The shared block lists: three Redis sets, copied into a local snapshot
//! by a background thread, so that a request reads them without waiting on
//! Redis.

use std::net::IpAddr;
use std::sync::{Arc, Condvar, Mutex, Once, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use ipnet::IpNet;
use rustc_hash::FxHashSet;

use super::link::Link;
use crate::context::RequestContext;
use crate::event::TARGET;
use crate::telemetry::FleetOp as Op;
use crate::telemetry::metrics;

/// Most members read from one shared list; a larger set is refused (and
/// the last good copy kept) rather than copied into every instance.
pub(crate) const MAX_SHARED_BLOCKED: usize = 1_000_000;

/// How long one background refresh may take: longer than a request's
/// timeout, since no request waits on it.
const REFRESH_TIMEOUT: Duration = Duration::from_secs(2);

/// The raw members of one set, as Redis sends them.
type Members = Vec<Vec<u8>>;

/// One copy of the three lists.
#[derive(Default)]
struct Lists {
    ips: FxHashSet<IpAddr>,
    nets: Vec<IpNet>,
    users: FxHashSet<Box<str>>,
    tenants: FxHashSet<Box<str>>,
    /// When this copy was read; `None` before the first read.
    read_at: Option<Instant>,
}

/// Whether a request is on a shared list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listed {
    Yes,
    No,
    /// The copy is missing or older than the staleness bound: the
    /// policy's fail mode decides (fail-open reads the stale copy).
    Stale(bool),
}

pub(crate) struct BlockLists {
    keys: [String; 3],
    refresh: Duration,
    current: ArcSwap<Lists>,
    started: Once,
    /// Wakes the refresh thread when the lists are dropped.
    stop: Arc<Stop>,
}

/// Set (and signalled) when the lists' owner is gone, so the refresh
/// thread ends at once rather than at the end of its period.
#[derive(Default)]
struct Stop {
    stopped: Mutex<bool>,
    signal: Condvar,
}

impl Stop {
    fn set(&self) {
        *super::super::entry::lock(&self.stopped) = true;
        self.signal.notify_all();
    }

    /// Waits up to `period`; `true` when stopped meanwhile (or before).
    fn wait(&self, period: Duration) -> bool {
        let stopped = super::super::entry::lock(&self.stopped);
        let (stopped, _) = self
            .signal
            .wait_timeout_while(stopped, period, |stopped| !*stopped)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *stopped
    }
}

impl Drop for BlockLists {
    fn drop(&mut self) {
        self.stop.set();
    }
}

impl BlockLists {
    pub(crate) fn new(prefix: &str, refresh: Duration) -> BlockLists {
        BlockLists {
            keys: ["ip", "user", "tenant"].map(|list| format!("{prefix}block:{list}")),
            refresh,
            current: ArcSwap::from_pointee(Lists::default()),
            started: Once::new(),
            stop: Arc::default(),
        }
    }

    /// Whether `ctx` is on a shared list. The first call reads the lists
    /// (within `timeout`, like any request's call to Redis; concurrent first
    /// calls wait for it) and starts the refresh thread.
    pub(crate) fn check(
        self: &Arc<Self>,
        link: &Arc<Link>,
        ctx: &RequestContext,
        timeout: Duration,
    ) -> Listed {
        self.started.call_once(|| {
            self.refresh(link, timeout);
            self.start(link);
        });
        self.lookup(ctx)
    }

    /// [`Self::check`] for a caller that waits asynchronously: the first
    /// read goes through the multiplexed connection, within `timeout`, and
    /// holds no thread. Concurrent first calls each read.
    pub(crate) async fn check_async(
        self: &Arc<Self>,
        link: &Arc<Link>,
        ctx: &RequestContext,
        timeout: Duration,
    ) -> Listed {
        if !self.started.is_completed() {
            let [ip, user, tenant] = &self.keys;
            let read = link
                .run_async(Op::BlockList, timeout, |mut connection| async move {
                    let sizes: (usize, usize, usize) = redis::pipe()
                        .scard(ip)
                        .scard(user)
                        .scard(tenant)
                        .query_async(&mut connection)
                        .await?;
                    if sizes.0.max(sizes.1).max(sizes.2) > MAX_SHARED_BLOCKED {
                        return Ok(Err(sizes));
                    }
                    let members: [Members; 3] = redis::pipe()
                        .smembers(ip)
                        .smembers(user)
                        .smembers(tenant)
                        .query_async(&mut connection)
                        .await?;
                    Ok(Ok(members))
                })
                .await;
            self.store(read);
            // The thread's first refresh is one period away: this read
            // was the first.
            self.started.call_once(|| self.start(link));
        }
        self.lookup(ctx)
    }

    fn lookup(&self, ctx: &RequestContext) -> Listed {
        let lists = self.current.load();
        let listed = lists.contains(ctx);
        let fresh = lists
            .read_at
            .is_some_and(|at| at.elapsed() <= self.stale_after());
        match (fresh, listed) {
            (true, true) => Listed::Yes,
            (true, false) => Listed::No,
            (false, listed) => Listed::Stale(listed),
        }
    }

    /// Whether the first read was made (and the refresh thread started).
    pub(crate) fn started(&self) -> bool {
        self.started.is_completed()
    }

    /// A copy older than three refresh periods (plus the time one refresh
    /// may take) means refreshes are failing.
    fn stale_after(&self) -> Duration {
        self.refresh * 3 + REFRESH_TIMEOUT
    }

    /// Starts the thread that keeps the copy fresh. It holds only weak
    /// references to the lists and the link, and is woken when the lists
    /// are dropped, so it ends as soon as the policy that owns them is
    /// replaced (or within one refresh, if one is in flight).
    fn start(self: &Arc<Self>, link: &Arc<Link>) {
        let lists = Arc::downgrade(self);
        let link = Arc::downgrade(link);
        let stop = Arc::clone(&self.stop);
        let spawned = std::thread::Builder::new()
            .name("rasp-fleet-refresh".into())
            .spawn(move || refresh_loop(&lists, &link, &stop));
        if let Err(error) = spawned {
            tracing::event!(
                target: TARGET,
                tracing::Level::WARN,
                event.name = "rasp.fleet.unavailable",
                rasp.fleet.op = Op::BlockList.as_str(),
                error.message = %error,
                "cannot start the block-list refresh thread",
            );
        }
    }

    /// Reads the three sets once; keeps the last good copy on failure.
    fn refresh(&self, link: &Link, timeout: Duration) {
        let [ip, user, tenant] = &self.keys;
        let read = link.run(Op::BlockList, timeout, |connection| {
            let sizes: (usize, usize, usize) = redis::pipe()
                .scard(ip)
                .scard(user)
                .scard(tenant)
                .query(connection)?;
            if sizes.0.max(sizes.1).max(sizes.2) > MAX_SHARED_BLOCKED {
                return Ok(Err(sizes));
            }
            let members: [Members; 3] = redis::pipe()
                .smembers(ip)
                .smembers(user)
                .smembers(tenant)
                .query(connection)?;
            Ok(Ok(members))
        });
        self.store(read);
    }

    /// Keeps a read copy, or reports one too large (and keeps the last).
    fn store(&self, read: Option<Result<[Members; 3], (usize, usize, usize)>>) {
        match read {
            Some(Ok([ips, users, tenants])) => {
                self.current
                    .store(Arc::new(Lists::parse(ips, users, tenants)));
            }
            Some(Err(sizes)) => {
                metrics::fleet_error(Op::BlockList);
                tracing::event!(
                    target: TARGET,
                    tracing::Level::WARN,
                    event.name = "rasp.fleet.block_list_too_large",
                    rasp.fleet.block_ips = sizes.0,
                    rasp.fleet.block_users = sizes.1,
                    rasp.fleet.block_tenants = sizes.2,
                    "a shared block list has more than {MAX_SHARED_BLOCKED} members; \
                     keeping the last copy read",
                );
            }
            None => {}
        }
    }
}

fn refresh_loop(lists: &Weak<BlockLists>, link: &Weak<Link>, stop: &Stop) {
    loop {
        let Some(period) = lists.upgrade().map(|owner| owner.refresh) else {
            return;
        };
        if stop.wait(period) {
            return;
        }
        let (Some(owner), Some(link)) = (lists.upgrade(), link.upgrade()) else {
            return;
        };
        owner.refresh(&link, REFRESH_TIMEOUT);
    }
}

impl Lists {
    /// Members that are not UTF-8, or not an address or network in the
    /// address list, match nothing and are skipped.
    fn parse(ips: Members, users: Members, tenants: Members) -> Lists {
        let names = |members: Members| -> FxHashSet<Box<str>> {
            members
                .into_iter()
                .filter_map(|m| String::from_utf8(m).ok())
                .filter(|m| !m.trim().is_empty())
                .map(String::into_boxed_str)
                .collect()
        };
        let mut lists = Lists {
            users: names(users),
            tenants: names(tenants),
            read_at: Some(Instant::now()),
            ..Lists::default()
        };
        for member in ips {
            let Ok(text) = std::str::from_utf8(&member) else {
                continue;
            };
            let text = text.trim();
            if let Ok(ip) = text.parse::<IpAddr>() {
                lists.ips.insert(ip.to_canonical());
            } else if let Ok(net) = text.parse::<IpNet>() {
                lists.nets.push(net);
            }
        }
        lists
    }

    fn contains(&self, ctx: &RequestContext) -> bool {
        ctx.user().is_some_and(|user| self.users.contains(user))
            || ctx
                .tenant()
                .is_some_and(|tenant| self.tenants.contains(tenant))
            || ctx.client_ip().is_some_and(|ip| {
                let ip = ip.to_canonical();
                self.ips.contains(&ip) || self.nets.iter().any(|net| net.contains(&ip))
            })
    }
}
