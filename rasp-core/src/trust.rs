//! Trust traits: what a sink parameter of each context accepts.
//!
//! Each trait is sealed and implemented for exactly the values that cannot
//! carry an injection into that context: string literals (`&'static str`),
//! numbers and `bool`, values sanitized *for that context*, checked sink
//! text, and values asserted through the escape hatch *for that context*.
//! `Tainted<T>` never implements any of them, and the `on_unimplemented`
//! message explains the fixes in terms of the `rasp` facade. A value
//! sanitized or asserted for another context is refused with a message of
//! its own ([`SameContext`]).
//!
//! Trust at compile time is not trust at run time: a `&'static str` is
//! accepted as a literal, but `String::leak` makes one out of any text, so
//! its text is checked at the sink like every other.

/// The text a guarded sink parameter contributes to the sink, for the
/// runtime check. `None` means there is nothing an input could hide in
/// (numbers, `bool`, string literals written in the program).
pub trait SinkText {
    /// The runtime-checked bytes, if any.
    fn sink_text(&self) -> Option<&[u8]>;
}

// The sealed-trait idiom: a public name on a crate-private path, so only
// this crate implements the trust traits. `sanitize` and `escape_hatch`
// implement them for their own types, one impl per row of the class
// registry.
#[allow(unreachable_pub)]
pub(crate) mod sealed {
    pub trait Sealed<C> {}
}

macro_rules! trust_trait {
    ($(#[$doc:meta])* $trait:ident, $ctx:ident, $message:literal, $label:literal, $fix:literal, $sanitize:literal) => {
        $(#[$doc])*
        #[diagnostic::on_unimplemented(
            message = $message,
            label = $label,
            note = $fix,
            note = $sanitize,
            note = "trusted by construction: string literals (`&'static str`), numbers, `bool`, and values sanitized for this very context"
        )]
        pub trait $trait: SinkText + sealed::Sealed<crate::class::$ctx> {}

        impl sealed::Sealed<crate::class::$ctx> for &'static str {}
        impl $trait for &'static str {}

        impl<T: $trait + ?Sized> sealed::Sealed<crate::class::$ctx> for &T {}
        impl<T: $trait + ?Sized> $trait for &T {}

        trust_trait!(@numbers $trait, $ctx, u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize f32 f64 bool);
    };
    (@numbers $trait:ident, $ctx:ident, $($t:ty)*) => {$(
        impl sealed::Sealed<crate::class::$ctx> for $t {}
        impl $trait for $t {}
    )*};
}

impl SinkText for &'static str {
    #[inline]
    fn sink_text(&self) -> Option<&[u8]> {
        // Usually a literal, but `'static` does not prove it (`String::leak`),
        // so the text is checked; a literal holds no recorded input and
        // passes at the cost of one scan.
        Some(self.as_bytes())
    }
}

/// A context marker that is `Target`: the bound by which a value
/// sanitized or asserted for one context is trusted by that context's
/// sinks and refused by every other, with a message that names both.
#[diagnostic::on_unimplemented(
    message = "a value made safe for `{Self}` is not safe for `{Target}`",
    label = "trusted for `{Self}` sinks, refused by `{Target}` sinks",
    note = "escaping for one context means nothing in another: HTML escaping does not quote a shell word, and SQL quoting does not stop a path from leaving its directory",
    note = "sanitize the original tainted value for this sink instead: `.sanitize::<{Target}>()`"
)]
pub trait SameContext<Target>: crate::class::Context {}

impl<C: crate::class::Context> SameContext<C> for C {}

impl<T: SinkText + ?Sized> SinkText for &T {
    #[inline]
    fn sink_text(&self) -> Option<&[u8]> {
        (**self).sink_text()
    }
}

macro_rules! no_text {
    ($($t:ty)*) => {$(
        impl SinkText for $t {
            #[inline]
            fn sink_text(&self) -> Option<&[u8]> { None }
        }
    )*};
}
no_text!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize f32 f64 bool);

