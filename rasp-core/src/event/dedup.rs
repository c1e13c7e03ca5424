//! Deduplication and sampling of detection events.
//!
//! A scanner sends the same attack thousands of times a minute; one event
//! each would drown the log pipeline and bury the first, interesting one.
//! Events are keyed by sink, reason, action and client address. In each
//! window a key emits its first `max_per_window` events; later repeats are
//! suppressed, except every `sample_every`-th, which is emitted so a long
//! attack stays visible. Every emitted event carries how many of its key's
//! events were suppressed since the previous one (`rasp.event.suppressed`),
//! and [`flush`] reports the counts still pending, so no detection goes
//! uncounted: metrics, the evidence log and the circuit breaker see every
//! detection whatever is suppressed here.
//!
//! The table is a fixed array of slots, each behind its own mutex: no
//! allocation, and contention only between detections that hash to one
//! slot. A key that takes over a slot first reports what the slot's
//! previous key had pending.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::decision::Decision;
use crate::detect::Reason;
use crate::sink::SinkSite;

/// How detection events are deduplicated, from the policy's `[events]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRules {
    /// Length of a deduplication window; zero turns deduplication off.
    pub window: Duration,
    /// Events one key emits per window before repeats are suppressed.
    pub max_per_window: u32,
    /// Past the limit, every `sample_every`-th repeat is still emitted;
    /// zero emits none until the window ends.
    pub sample_every: u32,
}

impl EventRules {
    /// Every event emitted: what applies without a policy.
    pub const EVERY_EVENT: EventRules = EventRules {
        window: Duration::ZERO,
        max_per_window: u32::MAX,
        sample_every: 0,
    };
}

/// What the table says about one detection's event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admission {
    /// Whether to emit the event.
    pub(crate) emit: bool,
    /// Events of this key suppressed since its last emitted one, reported
    /// with this event (0 when it is suppressed itself).
    pub(crate) suppressed: u64,
    /// A previous key's pending count, to report before this event.
    pub(crate) evicted: Option<Pending>,
}

/// Suppressed events not reported yet, and what they were about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    pub(crate) site: &'static SinkSite,
    pub(crate) reason: Reason,
    pub(crate) decision: Decision,
    pub(crate) count: u64,
}

#[derive(Clone, Copy)]
pub(crate) struct Slot {
    key: u64,
    subject: (&'static SinkSite, Reason, Decision),
    window_start: Instant,
    emitted: u32,
    suppressed: u64,
}

/// The process's table: 256 slots.
pub(crate) static TABLE: Table<256> = Table::new();

/// A fixed table of deduplication slots.
pub(crate) struct Table<const N: usize> {
    slots: [Mutex<Option<Slot>>; N],
}

impl<const N: usize> Table<N> {
    pub(crate) const fn new() -> Self {
        Table {
            slots: [const { Mutex::new(None) }; N],
        }
    }

