//! Whether a static site is in the registry the audit lists.
//!
//! Sink sites and escape hatches are built by macros that also submit them
//! to `inventory`. Their constructors are public (generated code calls
//! them), so a site can be built by hand without being registered, and the
//! audit would never see it. The first use of such a site is therefore
//! looked up once and, when it is missing, reported by the caller.

use core::sync::atomic::{AtomicU8, Ordering};

/// Not looked up yet, found in the registry, missing from it.
const UNKNOWN: u8 = 0;
const REGISTERED: u8 = 1;
const UNREGISTERED: u8 = 2;

/// The cached answer of one site's registry lookup.
#[derive(Debug, Default)]
pub(crate) struct Registration(AtomicU8);

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LookUp {
    /// The site is in the registry.
    pub(crate) registered: bool,
    /// This call made the lookup: the one time a missing site is reported.
    pub(crate) first: bool,
}

impl LookUp {
    /// A missing site seen for the first time: the caller reports it.
    #[inline]
    pub(crate) const fn newly_missing(self) -> bool {
        !self.registered && self.first
    }
}

impl Registration {
    /// Not looked up yet.
    pub(crate) const fn new() -> Registration {
        Registration(AtomicU8::new(UNKNOWN))
    }

    /// Whether `site` is among `registry`, which is walked once.
    #[inline]
    pub(crate) fn find<T: 'static>(
        &self,
        site: &'static T,
        registry: impl IntoIterator<Item = &'static T>,
    ) -> LookUp {
        self.look_up(|| registry.into_iter().any(|r| core::ptr::eq(r, site)))
    }

    /// Whether the site is registered; `find` walks the registry, once.
    #[inline]
    pub(crate) fn look_up(&self, find: impl FnOnce() -> bool) -> LookUp {
        match self.0.load(Ordering::Relaxed) {
            REGISTERED => LookUp {
                registered: true,
                first: false,
            },
            UNREGISTERED => LookUp {
                registered: false,
                first: false,
            },
            _ => self.look_up_slow(find),
        }
    }

    #[cold]
    fn look_up_slow(&self, find: impl FnOnce() -> bool) -> LookUp {
        let registered = find();
        let state = if registered { REGISTERED } else { UNREGISTERED };
        // Two threads may both walk the registry; only one reports.
        let first = self
            .0
            .compare_exchange(UNKNOWN, state, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok();
        LookUp { registered, first }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_site_is_reported_once() {
        let r = Registration::new();
        assert!(r.look_up(|| false).newly_missing());
        let again = r.look_up(|| unreachable!("looked up once"));
        assert_eq!(
            again,
            LookUp {
                registered: false,
                first: false
            }
        );
    }

    #[test]
    fn a_registered_site_is_never_reported() {
        let r = Registration::new();
        assert!(!r.look_up(|| true).newly_missing());
        assert!(r.look_up(|| unreachable!("looked up once")).registered);
    }
}