trust_trait!(
    /// Accepted by SQL sinks.
    SqlSafe, Sql,
    "`{Self}` may carry untrusted data into a SQL sink",
    "not trusted for SQL: unsanitized or tainted",
    "a `rasp::Tainted` value must not reach a SQL sink as is; bind it as a query parameter: `sqlx::query(\"… WHERE name = ?\").bind(rasp::bind(value))`",
    "or sanitize it for this context with `.sanitize::<rasp::Sql>()`, or parse it into a number with `.parse::<i64>()`"
);
trust_trait!(
    /// Accepted by raw-HTML sinks.
    HtmlSafe, Html,
    "`{Self}` may carry untrusted data into a HTML sink",
    "not trusted for HTML: unsanitized or tainted",
    "a `rasp::Tainted` value must not reach a HTML sink as is; render its escaped view: `{{{{ value.escaped::<rasp::Html>() }}}}` in an askama template, `value.escaped::<rasp::Html>()` in `format!`",
    "or sanitize it for this context with `.sanitize::<rasp::Html>()`, or parse it into a number with `.parse::<i64>()`"
);
trust_trait!(
    /// Accepted by shell command sinks.
    ShellSafe, Shell,
    "`{Self}` may carry untrusted data into a shell sink",
    "not trusted for shell: unsanitized or tainted",
    "a `rasp::Tainted` value must not reach a shell sink as is; pass it as a separate argument: `rasp::process::Command::new(\"prog\").arg_tainted(value)`, never inside an `sh -c` string",
    "or sanitize it for this context with `.sanitize::<rasp::Shell>()`, or parse it into a number with `.parse::<i64>()`"
);
trust_trait!(
    /// Accepted by file-system path sinks.
    PathSafe, Path,
    "`{Self}` may carry untrusted data into a path sink",
    "not trusted for path: unsanitized or tainted",
    "a `rasp::Tainted` value must not reach a path sink as is; open it under a fixed directory with `rasp::fs::Root`, which refuses paths that leave it",
    "or sanitize it for this context with `.sanitize::<rasp::Path>()`, or parse it into a number with `.parse::<i64>()`"
);
trust_trait!(
    /// Accepted by outbound-URL sinks.
    UrlSafe, Url,
    "`{Self}` may carry untrusted data into a URL sink",
    "not trusted for URL: unsanitized or tainted",
    "a `rasp::Tainted` value must not reach a URL sink as is; place it in a path segment or query value of a fixed base URL, or check its host against an allowlist",
    "or sanitize it for this context with `.sanitize::<rasp::Url>()`, or parse it into a number with `.parse::<i64>()`"
);
trust_trait!(
    /// Accepted by HTTP header sinks.
    HeaderSafe, Header,
    "`{Self}` may carry untrusted data into a HTTP header sink",
    "not trusted for HTTP header: unsanitized or tainted",
    "a `rasp::Tainted` value must not reach a HTTP header sink as is; reject or strip CR, LF and NUL before building the header value",
    "or sanitize it for this context with `.sanitize::<rasp::Header>()`, or parse it into a number with `.parse::<i64>()`"
);
trust_trait!(
    /// Accepted by log sinks.
    LogSafe, Log,
    "`{Self}` may carry untrusted data into a log sink",
    "not trusted for log: unsanitized or tainted",
    "a `rasp::Tainted` value must not reach a log sink as is; record it as an escaped `tracing` field: `tracing::warn!(user = rasp::log::tainted(&value), \"…\")`",
    "or sanitize it for this context with `.sanitize::<rasp::Log>()`, or parse it into a number with `.parse::<i64>()`"
);
trust_trait!(
    /// Accepted by redirect sinks (the target of a `Location` header).
    RedirectSafe, Redirect,
    "`{Self}` may send a redirect off-site",
    "not trusted as a redirect target: unsanitized or tainted",
    "a `rasp::Tainted` value must not choose where a redirect goes; keep redirects on-site: use a path, or check the host against an allowlist with `rasp::redirect::RedirectPolicy`",
    "or sanitize it for this context with `.sanitize::<rasp::Redirect>()`, which makes it a same-site path"
);