    /// Decides whether the event of one detection, at `now`, is emitted.
    pub(crate) fn admit(
        &self,
        rules: &EventRules,
        subject: (&'static SinkSite, Reason, Decision),
        client: Option<IpAddr>,
        now: Instant,
    ) -> Admission {
        if rules.window.is_zero() {
            return Admission {
                emit: true,
                suppressed: 0,
                evicted: None,
            };
        }
        let key = key(subject, client);
        let mut slot = lock(&self.slots[(key % N as u64) as usize]);
        let mut evicted = None;
        let state = match &mut *slot {
            Some(state) if state.key == key => state,
            other => {
                evicted = other.and_then(pending);
                other.insert(Slot {
                    key,
                    subject,
                    window_start: now,
                    emitted: 0,
                    suppressed: 0,
                })
            }
        };
        if now.saturating_duration_since(state.window_start) >= rules.window {
            state.window_start = now;
            state.emitted = 0;
        }
        let (emit, suppressed) = if state.emitted < rules.max_per_window {
            state.emitted += 1;
            (true, std::mem::take(&mut state.suppressed))
        } else {
            state.suppressed += 1;
            if rules.sample_every > 0 && state.suppressed >= u64::from(rules.sample_every) {
                // The sampled repeat is emitted and reports the others.
                (true, std::mem::take(&mut state.suppressed) - 1)
            } else {
                (false, 0)
            }
        };
        Admission {
            emit,
            suppressed,
            evicted,
        }
    }

    /// Takes every pending count out of the table: the suppressed events
    /// not yet reported by a later event of their key.
    pub(crate) fn drain(&self, mut report: impl FnMut(Pending)) {
        for slot in &self.slots {
            let pending = {
                let mut slot = lock(slot);
                let pending = slot.and_then(pending);
                if let Some(state) = &mut *slot {
                    state.suppressed = 0;
                }
                pending
            };
            if let Some(pending) = pending {
                report(pending);
            }
        }
    }
}

fn pending(slot: Slot) -> Option<Pending> {
    let (site, reason, decision) = slot.subject;
    (slot.suppressed > 0).then_some(Pending {
        site,
        reason,
        decision,
        count: slot.suppressed,
    })
}

fn key(
    (site, reason, decision): (&'static SinkSite, Reason, Decision),
    client: Option<IpAddr>,
) -> u64 {
    // By the site's declaration, not its address: slots then do not
    // depend on where the loader put the binary.
    let mut hasher = rustc_hash::FxHasher::default();
    (site.id, site.file, site.line).hash(&mut hasher);
    reason.hash(&mut hasher);
    decision.hash(&mut hasher);
    client.hash(&mut hasher);
    // FxHash leaves the low bits weak; the slot index is taken from them.
    let h = hasher.finish();
    h ^ (h >> 29) ^ (h >> 47)
}

fn lock(slot: &Mutex<Option<Slot>>) -> MutexGuard<'_, Option<Slot>> {
    // A slot is plain counters updated in place: a panic while it was held
    // cannot leave it inconsistent.
    slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::DecisionCache;
    use crate::sink::{Guard, SinkKind};

    const fn site(id: &'static str) -> SinkSite {
        SinkSite {
            id,
            kind: SinkKind::Sql,
            fn_path: "dedup::test",
            file: file!(),
            line: line!(),
            guarded: &[],
            guard: Guard::RuntimeChecked,
            dialect: crate::Dialect::Generic,
            cache: DecisionCache::new(),
        }
    }

    static A: SinkSite = site("dedup.a");
    static B: SinkSite = site("dedup.b");

    const RULES: EventRules = EventRules {
        window: Duration::from_secs(60),
        max_per_window: 3,
        sample_every: 10,
    };

    fn run<const N: usize>(
        table: &Table<N>,
        subject: (&'static SinkSite, Reason, Decision),
        n: usize,
        now: Instant,
    ) -> Vec<u64> {
        // The suppressed counts reported by the emitted events.
        (0..n)
            .filter_map(|_| {
                let a = table.admit(&RULES, subject, None, now);
                a.emit.then_some(a.suppressed)
            })
            .collect()
    }

    #[test]
    fn repeats_past_the_limit_are_sampled_and_counted() {
        let table = Table::<64>::new();
        let t0 = Instant::now();
        let subject = (&A, Reason::BreaksLiteral, Decision::Block);
        // 3 emitted, then every 10th repeat reports the 9 before it.
        assert_eq!(run(&table, subject, 3 + 25, t0), vec![0, 0, 0, 9, 9]);
        // 5 repeats pending; the next window's first event reports them.
        assert_eq!(
            run(&table, subject, 1, t0 + Duration::from_secs(61)),
            vec![5]
        );
        let mut pending = Vec::new();
        table.drain(|p| pending.push(p.count));
        assert!(
            pending.is_empty(),
            "nothing left after the report: {pending:?}"
        );
    }

    #[test]
    fn keys_are_counted_apart_and_drained() {
        let table = Table::<64>::new();
        let t0 = Instant::now();
        let a = (&A, Reason::BreaksLiteral, Decision::Block);
        let b = (&B, Reason::BreaksLiteral, Decision::Block);
        run(&table, a, 5, t0);
        run(&table, b, 4, t0);
        let other_client = table.admit(&RULES, a, Some(IpAddr::from([192, 0, 2, 1])), t0);
        assert!(other_client.emit, "another client's attack is its own key");
        let mut pending: Vec<(&str, u64)> = Vec::new();
        table.drain(|p| pending.push((p.site.id, p.count)));
        pending.sort();
        assert_eq!(pending, vec![("dedup.a", 2), ("dedup.b", 1)]);
        table.drain(|p| panic!("drained twice: {p:?}"));
    }

    #[test]
    fn without_a_window_every_event_is_emitted() {
        let table = Table::<64>::new();
        let subject = (&A, Reason::BreaksLiteral, Decision::Monitor);
        let emitted = (0..100)
            .filter(|_| {
                table
                    .admit(&EventRules::EVERY_EVENT, subject, None, Instant::now())
                    .emit
            })
            .count();
        assert_eq!(emitted, 100);
    }

    #[test]
    fn a_key_taking_over_a_slot_reports_the_previous_keys_count() {
        let table = Table::<1>::new();
        let t0 = Instant::now();
        let a = (&A, Reason::BreaksLiteral, Decision::Block);
        run(&table, a, 7, t0);
        let taken = table.admit(
            &RULES,
            (&B, Reason::BreaksLiteral, Decision::Block),
            None,
            t0,
        );
        assert!(taken.emit);
        let evicted = taken.evicted.expect("the previous key's count");
        assert_eq!((evicted.site.id, evicted.count), ("dedup.a", 4));
    }
}
