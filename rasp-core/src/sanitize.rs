//! Sanitizers: turn a tainted string into text that is inert in one context.
//!
//! Every sanitizer streams into a `fmt::Write` from a lookup of the few bytes
//! that matter, and [`Sanitized::from_tainted`] skips the copy entirely when
//! the input needs no escaping, so clean input costs one scan and no
//! allocation.

use core::fmt::{self, Write};
use core::marker::PhantomData;

use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::class::{Context, Header, Html, Log, Path, Redirect, Shell, Sql, Url};

/// Escaping for one sink context.
pub trait Sanitize: Context {
    /// Whether `input` must be rewritten to be inert in this context.
    fn needs_escaping(input: &str) -> bool;
    /// Writes the inert form of `input` to `out`.
    fn write_escaped<W: Write>(input: &str, out: &mut W) -> fmt::Result;
}

/// A value made inert for context `C`; trusted by sinks of `C` only.
pub struct Sanitized<T, C> {
    value: T,
    context: PhantomData<C>,
}

impl<C: Sanitize> Sanitized<String, C> {
    /// Sanitizes `input` for `C`, reusing its buffer when it is already clean.
    pub fn from_tainted(input: impl AsRef<str> + Into<String>) -> Self {
        let value = if C::needs_escaping(input.as_ref()) {
            let mut out = String::with_capacity(input.as_ref().len() + 8);
            C::write_escaped(input.as_ref(), &mut out).expect("writing to a String cannot fail");
            out
        } else if C::CLASS == crate::SinkClass::Sql {
            // A SQL value is always a quoted literal, even when clean.
            let mut out = String::with_capacity(input.as_ref().len() + 2);
            C::write_escaped(input.as_ref(), &mut out).expect("writing to a String cannot fail");
            out
        } else {
            input.into()
        };
        Sanitized {
            value,
            context: PhantomData,
        }
    }
}

impl<T, C> Sanitized<T, C> {
    /// Wraps `value`, the output of a sanitizer of `C` inside this crate.
    #[cfg_attr(not(any(feature = "ammonia", test)), allow(dead_code))]
    pub(crate) const fn from_sanitizer(value: T) -> Self {
        Sanitized {
            value,
            context: PhantomData,
        }
    }
}

impl<T: AsRef<str>, C> Sanitized<T, C> {
    /// The sanitized text, for this crate and the site-bound accessors of
    /// `__private_v1`. There is no public `as_str`, `into_inner` or (but
    /// for HTML) `Display`: text escaped for one context, once it is plain
    /// text, could be spliced into another, where the escaping means
    /// nothing and the input no longer reads as it was recorded.
    #[inline]
    pub(crate) fn text(&self) -> &str {
        self.value.as_ref()
    }

    /// Length of the sanitized text in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.text().len()
    }

    /// Whether the sanitized text is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.text().is_empty()
    }
}

impl<T: AsRef<str>, C> crate::trust::SinkText for Sanitized<T, C> {
    #[inline]
    fn sink_text(&self) -> Option<&[u8]> {
        Some(self.text().as_bytes())
    }
}

/// Only markup displays: askama needs `Display` for every expression, and
/// HTML is written with `format!` as often as with a template. Formatted
/// into another context's text, HTML-escaped text is plain text that the
/// runtime check reads as the application's own: compose such text with
/// [`compose!`](macro@crate::compose), which refuses it.
impl<T: AsRef<str>> fmt::Display for Sanitized<T, Html> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// Compares the sanitized text: a fact about it, not a way out of it.
impl<T: AsRef<str>, C> PartialEq<str> for Sanitized<T, C> {
    fn eq(&self, other: &str) -> bool {
        self.text() == other
    }
}

/// Compares the sanitized text: a fact about it, not a way out of it.
impl<T: AsRef<str>, C> PartialEq<&str> for Sanitized<T, C> {
    fn eq(&self, other: &&str) -> bool {
        self.text() == *other
    }
}

