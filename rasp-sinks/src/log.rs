//! The log guards: `rasp::log::field(text)` writes untrusted text into a
//! `tracing` event as an escaped field, and `rasp::log::line(text)` checks
//! a log line built by string formatting before it is written.
//!
//! A log reader takes each line for one event, and a terminal obeys the
//! escape sequences it is sent. An input that brings a line break forges
//! events (`bob\n2026-… INFO admin login ok`); one that brings ESC or CSI
//! recolours, erases or rewrites what the reader sees.
//!
//! [`field`] and [`tainted`] wrap a value so that it is written with the
//! log sanitizer's escapes (`\n`, `\r`, `\u{1b}` …) — streamed into the
//! subscriber's writer, with no copy — whatever formatter the subscriber
//! uses:
//!
//! ```text
//! tracing::warn!(user = rasp::log::tainted(&user), "login failed");
//! tracing::info!(agent = rasp::log::field(&user_agent), "request");
//! ```
//!
//! [`line()`] is for messages formatted before they reach the logger. It
//! looks for every input recorded in the current request context inside
//! the line and asks the log detector whether one of them brings a line
//! break or a terminal control; a detection is reported on the
//! `rasp::security` target and, in `Block` mode, refused:
//!
//! ```text
//! tracing::warn!("{}", rasp::log::line(format!("login failed for {name}"))?);
//! ```
//!
//! [`line()`] is a registered sink of class `log` (`log.line`), so policies
//! and events name it and `rasp::registry::sinks()` lists it.

use std::fmt;

use rasp_core::check::check;
use rasp_core::class::SinkClass;
use rasp_core::sanitize::Sanitize;
use rasp_core::sink::{Guard, SinkRegistration, SinkSite};
use rasp_core::{Blocked, Log, Tainted};
use tracing::field::{DisplayValue, display};

static LINE: SinkSite = SinkSite::new(
    "log.line",
    SinkClass::Log,
    "rasp::log::line",
    file!(),
    line!(),
    &["text"],
    Guard::RuntimeChecked,
);
inventory::submit! { SinkRegistration(&LINE) }

/// Text escaped for a log line as it is written: line breaks and controls
/// become visible escapes, everything else (tabs, accents, emoji) stays.
///
/// It is made only by [`field`] and [`tainted`], as the value of a
/// `tracing` field, and displays only there: it has no trust trait, and
/// every call of those two is listed by the sink audit.
#[derive(Clone, Copy)]
pub struct Neutral<'a>(&'a str);

impl fmt::Display for Neutral<'_> {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Log::write_escaped(self.0, f)
    }
}

impl fmt::Debug for Neutral<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Neutral(..)")
    }
}

/// A `tracing` field value that writes `text` escaped for a log line.
///
/// ```
/// let value = rasp_sinks::log::field("bob\n2026-01-01 INFO admin login ok");
/// assert_eq!(value.to_string(), "bob\\n2026-01-01 INFO admin login ok");
/// ```
#[inline]
pub fn field<T: LogText + ?Sized>(text: &T) -> DisplayValue<Neutral<'_>> {
    display(Neutral(text.__guard_text(&LINE)))
}

/// A `tracing` field value that writes a tainted value escaped for a log
/// line: the one way a [`Tainted`] value reaches a log event as text.
///
/// ```
/// use rasp_core::{SourceMeta, Tainted};
/// let user = Tainted::new("bob\x1b[2J", &SourceMeta::MANUAL);
/// assert_eq!(rasp_sinks::log::tainted(&user).to_string(), "bob\\u{1b}[2J");
/// ```
#[inline]
pub fn tainted<T: AsRef<str>>(value: &Tainted<T>) -> DisplayValue<Neutral<'_>> {
    field(value)
}

/// A log line that passed the log check; displays as the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedLine<T>(T);

impl<T: LogText> CheckedLine<T> {
    /// The line.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.__guard_text(&LINE)
    }

    /// The line, as it was passed to [`line()`] (a tainted line stays
    /// tainted).
    #[inline]
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: LogText> fmt::Display for CheckedLine<T> {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks a log line built at run time: refuses it if a recorded input
/// brings a line break or a terminal control into it.
///
/// Outside a request context the line passes unchecked. The line is not
/// copied: the result displays the text that was passed in.
///
/// ```
/// use rasp_core::{RequestContext, SourceMeta};
///
/// static USER: SourceMeta = SourceMeta { kind: "http.form", ..SourceMeta::MANUAL };
/// let log_failure = |user: &'static str| {
///     let ctx = RequestContext::new();
///     ctx.record_input(&USER, user.as_bytes());
///     ctx.scope(|| rasp_sinks::log::line(format!("login failed for {user}")).map(|l| l.to_string()))
/// };
///
/// assert_eq!(log_failure("Zoë\t🎉").unwrap(), "login failed for Zoë\t🎉");
/// assert!(log_failure("bob\n2026-01-01 INFO admin login ok").is_err());
/// ```
#[inline]
pub fn line<T: LogText>(text: T) -> Result<CheckedLine<T>, Blocked> {
    check(&LINE, text.__guard_text(&LINE).as_bytes())?;
    Ok(CheckedLine(text))
}

guard_text! {
    /// The text [`line()`] and [`field()`] take: any text the application
    /// built.
    LogText: str, class = Log,
    plain = [str],
    owned = [String, Box<str>, std::borrow::Cow<'_, str>, std::sync::Arc<str>],
    message = "`{Self}` is not log text that `rasp::log` can check",
    label = "not log text",
    fix = "a `rasp::Tainted` value goes into a log as an escaped field: `tracing::warn!(user = rasp::log::tainted(&user), \"login failed\")`, or into a line kept tainted, which the guard checks: `rasp::log::line(user.map(|u| format!(\"login failed for {{u}}\")))`",
}
