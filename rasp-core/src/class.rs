//! Sink classes and their context markers: the grammars a value can be
//! spliced into.
//!
//! [`SinkClass`] is the runtime name of a grammar, from the registry in
//! `rasp-detect`; each class also has a zero-sized marker type ([`Sql`],
//! [`Html`], …) that names it in types. Trust is per class: a value escaped
//! for HTML is not safe in SQL, so `Sanitized<_, Html>` implements
//! [`HtmlSafe`](crate::HtmlSafe) and nothing else.

pub use rasp_detect::SinkClass;

/// The marker of a sink class, as types name it. Sealed: the set of
/// classes is rasp's to define.
pub trait Context: sealed::Sealed + Copy + Default + Send + Sync + 'static {
    /// The sink class this context is the grammar of.
    const CLASS: SinkClass;
}

#[allow(unreachable_pub)] // the sealed-trait idiom: public name, private path
mod sealed {
    pub trait Sealed {}
}

// One zero-sized marker per row of the class registry.
macro_rules! contexts {
    ($(
        $(#[$doc:meta])*
        $variant:ident { name: $name:literal, event: $event:literal, marker: $marker:ident,
                         trust: $trust:ident, title: $title:literal, cwe: $cwe:literal,
                         severity: $severity:literal $(,)? },
    )*) => {$(
        #[doc = concat!("Context marker of ", $title, " sinks (class `", $name, "`).")]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $marker;
        impl sealed::Sealed for $marker {}
        impl Context for $marker {
            const CLASS: SinkClass = SinkClass::$variant;
        }
    )*};
}

rasp_detect::with_sink_classes!(contexts);
