//! What the runtime-checked guards take: text the application built.
//!
//! Each guard bounds its text by a trait of its own, implemented for every
//! type of the right shape. Handing a guard something else, above all a
//! `rasp::Tainted` value, is then refused with a message that names the
//! guard and the way in, instead of a bare "`AsRef<[u8]>` is not
//! implemented".

/// Declares one guard's text trait: a blanket-implemented alias of
/// `$shape` that explains itself when it is not met.
macro_rules! guard_text {
    (
        $(#[$doc:meta])*
        $name:ident: $shape:path,
        message = $message:literal,
        label = $label:literal,
        fix = $fix:literal $(,)?
    ) => {
        $(#[$doc])*
        #[diagnostic::on_unimplemented(
            message = $message,
            label = $label,
            note = "the guard takes the text the application built, and checks it against the inputs the request recorded",
            note = $fix
        )]
        pub trait $name: $shape {}

        impl<T: $shape + ?Sized> $name for T {}
    };
}
