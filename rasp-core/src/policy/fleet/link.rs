//! The connection to Redis: a few idle synchronous connections for callers
//! that cannot wait asynchronously, one multiplexed asynchronous connection
//! (tokio) for those that can, every exchange bounded by a deadline, and a
//! short back-off after a failure so that an outage costs one bounded wait
//! per back-off period instead of one per request.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Connection, RedisResult};

use super::super::entry::lock;
use crate::event::TARGET;
use crate::telemetry::FleetOp as Op;
use crate::telemetry::metrics;

/// How long requests skip Redis (and take the fail mode at once) after a
/// failed command, before one request probes it again.
pub(crate) const RETRY_AFTER: Duration = Duration::from_millis(500);

/// Idle connections kept for reuse; more concurrent requests open more,
/// which are closed after use.
const MAX_IDLE: usize = 8;

pub(crate) struct Link {
    client: Client,
    idle: Mutex<Vec<Connection>>,
    /// The asynchronous connection, opened by the first asynchronous
    /// exchange and dropped on a failure. Its I/O runs on a task of the
    /// tokio runtime that opened it.
    multiplexed: ArcSwapOption<MultiplexedConnection>,
    /// The origin of `retry_at`.
    base: Instant,
    /// Zero while Redis answers; after a failure, one plus the nanoseconds
    /// from `base` until the next probe.
    retry_at: AtomicU64,
}

impl Link {
    pub(crate) fn new(client: Client) -> Link {
        Link {
            client,
            idle: Mutex::new(Vec::new()),
            multiplexed: ArcSwapOption::empty(),
            base: Instant::now(),
            retry_at: AtomicU64::new(0),
        }
    }

    /// Runs `command` on a connection within `timeout`. `None` when Redis
    /// failed, did not answer in time, or is in its back-off period; the
    /// failure is counted and, on the transition from healthy, reported.
    pub(crate) fn run<T>(
        &self,
        op: Op,
        timeout: Duration,
        command: impl FnOnce(&mut Connection) -> RedisResult<T>,
    ) -> Option<T> {
        if !self.may_try() {
            return None;
        }
        let start = Instant::now();
        let result = self.connection(timeout).and_then(|mut connection| {
            // The socket timeouts bound each read and write by what is left
            // of the deadline; a connection that timed out mid-reply is
            // dropped below, never reused with a reply still in flight.
            let left = timeout.saturating_sub(start.elapsed()).max(MIN_WAIT);
            connection.set_write_timeout(Some(left))?;
            connection.set_read_timeout(Some(left))?;
            let value = command(&mut connection)?;
            Ok((connection, value))
        });
        match result {
            Ok((connection, value)) => {
                let mut idle = lock(&self.idle);
                if idle.len() < MAX_IDLE {
                    idle.push(connection);
                }
                drop(idle);
                self.succeeded();
                Some(value)
            }
            Err(error) => {
                self.failed(op, &error);
                None
            }
        }
    }

    /// Runs `command` on the multiplexed connection, the whole exchange
    /// (connecting, sending, the reply) bounded by one `timeout`: the
    /// caller's task waits, its thread does not. `None` as for [`Link::run`].
    /// Must be awaited within a tokio runtime.
    pub(crate) async fn run_async<T, F, Fut>(
        &self,
        op: Op,
        timeout: Duration,
        command: F,
    ) -> Option<T>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if !self.may_try() {
            return None;
        }
        let exchange = async {
            let connection = match self.multiplexed.load_full() {
                Some(connection) => MultiplexedConnection::clone(&connection),
                None => {
                    // Each bound is the whole deadline; the timeout around
                    // the exchange is what holds the total to it.
                    let config = AsyncConnectionConfig::new()
                        .set_connection_timeout(Some(timeout))
                        .set_response_timeout(Some(timeout));
                    let connection = self
                        .client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await?;
                    self.multiplexed.store(Some(Arc::new(connection.clone())));
                    connection
                }
            };
            command(connection).await
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(value)) => {
                self.succeeded();
                Some(value)
            }
            Ok(Err(error)) => {
                self.failed(op, &error);
                None
            }
            Err(_elapsed) => {
                self.failed(op, &TimedOut(timeout));
                None
            }
        }
    }

    fn connection(&self, timeout: Duration) -> RedisResult<Connection> {
        if let Some(connection) = lock(&self.idle).pop() {
            return Ok(connection);
        }
        self.client.get_connection_with_timeout(timeout)
    }

    /// Whether a command may be sent now: always while healthy; during the
    /// back-off only by the one request that claims the next probe.
    fn may_try(&self) -> bool {
        let retry_at = self.retry_at.load(Ordering::Acquire);
        if retry_at == 0 {
            return true;
        }
        let now = self.now();
        now >= retry_at
            && self
                .retry_at
                .compare_exchange(
                    retry_at,
                    now + nanos(RETRY_AFTER),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok()
    }

    fn succeeded(&self) {
        if self.retry_at.load(Ordering::Relaxed) != 0
            && self.retry_at.swap(0, Ordering::AcqRel) != 0
        {
            tracing::event!(
                target: TARGET,
                tracing::Level::INFO,
                event.name = "rasp.fleet.recovered",
                "fleet state in Redis is reachable again",
            );
        }
    }

    fn failed(&self, op: Op, error: &dyn fmt::Display) {
        // The idle connections were opened before the failure and are
        // likely broken too (a restarted server closes them all); so is
        // the multiplexed one, or it belongs to a runtime that is gone.
        lock(&self.idle).clear();
        self.multiplexed.store(None);
        metrics::fleet_error(op);
        let was_healthy = self
            .retry_at
            .swap(self.now() + nanos(RETRY_AFTER), Ordering::AcqRel)
            == 0;
        if was_healthy {
            tracing::event!(
                target: TARGET,
                tracing::Level::WARN,
                event.name = "rasp.fleet.unavailable",
                rasp.fleet.op = op.as_str(),
                error.message = %error,
                "fleet state in Redis is unavailable; the policy's fleet on_error applies",
            );
        }
    }

    /// Nanoseconds since `base`, plus one so that zero stays "healthy".
    fn now(&self) -> u64 {
        nanos(self.base.elapsed()) + 1
    }
}

/// An exchange that did not finish within its deadline.
struct TimedOut(Duration);

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no answer within {} ms", self.0.as_millis())
    }
}

/// A socket timeout of zero means "none" to the OS; never pass it.
const MIN_WAIT: Duration = Duration::from_millis(1);

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
