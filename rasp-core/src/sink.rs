//! Sink sites: the static description of one guarded sink.
//!
//! `#[rasp::sink]` emits one `static SinkSite` per annotated fn and submits
//! it to the registry; guarded integrations in `rasp-sinks` do the same for
//! their entry points. The runtime check takes `&'static SinkSite`, so an
//! event can name its sink without any allocation.
//!
//! A site's fields are private and it is built by the `const fn`
//! [`SinkSite::new`], the shape of `tracing-core`'s `Metadata`: fields can
//! be added without breaking the code the macros generate.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::class::SinkClass;
use crate::detect::sql::Dialect;
use crate::registration::{LookUp, Registration};

/// How a sink's inputs are guarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Guard {
    /// Parameters carry trust-trait bounds checked by the compiler, and the
    /// runtime detector checks their text.
    Typed,
    /// The sink text is only checked at run time (string-built text).
    RuntimeChecked,
    /// The text is built by a span-exact macro from a literal template; the
    /// runtime check judges exactly the arguments' spans.
    SpanExact,
}

impl Guard {
    /// Stable name, as the sink map writes it: `typed`, `runtime-checked`,
    /// `span-exact`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Guard::Typed => "typed",
            Guard::RuntimeChecked => "runtime-checked",
            Guard::SpanExact => "span-exact",
        }
    }
}

/// Static description of one guarded sink.
#[derive(Debug)]
pub struct SinkSite {
    id: &'static str,
    class: SinkClass,
    fn_path: &'static str,
    file: &'static str,
    line: u32,
    guarded: &'static [&'static str],
    guard: Guard,
    dialect: Dialect,
    slot: DecisionSlot,
    registration: Registration,
}

impl SinkSite {
    /// A sink site: its stable `id` (by default the fn path; events and
    /// policies name the sink by it), its `class`, the path of the guarded
    /// fn, where it is declared, the names of its guarded parameters and how
    /// they are guarded. The SQL dialect is [`Dialect::Generic`] unless
    /// [`SinkSite::with_dialect`] says otherwise.
    #[allow(clippy::too_many_arguments)] // one per field, as tracing-core's `Metadata::new`
    pub const fn new(
        id: &'static str,
        class: SinkClass,
        fn_path: &'static str,
        file: &'static str,
        line: u32,
        guarded: &'static [&'static str],
        guard: Guard,
    ) -> SinkSite {
        SinkSite {
            id,
            class,
            fn_path,
            file,
            line,
            guarded,
            guard,
            dialect: Dialect::Generic,
            slot: DecisionSlot::new(),
            registration: Registration::new(),
        }
    }

    /// The same site, its text read as SQL of `dialect`.
    pub const fn with_dialect(mut self, dialect: Dialect) -> SinkSite {
        self.dialect = dialect;
        self
    }

    /// Stable id, by default the fn path; used by events and policies.
    #[inline]
    pub const fn id(&self) -> &'static str {
        self.id
    }

    /// Sink class: decides which detector runs.
    #[inline]
    pub const fn class(&self) -> SinkClass {
        self.class
    }

    /// Path of the guarded fn.
    #[inline]
    pub const fn fn_path(&self) -> &'static str {
        self.fn_path
    }

    /// File that declares the sink.
    #[inline]
    pub const fn file(&self) -> &'static str {
        self.file
    }

    /// Line of the sink declaration.
    #[inline]
    pub const fn line(&self) -> u32 {
        self.line
    }

    /// Names of the guarded parameters.
    #[inline]
    pub const fn guarded(&self) -> &'static [&'static str] {
        self.guarded
    }

    /// How the sink is guarded.
    #[inline]
    pub const fn guard(&self) -> Guard {
        self.guard
    }

    /// SQL dialect of the sink's text (SQL sinks only).
    #[inline]
    pub const fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Whether this site is in the registry the audit lists, as every site
    /// `#[rasp::sink]` and rasp's own guards build is. Looked up once per
    /// site.
    pub fn registered(&'static self) -> bool {
        self.look_up().registered
    }

    /// Whether the site is registered, and whether this was the first
    /// lookup (the one time a missing site is reported).
    pub(crate) fn look_up(&'static self) -> LookUp {
        let registry = inventory::iter::<SinkRegistration>.into_iter();
        self.registration.find(self, registry.map(|r| r.0))
    }

    /// The slot the installed policy's rule for this sink is cached in.
    #[inline]
    pub(crate) fn slot(&self) -> &DecisionSlot {
        &self.slot
    }
}

/// Where a policy's resolved rule for one sink (or one request) is kept:
/// one atomic word, filled by the policy layer and opaque to everyone else.
///
/// The word holds the *generation* of the policy it was resolved from in
/// its high half and the packed rule in its low half; the policy layer
/// gives every compiled policy a new generation, so installing one
/// invalidates every slot at once without visiting them. Two threads racing
/// on one slot can only overwrite each other with a correct answer for
/// their own generation, which the other then ignores. This is the shape of
/// `tracing-core`'s callsite interest cache, rebuilt lazily instead of by
/// walking a registry.
#[derive(Debug, Default)]
pub struct DecisionSlot(AtomicU64);

impl DecisionSlot {
    /// An empty slot: the first decision resolves and fills it.
    pub(crate) const fn new() -> DecisionSlot {
        DecisionSlot(AtomicU64::new(0))
    }

    /// The packed value stored for `generation`, if that is what it holds.
    #[inline]
    pub(crate) fn get(&self, generation: u32) -> Option<u32> {
        let word = self.0.load(Ordering::Relaxed);
        ((word >> 32) as u32 == generation).then_some(word as u32)
    }

    /// Stores `packed` for `generation`.
    #[inline]
    pub(crate) fn put(&self, generation: u32, packed: u32) {
        self.0.store(
            u64::from(generation) << 32 | u64::from(packed),
            Ordering::Relaxed,
        );
    }
}

/// Registration of a sink site, gathered through `inventory`.
#[derive(Debug)]
pub struct SinkRegistration(pub &'static SinkSite);

inventory::collect!(SinkRegistration);
