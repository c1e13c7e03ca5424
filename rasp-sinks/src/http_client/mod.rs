//! The outbound HTTP guard: `rasp::http::url(text)` and
//! [`GuardedClient`], a `reqwest` client that refuses to reach internal
//! addresses.
//!
//! Server-side request forgery makes the application fetch a URL an
//! attacker chose: the cloud metadata service that hands out credentials
//! (`http://169.254.169.254/latest/meta-data/iam/security-credentials/`),
//! an admin port on loopback, a database in the private network. Two
//! defences work together here:
//!
//! - **Who chose the destination.** [`url()`] (and every request of a
//!   [`GuardedClient`]) looks for the inputs recorded in the current
//!   request context inside the URL text and asks the SSRF detector
//!   whether one of them decides its scheme or host and leads somewhere
//!   internal, in any spelling (`http://2130706433/`, `http://a@127.1/`,
//!   `gopher://…`). Inputs in the path or query of a URL the application
//!   wrote pass.
//! - **Where the request really goes.** A name can resolve to anything: a
//!   webhook host the attacker controls may answer `127.0.0.1`, or change
//!   its answer between a check and the connection (DNS rebinding). A
//!   [`GuardedClient`] therefore checks addresses when it connects: its
//!   resolver refuses any answer that holds a loopback, private,
//!   link-local, unique-local, shared (CGNAT), unspecified, multicast,
//!   reserved or metadata address; IP literals, which skip DNS, are checked
//!   before the request is sent; and every redirect hop is checked the same
//!   way before it is followed. The address checked is the address
//!   connected to, so rebinding has no window.
//!
//! Legitimate internal calls name their destination on the builder with
//! [`GuardedClientBuilder::allow_internal`]: only those hosts (and ports)
//! may be internal, and only a metadata host named as such may reach a
//! metadata address. A URL whose authority a recorded input chose is still
//! refused there.
//!
//! ```text
//! let client = rasp::http::GuardedClient::builder().build()?;
//! let body = client.get(webhook_url).send().await?.text().await?;   // public hosts only
//! ```
//!
//! Refusals are [`Error::Refused`], carrying a [`Blocked`] for the
//! `reqwest.request` sink (class `url`), and are reported on the
//! `rasp::security` tracing target. System proxies are not used: through a
//! proxy, the proxy resolves and connects, out of the guard's sight.

mod client;
mod destination;
mod resolver;

use std::fmt;

use memchr::memmem::Finder;
use rasp_core::Blocked;
use rasp_core::RequestContext;
use rasp_core::check::check;
use rasp_core::class::SinkClass;
use rasp_core::detect::ssrf::decides_destination;
use rasp_core::sink::{Guard, SinkRegistration, SinkSite};
use reqwest::Url;

pub use self::client::{GuardedClient, GuardedClientBuilder, RequestBuilder, TargetUrl};

static URL: SinkSite = SinkSite::new(
    "reqwest.url",
    SinkClass::Url,
    "rasp::http::url",
    file!(),
    line!(),
    &["text"],
    Guard::RuntimeChecked,
);
inventory::submit! { SinkRegistration(&URL) }

/// The sink of every request a [`GuardedClient`] sends: its URL is checked
/// for recorded inputs, and its destination (each redirect hop, each
/// resolved address) for internal addresses.
static REQUEST: SinkSite = SinkSite::new(
    "reqwest.request",
    SinkClass::Url,
    "rasp::http::GuardedClient::execute",
    file!(),
    line!(),
    &["url"],
    Guard::RuntimeChecked,
);
inventory::submit! { SinkRegistration(&REQUEST) }

