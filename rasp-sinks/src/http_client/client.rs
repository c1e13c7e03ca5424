//! [`GuardedClient`]: a `reqwest` client whose every connection is checked.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rasp_core::check::check;
use rasp_core::{Reason, Tainted};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Body, Method, Request, Response, Version};

use super::destination::{Destinations, Reach};
use super::resolver::GuardedResolver;
use super::{CheckedUrl, Error, REQUEST, Url, decided_by_input};
use crate::refusal::refuse;

/// Redirects followed before a request fails, as `reqwest`'s default.
const MAX_REDIRECTS: usize = 10;

/// An HTTP client that reaches public hosts and the internal hosts its
/// builder names, nothing else.
///
/// Every request is checked three times: its URL for recorded inputs that
/// chose its destination (as [`url`](super::url) does); its host before it
/// is sent, and each redirect hop's before it is followed (IP literals of
/// any spelling, local and metadata names); and each address a name
/// resolves to, when the connection is made. Cloning is cheap and shares
/// the connection pool.
///
/// ```no_run
/// use rasp_sinks::http_client::{Error, GuardedClient};
///
/// # async fn demo(webhook: String) -> Result<(), Error> {
/// let client = GuardedClient::builder()
///     .allow_internal("billing.internal:8443")
///     .build()?;
/// client.post(webhook).body("{\"event\":\"paid\"}").send().await?;
/// client.get("https://billing.internal:8443/v1/invoices").send().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct GuardedClient {
    inner: reqwest::Client,
    destinations: Arc<Destinations>,
}

impl fmt::Debug for GuardedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedClient")
            .field("destinations", &self.destinations)
            .finish_non_exhaustive()
    }
}

impl GuardedClient {
    /// A builder; by default only public destinations are reachable.
    pub fn builder() -> GuardedClientBuilder {
        GuardedClientBuilder::default()
    }

    /// A client that reaches public destinations only.
    pub fn new() -> Result<GuardedClient, Error> {
        GuardedClientBuilder::default().build()
    }

    /// Starts a `GET` request.
    pub fn get(&self, url: impl TargetUrl) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// Starts a `POST` request.
    pub fn post(&self, url: impl TargetUrl) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// Starts a `PUT` request.
    pub fn put(&self, url: impl TargetUrl) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// Starts a `DELETE` request.
    pub fn delete(&self, url: impl TargetUrl) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }

    /// Starts a `HEAD` request.
    pub fn head(&self, url: impl TargetUrl) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// Starts a request with `method`. A URL given as text is checked for
    /// recorded inputs as written, before parsing normalizes it.
    pub fn request(&self, method: Method, url: impl TargetUrl) -> RequestBuilder {
        RequestBuilder {
            client: self.clone(),
            inner: url.into_target().and_then(|target| {
                self.screen(&target.url, target.decided_by_input)?;
                Ok(self.inner.request(method, target.url))
            }),
        }
    }

    /// Refuses a URL whose scheme or host the client must not reach, and
    /// an allowlisted destination that a recorded input chose (in the text
    /// as written, `decided_by_input`, or as serialized); see
    /// [`GuardedClientBuilder::allow_internal`].
    fn screen(&self, url: &Url, decided_by_input: bool) -> Result<(), Error> {
        let reason = match self.destinations.check(url) {
            Ok(Reach::Public) => return Ok(()),
            Ok(Reach::Listed) if !decided_by_input && !super::decided_by_input(url.as_str()) => {
                return Ok(());
            }
            Ok(Reach::Listed) => Reason::ControlsAuthority,
            Err(reason) => reason,
        };
        Err(Error::Refused(refuse(&REQUEST, reason)))
    }

    /// Sends `request`, built with any `reqwest` builder (for `json`,
    /// `form`, `multipart` bodies), after checking its URL and destination.
    pub async fn execute(&self, request: Request) -> Result<Response, Error> {
        let url = request.url();
        check(&REQUEST, url.as_str().as_bytes())?;
        self.screen(url, false)?;
        Ok(self.inner.execute(request).await?)
    }
}

/// Configures a [`GuardedClient`].
#[derive(Debug)]
pub struct GuardedClientBuilder {
    destinations: Destinations,
    hosts: HashMap<Box<str>, Vec<SocketAddr>>,
    invalid: Option<Box<str>>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<HeaderValue>,
    max_redirects: usize,
}

impl Default for GuardedClientBuilder {
    fn default() -> Self {
        GuardedClientBuilder {
            destinations: Destinations::default(),
            hosts: HashMap::new(),
            invalid: None,
            timeout: None,
            connect_timeout: None,
            user_agent: None,
            max_redirects: MAX_REDIRECTS,
        }
    }
}

