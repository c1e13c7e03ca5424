//! The HTTP header guard: `rasp::header::value(text)` and
//! `rasp::header::set_cookie(text)` check a header value built at run time
//! before it becomes an [`http::HeaderValue`].
//!
//! `http` already refuses CR, LF and NUL in a `HeaderValue`, but only as a
//! malformed value: nothing tells an input that splits the response from a
//! bug in the application, and servers or proxies that write header bytes
//! themselves do not ask `http` at all. These entry points look for every
//! input recorded in the current request context inside the value and ask
//! the header detector whether one of them brings a line break or another
//! control byte — and, for `Set-Cookie`, a `;` or `,` that adds an
//! attribute (`Domain=`, `Path=`, `Max-Age=`) or another cookie. A
//! detection is reported on the `rasp::security` tracing target and, in
//! `Block` mode, refused with [`HeaderError::Refused`]. A value that passes
//! the check is still validated by `http`; one it refuses (a control byte
//! the application wrote, or one input byte too short to be looked for) is
//! [`HeaderError::Invalid`].
//!
//! ```text
//! headers.insert(CONTENT_DISPOSITION, rasp::header::value(format!("attachment; filename=\"{name}\""))?);
//! headers.append(SET_COOKIE, rasp::header::set_cookie(format!("lang={lang}; Path=/; HttpOnly"))?);
//! ```
//!
//! Each entry point is a registered sink of class `header`
//! (`http.header.value`, `http.header.set_cookie`), so policies and events
//! name it and `rasp::registry::sinks()` lists it. A `#[rasp::sink(kind =
//! "header")]` fn checks its parameters with the plain header rule: build
//! cookies with [`set_cookie`] to get the cookie rule too.

use std::fmt;

use http::HeaderValue;
use http::header::InvalidHeaderValue;
use rasp_core::Blocked;
use rasp_core::check::{Detector, check, check_with};
use rasp_core::class::SinkClass;
use rasp_core::detect::Finding;
use rasp_core::detect::header::detect_cookie;
use rasp_core::sink::{Guard, SinkRegistration, SinkSite};

static VALUE: SinkSite = SinkSite::new(
    "http.header.value",
    SinkClass::Header,
    "rasp::header::value",
    file!(),
    line!(),
    &["text"],
    Guard::RuntimeChecked,
);
inventory::submit! { SinkRegistration(&VALUE) }

static SET_COOKIE: SinkSite = SinkSite::new(
    "http.header.set_cookie",
    SinkClass::Header,
    "rasp::header::set_cookie",
    file!(),
    line!(),
    &["text"],
    Guard::RuntimeChecked,
);
inventory::submit! { SinkRegistration(&SET_COOKIE) }

/// Why a header value was not built.
#[derive(Debug)]
#[non_exhaustive]
pub enum HeaderError {
    /// rasp found an injection and refused the value.
    Refused(Blocked),
    /// `http` refused the value: it carries a byte no header value may
    /// carry, which no recorded input brought (or rasp only monitors).
    Invalid(InvalidHeaderValue),
}

impl HeaderError {
    /// The refusal, if rasp refused the value.
    pub fn blocked(&self) -> Option<&Blocked> {
        match self {
            HeaderError::Refused(blocked) => Some(blocked),
            HeaderError::Invalid(_) => None,
        }
    }
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Refused(blocked) => blocked.fmt(f),
            HeaderError::Invalid(invalid) => write!(f, "not a valid header value: {invalid}"),
        }
    }
}

impl std::error::Error for HeaderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HeaderError::Refused(blocked) => Some(blocked),
            HeaderError::Invalid(invalid) => Some(invalid),
        }
    }
}

impl From<Blocked> for HeaderError {
    fn from(blocked: Blocked) -> Self {
        HeaderError::Refused(blocked)
    }
}

impl From<InvalidHeaderValue> for HeaderError {
    fn from(invalid: InvalidHeaderValue) -> Self {
        HeaderError::Invalid(invalid)
    }
}

