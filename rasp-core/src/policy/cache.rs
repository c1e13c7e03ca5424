//! Decision caches: what a policy says about one sink, and about one
//! request, resolved once per policy and kept in an atomic word.
//!
//! Every [`crate::SinkSite`] is a `static` and carries a
//! [`DecisionSlot`]; every [`crate::RequestContext`] carries one too. This
//! module packs rules into a slot's low half and stamps every compiled
//! policy with a new generation, so installing one invalidates every slot at
//! once: a reader that finds another generation resolves again and stores
//! its own.

use core::sync::atomic::{AtomicU32, Ordering};

use super::compile::{Level, RouteEntry, SiteRule};
use super::file::{Action, OnError};
use crate::sink::DecisionSlot;

/// The value cached in `slot` for `generation`, or `resolve()` packed and
/// stored there.
#[inline]
pub(crate) fn get_or<T: Packed>(
    slot: &DecisionSlot,
    generation: u32,
    resolve: impl FnOnce() -> T,
) -> T {
    match slot.get(generation) {
        Some(packed) => T::unpack(packed),
        None => {
            let value = resolve();
            slot.put(generation, value.pack());
            value
        }
    }
}

static GENERATIONS: AtomicU32 = AtomicU32::new(1);

/// A generation no other compiled policy has; never 0, the empty cache's.
pub(crate) fn next_generation() -> u32 {
    loop {
        let generation = GENERATIONS.fetch_add(1, Ordering::Relaxed);
        if generation != 0 {
            return generation;
        }
    }
}

/// A value that fits a cache word's low 32 bits.
pub(crate) trait Packed: Sized {
    fn pack(&self) -> u32;
    fn unpack(packed: u32) -> Self;
}

const fn action_bits(action: Action) -> u32 {
    match action {
        Action::Allow => 0,
        Action::Monitor => 1,
        Action::Block => 2,
    }
}

const fn action_from(bits: u32) -> Action {
    match bits & 3 {
        0 => Action::Allow,
        1 => Action::Monitor,
        _ => Action::Block,
    }
}

/// One sink's rule under one policy: its [`SiteRule`] and whether the sink
/// is allowlisted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SiteDecision {
    pub(crate) rule: SiteRule,
    pub(crate) allow: bool,
}

// Layout: action 2 bits, canary 7, on_error 1, level 2, allow 1.
impl Packed for SiteDecision {
    fn pack(&self) -> u32 {
        let level = match self.rule.from {
            Level::Mode => 0,
            Level::Class => 1,
            Level::Sink => 2,
            Level::Route => 3,
        };
        action_bits(self.rule.action)
            | u32::from(self.rule.canary.min(100)) << 2
            | u32::from(self.rule.on_error == OnError::Closed) << 9
            | level << 10
            | u32::from(self.allow) << 12
    }

    fn unpack(packed: u32) -> Self {
        SiteDecision {
            rule: SiteRule {
                action: action_from(packed),
                canary: (packed >> 2 & 0x7f) as u8,
                on_error: if packed >> 9 & 1 == 1 {
                    OnError::Closed
                } else {
                    OnError::Open
                },
                from: match packed >> 10 & 3 {
                    0 => Level::Mode,
                    1 => Level::Class,
                    2 => Level::Sink,
                    _ => Level::Route,
                },
            },
            allow: packed >> 12 & 1 == 1,
        }
    }
}

/// What a policy says about one request: its route's rule and whether its
/// client address, user or tenant is allowlisted. A request's route and
/// requester never change, so this is resolved once per request and policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct RequestDecision {
    pub(crate) route: RouteEntry,
    pub(crate) allowlisted: bool,
}

// Layout: action present 1 bit + 2 bits, canary present 1 + 7, route
// allowlisted 1, requester allowlisted 1.
impl Packed for RequestDecision {
    fn pack(&self) -> u32 {
        let action = self.route.action.map_or(0, |a| 1 | action_bits(a) << 1);
        let canary = self
            .route
            .canary
            .map_or(0, |c| 1 | u32::from(c.min(100)) << 1);
        action | canary << 3 | u32::from(self.route.allow) << 11 | u32::from(self.allowlisted) << 12
    }

    fn unpack(packed: u32) -> Self {
        RequestDecision {
            route: RouteEntry {
                action: (packed & 1 == 1).then(|| action_from(packed >> 1)),
                canary: (packed >> 3 & 1 == 1).then_some((packed >> 4 & 0x7f) as u8),
                allow: packed >> 11 & 1 == 1,
            },
            allowlisted: packed >> 12 & 1 == 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_decisions_round_trip() {
        for action in [Action::Allow, Action::Monitor, Action::Block] {
            for canary in [0, 1, 50, 99, 100] {
                for on_error in [OnError::Open, OnError::Closed] {
                    for from in [Level::Mode, Level::Class, Level::Sink, Level::Route] {
                        for allow in [false, true] {
                            let d = SiteDecision {
                                rule: SiteRule {
                                    action,
                                    canary,
                                    on_error,
                                    from,
                                },
                                allow,
                            };
                            assert_eq!(SiteDecision::unpack(d.pack()), d);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn request_decisions_round_trip() {
        let actions = [
            None,
            Some(Action::Allow),
            Some(Action::Monitor),
            Some(Action::Block),
        ];
        for action in actions {
            for canary in [None, Some(0), Some(37), Some(100)] {
                for allow in [false, true] {
                    for allowlisted in [false, true] {
                        let d = RequestDecision {
                            route: RouteEntry {
                                action,
                                canary,
                                allow,
                            },
                            allowlisted,
                        };
                        assert_eq!(RequestDecision::unpack(d.pack()), d);
                    }
                }
            }
        }
    }

    #[test]
    fn a_slot_answers_only_for_its_generation() {
        let slot = crate::sink::DecisionSlot::new();
        let allowlisted = RequestDecision {
            allowlisted: true,
            ..RequestDecision::default()
        };
        let mut resolved = 0;
        let mut get = |generation| {
            get_or(&slot, generation, || {
                resolved += 1;
                allowlisted
            })
        };
        assert_eq!(get(7), allowlisted);
        assert_eq!(get(7), allowlisted);
        assert_eq!(get(8), allowlisted);
        assert_eq!(
            resolved, 2,
            "a new generation resolves again, the same one does not"
        );
    }

    #[test]
    fn generations_are_distinct_and_never_zero() {
        let a = next_generation();
        let b = next_generation();
        assert_ne!(a, b);
        assert!(a != 0 && b != 0);
    }
}
