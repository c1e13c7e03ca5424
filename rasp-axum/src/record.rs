//! Recording a request's inputs in its context: by the layer, for every
//! request, and by the extractors, for what they decode.
//!
//! Everything is decoded the way axum and its usual extractors decode it,
//! so the text recorded is the text a handler gets: query pairs and form
//! fields through `form_urlencoded` (what `serde_urlencoded` uses), path
//! parameters percent-decoded by the router, JSON strings unescaped.
//!
//! Recording is bounded by the context's caps. The first input past a cap
//! marks the request as over its limits (counted and reported by the
//! context); the walks below then stop, since nothing further is stored.

use std::borrow::Cow;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::{self, HeaderName};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use cookie::Cookie;
use rasp_core::{RequestContext, SourceMeta};
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::sources;

/// Set on a request whose inputs the layer recorded, so extractors skip
/// recording them again. Request extensions are the server's own, never
/// sent by a client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordedByLayer {
    /// The body was recorded too (it had one, of a kind the layer reads).
    pub(crate) body: bool,
}

/// Whether the layer already recorded the parts (query, path, headers,
/// cookies) of the request these extensions belong to.
pub(crate) fn head_recorded(extensions: &axum::http::Extensions) -> bool {
    extensions.get::<RecordedByLayer>().is_some()
}

/// Whether the layer already recorded the body.
pub(crate) fn body_recorded(extensions: &axum::http::Extensions) -> bool {
    extensions
        .get::<RecordedByLayer>()
        .is_some_and(|recorded| recorded.body)
}

/// Headers whose values the HTTP machinery consumes and applications do
/// not read as data; every other header value is recorded. `cookie` is
/// recorded pair by pair instead (see [`record_cookies`]).
const UNRECORDED_HEADERS: [HeaderName; 9] = [
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::CONNECTION,
    header::TE,
    header::UPGRADE,
    header::EXPECT,
    header::COOKIE,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
];

/// Records what the head of a request carries: query pairs, path
/// parameters, header values and cookies.
pub(crate) fn record_head(ctx: &RequestContext, parts: &mut Parts) {
    if let Some(query) = parts.uri.query() {
        record_form_pairs(ctx, &sources::QUERY, query.as_bytes());
    }
    record_path_params(ctx, parts);
    record_headers(ctx, &parts.headers);
    record_cookies(ctx, &parts.headers);
}

/// Records the parameters the router matched, percent-decoded, as `Path`
/// and `RawPathParams` hand them to handlers.
fn record_path_params(ctx: &RequestContext, parts: &mut Parts) {
    // `RawPathParams` reads what the router stored in the request's
    // extensions: its future is ready at the first poll, so it is polled
    // once here rather than making every request wait on an async step.
    let extract = pin!(RawPathParams::from_request_parts(parts, &()));
    if let Poll::Ready(Ok(params)) = extract.poll(&mut Context::from_waker(Waker::noop())) {
        record_all(ctx, &sources::PATH, params.iter().map(|(_, value)| value));
    }
    // A rejection means no parameters (no route with any) or one that is
    // not UTF-8, which `Path` rejects before any handler runs.
}

fn record_headers(ctx: &RequestContext, headers: &HeaderMap) {
    for (name, value) in headers {
        if UNRECORDED_HEADERS.contains(name) {
            continue;
        }
        if !record_value(ctx, &sources::HEADER, value) {
            break;
        }
    }
}

/// Records a header value as `TaintedHeaders` reads it (UTF-8, invalid
/// bytes replaced) and, when that differs, as its raw bytes. Returns
/// `false` once the request is over its limits.
fn record_value(ctx: &RequestContext, source: &'static SourceMeta, value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    let text = String::from_utf8_lossy(bytes);
    record(ctx, source, text.as_bytes());
    if let Cow::Owned(_) = text {
        record(ctx, source, bytes);
    }
    ctx.exceeded().is_none()
}

/// Records the value of every cookie of every `Cookie` header, as sent and,
/// when it differs, percent-decoded (as cookie jars that decode read it).
fn record_cookies(ctx: &RequestContext, headers: &HeaderMap) {
    for header in headers.get_all(header::COOKIE) {
        let text = String::from_utf8_lossy(header.as_bytes());
        for cookie in Cookie::split_parse(text.as_ref()).filter_map(Result::ok) {
            let value = cookie.value();
            record(ctx, &sources::COOKIE, value.as_bytes());
            let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
            if let Cow::Owned(decoded) = decoded {
                record(ctx, &sources::COOKIE, decoded.as_bytes());
            }
            if ctx.exceeded().is_some() {
                return;
            }
        }
    }
}

/// How the layer reads a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// `application/x-www-form-urlencoded`: every decoded key and value.
    Form,
    /// Anything else but multipart: the keys and strings of a JSON
    /// document when the body is one (whatever its declared type, since a
    /// handler may parse JSON from `Bytes`), else the whole body as one
    /// input.
    Other,
}

