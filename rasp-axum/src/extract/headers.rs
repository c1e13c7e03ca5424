//! Headers and cookies.
//!
//! [`RaspLayer`](crate::RaspLayer) records every header value and cookie of
//! a request already. Without it (a context opened by `#[rasp::protect]`),
//! these extractors record a value when the handler reads it, into the
//! context of the request they were extracted from; under it, reading a
//! value records nothing new (recording is idempotent).

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::{AsHeaderName, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use cookie::Cookie;
use rasp_core::{RequestContext, SourceMeta, Tainted};

use crate::record::record_in;
use crate::sources;

/// The request headers, read as tainted strings.
///
/// ```
/// # use rasp_axum::TaintedHeaders;
/// async fn handler(headers: TaintedHeaders) -> String {
///     match headers.get("x-tenant") {
///         Some(tenant) => format!("{} bytes", tenant.inspect(String::len)),
///         None => "no tenant".to_owned(),
///     }
/// }
/// ```
#[derive(Debug)]
pub struct TaintedHeaders {
    headers: HeaderMap,
    context: Option<Arc<RequestContext>>,
}

impl TaintedHeaders {
    /// The first value of header `name`, recorded and tainted. Bytes that
    /// are not UTF-8 are replaced with U+FFFD, in the text recorded as in
    /// the value returned.
    pub fn get<K: AsHeaderName>(&self, name: K) -> Option<Tainted<String>> {
        self.headers.get(name).map(|value| self.taint(value))
    }

    /// Every value of header `name`, in order, each recorded and tainted.
    pub fn get_all<K: AsHeaderName>(&self, name: K) -> Vec<Tainted<String>> {
        self.headers
            .get_all(name)
            .iter()
            .map(|value| self.taint(value))
            .collect()
    }

    /// Whether the request has header `name`; reads nothing.
    pub fn contains<K: AsHeaderName>(&self, name: K) -> bool {
        self.headers.contains_key(name)
    }

    fn taint(&self, value: &HeaderValue) -> Tainted<String> {
        taint_text(self.context.as_ref(), &sources::HEADER, value.as_bytes())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TaintedHeaders {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(TaintedHeaders {
            headers: parts.headers.clone(),
            context: RequestContext::current(),
        })
    }
}

/// The request cookies (every `Cookie` header), read as tainted strings.
/// Values are taken as sent, without percent-decoding; malformed pairs are
/// skipped.
#[derive(Debug)]
pub struct TaintedCookies {
    cookies: Vec<Cookie<'static>>,
    context: Option<Arc<RequestContext>>,
}

impl TaintedCookies {
    /// The value of the first cookie called `name`, recorded and tainted.
    pub fn get(&self, name: &str) -> Option<Tainted<String>> {
        self.cookies
            .iter()
            .find(|cookie| cookie.name() == name)
            .map(|cookie| {
                taint_text(
                    self.context.as_ref(),
                    &sources::COOKIE,
                    cookie.value().as_bytes(),
                )
            })
    }

    /// The cookie names, in order; names are not recorded.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.cookies.iter().map(Cookie::name)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TaintedCookies {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let cookies = parts
            .headers
            .get_all(COOKIE)
            .iter()
            .flat_map(|header| {
                let text = String::from_utf8_lossy(header.as_bytes()).into_owned();
                Cookie::split_parse(text)
                    .filter_map(Result::ok)
                    .map(Cookie::into_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        Ok(TaintedCookies {
            cookies,
            context: RequestContext::current(),
        })
    }
}

fn taint_text(
    context: Option<&Arc<RequestContext>>,
    source: &'static SourceMeta,
    bytes: &[u8],
) -> Tainted<String> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    record_in(context, source, text.as_bytes());
    Tainted::new(text, source)
}
