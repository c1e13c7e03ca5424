//! Which of a request's many inputs occur in a sink's text, in one pass.
//!
//! A check searches each input on its own (one SIMD search per input,
//! nanoseconds each), which is the fastest way for the few inputs of an
//! ordinary request. A request with thousands of inputs would make that
//! thousands of searches per sink check; past [`INDEX_THRESHOLD`] inputs
//! the check instead runs one Aho-Corasick automaton over the text, built
//! at the request's first such check and cached in its context. The cost
//! of a check then grows with the text and the matches, not with the
//! number of inputs, so no input has to be left out to keep checks cheap.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
use smallvec::SmallVec;

use super::RecordedInput;

/// Requests with more recorded inputs than this are checked through an
/// Aho-Corasick searcher rather than one search per input.
pub const INDEX_THRESHOLD: usize = 64;

/// An Aho-Corasick searcher over the first [`Self::covered`] inputs of a
/// request, pattern `i` being input `i`.
#[derive(Debug)]
pub(crate) struct InputIndex {
    /// `None` when the automaton could not be built (it is bounded by the
    /// request's byte cap, far below the crate's own limits); the check
    /// then searches every input on its own.
    automaton: Option<AhoCorasick>,
    covered: usize,
}

/// Positions of the inputs found in one text, inline for the common case
/// of a few.
pub(crate) type Occurring = SmallVec<[usize; 8]>;

impl InputIndex {
    pub(super) fn build<'a>(inputs: impl Iterator<Item = &'a RecordedInput>) -> InputIndex {
        let patterns: Vec<&[u8]> = inputs.map(RecordedInput::bytes).collect();
        let automaton = AhoCorasickBuilder::new()
            // Every input occurring anywhere is wanted, overlapping ones
            // included: only the standard semantics report them all.
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .ok();
        InputIndex {
            automaton,
            covered: patterns.len(),
        }
    }

    /// How many inputs (the first ones recorded) the searcher covers.
    pub(crate) fn covered(&self) -> usize {
        self.covered
    }

    /// The positions of the covered inputs that occur in `text`, each once,
    /// in recording order; `None` when there is no automaton.
    pub(crate) fn occurring(&self, text: &[u8]) -> Option<Occurring> {
        let automaton = self.automaton.as_ref()?;
        let mut found = Occurring::new();
        // Each input once: a scan of the few found so far, and past the
        // inline capacity one bit per input, so a text with many matches
        // stays linear and one with few allocates nothing.
        let mut seen: Vec<u64> = Vec::new();
        let mut state = aho_corasick::automaton::OverlappingState::start();
        let input = Input::new(text);
        loop {
            automaton.find_overlapping(input.clone(), &mut state);
            let Some(m) = state.get_match() else { break };
            let at = m.pattern().as_usize();
            if seen.is_empty() {
                if found.contains(&at) {
                    continue;
                }
                if !found.spilled() && found.len() < found.inline_size() {
                    found.push(at);
                    continue;
                }
                seen = vec![0; self.covered.div_ceil(64)];
                for &earlier in &found {
                    seen[earlier / 64] |= 1 << (earlier % 64);
                }
            }
            let (word, bit) = (at / 64, 1u64 << (at % 64));
            if seen[word] & bit == 0 {
                seen[word] |= bit;
                found.push(at);
            }
        }
        found.sort_unstable();
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taint::SourceMeta;

    static SRC: SourceMeta = SourceMeta::MANUAL;

    /// Every occurring input once, in recording order, overlapping and
    /// repeated ones included, across the switch from the inline scan to
    /// the bit set; the naive search per input is the oracle.
    #[test]
    fn finds_each_occurring_input_once_in_order() {
        let texts: Vec<String> = (0..300)
            .map(|i| match i % 3 {
                0 => format!("w{i}"),
                1 => format!("{}", i % 17),
                _ => "ab".repeat(i % 5 + 1),
            })
            .collect();
        let inputs: Vec<RecordedInput> = texts
            .iter()
            .map(|t| RecordedInput::new(&SRC, t.as_bytes()))
            .collect();
        let index = InputIndex::build(inputs.iter());
        assert_eq!(index.covered(), 300);
        for text in [
            "nothing here",
            "w3 w30 w33",
            "ababababab 12 7 w297 w3",
            "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 w0 w6 w9 w12 abab",
        ] {
            let expected: Vec<usize> = texts
                .iter()
                .enumerate()
                .filter(|(_, t)| text.contains(t.as_str()))
                .map(|(i, _)| i)
                .collect();
            let found = index.occurring(text.as_bytes()).unwrap();
            assert_eq!(found.as_slice(), expected.as_slice(), "{text}");
        }
    }
}
