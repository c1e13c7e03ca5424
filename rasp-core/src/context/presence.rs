//! Searching a sink's text for a recorded input, with a searcher stored
//! alongside the input: the first question every sink check asks of every
//! input, answered "no" for most, and the search the detectors then run.
//!
//! memchr's full substring searcher holds AVX2 vectors and is 32-byte
//! aligned, so storing one per input would put every request context on
//! glibc's slow `memalign` path. The packed-pair searcher used here is the
//! SIMD core of that searcher with 16-byte vectors: cheap to build when the
//! input is recorded and storable in an ordinary allocation. Needles it
//! does not serve alone (see [`MAX_PAIR_NEEDLE`]) are searched with
//! `memchr::memmem`.

#[cfg(target_arch = "aarch64")]
use memchr::arch::aarch64::neon::packedpair::Finder as PairFinder;
#[cfg(target_arch = "x86_64")]
use memchr::arch::x86_64::sse2::packedpair::Finder as PairFinder;

/// Where no 16-byte packed-pair searcher exists, every search falls back to
/// `memchr::memmem`.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[derive(Clone, Copy, Debug)]
struct PairFinder;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
impl PairFinder {
    fn new(_needle: &[u8]) -> Option<PairFinder> {
        None
    }
    fn min_haystack_len(&self) -> usize {
        usize::MAX
    }
    fn find(&self, _haystack: &[u8], _needle: &[u8]) -> Option<usize> {
        None
    }
}

/// The longest needle searched with a packed pair alone. The pair finds
/// candidates and compares the whole needle at each: a text built so that
/// every position is a candidate costs a comparison of the whole needle at
/// every position. Bounding the needle keeps that linear in the text (at
/// worst a few vector compares per byte); longer needles get `memmem`'s
/// searcher, which is linear whatever the text, but is built anew for each
/// search. URLs, user agents and most form values stay under the bound.
const MAX_PAIR_NEEDLE: usize = 256;

/// A searcher answering whether one needle occurs in a text.
#[derive(Clone, Copy, Debug)]
pub(super) struct Presence {
    /// `None` for needles shorter than two bytes or longer than
    /// [`MAX_PAIR_NEEDLE`], or where no pair of bytes could be chosen.
    pair: Option<PairFinder>,
}

impl Presence {
    pub(super) fn new(needle: &[u8]) -> Presence {
        let pair = if needle.len() <= MAX_PAIR_NEEDLE {
            PairFinder::new(needle)
        } else {
            None
        };
        Presence { pair }
    }

    /// Whether this searcher searches by itself, without building
    /// anything per search: with its pair, or with `memchr` for one byte.
    pub(super) fn is_stored(&self, needle: &[u8]) -> bool {
        self.pair.is_some() || needle.len() == 1
    }

    /// Where `needle`, the bytes this searcher was built for, first occurs
    /// in `text`.
    pub(super) fn find(&self, needle: &[u8], text: &[u8]) -> Option<usize> {
        match needle {
            [] => None,
            [byte] => memchr::memchr(*byte, text),
            _ => match &self.pair {
                Some(pair) if text.len() >= pair.min_haystack_len() => pair.find(text, needle),
                // Long needles, and texts too short for the vectors:
                // `memmem` builds its searcher for the first (linear in the
                // needle, which is no longer than the text) and uses
                // Rabin-Karp for the second, building nothing.
                _ => memchr::memmem::find(text, needle),
            },
        }
    }

    /// Whether `needle`, the bytes this searcher was built for, occurs in
    /// `text`.
    pub(super) fn occurs_in(&self, needle: &[u8], text: &[u8]) -> bool {
        self.find(needle, text).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn occurs(needle: &[u8], text: &[u8]) -> bool {
        Presence::new(needle).occurs_in(needle, text)
    }

    fn first(needle: &[u8], text: &[u8]) -> Option<usize> {
        Presence::new(needle).find(needle, text)
    }

    #[test]
    fn finds_inputs_in_short_and_long_texts() {
        let long = format!(
            "SELECT name FROM products WHERE name LIKE '%{}%' ORDER BY id",
            "kettle"
        );
        assert!(occurs(b"kettle", long.as_bytes()));
        assert!(occurs(b"ORDER BY id", long.as_bytes()));
        assert!(!occurs(b"teapot", long.as_bytes()));
        assert!(occurs(b"q", b"q=1"));
        assert!(!occurs(b"q", b"a=1"));
        assert!(occurs(b"ab", b"xab"));
        assert!(!occurs(b"abc", b"ab"));
        assert!(!occurs(b"", b"anything"));
    }

    /// Texts where the chosen pair of bytes matches almost everywhere and
    /// the whole needle almost matches: the search must stay linear.
    ///
    /// Judged by a ratio, not a wall-clock bound, so a busy machine cannot
    /// fail it: doubling both the text and the long needle doubles a
    /// linear search's work and quadruples a quadratic one's. The best of
    /// three runs keeps a busy neighbour out of the ratio.
    #[test]
    fn hostile_periodic_texts_stay_linear() {
        let time = |pairs: usize| {
            let text = "ab".repeat(pairs);
            let needles = [
                format!("{}c", "ab".repeat(16)),
                format!("{}aa", "ab".repeat(127)),
                format!("{}aa", "ab".repeat(pairs / 25)),
            ];
            (0..3)
                .map(|_| {
                    let started = std::time::Instant::now();
                    for needle in &needles {
                        assert!(!occurs(needle.as_bytes(), text.as_bytes()));
                    }
                    started.elapsed()
                })
                .min()
                .unwrap_or_default()
        };
        let small = time(100_000);
        let large = time(200_000);
        assert!(
            large < small * 3 + std::time::Duration::from_millis(5),
            "{small:?} for 200 kB, then {large:?} for 400 kB"
        );
    }

    proptest! {
        /// `memmem` is the oracle; the small alphabet makes occurrences,
        /// near misses and repeated bytes common.
        #[test]
        fn agrees_with_memmem(
            needle in proptest::collection::vec(0u8..4, 0..12),
            text in proptest::collection::vec(0u8..4, 0..200),
        ) {
            let expected = if needle.is_empty() { None } else { memchr::memmem::find(&text, &needle) };
            prop_assert_eq!(first(&needle, &text), expected);
            prop_assert_eq!(occurs(&needle, &text), expected.is_some());
        }

        #[test]
        fn agrees_with_memmem_on_any_bytes(
            needle in proptest::collection::vec(any::<u8>(), 1..40),
            prefix in proptest::collection::vec(any::<u8>(), 0..100),
            suffix in proptest::collection::vec(any::<u8>(), 0..100),
            plant in any::<bool>(),
        ) {
            let mut text = prefix;
            if plant {
                text.extend_from_slice(&needle);
            }
            text.extend_from_slice(&suffix);
            let expected = memchr::memmem::find(&text, &needle);
            prop_assert_eq!(first(&needle, &text), expected);
        }
    }
}
