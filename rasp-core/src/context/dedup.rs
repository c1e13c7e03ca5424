//! Finding whether a request already recorded an input, in constant time
//! however many it recorded.
//!
//! Sources record the same text more than once (an adapter records every
//! query pair, then an extractor records the ones it decodes), and a
//! hostile request repeats a pair thousands of times. A scan of the stored
//! inputs per recording made that quadratic; past a handful of inputs a
//! hash index takes over.
//!
//! The index maps a keyed SipHash of an input's bytes (keys drawn per
//! request by `RandomState`, so a client cannot build colliding inputs) to
//! the position of the first input with that hash. A collision of two
//! different inputs costs nothing but a duplicate slot: the newer input is
//! stored and checked like any other.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use rustc_hash::FxHashMap;

use super::inputs::Inputs;

/// Up to this many inputs, a scan is cheaper than hashing.
const SCAN_UP_TO: usize = 16;

/// The de-duplication state of one request.
#[derive(Debug, Default)]
pub(super) struct Dedup {
    /// Built when the request records its `SCAN_UP_TO + 1`-th input; boxed
    /// so that a request with few inputs carries one pointer.
    index: Option<Box<Index>>,
}

#[derive(Debug)]
struct Index {
    keys: RandomState,
    /// Keyed hash of the bytes -> position of an input with those bytes.
    /// The keys are already uniformly distributed and unknown to clients,
    /// so the map itself can use a fast unkeyed hasher.
    first: FxHashMap<u64, usize>,
}

impl Dedup {
    /// Whether `bytes` are among the `count` inputs of `inputs`.
    pub(super) fn contains(&self, inputs: &Inputs, count: usize, bytes: &[u8]) -> bool {
        match &self.index {
            None => inputs.iter().take(count).any(|i| i.bytes() == bytes),
            Some(index) => index
                .first
                .get(&index.keys.hash_one(bytes))
                .and_then(|&at| inputs.get(at))
                .is_some_and(|i| i.bytes() == bytes),
        }
    }

    /// Notes that `bytes` were just stored as input `position` of `inputs`.
    pub(super) fn remember(&mut self, inputs: &Inputs, position: usize, bytes: &[u8]) {
        match &mut self.index {
            Some(index) => {
                let hash = index.keys.hash_one(bytes);
                index.first.entry(hash).or_insert(position);
            }
            None if position >= SCAN_UP_TO => {
                let mut index = Index {
                    keys: RandomState::new(),
                    first: FxHashMap::default(),
                };
                index.first.reserve(position + 1);
                for (at, input) in inputs.iter().take(position + 1).enumerate() {
                    let hash = index.keys.hash_one(input.bytes());
                    index.first.entry(hash).or_insert(at);
                }
                self.index = Some(Box::new(index));
            }
            None => {}
        }
    }
}