/// A URL that passed rasp's check: no recorded input chose its scheme or
/// host to lead somewhere internal.
///
/// The only way to get one is [`url()`]. Send it with a [`GuardedClient`]
/// (which still checks where it connects), or hand it to another client
/// with [`CheckedUrl::into_url`].
#[derive(Clone, PartialEq, Eq)]
pub struct CheckedUrl {
    url: Url,
    /// Whether a recorded input decided the destination of the text as
    /// written: passed here for a public host, refused by a
    /// [`GuardedClient`] for an allowlisted one.
    decided_by_input: bool,
}

impl CheckedUrl {
    /// The URL, serialized.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// The parsed URL.
    #[inline]
    pub fn as_url(&self) -> &Url {
        &self.url
    }

    /// The parsed URL, for a client of your own.
    #[inline]
    pub fn into_url(self) -> Url {
        self.url
    }
}

impl From<CheckedUrl> for Url {
    #[inline]
    fn from(checked: CheckedUrl) -> Url {
        checked.url
    }
}

impl fmt::Debug for CheckedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CheckedUrl")
            .field(&self.url.as_str())
            .finish()
    }
}

impl fmt::Display for CheckedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.url.as_str())
    }
}

/// Why an outbound request was not made or did not complete.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// rasp refused the request: a recorded input chose its destination,
    /// or the destination (the URL's host, a resolved address, a redirect
    /// hop) is internal or not an HTTP URL.
    Refused(Blocked),
    /// The text is not a URL.
    InvalidUrl(url::ParseError),
    /// The client was configured with an allowlist entry that names no
    /// host.
    InvalidAllowlist(Box<str>),
    /// `reqwest` failed: connection refused, TLS, timeout, a body error.
    Request(reqwest::Error),
}

