//! The inputs one request recorded: appended by sources, walked by every
//! sink check without a lock.

use std::sync::OnceLock;

use boxcar::Vec as AppendOnly;
use smallvec::SmallVec;

use super::presence::Presence;
use crate::detect::Needle;
use crate::taint::SourceMeta;

/// Inputs up to this many bytes (most query values, form fields and
/// header values) are stored inline, without an allocation of their own.
const INLINE_BYTES: usize = 24;

/// One input recorded by a source: its bytes, and a small searcher that
/// tells a sink check whether the input occurs in its text at all.
pub struct RecordedInput {
    source: &'static SourceMeta,
    bytes: SmallVec<[u8; INLINE_BYTES]>,
    presence: Presence,
    /// A form the application may write instead of the input (its
    /// HTML-escaped text), checked like an input but not one the
    /// requester sent.
    derived: bool,
}

impl RecordedInput {
    /// An input the requester sent.
    pub(super) fn new(source: &'static SourceMeta, bytes: &[u8]) -> RecordedInput {
        RecordedInput {
            source,
            bytes: SmallVec::from_slice(bytes),
            presence: Presence::new(bytes),
            derived: false,
        }
    }

    /// A derived form of an input from `source`.
    pub(super) fn derived(source: &'static SourceMeta, bytes: &[u8]) -> RecordedInput {
        RecordedInput {
            derived: true,
            ..RecordedInput::new(source, bytes)
        }
    }

    /// Whether this is a derived form of an input rather than one the
    /// requester sent.
    pub(crate) fn is_derived(&self) -> bool {
        self.derived
    }

    /// The source that produced the input.
    pub fn source(&self) -> &'static SourceMeta {
        self.source
    }

    /// The raw bytes, exactly as the source returned them.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether the input occurs in `text`: one SIMD search with a searcher
    /// built when the input was recorded.
    pub(crate) fn occurs_in(&self, text: &[u8]) -> bool {
        self.presence.occurs_in(&self.bytes, text)
    }

    /// Runs `f` with a searcher for the input: the input itself when its
    /// stored searcher serves every search alone (inputs of up to 256
    /// bytes), else memchr's full searcher, built once here for all the
    /// searches `f` makes.
    pub(crate) fn with_searcher<R>(&self, f: impl FnOnce(&dyn Needle) -> R) -> R {
        if self.presence.is_stored(&self.bytes) {
            f(self)
        } else {
            f(&memchr::memmem::Finder::new(&self.bytes))
        }
    }
}

impl Needle for RecordedInput {
    #[inline]
    fn needle(&self) -> &[u8] {
        &self.bytes
    }

    #[inline]
    fn find(&self, haystack: &[u8]) -> Option<usize> {
        self.presence.find(&self.bytes, haystack)
    }
}

impl core::fmt::Debug for RecordedInput {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RecordedInput")
            .field("source", &self.source.kind)
            .field("len", &self.bytes().len())
            .finish()
    }
}

/// How many inputs live inside the context itself: a query string with two
/// parameters records four (each key and each value), and those then cost
/// no allocation of their own beyond their bytes (none when short).
const INLINE: usize = 4;

/// Append-only and lock-free to read. Appends must be serialized by the
/// caller (the context's recording lock), which keeps the inline slots
/// filled in order: a reader that finds a slot empty knows every later
/// one is empty too.
pub(super) struct Inputs {
    inline: [OnceLock<RecordedInput>; INLINE],
    /// The inputs past the inline ones. The vector itself is boxed and made
    /// on first use (its bucket table is half a kilobyte), and so are its
    /// entries: it zeroes a bucket of 32 entries when it first grows, and
    /// boxed entries keep that to 32 pointers.
    overflow: OnceLock<Box<AppendOnly<Box<RecordedInput>>>>,
}

impl Inputs {
    pub(super) fn new() -> Inputs {
        Inputs {
            inline: [const { OnceLock::new() }; INLINE],
            overflow: OnceLock::new(),
        }
    }

    /// Appends the input `make` builds. The caller holds the recording
    /// lock, so no one else fills the free slot found here.
    pub(super) fn push(&self, make: impl FnOnce() -> RecordedInput) {
        match self.inline.iter().find(|slot| slot.get().is_none()) {
            Some(slot) => {
                slot.get_or_init(make);
            }
            None => {
                self.overflow
                    .get_or_init(|| Box::new(AppendOnly::new()))
                    .push(Box::new(make()));
            }
        }
    }

    /// The inputs, oldest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = &RecordedInput> {
        // Slots are filled in order, so a full last slot means every
        // inline input is visible. Walking the overflow only then keeps
        // what a reader sees a prefix of what was recorded, also while
        // another thread records.
        let overflow = self.inline[INLINE - 1]
            .get()
            .and(self.overflow.get())
            .map(|overflow| overflow.iter().map(|(_, input)| &**input));
        self.inline
            .iter()
            .map_while(OnceLock::get)
            .chain(overflow.into_iter().flatten())
    }

    /// The input appended `index`-th (from 0), if there is one.
    pub(super) fn get(&self, index: usize) -> Option<&RecordedInput> {
        match index.checked_sub(INLINE) {
            None => self.inline[index].get(),
            Some(past) => self.overflow.get()?.get(past).map(|input| &**input),
        }
    }

    /// How many inputs were appended.
    pub(super) fn count(&self) -> usize {
        let overflow = self.overflow.get().map_or(0, |overflow| overflow.count());
        self.inline.iter().map_while(OnceLock::get).count() + overflow
    }
}

impl core::fmt::Debug for Inputs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SRC: SourceMeta = SourceMeta::MANUAL;

    #[test]
    fn keeps_order_across_the_inline_slots_and_the_overflow() {
        let inputs = Inputs::new();
        let texts: Vec<String> = (0..INLINE * 3).map(|i| format!("input-{i}")).collect();
        for (n, text) in texts.iter().enumerate() {
            assert_eq!(inputs.count(), n);
            inputs.push(|| RecordedInput::new(&SRC, text.as_bytes()));
        }
        let read: Vec<&[u8]> = inputs.iter().map(RecordedInput::bytes).collect();
        let expected: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
        assert_eq!(read, expected);
        assert_eq!(inputs.count(), texts.len());
    }

    #[test]
    fn readers_on_other_threads_see_a_prefix_in_order() {
        let inputs = Inputs::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..200u32 {
                    inputs.push(|| RecordedInput::new(&SRC, &i.to_be_bytes()));
                }
            });
            s.spawn(|| {
                for _ in 0..1000 {
                    let seen: Vec<u32> = inputs
                        .iter()
                        .map(|i| u32::from_be_bytes(i.bytes().try_into().unwrap()))
                        .collect();
                    let prefix: Vec<u32> = (0..seen.len() as u32).collect();
                    assert_eq!(seen, prefix);
                }
            });
        });
        assert_eq!(inputs.count(), 200);
    }
}