impl BodyKind {
    /// The kind of the body these headers announce; `None` for multipart
    /// bodies, which are not recorded (see `docs/axum.md`).
    pub(crate) fn of(headers: &HeaderMap) -> Option<BodyKind> {
        let Some(content_type) = headers.get(header::CONTENT_TYPE) else {
            return Some(BodyKind::Other);
        };
        let essence = content_type
            .as_bytes()
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        if essence.eq_ignore_ascii_case(b"application/x-www-form-urlencoded") {
            Some(BodyKind::Form)
        } else if essence.len() >= 10 && essence[..10].eq_ignore_ascii_case(b"multipart/") {
            None
        } else {
            Some(BodyKind::Other)
        }
    }
}

/// Records a buffered body of kind `kind`.
pub(crate) fn record_body(ctx: &RequestContext, kind: BodyKind, bytes: &[u8]) {
    match kind {
        BodyKind::Form => record_form_pairs(ctx, &sources::FORM, bytes),
        BodyKind::Other => {
            if !record_json(ctx, &sources::JSON, bytes) {
                record(ctx, &sources::BODY, bytes);
            }
        }
    }
}

/// Records each of `inputs`, until the request is over its limits.
pub(crate) fn record_all<I: AsRef<str>>(
    ctx: &RequestContext,
    source: &'static SourceMeta,
    inputs: impl IntoIterator<Item = I>,
) {
    for input in inputs {
        if !record(ctx, source, input.as_ref().as_bytes()) {
            break;
        }
    }
}

/// Records `input`; `false` once the request is over its limits and
/// nothing further would be stored.
fn record(ctx: &RequestContext, source: &'static SourceMeta, input: &[u8]) -> bool {
    ctx.record_input(source, input) || ctx.exceeded().is_none()
}

/// Records the decoded keys and values of an `application/x-www-form-urlencoded`
/// text: the same pairs, decoded the same way, that `serde_urlencoded` hands
/// to the target type.
pub(crate) fn record_form_pairs(ctx: &RequestContext, source: &'static SourceMeta, encoded: &[u8]) {
    record_all(ctx, source, form_fields(encoded));
}

/// Each key and value of a form, decoded, in order: what
/// `form_urlencoded::parse` yields, flattened. Most pairs need no decoding
/// (ASCII without `%` or `+`) and are yielded as they are, which spares
/// every protected request with a query string the decoder's copies and
/// UTF-8 repair; the others are decoded by `form_urlencoded` itself.
fn form_fields(encoded: &[u8]) -> impl Iterator<Item = Cow<'_, str>> {
    encoded
        .split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .flat_map(|pair| {
            let plain = pair.is_ascii() && memchr::memchr2(b'%', b'+', pair).is_none();
            let (key, value) = match std::str::from_utf8(pair) {
                Ok(text) if plain => {
                    let (key, value) = text.split_once('=').unwrap_or((text, ""));
                    (Cow::Borrowed(key), Cow::Borrowed(value))
                }
                // One pair: the segment holds no `&`.
                _ => form_urlencoded::parse(pair).next().unwrap_or_default(),
            };
            [key, value]
        })
}

/// Records every object key and string of the JSON document `bytes`,
/// nested ones included, as the parser unescapes them. Numbers, booleans
/// and nulls carry no text an injection could use once deserialized as
/// such, so they are skipped. Returns `false`, having recorded nothing
/// further, when `bytes` are not a JSON document.
///
/// The document is walked as it is parsed, never built as a tree: memory
/// stays that of the body plus the deepest string being unescaped.
pub(crate) fn record_json(ctx: &RequestContext, source: &'static SourceMeta, bytes: &[u8]) -> bool {
    // Cheap to rule out most bodies that are not JSON (forms, text)
    // before the parser starts.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if !matches!(first, Some(b'{' | b'[' | b'"')) {
        return false;
    }
    let mut parser = serde_json::Deserializer::from_slice(bytes);
    let walked = JsonStrings { ctx, source }.deserialize(&mut parser);
    match walked {
        Ok(()) => parser.end().is_ok(),
        // Stopped at the limits: what could be stored is.
        Err(_) if ctx.exceeded().is_some() => true,
        Err(_) => false,
    }
}

/// Walks a JSON document and records its keys and strings.
#[derive(Clone, Copy)]
struct JsonStrings<'c> {
    ctx: &'c RequestContext,
    source: &'static SourceMeta,
}

impl JsonStrings<'_> {
    fn record<E: serde::de::Error>(self, text: &str) -> Result<(), E> {
        if record(self.ctx, self.source, text.as_bytes()) {
            Ok(())
        } else {
            Err(E::custom("input limits reached"))
        }
    }
}

impl<'de> DeserializeSeed<'de> for JsonStrings<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonStrings<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON document")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<(), E> {
        self.record(text)
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        while items.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        while entries.next_key_seed(self)?.is_some() {
            entries.next_value_seed(self)?;
        }
        Ok(())
    }
}

