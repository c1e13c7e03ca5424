//! The redirect guard: `rasp::redirect::location(text)` checks a redirect
//! target built at run time before it becomes a `Location` header value.
//!
//! A redirect whose target an input chose sends the site's users wherever
//! the attacker likes — a phishing copy of the login page, a `javascript:`
//! URL — with the site's name on the link. [`location`] looks for every
//! input recorded in the current request context inside the target and
//! asks the open-redirect detector whether one of them decides its scheme
//! or host. Paths, queries and fragments built from input pass; so does a
//! host the application wrote itself.
//!
//! Some applications redirect to absolute URLs on purpose, to their own
//! hosts or a partner's (`?return_to=https://app.example/…`). A
//! [`RedirectPolicy`] names those hosts: a target on an allowed host passes
//! without a check, whoever chose it; any other target is checked.
//!
//! ```text
//! let to = rasp::redirect::location(format!("/search?q={q}"))?;            // same site
//! let to = POLICY.location(return_to)?;                                    // allowed hosts
//! (StatusCode::SEE_OTHER, [(LOCATION, to)])
//! ```
//!
//! The entry point is a registered sink of class `redirect`
//! (`http.redirect.location`), so policies and events name it and
//! `rasp::registry::sinks()` lists it. A `#[rasp::sink(kind = "redirect")]`
//! fn runs the same detector on its guarded parameters, with no allowlist.

use std::fmt;

use http::HeaderValue;
use rasp_core::check::check;
use rasp_core::class::SinkClass;
use rasp_core::detect::redirect::{Destination, destination};
use rasp_core::sink::{Guard, SinkRegistration, SinkSite};

pub use crate::header::HeaderError;

static LOCATION: SinkSite = SinkSite::new(
    "http.redirect.location",
    SinkClass::Redirect,
    "rasp::redirect::location",
    file!(),
    line!(),
    &["text"],
    Guard::RuntimeChecked,
);
inventory::submit! { SinkRegistration(&LOCATION) }

/// A redirect target that passed rasp's check: the value of a `Location`
/// header.
///
/// The only way to get one is [`location`] or [`RedirectPolicy::location`].
/// Converts into an [`HeaderValue`] (`HeaderValue::from(location)`), so it
/// can go straight into a header map or an axum `[(LOCATION, location)]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Location {
    value: HeaderValue,
}

impl Location {
    /// The target's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.value.as_bytes()
    }

    /// The target as a header value.
    #[inline]
    pub fn header_value(&self) -> &HeaderValue {
        &self.value
    }
}

impl From<Location> for HeaderValue {
    #[inline]
    fn from(location: Location) -> HeaderValue {
        location.value
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Location").field(&self.value).finish()
    }
}

/// Which absolute redirect targets an application allows whoever chose
/// them: its own hosts and its partners'.
///
/// Hosts are compared without case, without a trailing dot and without
/// the port; a subdomain is a different host. Relative targets are always
/// same-site; every other target is checked for inputs that chose it.
///
/// ```
/// use rasp_core::{RequestContext, SourceMeta};
/// use rasp_sinks::redirect::RedirectPolicy;
///
/// static NEXT: SourceMeta = SourceMeta { kind: "http.query", ..SourceMeta::MANUAL };
/// let policy = RedirectPolicy::same_site().allow_host("app.example");
/// let redirect = |next: &'static str| {
///     let ctx = RequestContext::new();
///     ctx.record_input(&NEXT, next.as_bytes());
///     ctx.scope(|| policy.location(next))
/// };
///
/// assert!(redirect("/dashboard").is_ok());
/// assert!(redirect("https://APP.example./dashboard").is_ok());
/// assert!(redirect("https://evil.example/dashboard").is_err());
/// assert!(redirect("https://app.example@evil.example/").is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedirectPolicy {
    hosts: Vec<Box<str>>,
}

impl RedirectPolicy {
    /// A policy that allows no host: only relative targets, and absolute
    /// ones the application wrote itself, pass.
    #[inline]
    pub const fn same_site() -> Self {
        RedirectPolicy { hosts: Vec::new() }
    }

