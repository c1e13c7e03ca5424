//! The one escape hatch: asserting that a tainted value is safe for one
//! sink class.
//!
//! [`trust_unchecked!`](crate::trust_unchecked) takes a tainted value, the
//! class it vouches for and a string-literal reason, and returns
//! [`Asserted<T, C>`], which the trust trait of that class alone accepts:
//! a value vouched for in SQL is still refused by a shell sink. Each use
//! site registers itself (class, file, line, reason) so
//! `cargo xtask audit-sinks` can list it, and counts its uses at run time.
//! Asserted values are still checked by the runtime detectors: the hatch
//! silences the compiler, not rasp.

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::class::{Context, SinkClass};
use crate::registration::{LookUp, Registration};

/// One `trust_unchecked!` use site.
#[derive(Debug)]
pub struct EscapeHatch {
    /// Why the author considers the value safe.
    pub reason: &'static str,
    /// The sink class the value is vouched for.
    pub class: SinkClass,
    /// Module that contains the use.
    pub module: &'static str,
    /// File of the use.
    pub file: &'static str,
    /// Line of the use.
    pub line: u32,
    /// Column of the use.
    pub column: u32,
    uses: AtomicU64,
    registration: Registration,
}

impl EscapeHatch {
    /// For `trust_unchecked!` only, which registers the site it builds. A
    /// site built by hand is not in the registry, and the first value
    /// asserted through it is reported (see [`EscapeHatch::registered`]).
    #[doc(hidden)]
    pub const fn new(
        reason: &'static str,
        class: SinkClass,
        module: &'static str,
        file: &'static str,
        line: u32,
        column: u32,
    ) -> Self {
        EscapeHatch {
            reason,
            class,
            module,
            file,
            line,
            column,
            uses: AtomicU64::new(0),
            registration: Registration::new(),
        }
    }

    /// Whether this site is in the registry the audit lists, as every site
    /// `trust_unchecked!` builds is. Looked up once per site.
    pub fn registered(&'static self) -> bool {
        self.look_up().registered
    }

