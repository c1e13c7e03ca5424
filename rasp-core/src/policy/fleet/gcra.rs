//! The shared tier of a rate limit: GCRA over one Redis key per requester,
//! computed by a Lua script so that reading the theoretical arrival time,
//! deciding and storing the new one are one atomic step for the whole
//! fleet.

use std::time::Duration;

use governor::Quota;
use redis::Script;

/// GCRA with the server's clock, so that instances whose clocks disagree
/// still share one schedule. Times are microseconds (exact in a Lua double
/// until the year 2255). The key expires once its budget is whole again,
/// so idle requesters cost nothing. Numbers sent back to Redis are
/// formatted explicitly: Lua's default conversion writes large ones in
/// exponent notation, which `SET` would refuse.
///
/// KEYS[1]: the requester's key. ARGV[1]: emission interval; ARGV[2]:
/// tolerance (interval × (burst − 1)). Returns 1 to allow, 0 to refuse.
const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then tat = now end
if tat - now > tolerance then return 0 end
local next = tat + interval
local px = math.ceil((next - now) / 1000) + 1
redis.call('SET', KEYS[1], string.format('%.0f', next), 'PX', string.format('%.0f', px))
return 1
";

/// The script, hashed once; `invoke` sends `EVALSHA` and loads the script
/// only when the server does not have it yet.
pub(crate) fn script() -> Script {
    Script::new(SCRIPT)
}

/// A rate limit's quota in the script's terms.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SharedQuota {
    interval_us: u64,
    tolerance_us: u64,
}

impl SharedQuota {
    /// The same schedule as the local `governor` limiter of `quota`.
    pub(crate) fn new(quota: Quota) -> SharedQuota {
        let interval = quota.replenish_interval().max(Duration::from_micros(1));
        let interval_us = u64::try_from(interval.as_micros()).unwrap_or(u64::MAX);
        let burst = u64::from(quota.burst_size().get());
        SharedQuota {
            interval_us,
            tolerance_us: interval_us.saturating_mul(burst - 1),
        }
    }

    pub(crate) fn args(self) -> [u64; 2] {
        [self.interval_us, self.tolerance_us]
    }
}