impl<T: AsRef<str>, C: Context> fmt::Debug for Sanitized<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sanitized")
            .field("context", &C::CLASS)
            .field("value", &self.value.as_ref())
            .finish()
    }
}

impl<T: Clone, C> Clone for Sanitized<T, C> {
    fn clone(&self) -> Self {
        Sanitized {
            value: self.value.clone(),
            context: PhantomData,
        }
    }
}

/// Writes `input` to `out`, replacing each byte for which `escape` returns
/// `Some` and copying clean runs in one call.
fn write_mapped<W: Write>(
    input: &str,
    out: &mut W,
    escape: impl Fn(char) -> Option<&'static str>,
) -> fmt::Result {
    let mut clean_from = 0;
    for (i, c) in input.char_indices() {
        if let Some(rep) = escape(c) {
            out.write_str(&input[clean_from..i])?;
            out.write_str(rep)?;
            clean_from = i + c.len_utf8();
        }
    }
    out.write_str(&input[clean_from..])
}

fn html_escape(c: char) -> Option<&'static str> {
    Some(match c {
        '<' => "&lt;",
        '>' => "&gt;",
        '&' => "&amp;",
        '"' => "&quot;",
        '\'' => "&#x27;",
        _ => return None,
    })
}

impl Sanitize for Html {
    fn needs_escaping(input: &str) -> bool {
        input
            .bytes()
            .any(|b| matches!(b, b'<' | b'>' | b'&' | b'"' | b'\''))
    }
    fn write_escaped<W: Write>(input: &str, out: &mut W) -> fmt::Result {
        write_mapped(input, out, html_escape)
    }
}

/// SQL: a single-quoted string literal. Quotes are doubled (standard SQL) and
/// backslashes doubled as well, so the literal stays closed under MySQL's
/// default backslash escapes too. On PostgreSQL and SQLite a backslash in the
/// value is therefore stored twice: bind the value as a parameter when it must
/// round-trip exactly.
impl Sanitize for Sql {
    fn needs_escaping(input: &str) -> bool {
        input.bytes().any(|b| matches!(b, b'\'' | b'\\' | 0))
    }
    fn write_escaped<W: Write>(input: &str, out: &mut W) -> fmt::Result {
        out.write_char('\'')?;
        write_mapped(input, out, |c| match c {
            '\'' => Some("''"),
            '\\' => Some("\\\\"),
            '\0' => Some(""),
            _ => None,
        })?;
        out.write_char('\'')
    }
}

/// Shell: one POSIX `sh` word. Clean words are left as they are; anything
/// else is wrapped in single quotes, inside which nothing is special except
/// the quote itself, written as `'\''`.
impl Sanitize for Shell {
    fn needs_escaping(input: &str) -> bool {
        input.is_empty()
            || !input.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'-' | b'_' | b'.' | b'/' | b',' | b':' | b'@' | b'+' | b'='
                    )
            })
    }
    fn write_escaped<W: Write>(input: &str, out: &mut W) -> fmt::Result {
        out.write_char('\'')?;
        write_mapped(input, out, |c| (c == '\'').then_some("'\\''"))?;
        out.write_char('\'')
    }
}

/// Path: one file-name segment. Separators, `:`, NUL and control bytes
/// become `_`, and so does a segment made only of dots and spaces (empty,
/// `.`, `..`, and `.. ` or `...`, which Windows trims to `..` or nothing),
/// so the result can never leave the directory it is joined to. A `:`
/// anywhere goes, not only after a drive letter: on NTFS `..::$DATA`
/// names the stream of `..`, which is `..` itself.
impl Sanitize for Path {
    fn needs_escaping(input: &str) -> bool {
        only_dots_and_spaces(input)
            || input
                .bytes()
                .any(|b| matches!(b, b'/' | b'\\' | b':' | 0) || b < 0x20)
    }
    fn write_escaped<W: Write>(input: &str, out: &mut W) -> fmt::Result {
        if only_dots_and_spaces(input) {
            return out.write_str("_");
        }
        write_mapped(input, out, |c| {
            (matches!(c, '/' | '\\' | ':' | '\0') || c.is_control()).then_some("_")
        })
    }
}