    /// Also allows absolute targets on `host` (`app.example`, no scheme or
    /// port).
    pub fn allow_host(mut self, host: &str) -> Self {
        let host = host.strip_suffix('.').unwrap_or(host);
        self.hosts.push(host.to_ascii_lowercase().into_boxed_str());
        self
    }

    /// Whether `text` targets a host this policy allows.
    pub fn allows(&self, text: &[u8]) -> bool {
        match destination(text) {
            Destination::Host(host) => {
                let host = host.strip_suffix(b".").unwrap_or(host);
                self.hosts
                    .iter()
                    .any(|allowed| allowed.as_bytes().eq_ignore_ascii_case(host))
            }
            Destination::SameSite | Destination::Elsewhere => false,
        }
    }

    /// Checks a redirect target built at run time and returns it as a
    /// `Location` value if its host is allowed, or else if no recorded
    /// input decides its scheme or host.
    ///
    /// A detection is reported on the `rasp::security` tracing target and,
    /// in `Block` mode, refused with [`HeaderError::Refused`]. An input that
    /// brings CR, LF or another control character is such a detection too
    /// (`splits_header`, `control_character`), in relative targets as well:
    /// written raw it would end the header. A target `http` refuses as a
    /// header value for any other reason — control characters the
    /// application wrote, or a monitored detection — is
    /// [`HeaderError::Invalid`].
    pub fn location(&self, text: impl RedirectText) -> Result<Location, HeaderError> {
        let text = text.__guard_text(&LOCATION);
        if !self.allows(text) {
            check(&LOCATION, text)?;
        }
        Ok(Location {
            value: HeaderValue::from_bytes(text)?,
        })
    }
}

/// Checks a redirect target built at run time and returns it as a
/// `Location` value if no recorded input decides its scheme or host:
/// [`RedirectPolicy::location`] with a policy that allows no host.
///
/// ```
/// use rasp_core::{RequestContext, SourceMeta};
/// use rasp_sinks::redirect::location;
///
/// static NEXT: SourceMeta = SourceMeta { kind: "http.query", ..SourceMeta::MANUAL };
/// let redirect = |next: &'static str| {
///     let ctx = RequestContext::new();
///     ctx.record_input(&NEXT, next.as_bytes());
///     ctx.scope(|| location(next))
/// };
///
/// assert_eq!(redirect("/orders/17")?.as_bytes(), b"/orders/17");
/// assert!(redirect("//evil.example/login").is_err());
/// assert!(redirect("/\\evil.example").is_err());
/// assert!(redirect("javascript:alert(1)").is_err());
/// assert!(matches!(
///     redirect("/account\r\nSet-Cookie: a=b"),
///     Err(rasp_sinks::header::HeaderError::Refused(_))
/// ));
/// # Ok::<(), rasp_sinks::header::HeaderError>(())
/// ```
#[inline]
pub fn location(text: impl RedirectText) -> Result<Location, HeaderError> {
    RedirectPolicy::same_site().location(text)
}

/// A redirect target built by `rasp::redirect!`: its argument spans are
/// judged at `site` (the macro's own, registered where it is written), then
/// the text is checked as [`location`] does. Not for applications: the
/// macro calls it.
#[doc(hidden)]
#[inline]
pub fn __spliced(
    spliced: rasp_core::__private_v1::Spliced<rasp_core::Redirect>,
    site: &'static SinkSite,
) -> Result<Location, HeaderError> {
    location(rasp_core::__private_v1::checked_spliced(spliced, site)?)
}

guard_text! {
    /// The text [`location`] and [`RedirectPolicy::location`] take: any
    /// bytes the application built.
    RedirectText: [u8], class = Redirect,
    plain = [str, [u8]],
    owned = [String, Vec<u8>, Box<str>, std::borrow::Cow<'_, str>, std::sync::Arc<str>],
    message = "`{Self}` is not a redirect target that `rasp::redirect` can check",
    label = "not a redirect target",
    fix = "a `rasp::Tainted` value goes in as a same-site path: `rasp::redirect::location(next.sanitize::<rasp::Redirect>())`, or tainted, checked by the guard: `rasp::redirect::location(next)`, or checked against a `RedirectPolicy` allowlist",
}