    /// Whether the site is registered, and whether this was the first
    /// lookup (the one time a missing site is reported).
    pub(crate) fn look_up(&'static self) -> LookUp {
        let registry = inventory::iter::<EscapeHatchRegistration>.into_iter();
        self.registration.find(self, registry.map(|r| r.0))
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

/// A value asserted safe for sink class `C` through
/// [`trust_unchecked!`](crate::trust_unchecked).
///
/// Accepted by the sinks of `C` only; the runtime detectors still see its
/// text. [`Asserted::into_inner`] is a named exit: the site it came from is
/// in the registry and the audit.
pub struct Asserted<T, C> {
    value: T,
    site: &'static EscapeHatch,
    class: PhantomData<C>,
}

impl<T, C: Context> Asserted<T, C> {
    #[inline]
    pub(crate) fn new(value: T, site: &'static EscapeHatch) -> Self {
        site.record_use();
        Asserted {
            value,
            site,
            class: PhantomData,
        }
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

impl<T: AsRef<[u8]>, C> crate::trust::SinkText for Asserted<T, C> {
    #[inline]
    fn sink_text(&self) -> Option<&[u8]> {
        Some(self.value.as_ref())
    }
}

impl<T, C> fmt::Debug for Asserted<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Asserted")
            .field("class", &self.site.class)
            .field("reason", &self.site.reason)
            .field("value", &format_args!("<redacted>"))
            .finish()
    }
}

/// Asserts that a tainted value is safe for the sinks of one class, with a
/// stated reason.
///
/// This is rasp's single escape hatch: `trust_unchecked!(value, Class,
/// "reason")`, where `Class` is a context marker (`rasp::Sql`,
/// `rasp::Shell`, …). The result is accepted by that class's sinks only.
/// The reason must be a string literal that says something (a blank one
/// does not compile); the use site is registered for the sink audit and
/// counted at run time, and the runtime detectors still check the value
/// at the sink.
///
/// ```
/// use rasp_core::{Sql, SourceMeta, Tainted, trust_unchecked};
/// let column = Tainted::new("created_at".to_string(), &SourceMeta::MANUAL);
/// let column = trust_unchecked!(column, Sql, "checked against the sortable-column allowlist above");
/// assert_eq!(column.get(), "created_at");
/// assert_eq!(column.site().uses(), 1);
/// assert!(column.site().registered());
/// ```
///
/// A reason that says nothing is refused at compile time:
///
/// ```compile_fail,E0080
/// use rasp_core::{Sql, SourceMeta, Tainted, trust_unchecked};
/// let v = Tainted::new("x".to_string(), &SourceMeta::MANUAL);
/// let v = trust_unchecked!(v, Sql, "  ");
/// ```
#[macro_export]
macro_rules! trust_unchecked {
    ($value:expr, $reason:literal $(,)?) => {
        ::core::compile_error!(
            "trust_unchecked! names the sink class it vouches for: `trust_unchecked!(value, rasp::Sql, \"why it is safe\")`"
        )
    };
    ($value:expr, $class:ty, $reason:literal $(,)?) => {{
        const _: () = ::core::assert!(
            !$crate::escape_hatch::is_blank($reason),
            "trust_unchecked! needs a reason: say why this value is safe"
        );
        static __RASP_HATCH: $crate::EscapeHatch = $crate::EscapeHatch::new(
            $reason,
            <$class as $crate::Context>::CLASS,
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
            ::core::column!(),
        );
        $crate::__private_v1::inventory::submit! {
            $crate::escape_hatch::EscapeHatchRegistration(&__RASP_HATCH)
        }
        $crate::__private_v1::assert_trusted::<_, $class>($value, &__RASP_HATCH)
    }};
}

/// Whether a reason says nothing: no letter or digit, only spaces and
/// punctuation. Non-ASCII text counts as saying something, except the
/// Unicode spaces that look like nothing (no-break, ideographic, the
/// U+2000 block, byte-order mark).
#[doc(hidden)]
pub const fn is_blank(reason: &str) -> bool {
    let bytes = reason.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphanumeric() {
            return false;
        }
        if b >= 0x80 {
            let space = match b {
                0xC2 => i + 1 < bytes.len() && bytes[i + 1] == 0xA0,
                0xE2 => i + 1 < bytes.len() && (bytes[i + 1] == 0x80 || bytes[i + 1] == 0x81),
                0xE3 => i + 2 < bytes.len() && bytes[i + 1] == 0x80 && bytes[i + 2] == 0x80,
                0xEF => i + 2 < bytes.len() && bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF,
                _ => false,
            };
            if !space {
                return false;
            }
            // Skip the rest of this character's bytes.
            i += 1;
            while i < bytes.len() && bytes[i] & 0xC0 == 0x80 {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    true
}

// A value asserted for one class passes that class's trust trait alone:
// the assertion, not the type, vouches for it, and only where it says. The
// impl is generic over the class and bound by `SameContext`, so a value
// asserted for another class is refused with a message naming both.
macro_rules! asserted_is_trusted {
    ($(
        $(#[$doc:meta])*
        $variant:ident { name: $name:literal, event: $event:literal, marker: $marker:ident,
                         trust: $trust:ident, $($rest:tt)* },
    )*) => {$(
        impl<T: AsRef<[u8]>, C: crate::trust::SameContext<crate::class::$marker>>
            crate::trust::sealed::Sealed<crate::class::$marker> for Asserted<T, C> {}
        impl<T: AsRef<[u8]>, C: crate::trust::SameContext<crate::class::$marker>>
            crate::trust::$trust for Asserted<T, C> {}
    )*};
}

rasp_detect::with_sink_classes!(asserted_is_trusted);

#[cfg(test)]
mod tests {
    use super::is_blank;

    #[test]
    fn a_reason_must_say_something() {
        for blank in [
            "",
            " ",
            "\t\n",
            "...",
            " - ",
            "\u{a0}",
            "\u{3000}",
            "\u{2003}\u{200b}",
            "\u{feff}",
        ] {
            assert!(is_blank(blank), "{blank:?}");
        }
        for said in [
            "ok",
            "7",
            "checked against the allowlist",
            "é",
            "  確認済み ",
            "\u{a0}x",
        ] {
            assert!(!is_blank(said), "{said:?}");
        }
    }
}
