//! Deduplication and sampling of security events and evidence records.
//!
//! A scanner sends the same attack thousands of times a minute; one event
//! each would drown the log pipeline and bury the first, interesting one.
//! Events are keyed by what they are about (a [`Subject`]: sink, reason and
//! action of a detection; rule and action of an entry decision; sink and
//! reason of a guard refusal; the name of a limit) and by the requester's
//! network (its address, or its `/64` for IPv6, which one host owns whole
//! and can vary freely). In each window a key emits its first
//! `max_per_window` events; later repeats are suppressed, except every
//! `sample_every`-th, which is emitted so a long attack stays visible.
//!
//! No suppressed event goes unreported. An emitted event carries how many
//! of its key's events were suppressed since the previous one
//! (`rasp.event.suppressed`); a key whose window ended with a count pending
//! is reported when its set is next touched; a key evicted to make room
//! reports its count as it goes; and [`Table::drain`] takes whatever is
//! left (at reload and shutdown).
//!
//! The table is set-associative: a key hashes (SipHash, keyed with a
//! per-process random key, so no client can aim collisions at another's
//! key) to one set of [`WAYS`] entries behind one mutex, and evicts the
//! least recently used entry of that set. Two keys that share a set keep
//! their own entries, unlike a direct-mapped table where they would evict
//! each other on every event. Memory is fixed when the table is built;
//! contention is only between keys of one set.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::decision::Decision;
use crate::detect::Reason;
use crate::sink::SinkSite;
use crate::telemetry::EntryRule;

/// How security events are deduplicated, from the policy's `[events]`.
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
    /// Every event emitted: what applies to detection events without a
    /// policy.
    pub const EVERY_EVENT: EventRules = EventRules {
        window: Duration::ZERO,
        max_per_window: u32::MAX,
        sample_every: 0,
    };

    /// The defaults of `[events]`: a key emits 10 events a minute, then one
    /// in 100 repeats. What applies to guard refusals and limit events
    /// without a policy, which no one could otherwise bound.
    pub const DEFAULT: EventRules = EventRules {
        window: Duration::from_secs(60),
        max_per_window: 10,
        sample_every: 100,
    };
}

/// Entries per set.
pub(crate) const WAYS: usize = 8;

/// Sets of the process's event table: 2048 keys in all.
pub(crate) const EVENT_SETS: usize = 256;

/// What an event is about, apart from who caused it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject {
    /// A detection at a sink, and what the policy did about it.
    Detection {
        site: &'static SinkSite,
        reason: Reason,
        decision: Decision,
    },
    /// A request refused (or reported) at entry.
    Entry { rule: EntryRule, decision: Decision },
    /// A request refused at entry by a framework's built-in guard.
    EntryGuard {
        guard: &'static str,
        decision: Decision,
    },
    /// A call refused by a guard on its own.
    Refusal {
        site: &'static SinkSite,
        reason: Reason,
    },
    /// A bound of rasp's own reached, by the limit's name.
    Limit { name: &'static str },
}

impl PartialEq for Subject {
    fn eq(&self, other: &Self) -> bool {
        use Subject::*;
        match (*self, *other) {
            (
                Detection {
                    site: a,
                    reason: ra,
                    decision: da,
                },
                Detection {
                    site: b,
                    reason: rb,
                    decision: db,
                },
            ) => same_site(a, b) && ra == rb && da == db,
            (
                Entry {
                    rule: a,
                    decision: da,
                },
                Entry {
                    rule: b,
                    decision: db,
                },
            ) => a == b && da == db,
            (
                Refusal {
                    site: a,
                    reason: ra,
                },
                Refusal {
                    site: b,
                    reason: rb,
                },
            ) => same_site(a, b) && ra == rb,
            (
                EntryGuard {
                    guard: a,
                    decision: da,
                },
                EntryGuard {
                    guard: b,
                    decision: db,
                },
            ) => a == b && da == db,
            (Limit { name: a }, Limit { name: b }) => a == b,
            _ => false,
        }
    }
}

impl Hash for Subject {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // By the site's declaration, not its address: two registrations of
        // one sink are one key.
        let site =
            |site: &SinkSite, state: &mut H| (site.id(), site.file(), site.line()).hash(state);
        match *self {
            Subject::Detection {
                site: s,
                reason,
                decision,
            } => {
                0u8.hash(state);
                site(s, state);
                reason.hash(state);
                decision.hash(state);
            }
            Subject::Entry { rule, decision } => {
                1u8.hash(state);
                rule.hash(state);
                decision.hash(state);
            }
            Subject::Refusal { site: s, reason } => {
                2u8.hash(state);
                site(s, state);
                reason.hash(state);
            }
            Subject::EntryGuard { guard, decision } => {
                4u8.hash(state);
                guard.hash(state);
                decision.hash(state);
            }
            Subject::Limit { name } => {
                3u8.hash(state);
                name.hash(state);
            }
        }
    }
}

