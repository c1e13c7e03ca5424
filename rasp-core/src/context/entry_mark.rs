//! The request's entry mark: what the policy's entry rules read and leave
//! on a request, kept in its context so that the context needs nothing
//! from the policy layer above it.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering};

/// What one request carries for the policy from the moment its context is
/// built: a canary draw made by the server, and whether the entry rules
/// have been asked about it.
///
/// The canary bucket is drawn here rather than derived from anything the
/// request says (its id, address or headers), so that no client can pick
/// the side of the canary it lands on.
#[derive(Debug)]
pub struct EntryMark {
    canary_bucket: u8,
    evaluated: AtomicBool,
}

impl EntryMark {
    /// A fresh mark with its own canary draw; nothing evaluated yet.
    pub(crate) fn new() -> EntryMark {
        EntryMark {
            canary_bucket: draw_canary_bucket(),
            evaluated: AtomicBool::new(false),
        }
    }

    /// The request's canary bucket, from 0 to 99, drawn at random by the
    /// server when the context was built.
    #[inline]
    pub fn canary_bucket(&self) -> u8 {
        self.canary_bucket
    }

    /// Whether `rasp::policy::entry::evaluate` has been asked about this
    /// request.
    #[inline]
    pub fn evaluated(&self) -> bool {
        self.evaluated.load(Ordering::Acquire)
    }

    /// Notes that the entry rules have been asked about this request.
    pub(crate) fn mark_evaluated(&self) {
        self.evaluated.store(true, Ordering::Release);
    }
}

/// A uniform draw from 0 to 99: SipHash-1-3 of a per-thread counter under
/// the thread's random `RandomState` key. The key comes from the OS's
/// random source and never leaves the process, so the draws are
/// unpredictable from outside; the counter makes each draw distinct. About
/// as cheap as hashing a `u64`, and with no shared state between threads.
fn draw_canary_bucket() -> u8 {
    thread_local! {
        static DRAWS: (RandomState, std::cell::Cell<u64>) =
            (RandomState::new(), const { std::cell::Cell::new(0) });
    }
    DRAWS
        .try_with(|(key, counter)| {
            let n = counter.get();
            counter.set(n.wrapping_add(1));
            // 2^64 mod 100 is 16: a bias of 10^-18, far below any canary.
            (key.hash_one(n) % 100) as u8
        })
        // During thread teardown: inside every canary, the stricter side.
        .unwrap_or(0)
}