/// A path segment that names no file of its own: `.`, `..`, or what
/// Windows trims to them.
fn only_dots_and_spaces(input: &str) -> bool {
    input.bytes().all(|b| b == b'.' || b == b' ')
}

/// URL: percent-encodes everything outside RFC 3986 unreserved characters, so
/// the value stays inside one path segment or query component.
impl Sanitize for Url {
    fn needs_escaping(input: &str) -> bool {
        !input
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    }
    fn write_escaped<W: Write>(input: &str, out: &mut W) -> fmt::Result {
        write!(out, "{}", utf8_percent_encode(input, URL_ESCAPES))
    }
}

/// Everything but RFC 3986's unreserved characters.
const URL_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Header: CR, LF, NUL and other control characters become spaces, so the
/// value cannot end the header or start a new one.
impl Sanitize for Header {
    fn needs_escaping(input: &str) -> bool {
        input.chars().any(|c| c.is_control() && c != '\t')
    }
    fn write_escaped<W: Write>(input: &str, out: &mut W) -> fmt::Result {
        write_mapped(input, out, |c| (c.is_control() && c != '\t').then_some(" "))
    }
}

/// Log: line breaks (Unicode line and paragraph separators included) and
/// control characters (ANSI escapes included) are shown as visible
/// escapes, so one input is always one line and never drives a terminal.
/// Tabs are kept. The set is the one the log detector flags.
impl Sanitize for Log {
    fn needs_escaping(input: &str) -> bool {
        input.chars().any(|c| log_escapes(c).is_some())
    }
    fn write_escaped<W: Write>(input: &str, out: &mut W) -> fmt::Result {
        let mut clean_from = 0;
        for (i, c) in input.char_indices() {
            if let Some(short) = log_escapes(c) {
                out.write_str(&input[clean_from..i])?;
                match short {
                    Some(short) => out.write_str(short)?,
                    None => write!(out, "\\u{{{:x}}}", u32::from(c))?,
                }
                clean_from = i + c.len_utf8();
            }
        }
        out.write_str(&input[clean_from..])
    }
}

/// How the log sanitizer writes `c`: `None` as it is, `Some(Some(_))` as a
/// short escape, `Some(None)` as `\u{…}`.
fn log_escapes(c: char) -> Option<Option<&'static str>> {
    crate::detect::log::char_reason(c)?;
    Some(match c {
        '\n' => Some("\\n"),
        '\r' => Some("\\r"),
        _ => None,
    })
}

/// Redirect: a same-site absolute path. The value always starts with one
/// `/` and never with two (`/` or `\` right after it is percent-encoded),
/// so no scheme or authority can form; `\`, whitespace, control
/// characters and non-ASCII characters are percent-encoded everywhere,
/// since browsers remove tabs and line breaks and read `\` as `/` before
/// they look for an authority. A value that is not a path yet (`evil.com`,
/// `https://evil.com`) becomes one under the site's root. Existing percent
/// escapes are kept, so an already encoded path or query passes unchanged.
impl Sanitize for Redirect {
    fn needs_escaping(input: &str) -> bool {
        let bytes = input.as_bytes();
        bytes.first() != Some(&b'/')
            || matches!(bytes.get(1), Some(b'/' | b'\\'))
            || bytes.iter().any(|&b| redirect_escapes(b))
    }
    fn write_escaped<W: Write>(input: &str, out: &mut W) -> fmt::Result {
        let rest = input.strip_prefix('/').unwrap_or(input);
        out.write_char('/')?;
        // A second `/` would start an authority (`//evil.com`).
        let rest = match rest.strip_prefix('/') {
            Some(after) => {
                out.write_str("%2F")?;
                after
            }
            None => rest,
        };
        write!(out, "{}", utf8_percent_encode(rest, REDIRECT_ESCAPES))
    }
}