fn same_site(a: &SinkSite, b: &SinkSite) -> bool {
    (a.id(), a.file(), a.line()) == (b.id(), b.file(), b.line())
}

/// The requester part of a key: the client's address, or for IPv6 its
/// `/64`. A host is usually given a whole `/64` and can send from any
/// address in it, so a key on the full address would let one attacker mint
/// a fresh key, and a fresh first event, per request.
pub(crate) fn requester(client: Option<IpAddr>) -> Option<IpAddr> {
    match client? {
        IpAddr::V4(v4) => Some(IpAddr::V4(v4)),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !(u128::from(u64::MAX));
            Some(IpAddr::V6(bits.into()))
        }
    }
}

/// What the table says about one event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admission {
    /// Whether to emit the event.
    pub(crate) emit: bool,
    /// Events of this key suppressed since its last emitted one, reported
    /// with this event (0 when it is suppressed itself).
    pub(crate) suppressed: u64,
    /// Counts of other keys to report before this event: keys evicted to
    /// make room, and keys of the same set whose window ended.
    pub(crate) reports: [Option<Pending>; WAYS],
}

impl Admission {
    fn emit_all() -> Admission {
        Admission {
            emit: true,
            suppressed: 0,
            reports: [None; WAYS],
        }
    }

    /// The pending counts this admission hands over.
    pub(crate) fn reports(&self) -> impl Iterator<Item = Pending> + '_ {
        self.reports.iter().flatten().copied()
    }
}

/// Suppressed events not reported yet, and what they were about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    pub(crate) subject: Subject,
    pub(crate) requester: Option<IpAddr>,
    pub(crate) count: u64,
}

#[derive(Clone, Copy)]
struct Entry {
    hash: u64,
    subject: Subject,
    requester: Option<IpAddr>,
    window_start: Instant,
    last_used: Instant,
    emitted: u32,
    suppressed: u64,
}

impl Entry {
    fn pending(&self) -> Option<Pending> {
        (self.suppressed > 0).then_some(Pending {
            subject: self.subject,
            requester: self.requester,
            count: self.suppressed,
        })
    }
}

type Set = [Option<Entry>; WAYS];

/// A fixed, set-associative table of deduplication entries.
pub(crate) struct Table {
    sets: Box<[Mutex<Set>]>,
    hasher: RandomState,
}

impl Table {
    /// A table of `sets` sets of [`WAYS`] entries (at least one set).
    pub(crate) fn new(sets: usize) -> Table {
        Table {
            sets: (0..sets.max(1)).map(|_| Mutex::new([None; WAYS])).collect(),
            hasher: RandomState::new(),
        }
    }

    /// Decides whether one event about `subject`, caused by `client`, at
    /// `now`, is emitted.
    pub(crate) fn admit(
        &self,
        rules: &EventRules,
        subject: Subject,
        client: Option<IpAddr>,
        now: Instant,
    ) -> Admission {
        if rules.window.is_zero() {
            return Admission::emit_all();
        }
        let requester = requester(client);
        let hash = self.hasher.hash_one((subject, requester));
        let mut admission = Admission::emit_all();
        let mut reports = admission.reports.iter_mut();
        let mut set = lock(&self.sets[(hash % self.sets.len() as u64) as usize]);

        // Keys of this set whose window ended report what they hold now,
        // not whenever (if ever) their key comes back.
        // At most WAYS reports: an ended window's count is taken (and
        // zeroed) here, so an entry evicted below reports only if it was
        // not reported here.
        for entry in set.iter_mut().flatten() {
            let own =
                entry.hash == hash && entry.subject == subject && entry.requester == requester;
            if !own
                && now.saturating_duration_since(entry.window_start) >= rules.window
                && let Some(pending) = entry.pending()
                && let Some(report) = reports.next()
            {
                *report = Some(pending);
                entry.suppressed = 0;
            }
        }
        let way = match set.iter().position(|entry| {
            entry
                .is_some_and(|e| e.hash == hash && e.subject == subject && e.requester == requester)
        }) {
            Some(way) => way,
            None => {
                // An empty way, else the least recently used one.
                let way = set.iter().position(Option::is_none).unwrap_or_else(|| {
                    (0..WAYS)
                        .min_by_key(|&w| set[w].map(|e| e.last_used))
                        .unwrap_or(0)
                });
                if let Some(pending) = set[way].and_then(|e| e.pending())
                    && let Some(report) = reports.next()
                {
                    *report = Some(pending);
                }
                set[way] = Some(Entry {
                    hash,
                    subject,
                    requester,
                    window_start: now,
                    last_used: now,
                    emitted: 0,
                    suppressed: 0,
                });
                way
            }
        };
        let Some(state) = set[way].as_mut() else {
            // Filled above; were it not, the event is emitted, not lost.
            return admission;
        };
        state.last_used = now;
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
        admission.emit = emit;
        admission.suppressed = suppressed;
        admission
    }

