//! The one escape hatch: asserting that a tainted value is safe.
//!
//! [`trust_unchecked!`](crate::trust_unchecked) takes a tainted value and a
//! string-literal reason and returns [`Asserted<T>`], which every trust trait
//! accepts. Each use site registers itself (file, line, reason) so
//! `cargo xtask audit-sinks` can list it, and counts its uses at run time.
//! Asserted values are still checked by the runtime detectors: the hatch
//! silences the compiler, not rasp.

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

/// One `trust_unchecked!` use site.
#[derive(Debug)]
pub struct EscapeHatch {
    /// Why the author considers the value safe.
    pub reason: &'static str,
    /// Module that contains the use.
    pub module: &'static str,
    /// File of the use.
    pub file: &'static str,
    /// Line of the use.
    pub line: u32,
    /// Column of the use.
    pub column: u32,
    uses: AtomicU64,
}

impl EscapeHatch {
    #[doc(hidden)]
    pub const fn new(
        reason: &'static str,
        module: &'static str,
        file: &'static str,
        line: u32,
        column: u32,
    ) -> Self {
        EscapeHatch {
            reason,
            module,
            file,
            line,
            column,
            uses: AtomicU64::new(0),
        }
    }

    /// How many values passed through this site since the process started.
    pub fn uses(&self) -> u64 {
        self.uses.load(Ordering::Relaxed)
    }

    #[doc(hidden)]
    #[inline]
    pub fn record_use(&self) {
        self.uses.fetch_add(1, Ordering::Relaxed);
    }
}

/// Registration of an escape hatch, gathered through `inventory`.
#[derive(Debug)]
pub struct EscapeHatchRegistration(pub &'static EscapeHatch);

inventory::collect!(EscapeHatchRegistration);

/// A value asserted safe through [`trust_unchecked!`](crate::trust_unchecked).
///
/// Accepted by every sink context; the runtime detectors still see its text.
pub struct Asserted<T> {
    value: T,
    site: &'static EscapeHatch,
}

impl<T> Asserted<T> {
    #[doc(hidden)]
    #[inline]
    pub fn __new(value: T, site: &'static EscapeHatch) -> Self {
        site.record_use();
        Asserted { value, site }
    }

    /// The use site that asserted this value.
    pub fn site(&self) -> &'static EscapeHatch {
        self.site
    }

    /// The asserted value.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// Borrows the asserted value.
    pub fn get(&self) -> &T {
        &self.value
    }
}

impl<T: AsRef<[u8]>> crate::trust::SinkText for Asserted<T> {
    #[inline]
    fn sink_text(&self) -> Option<&[u8]> {
        Some(self.value.as_ref())
    }
}

impl<T> fmt::Debug for Asserted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Asserted")
            .field("reason", &self.site.reason)
            .field("value", &format_args!("<redacted>"))
            .finish()
    }
}

/// Asserts that a tainted value is safe for any sink, with a stated reason.
///
/// This is rasp's single escape hatch. The reason must be a string literal;
/// the use site is registered for the sink audit and counted at run time,
/// and the runtime detectors still check the value at the sink.
///
/// ```
/// use rasp_core::{SourceMeta, Tainted, trust_unchecked};
/// let column = Tainted::new("created_at".to_string(), &SourceMeta::MANUAL);
/// let column = trust_unchecked!(column, "checked against the sortable-column allowlist above");
/// assert_eq!(column.get(), "created_at");
/// assert_eq!(column.site().uses(), 1);
/// ```
#[macro_export]
macro_rules! trust_unchecked {
    ($value:expr, $reason:literal $(,)?) => {{
        static __RASP_HATCH: $crate::EscapeHatch = $crate::EscapeHatch::new(
            $reason,
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
            ::core::column!(),
        );
        $crate::__private_v1::inventory::submit! {
            $crate::escape_hatch::EscapeHatchRegistration(&__RASP_HATCH)
        }
        $crate::__private_v1::assert_trusted($value, &__RASP_HATCH)
    }};
}

// An asserted value passes every class's trust trait: the assertion, not
// the type, vouches for it, and the registry lists where it was made.
macro_rules! asserted_is_trusted {
    ($(
        $(#[$doc:meta])*
        $variant:ident { name: $name:literal, event: $event:literal, marker: $marker:ident,
                         trust: $trust:ident, $($rest:tt)* },
    )*) => {$(
        impl<T: AsRef<[u8]>> crate::trust::sealed::Sealed<crate::class::$marker> for Asserted<T> {}
        impl<T: AsRef<[u8]>> crate::trust::$trust for Asserted<T> {}
    )*};
}

rasp_detect::with_sink_classes!(asserted_is_trusted);