/// What [`redirect_escapes`] names, for `percent-encoding` (which always
/// encodes non-ASCII bytes): controls, DEL, space and `\`.
const REDIRECT_ESCAPES: &AsciiSet = &CONTROLS.add(b' ').add(b'\\');

/// Bytes a redirect path never carries as they are: `\`, space, controls,
/// DEL and every byte of a non-ASCII character.
const fn redirect_escapes(b: u8) -> bool {
    b <= b' ' || b == b'\\' || b >= 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s<C: Sanitize>(input: &str) -> String {
        Sanitized::<String, C>::from_tainted(input).value
    }

    #[test]
    fn clean_input_keeps_its_buffer() {
        let clean = String::from("/orders/17?tab=items#top");
        let at = clean.as_ptr();
        let out = Sanitized::<String, Redirect>::from_tainted(clean).value;
        assert_eq!(out.as_ptr(), at);
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(s::<Html>("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#x27;");
        assert_eq!(s::<Html>("plain"), "plain");
    }

    #[test]
    fn sql_quotes_and_doubles() {
        assert_eq!(s::<Sql>("O'Brien"), "'O''Brien'");
        assert_eq!(s::<Sql>("a\\' OR 1=1"), "'a\\\\'' OR 1=1'");
        assert_eq!(s::<Sql>("clean"), "'clean'");
    }

    #[test]
    fn shell_quotes_words() {
        assert_eq!(s::<Shell>("report-1.txt"), "report-1.txt");
        assert_eq!(s::<Shell>("a; rm -rf /"), "'a; rm -rf /'");
        assert_eq!(s::<Shell>("it's"), "'it'\\''s'");
        assert_eq!(s::<Shell>(""), "''");
    }

    #[test]
    fn path_keeps_one_segment() {
        assert_eq!(s::<Path>("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(s::<Path>(".."), "_");
        assert_eq!(s::<Path>("v1..v2.txt"), "v1..v2.txt");
        assert_eq!(s::<Path>("C:evil"), "C_evil");
        // The NTFS stream of `..` is `..`: every `:` goes.
        assert_eq!(s::<Path>("..::$DATA"), "..__$DATA");
    }

    #[test]
    fn url_percent_encodes() {
        assert_eq!(s::<Url>("a b/c?d"), "a%20b%2Fc%3Fd");
    }

    #[test]
    fn header_and_log_neutralise_line_breaks() {
        assert_eq!(s::<Header>("a\r\nSet-Cookie: x"), "a  Set-Cookie: x");
        assert_eq!(s::<Log>("ok\nFAKE \x1b[31m"), "ok\\nFAKE \\u{1b}[31m");
        assert_eq!(s::<Log>("a\u{2028}b\tc"), "a\\u{2028}b\tc");
    }
}

// A value sanitized for one class is trusted by that class's trust trait
// alone: one impl per row of the class registry, bound by `SameContext` so
// a value sanitized for another class is refused with a message naming
// both.
macro_rules! sanitized_is_trusted {
    ($(
        $(#[$doc:meta])*
        $variant:ident { name: $name:literal, event: $event:literal, marker: $marker:ident,
                         trust: $trust:ident, $($rest:tt)* },
    )*) => {$(
        impl<T: AsRef<str>, C: crate::trust::SameContext<crate::class::$marker>>
            crate::trust::sealed::Sealed<crate::class::$marker> for Sanitized<T, C> {}
        impl<T: AsRef<str>, C: crate::trust::SameContext<crate::class::$marker>>
            crate::trust::$trust for Sanitized<T, C> {}
    )*};
}

rasp_detect::with_sink_classes!(sanitized_is_trusted);