    /// Takes every pending count out of the table: the suppressed events
    /// not yet reported by a later event of their key.
    pub(crate) fn drain(&self, mut report: impl FnMut(Pending)) {
        for set in &*self.sets {
            let mut pending: [Option<Pending>; WAYS] = [None; WAYS];
            {
                let mut set = lock(set);
                for (entry, out) in set.iter_mut().flatten().zip(&mut pending) {
                    *out = entry.pending();
                    entry.suppressed = 0;
                }
            }
            // Reported outside the lock: a subscriber may itself log.
            pending.into_iter().flatten().for_each(&mut report);
        }
    }
}

fn lock(set: &Mutex<Set>) -> MutexGuard<'_, Set> {
    // A set is plain counters updated in place: a panic while it was held
    // cannot leave it inconsistent.
    set.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::SinkClass;
    use crate::sink::Guard;

    const fn site(id: &'static str) -> SinkSite {
        SinkSite::new(
            id,
            SinkClass::Sql,
            "dedup::test",
            file!(),
            line!(),
            &[],
            Guard::RuntimeChecked,
        )
    }

    static A: SinkSite = site("dedup.a");
    static B: SinkSite = site("dedup.b");

    const RULES: EventRules = EventRules {
        window: Duration::from_secs(60),
        max_per_window: 3,
        sample_every: 10,
    };

    fn detection(site: &'static SinkSite) -> Subject {
        Subject::Detection {
            site,
            reason: Reason::BreaksLiteral,
            decision: Decision::Block,
        }
    }

    fn run(table: &Table, subject: Subject, n: usize, now: Instant) -> Vec<u64> {
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
        let table = Table::new(64);
        let t0 = Instant::now();
        let subject = detection(&A);
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
        let table = Table::new(64);
        let t0 = Instant::now();
        run(&table, detection(&A), 5, t0);
        run(&table, detection(&B), 4, t0);
        let other_client = table.admit(
            &RULES,
            detection(&A),
            Some(IpAddr::from([192, 0, 2, 1])),
            t0,
        );
        assert!(other_client.emit, "another client's attack is its own key");
        let mut pending: Vec<(Subject, u64)> = Vec::new();
        table.drain(|p| pending.push((p.subject, p.count)));
        assert_eq!(pending.len(), 2, "{pending:?}");
        assert!(pending.contains(&(detection(&A), 2)));
        assert!(pending.contains(&(detection(&B), 1)));
        table.drain(|p| panic!("drained twice: {p:?}"));
    }

    #[test]
    fn without_a_window_every_event_is_emitted() {
        let table = Table::new(1);
        let emitted = (0..100)
            .filter(|_| {
                table
                    .admit(
                        &EventRules::EVERY_EVENT,
                        detection(&A),
                        None,
                        Instant::now(),
                    )
                    .emit
            })
            .count();
        assert_eq!(emitted, 100);
    }

    #[test]
    fn keys_sharing_a_set_keep_their_own_counts() {
        // One set: every key collides, as two keys did in a direct-mapped
        // slot. Both keep their entry and their limit.
        let table = Table::new(1);
        let t0 = Instant::now();
        let (a, b) = (detection(&A), detection(&B));
        let mut emitted = 0;
        for _ in 0..100 {
            emitted += usize::from(table.admit(&RULES, a, None, t0).emit);
            emitted += usize::from(table.admit(&RULES, b, None, t0).emit);
        }
        // 3 each, then each key's 10th, 20th, ... of 97 repeats.
        assert_eq!(emitted, 2 * (3 + 9));
    }

    #[test]
    fn an_evicted_key_reports_its_count() {
        let table = Table::new(1);
        let t0 = Instant::now();
        run(&table, detection(&A), 7, t0);
        let mut reported = Vec::new();
        // WAYS fresh keys, used after A: A is the least recently used.
        for i in 0..WAYS as u8 {
            let client = Some(IpAddr::from([198, 51, 100, i]));
            let a = table.admit(&RULES, detection(&B), client, t0 + Duration::from_millis(1));
            reported.extend(a.reports().map(|p| (p.subject, p.count)));
        }
        assert_eq!(reported, vec![(detection(&A), 4)]);
    }

    #[test]
    fn an_ended_window_reports_its_count_when_its_set_is_touched() {
        let table = Table::new(1);
        let t0 = Instant::now();
        run(&table, detection(&A), 5, t0);
        let later = table.admit(&RULES, detection(&B), None, t0 + Duration::from_secs(61));
        let reported: Vec<_> = later.reports().map(|p| (p.subject, p.count)).collect();
        assert_eq!(reported, vec![(detection(&A), 2)]);
    }

    #[test]
    fn ipv6_requesters_are_keyed_by_their_64() {
        let table = Table::new(64);
        let t0 = Instant::now();
        let emitted = (0..100u16)
            .filter(|&i| {
                let ip = IpAddr::from([0x2001, 0xdb8, 0, 1, 0, 0, 0, i]);
                table.admit(&RULES, detection(&A), Some(ip), t0).emit
            })
            .count();
        assert_eq!(emitted, 3 + 9, "one /64 is one requester");
    }
}