/// Checks a header value built at run time and, if no recorded input
/// brings a line break or another control byte into it, returns it as an
/// [`HeaderValue`].
///
/// Outside a request context the value is only validated by `http`. For a
/// `Set-Cookie` value use [`set_cookie`], which also refuses inputs that
/// add cookie attributes.
///
/// ```
/// use rasp_core::{RequestContext, SourceMeta};
/// use rasp_sinks::header::{HeaderError, value};
///
/// static NAME: SourceMeta = SourceMeta { kind: "http.query", ..SourceMeta::MANUAL };
/// let disposition = |name: &'static str| {
///     let ctx = RequestContext::new();
///     ctx.record_input(&NAME, name.as_bytes());
///     ctx.scope(|| value(format!("attachment; filename=\"{name}\"")))
/// };
///
/// assert!(disposition("q3 report.pdf").is_ok());
/// let refused = disposition("x\r\nSet-Cookie: admin=1").unwrap_err();
/// assert!(matches!(refused, HeaderError::Refused(_)), "{refused}");
/// ```
#[inline]
pub fn value(text: impl HeaderText) -> Result<HeaderValue, HeaderError> {
    let text = text.__guard_text(&VALUE);
    check(&VALUE, text)?;
    Ok(HeaderValue::from_bytes(text)?)
}

/// Checks a `Set-Cookie` value built at run time and, if no recorded input
/// brings a line break, a control byte, a `;` (a new attribute such as
/// `Domain=` or `Max-Age=`) or a `,` (another cookie) into it, returns it
/// as a [`HeaderValue`].
///
/// Cookie values that need those characters must be encoded first (the
/// `cookie` crate's `Cookie::encoded`, or `.sanitize::<rasp::Url>()`).
///
/// ```
/// use rasp_core::{RequestContext, SourceMeta};
/// use rasp_sinks::header::set_cookie;
///
/// static LANG: SourceMeta = SourceMeta { kind: "http.query", ..SourceMeta::MANUAL };
/// let cookie = |lang: &'static str| {
///     let ctx = RequestContext::new();
///     ctx.record_input(&LANG, lang.as_bytes());
///     ctx.scope(|| set_cookie(format!("lang={lang}; Path=/; HttpOnly")))
/// };
///
/// assert!(cookie("en-GB").is_ok());
/// assert!(cookie("en; Domain=evil.example").is_err());
/// ```
#[inline]
pub fn set_cookie(text: impl HeaderText) -> Result<HeaderValue, HeaderError> {
    let text = text.__guard_text(&SET_COOKIE);
    check_with(&SET_COOKIE, text, COOKIE_RULE)?;
    Ok(HeaderValue::from_bytes(text)?)
}

/// A header value built by `rasp::header!`: its argument spans are judged
/// at `site` (the macro's own, registered where it is written), then the
/// text is checked as [`value`] does. Not for applications: the macro
/// calls it.
#[doc(hidden)]
#[inline]
pub fn __spliced(
    spliced: rasp_core::__private_v1::Spliced<rasp_core::Header>,
    site: &'static SinkSite,
) -> Result<HeaderValue, HeaderError> {
    value(rasp_core::__private_v1::checked_spliced(spliced, site)?)
}

/// The header rule plus the cookie delimiters.
const COOKIE_RULE: Detector = |text, finder| {
    detect_cookie(text, finder).map(|f| Finding {
        offset: f.offset,
        reason: f.reason,
    })
};

guard_text! {
    /// The text [`value`] and [`set_cookie`] take: any bytes the
    /// application built (`String`, `&str`, `Vec<u8>` …).
    HeaderText: [u8], class = Header,
    plain = [str, [u8]],
    owned = [String, Vec<u8>, Box<str>, std::borrow::Cow<'_, str>, std::sync::Arc<str>],
    message = "`{Self}` is not header text that `rasp::header` can check",
    label = "not header text",
    fix = "a `rasp::Tainted` value goes in tainted, and the guard checks it: `rasp::header::value(name.map(|n| format!(\"attachment; filename=\\\"{{n}}\\\"\")))`, or sanitized: `rasp::header::value(name.sanitize::<rasp::Header>())`",
}
