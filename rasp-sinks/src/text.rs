//! What the runtime-checked guards take: text the application built, or a
//! tainted value the guard checks itself.
//!
//! Each guard bounds its text by a trait of its own, implemented for the
//! plain text types, for `Tainted` text (the sanctioned way to build text
//! from an input: keep it tainted with `Tainted::map` and let the guard
//! check it), and for values sanitized or asserted for the guard's own
//! class. Handing a guard something else is refused with a message that
//! names the guard and the way in; a value sanitized for another class is
//! refused with a message naming both classes (`SameContext`).
//!
//! The text is read through a hidden method that takes the guard's sink
//! site: tainted and sanitized values are unwrapped through
//! `rasp_core::__private_v1`'s site-bound accessors, so a call with a site
//! that is not in the registry is reported.

/// Declares one guard's text trait: the borrowed text types (`plain`,
/// read with `AsRef<$shape>`), the owned ones (`owned`, read through the
/// borrowed type they dereference to), `Tainted`, and
/// `Sanitized`/`Composed`/`Asserted` of `$class`.
macro_rules! guard_text {
    (
        $(#[$doc:meta])*
        $name:ident: $shape:ty, class = $class:ident,
        plain = [$($plain:ty),* $(,)?], owned = [$($owned:ty),* $(,)?],
        message = $message:literal,
        label = $label:literal,
        fix = $fix:literal $(,)?
    ) => {
        $(#[$doc])*
        #[diagnostic::on_unimplemented(
            message = $message,
            label = $label,
            note = "the guard takes the text the application built, or a `rasp::Tainted` value, and checks it against the inputs the request recorded",
            note = $fix
        )]
        pub trait $name {
            /// The text, for the guard at `site` (which reads tainted and
            /// sanitized values through it). Not for applications.
            #[doc(hidden)]
            fn __guard_text(&self, site: &'static rasp_core::SinkSite) -> &$shape;
        }

        $(
            impl $name for $plain {
                #[inline]
                fn __guard_text(&self, _: &'static rasp_core::SinkSite) -> &$shape {
                    self.as_ref()
                }
            }
        )*

        $(
            impl $name for $owned {
                #[inline]
                fn __guard_text(&self, _: &'static rasp_core::SinkSite) -> &$shape {
                    // Through the borrowed form, which has every `AsRef` needed.
                    (**self).as_ref()
                }
            }
        )*

        impl<T: $name + ?Sized> $name for &T {
            #[inline]
            fn __guard_text(&self, site: &'static rasp_core::SinkSite) -> &$shape {
                (**self).__guard_text(site)
            }
        }

        impl<S: AsRef<str>> $name for rasp_core::Tainted<S> {
            #[inline]
            fn __guard_text(&self, site: &'static rasp_core::SinkSite) -> &$shape {
                rasp_core::__private_v1::peek_at(self, site).as_ref().as_ref()
            }
        }

        impl<S: AsRef<str>, C: rasp_core::SameContext<rasp_core::$class>> $name
            for rasp_core::Sanitized<S, C>
        {
            #[inline]
            fn __guard_text(&self, site: &'static rasp_core::SinkSite) -> &$shape {
                rasp_core::__private_v1::sanitized_at(self, site).as_ref()
            }
        }

        impl<C: rasp_core::SameContext<rasp_core::$class>> $name for rasp_core::Composed<C> {
            #[inline]
            fn __guard_text(&self, site: &'static rasp_core::SinkSite) -> &$shape {
                rasp_core::__private_v1::composed_at(self, site).as_ref()
            }
        }

        impl<S: AsRef<str>, C: rasp_core::SameContext<rasp_core::$class>> $name
            for rasp_core::Asserted<S, C>
        {
            #[inline]
            fn __guard_text(&self, _: &'static rasp_core::SinkSite) -> &$shape {
                // The hatch registered its own site; reading it is its named exit.
                self.get().as_ref().as_ref()
            }
        }
    };
}