impl Error {
    /// The refusal, if rasp refused the request.
    pub fn blocked(&self) -> Option<&Blocked> {
        match self {
            Error::Refused(blocked) => Some(blocked),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Refused(blocked) => blocked.fmt(f),
            Error::InvalidUrl(err) => write!(f, "not a valid URL: {err}"),
            Error::InvalidAllowlist(entry) => {
                write!(f, "allowlist entry `{entry}` is not a host or host:port")
            }
            Error::Request(err) => write!(f, "HTTP request failed: {err}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Refused(blocked) => Some(blocked),
            Error::InvalidUrl(err) => Some(err),
            Error::InvalidAllowlist(_) => None,
            Error::Request(err) => Some(err),
        }
    }
}

impl From<Blocked> for Error {
    fn from(blocked: Blocked) -> Self {
        Error::Refused(blocked)
    }
}

impl From<url::ParseError> for Error {
    fn from(err: url::ParseError) -> Self {
        Error::InvalidUrl(err)
    }
}

/// A refusal made while connecting or redirecting reaches the caller
/// wrapped in `reqwest`'s error; it is unwrapped so the caller sees
/// [`Error::Refused`] whichever step refused.
impl From<reqwest::Error> for Error {
    fn from(err: reqwest::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(current) = source {
            if let Some(blocked) = current.downcast_ref::<Blocked>() {
                return Error::Refused(*blocked);
            }
            source = current.source();
        }
        Error::Request(err)
    }
}

/// Checks a URL built at run time and, if no recorded input decides its
/// scheme or host to lead somewhere internal or to another protocol,
/// returns it parsed.
///
/// The check runs on the text as written, before parsing normalizes it
/// (`http://2130706433/` becomes `http://127.0.0.1/`), so an input is found
/// in the spelling it was received in. Outside a request context the text
/// is only parsed. A detection is reported on the `rasp::security` tracing
/// target and, in `Block` mode, refused with [`Error::Refused`].
///
/// A name that resolves to an internal address passes here (only DNS knows
/// where it leads): send the URL with a [`GuardedClient`], which checks the
/// address it connects to.
///
/// ```
/// use rasp_core::{RequestContext, SourceMeta};
/// use rasp_sinks::http_client::url;
///
/// static HOOK: SourceMeta = SourceMeta { kind: "http.body", ..SourceMeta::MANUAL };
/// let webhook = |text: &'static str| {
///     let ctx = RequestContext::new();
///     ctx.record_input(&HOOK, text.as_bytes());
///     ctx.scope(|| url(text))
/// };
///
/// assert!(webhook("https://hooks.example.org/t/42").is_ok());
/// assert!(webhook("http://169.254.169.254/latest/meta-data/").is_err());
/// assert!(webhook("http://2130706433:8080/admin").is_err());
/// assert!(webhook("gopher://hooks.example.org:11211/_stats").is_err());
///
/// // An input in the path of a URL the application wrote.
/// let ctx = RequestContext::new();
/// ctx.record_input(&HOOK, b"@127.0.0.1");
/// let checked = ctx.scope(|| url(format!("https://api.example.org/users/{}", "@127.0.0.1")))?;
/// assert_eq!(checked.as_url().host_str(), Some("api.example.org"));
/// # Ok::<(), rasp_sinks::http_client::Error>(())
/// ```
#[inline]
pub fn url(text: impl AsRef<str>) -> Result<CheckedUrl, Error> {
    let text = text.as_ref();
    check(&URL, text.as_bytes())?;
    Ok(CheckedUrl {
        url: Url::parse(text)?,
        decided_by_input: decided_by_input(text),
    })
}

/// A URL built by `rasp::url!`: its argument spans are judged at `site`
/// (the macro's own, registered where it is written), then the text is
/// checked and parsed as [`url`] does. Not for applications: the macro
/// calls it.
#[doc(hidden)]
#[inline]
pub fn __spliced(
    spliced: rasp_core::__private_v1::Spliced<rasp_core::Url>,
    site: &'static SinkSite,
) -> Result<CheckedUrl, Error> {
    url(rasp_core::__private_v1::checked_spliced(spliced, site)?)
}

/// Whether an input recorded in the current request context decides the
/// scheme, host or port of `text`, wherever it leads; see
/// [`decides_destination`].
fn decided_by_input(text: &str) -> bool {
    RequestContext::with_current(|ctx| {
        ctx.is_some_and(|ctx| {
            ctx.inputs()
                .any(|input| decides_destination(text.as_bytes(), &Finder::new(input.bytes())))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rasp_core::{Reason, RequestContext, SourceMeta};

    static SRC: SourceMeta = SourceMeta::MANUAL;

    #[test]
    fn entry_points_are_registered() {
        for id in ["reqwest.url", "reqwest.request"] {
            let site = rasp_core::registry::sink(id).expect(id);
            assert_eq!(site.class(), SinkClass::Url);
            assert_eq!(site.guard(), Guard::RuntimeChecked);
        }
    }

    #[test]
    fn url_checks_the_text_as_written() {
        let ctx = RequestContext::new();
        ctx.record_input(&SRC, b"0x7f.1");
        let err = ctx
            .scope(|| url("http://0x7f.1:6379/"))
            .expect_err("a hex loopback host chosen by the input");
        let blocked = err.blocked().expect("refused");
        assert_eq!(blocked.sink_id, "reqwest.url");
        assert_eq!(blocked.reason, Reason::InternalAddress);
    }

    #[test]
    fn invalid_text_is_an_error_not_a_panic() {
        assert!(matches!(url("http://[::1"), Err(Error::InvalidUrl(_))));
        assert!(matches!(url("\u{0}\u{ffff}"), Err(Error::InvalidUrl(_))));
        let huge = format!("https://example.org/{}", "a".repeat(1 << 20));
        assert_eq!(
            url(&huge).expect("long but valid").as_str().len(),
            huge.len()
        );
    }

    #[test]
    fn a_refusal_inside_reqwest_comes_out_as_refused() {
        let blocked = Blocked::new("reqwest.request", SinkClass::Url, Reason::InternalAddress);
        let err: Error = blocked.into();
        assert_eq!(err.blocked(), Some(&blocked));
        assert!(err.to_string().contains("reqwest.request"), "{err}");
    }
}
