//! The registry of sink classes: the one table every list of classes is
//! derived from.
//!
//! [`with_sink_classes!`](crate::with_sink_classes) hands the table to a
//! macro of the caller's, which builds what it needs from it: this module
//! builds [`SinkClass`] and its names, rasp-core the zero-sized context
//! markers, the trust-trait checks and the per-class metric keys, the
//! attribute macros parse `kind = "…"` through [`SinkClass::from_name`], and
//! the audit reads the weakness and severity of each class from here.
//! Adding a class is one row below plus its detector (the `match` in
//! [`detect`](crate::detect) is exhaustive, so the compiler asks for it).

/// Calls `$callback! { … }` with one row per sink class, after the
/// caller's own tokens if it gives any (`with_sink_classes!(m (args))`
/// calls `m! { (args) rows… }`):
///
/// ```text
/// $(#[doc])* Variant { name: "…", event: "…", marker: Ident, trust: Ident,
///                      title: "…", cwe: "…", severity: "…" },
/// ```
///
/// - `name`: the stable lowercase name (events, metrics, policies, `kind =`);
/// - `event`: the stem of event names (`rasp.{event}.blocked`);
/// - `marker`: the context marker type (`rasp::Sql`);
/// - `trust`: the trust trait of its sink parameters (`rasp::SqlSafe`);
/// - `title`: how prose names the grammar ("SQL", "HTTP header");
/// - `cwe` and `severity`: the weakness an unguarded sink of the class has,
///   and its CVSS-like rank, as code-scanning reports show them.
#[macro_export]
macro_rules! with_sink_classes {
    ($callback:ident $(($($args:tt)*))?) => {
        $callback! {
            $(($($args)*))?
            /// SQL text.
            Sql { name: "sql", event: "sqli", marker: Sql, trust: SqlSafe,
                  title: "SQL", cwe: "CWE-89", severity: "9.8" },
            /// HTML markup.
            Html { name: "html", event: "xss", marker: Html, trust: HtmlSafe,
                   title: "HTML", cwe: "CWE-79", severity: "6.1" },
            /// A shell command line or argument.
            Shell { name: "shell", event: "cmdi", marker: Shell, trust: ShellSafe,
                    title: "shell", cwe: "CWE-78", severity: "9.8" },
            /// A file-system path.
            Path { name: "path", event: "path_traversal", marker: Path, trust: PathSafe,
                   title: "path", cwe: "CWE-22", severity: "7.5" },
            /// An outbound URL.
            Url { name: "url", event: "ssrf", marker: Url, trust: UrlSafe,
                  title: "URL", cwe: "CWE-918", severity: "8.6" },
            /// An HTTP header value.
            Header { name: "header", event: "header_injection", marker: Header, trust: HeaderSafe,
                     title: "HTTP header", cwe: "CWE-113", severity: "5.3" },
            /// A log line.
            Log { name: "log", event: "log_injection", marker: Log, trust: LogSafe,
                  title: "log", cwe: "CWE-117", severity: "4.3" },
            /// The target of an HTTP redirect (`Location`).
            Redirect { name: "redirect", event: "open_redirect", marker: Redirect, trust: RedirectSafe,
                       title: "redirect", cwe: "CWE-601", severity: "6.1" },
        }
    };
}

macro_rules! define_sink_class {
    ($(
        $(#[$doc:meta])*
        $variant:ident {
            name: $name:literal, event: $event:literal, marker: $marker:ident, trust: $trust:ident,
            title: $title:literal, cwe: $cwe:literal, severity: $severity:literal $(,)?
        },
    )*) => {
        /// A sink class: the grammar a sink's text is written in, which
        /// decides the detector that checks it and the trust trait its
        /// parameters need.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum SinkClass {
            $($(#[$doc])* $variant,)*
        }

        impl SinkClass {
            /// Every class, in the registry's order (the order of metric
            /// keys and reports).
            pub const ALL: &'static [SinkClass] = &[$(SinkClass::$variant),*];

            /// Stable lowercase name, as used in `kind = "…"`, events,
            /// metrics and policies.
            pub const fn as_str(self) -> &'static str {
                match self { $(SinkClass::$variant => $name,)* }
            }

            /// Parses a stable name back into a class.
            pub fn from_name(name: &str) -> Option<SinkClass> {
                match name {
                    $($name => Some(SinkClass::$variant),)*
                    _ => None,
                }
            }

            /// Position in [`SinkClass::ALL`], for per-class tables.
            pub const fn index(self) -> usize {
                self as usize
            }

            /// The stem of this class's event names: `rasp.{stem}.blocked`.
            pub const fn event_stem(self) -> &'static str {
                match self { $(SinkClass::$variant => $event,)* }
            }

            /// The name of the context marker type (`Sql` for `rasp::Sql`).
            pub const fn marker(self) -> &'static str {
                match self { $(SinkClass::$variant => stringify!($marker),)* }
            }

            /// The name of the trust trait guarded parameters implement
            /// (`SqlSafe` for `rasp::SqlSafe`).
            pub const fn trust_trait(self) -> &'static str {
                match self { $(SinkClass::$variant => stringify!($trust),)* }
            }

            /// How prose names the grammar: "SQL", "HTTP header".
            pub const fn title(self) -> &'static str {
                match self { $(SinkClass::$variant => $title,)* }
            }

            /// The weakness an unguarded sink of this class has (`CWE-89`).
            pub const fn cwe(self) -> &'static str {
                match self { $(SinkClass::$variant => $cwe,)* }
            }

            /// CVSS-like severity (0–10) of an injection into this class,
            /// as code-scanning services rank `security-severity`.
            pub const fn severity(self) -> &'static str {
                match self { $(SinkClass::$variant => $severity,)* }
            }
        }
    };
}

with_sink_classes!(define_sink_class);

impl core::fmt::Display for SinkClass {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::SinkClass;

    #[test]
    fn names_round_trip_and_indices_follow_the_table() {
        for (at, &class) in SinkClass::ALL.iter().enumerate() {
            assert_eq!(SinkClass::from_name(class.as_str()), Some(class));
            assert_eq!(class.index(), at);
            assert!(class.cwe().starts_with("CWE-"), "{class}");
            let severity: f32 = class.severity().parse().unwrap();
            assert!((0.0..=10.0).contains(&severity), "{class}");
        }
        assert_eq!(SinkClass::from_name("SQL"), None);
        assert_eq!(SinkClass::from_name(""), None);
    }

    #[test]
    fn every_name_is_distinct() {
        let mut names: Vec<_> = SinkClass::ALL.iter().map(|c| c.as_str()).collect();
        let mut stems: Vec<_> = SinkClass::ALL.iter().map(|c| c.event_stem()).collect();
        names.sort_unstable();
        names.dedup();
        stems.sort_unstable();
        stems.dedup();
        assert_eq!(names.len(), SinkClass::ALL.len());
        assert_eq!(stems.len(), SinkClass::ALL.len());
    }
}