impl GuardedClientBuilder {
    /// Lets requests reach one internal destination: `host` on the
    /// scheme's default port (80 for `http`, 443 for `https`),
    /// `host:port` on exactly that port, or `host:*` on every port (the
    /// explicit opt-in). The host is a name (`billing.internal`), an IPv4
    /// address in any spelling, or a bracketed IPv6 address
    /// (`[fd00::7]:8080`).
    ///
    /// This is the escape hatch for legitimate internal calls, scoped to
    /// the hosts and ports named: a name listed here may resolve to
    /// internal addresses, an address listed here may be connected to, and
    /// a listed host is refused on every port its entries do not allow —
    /// another service on the same host is another destination. A metadata
    /// address is reached only through an entry that names the metadata
    /// service itself (`169.254.169.254`, `metadata.google.internal`),
    /// never through an ordinary internal name that resolves to it.
    ///
    /// The destinations listed are the application's to choose: a request
    /// to one of them is refused when a recorded input decides any part of
    /// its scheme, host or port (a user's whole URL included), and a
    /// redirect reaches one only from the same host and port. An entry
    /// that names no host makes [`build`](Self::build) fail.
    pub fn allow_internal(mut self, host: &str) -> Self {
        if !self.destinations.allow(host) && self.invalid.is_none() {
            self.invalid = Some(host.into());
        }
        self
    }

    /// Answers lookups of `name` with `addrs` instead of asking DNS, like
    /// a hosts file entry. The answers are checked like any other: an
    /// internal address is reached only if `name` is allowed with
    /// [`allow_internal`](Self::allow_internal).
    pub fn resolve(mut self, name: &str, addrs: &[SocketAddr]) -> Self {
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        self.hosts.insert(name.into(), addrs.to_vec());
        self
    }

    /// Total time allowed for a request, redirects included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Time allowed to connect to one address.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The `User-Agent` of every request.
    pub fn user_agent(mut self, value: HeaderValue) -> Self {
        self.user_agent = Some(value);
        self
    }

    /// Redirects followed before a request fails (10 by default; 0 returns
    /// every redirect response as it is).
    pub fn max_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<GuardedClient, Error> {
        if let Some(entry) = self.invalid {
            return Err(Error::InvalidAllowlist(entry));
        }
        let destinations = Arc::new(self.destinations);
        let resolver = GuardedResolver {
            destinations: Arc::clone(&destinations),
            hosts: Arc::new(self.hosts),
        };
        let hops = Arc::clone(&destinations);
        let max = self.max_redirects;
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if max == 0 {
                return attempt.stop();
            }
            if attempt.previous().len() > max {
                return attempt.error(format!("more than {max} redirects"));
            }
            // An allowlisted destination is reached by redirect only from
            // itself (`/docs` to `/docs/`): any other host, perhaps one an
            // input named, must not bounce the request onto a destination
            // only the application may choose.
            let from_itself = || {
                attempt.previous().last().is_some_and(|previous| {
                    previous.host() == attempt.url().host()
                        && previous.port_or_known_default() == attempt.url().port_or_known_default()
                })
            };
            match hops.check(attempt.url()) {
                Ok(Reach::Public) => attempt.follow(),
                Ok(Reach::Listed) if from_itself() => attempt.follow(),
                Ok(Reach::Listed) => attempt.error(refuse(&REQUEST, Reason::InternalAddress)),
                Err(reason) => attempt.error(refuse(&REQUEST, reason)),
            }
        });
        // Through a proxy the proxy resolves and connects, where no check
        // can follow: system proxies are ignored.
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(resolver)
            .redirect(redirects);
        if let Some(timeout) = self.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(timeout) = self.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        if let Some(agent) = self.user_agent {
            builder = builder.user_agent(agent);
        }
        Ok(GuardedClient {
            inner: builder.build()?,
            destinations,
        })
    }
}

/// A request being built by a [`GuardedClient`]; sent with
/// [`send`](Self::send). For bodies this builder does not offer (JSON,
/// forms), build a `reqwest::Request` and pass it to
/// [`GuardedClient::execute`].
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    client: GuardedClient,
    inner: Result<reqwest::RequestBuilder, Error>,
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl RequestBuilder {
    fn map(mut self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        self.inner = self.inner.map(f);
        self
    }

    /// Adds a header.
    pub fn header(self, name: HeaderName, value: HeaderValue) -> Self {
        self.map(|b| b.header(name, value))
    }

    /// Adds headers.
    pub fn headers(self, headers: HeaderMap) -> Self {
        self.map(|b| b.headers(headers))
    }

    /// Sets `Authorization: Basic …`.
    pub fn basic_auth(self, user: &str, password: Option<&str>) -> Self {
        self.map(|b| b.basic_auth(user, password))
    }

    /// Sets `Authorization: Bearer …`.
    pub fn bearer_auth(self, token: &str) -> Self {
        self.map(|b| b.bearer_auth(token))
    }

    /// Sets the body.
    pub fn body(self, body: impl Into<Body>) -> Self {
        self.map(|b| b.body(body))
    }

    /// Time allowed for this request, redirects included.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.map(|b| b.timeout(timeout))
    }

    /// The HTTP version to use.
    pub fn version(self, version: Version) -> Self {
        self.map(|b| b.version(version))
    }

    /// The request, for [`GuardedClient::execute`].
    pub fn build(self) -> Result<Request, Error> {
        Ok(self.inner?.build()?)
    }

    /// Checks and sends the request.
    pub async fn send(self) -> Result<Response, Error> {
        let client = self.client.clone();
        client.execute(self.build()?).await
    }
}