/// Records `input` in `ctx`, the context an extractor captured, rather than
/// whichever is current when a header or cookie is finally read.
pub(crate) fn record_in(
    ctx: Option<&Arc<RequestContext>>,
    source: &'static SourceMeta,
    input: &[u8],
) {
    if let Some(ctx) = ctx {
        ctx.record_input(source, input);
    }
}

/// Runs `f` with the current context, if there is one.
pub(crate) fn in_current(f: impl FnOnce(&RequestContext)) {
    RequestContext::with_current(|ctx| {
        if let Some(ctx) = ctx {
            f(ctx);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use rasp_core::{InputLimits, Limit};

    fn recorded(ctx: &RequestContext) -> Vec<String> {
        ctx.inputs()
            .map(|i| String::from_utf8_lossy(i.bytes()).into_owned())
            .collect()
    }

    #[test]
    fn json_keys_and_nested_strings_are_recorded_in_document_order() {
        let ctx = RequestContext::new();
        let doc =
            br#"{ "user": { "name": "ann", "tags": ["a", 1, null, true, { "deep": "x' OR 1=1" }] },
            "n": 5, "esc\u0061ped": "line\nbreak" }"#;
        assert!(record_json(&ctx, &sources::JSON, doc));
        assert_eq!(
            recorded(&ctx),
            [
                "user",
                "name",
                "ann",
                "tags",
                "a",
                "deep",
                "x' OR 1=1",
                "n",
                "escaped",
                "line\nbreak"
            ]
        );
    }

    #[test]
    fn text_that_is_not_json_is_recorded_whole() {
        let ctx = RequestContext::new();
        record_body(&ctx, BodyKind::Other, b"{not json");
        record_body(&ctx, BodyKind::Other, b"plain ' text");
        assert_eq!(recorded(&ctx), ["{not json", "plain ' text"]);
    }

    #[test]
    fn walks_stop_at_the_count_cap_and_count_one_drop() {
        let ctx = RequestContext::builder()
            .limits(InputLimits {
                max_inputs: 3,
                on_exceeded: rasp_core::OnExceeded::Monitor,
                ..InputLimits::default()
            })
            .build();
        let doc =
            serde_json::to_vec(&(0..100_000).map(|i| format!("s{i}")).collect::<Vec<_>>()).unwrap();
        assert!(record_json(&ctx, &sources::JSON, &doc));
        assert_eq!(recorded(&ctx), ["s0", "s1", "s2"]);
        assert_eq!(ctx.dropped_inputs(), 1);
        assert_eq!(ctx.exceeded(), Some(Limit::Inputs));
    }

    #[test]
    fn form_pairs_are_recorded_decoded() {
        let ctx = RequestContext::new();
        record_form_pairs(&ctx, &sources::FORM, b"na%6De=O%27Brien&q=a+b&bad=%FF");
        assert_eq!(
            recorded(&ctx),
            ["name", "O'Brien", "q", "a b", "bad", "\u{fffd}"]
        );
    }

    #[test]
    fn headers_and_cookies_are_recorded_except_transport_headers() {
        let ctx = RequestContext::new();
        let mut headers = HeaderMap::new();
        headers.insert("x-name", HeaderValue::from_static("O'Brien"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("12"));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("sid=abc; name=x%27%20OR%201"),
        );
        record_headers(&ctx, &headers);
        record_cookies(&ctx, &headers);
        assert_eq!(
            recorded(&ctx),
            ["O'Brien", "abc", "x%27%20OR%201", "x' OR 1"]
        );
    }

    #[test]
    fn multipart_bodies_are_not_read() {
        let mut headers = HeaderMap::new();
        assert_eq!(BodyKind::of(&headers), Some(BodyKind::Other));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/X-WWW-Form-Urlencoded; charset=utf-8"),
        );
        assert_eq!(BodyKind::of(&headers), Some(BodyKind::Form));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=x"),
        );
        assert_eq!(BodyKind::of(&headers), None);
    }

    /// `form_urlencoded` is the oracle: the same fields, decoded the same
    /// way, on texts built from the bytes that matter to the parser.
    #[test]
    fn form_fields_match_form_urlencoded() {
        use proptest::prelude::*;
        let byte = prop_oneof![
            Just(b'&'),
            Just(b'='),
            Just(b'%'),
            Just(b'+'),
            Just(b'a'),
            Just(b'F'),
            Just(b'2'),
            Just(0xc3),
            Just(0xa9),
            any::<u8>(),
        ];
        proptest!(|(encoded in proptest::collection::vec(byte, 0..40))| {
            let fast: Vec<Cow<'_, str>> = form_fields(&encoded).collect();
            let oracle: Vec<Cow<'_, str>> = form_urlencoded::parse(&encoded)
                .flat_map(|(key, value)| [key, value])
                .collect();
            prop_assert_eq!(fast, oracle);
        });
        let fields: Vec<Cow<'_, str>> = form_fields(b"q=kettle&&page=2&flag&a=b=c").collect();
        assert_eq!(fields, ["q", "kettle", "page", "2", "flag", "", "a", "b=c"]);
        assert!(fields.iter().all(|f| matches!(f, Cow::Borrowed(_))));
    }
}
