//! Sink contexts: the grammars a value can be spliced into.
//!
//! Each context is a zero-sized marker type. Trust is per context: a value
//! escaped for HTML is not safe in SQL, so `Sanitized<_, Html>` implements
//! [`HtmlSafe`](crate::HtmlSafe) and nothing else.

use core::fmt;

/// A sink context. Sealed: the set of contexts is rasp's to define.
pub trait Context: sealed::Sealed + Copy + Default + Send + Sync + 'static {
    /// The runtime tag of this context.
    const KIND: ContextKind;
}

#[allow(unreachable_pub)] // the sealed-trait idiom: public name, private path
mod sealed {
    pub trait Sealed {}
}

/// Runtime tag of a sink context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ContextKind {
    /// SQL text.
    Sql,
    /// HTML markup.
    Html,
    /// A shell command line or argument.
    Shell,
    /// A file-system path.
    Path,
    /// An outbound URL.
    Url,
    /// An HTTP header value.
    Header,
    /// A log line.
    Log,
    /// The target of an HTTP redirect (`Location`).
    Redirect,
}

impl ContextKind {
    /// Stable lowercase name, as used in sink kinds, events and policies.
    pub const fn as_str(self) -> &'static str {
        match self {
            ContextKind::Sql => "sql",
            ContextKind::Html => "html",
            ContextKind::Shell => "shell",
            ContextKind::Path => "path",
            ContextKind::Url => "url",
            ContextKind::Header => "header",
            ContextKind::Log => "log",
            ContextKind::Redirect => "redirect",
        }
    }

    /// Parses a stable name back into a kind.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "sql" => ContextKind::Sql,
            "html" => ContextKind::Html,
            "shell" => ContextKind::Shell,
            "path" => ContextKind::Path,
            "url" => ContextKind::Url,
            "header" => ContextKind::Header,
            "log" => ContextKind::Log,
            "redirect" => ContextKind::Redirect,
            _ => return None,
        })
    }
}

impl fmt::Display for ContextKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! contexts {
    ($($(#[$doc:meta])* $name:ident => $kind:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $name;
        impl sealed::Sealed for $name {}
        impl Context for $name {
            const KIND: ContextKind = ContextKind::$kind;
        }
    )*};
}

contexts! {
    /// SQL text: sanitizing produces a quoted string literal.
    Sql => Sql;
    /// HTML text content and quoted attribute values.
    Html => Html;
    /// One shell word (POSIX `sh`).
    Shell => Shell;
    /// One file-name segment.
    Path => Path;
    /// One URL path segment or query component.
    Url => Url;
    /// An HTTP header value.
    Header => Header;
    /// One log line.
    Log => Log;
    /// A redirect target: sanitizing produces a same-site path.
    Redirect => Redirect;
}