/// What a [`GuardedClient`] takes as a URL: a [`CheckedUrl`], a parsed
/// [`Url`], or text (`&str`, `String`, `&String`, and a `Tainted<String>`
/// as received from a user), which is checked for recorded inputs as
/// written and then parsed. Sealed.
pub trait TargetUrl: sealed::Sealed {}

#[allow(unreachable_pub)] // the sealed-trait idiom: public name, private path
mod sealed {
    use super::{Error, Url};

    /// Turns an accepted URL into the one to request.
    pub trait Sealed {
        /// The parsed URL, or why there is none.
        fn into_target(self) -> Result<Target, Error>;
    }

    /// A URL to request, with what its text as written told.
    pub struct Target {
        /// The parsed URL.
        pub(super) url: Url,
        /// Whether a recorded input decided its destination, in the text
        /// as written (parsing normalizes the spelling an input was
        /// received in).
        pub(super) decided_by_input: bool,
    }
}

use sealed::Target;

impl sealed::Sealed for CheckedUrl {
    fn into_target(self) -> Result<Target, Error> {
        Ok(Target {
            decided_by_input: self.decided_by_input,
            url: self.url,
        })
    }
}
impl TargetUrl for CheckedUrl {}

impl sealed::Sealed for Url {
    fn into_target(self) -> Result<Target, Error> {
        Ok(Target {
            url: self,
            decided_by_input: false,
        })
    }
}
impl TargetUrl for Url {}

impl sealed::Sealed for &str {
    fn into_target(self) -> Result<Target, Error> {
        check(&REQUEST, self.as_bytes())?;
        Ok(Target {
            url: Url::parse(self)?,
            decided_by_input: decided_by_input(self),
        })
    }
}
impl TargetUrl for &str {}

impl sealed::Sealed for String {
    fn into_target(self) -> Result<Target, Error> {
        self.as_str().into_target()
    }
}
impl TargetUrl for String {}

/// A tainted URL goes straight in: the client itself refuses every
/// internal destination, whoever chose it, and checks the text for
/// recorded inputs like any other.
impl sealed::Sealed for Tainted<String> {
    fn into_target(self) -> Result<Target, Error> {
        rasp_core::__private_v1::take_at(self, &REQUEST).into_target()
    }
}
impl TargetUrl for Tainted<String> {}

/// A URL composed with `rasp::compose!` from values percent-encoded for
/// URLs; checked like any other text.
impl sealed::Sealed for rasp_core::Composed<rasp_core::Url> {
    fn into_target(self) -> Result<Target, Error> {
        rasp_core::__private_v1::take_composed_at(self, &REQUEST).into_target()
    }
}
impl TargetUrl for rasp_core::Composed<rasp_core::Url> {}

impl sealed::Sealed for &String {
    fn into_target(self) -> Result<Target, Error> {
        self.as_str().into_target()
    }
}
impl TargetUrl for &String {}

#[cfg(test)]
mod tests {
    use super::*;
    use rasp_core::{Reason, SinkClass};

    #[test]
    fn bad_urls_and_refused_destinations_fail_before_any_io() {
        let client = GuardedClient::new().expect("a client");
        let built = |url: &str| client.get(url).build();
        assert!(matches!(built("not a url"), Err(Error::InvalidUrl(_))));
        assert!(matches!(built("http://[::1"), Err(Error::InvalidUrl(_))));
        assert!(matches!(
            built("\u{0}\u{7f}\u{ffff}"),
            Err(Error::InvalidUrl(_))
        ));
        for (url, reason) in [
            ("file:///etc/passwd", Reason::DangerousScheme),
            ("dict://example.org:11211/stat", Reason::DangerousScheme),
            ("http://0x7f.1/", Reason::InternalAddress),
            ("http://[fd00:ec2::254]/latest", Reason::InternalAddress),
            ("http://metadata.google.internal./", Reason::InternalAddress),
        ] {
            let blocked = *built(url).expect_err(url).blocked().expect(url);
            assert_eq!(blocked.reason, reason, "{url}");
            assert_eq!(blocked.class, SinkClass::Url, "{url}");
            assert_eq!(blocked.sink_id, "reqwest.request", "{url}");
        }
        let huge = format!("https://example.org/{}", "%41".repeat(1 << 18));
        assert!(built(&huge).is_ok());
    }

    #[test]
    fn an_allowlist_entry_that_names_no_host_fails_the_build() {
        let err = GuardedClient::builder()
            .allow_internal("10.0.0.7:8080")
            .allow_internal("http://billing.internal/")
            .build()
            .expect_err("an URL is not a host");
        assert!(
            matches!(err, Error::InvalidAllowlist(ref e) if &**e == "http://billing.internal/")
        );
    }
}
