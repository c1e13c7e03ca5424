//! The sources of the extractors: what a recorded input and a
//! [`Tainted`](rasp_core::Tainted) value say about where they came from.
//! Kinds follow the `http.*` names used across rasp's events.

use rasp_core::SourceMeta;

const fn source(kind: &'static str, fn_path: &'static str) -> SourceMeta {
    SourceMeta {
        kind,
        fn_path,
        file: file!(),
        line: 0,
    }
}

// The layer records under the same sources as the extractors, so an
// input's source kind does not depend on which of them recorded it first.

/// Decoded query-string keys and values ([`RaspLayer`](crate::RaspLayer), [`TaintedQuery`](crate::TaintedQuery)).
pub static QUERY: SourceMeta = source("http.query", "rasp_axum::TaintedQuery");
/// Decoded path parameters ([`RaspLayer`](crate::RaspLayer), [`TaintedPath`](crate::TaintedPath)).
pub static PATH: SourceMeta = source("http.path", "rasp_axum::TaintedPath");
/// Keys and string values of a JSON body ([`RaspLayer`](crate::RaspLayer), [`TaintedJson`](crate::TaintedJson)).
pub static JSON: SourceMeta = source("http.body.json", "rasp_axum::TaintedJson");
/// Decoded keys and values of a form ([`RaspLayer`](crate::RaspLayer), [`TaintedForm`](crate::TaintedForm)).
pub static FORM: SourceMeta = source("http.body.form", "rasp_axum::TaintedForm");
/// Header values ([`RaspLayer`](crate::RaspLayer), [`TaintedHeaders`](crate::TaintedHeaders)).
pub static HEADER: SourceMeta = source("http.header", "rasp_axum::TaintedHeaders");
/// Cookie values ([`RaspLayer`](crate::RaspLayer), [`TaintedCookies`](crate::TaintedCookies)).
pub static COOKIE: SourceMeta = source("http.cookie", "rasp_axum::TaintedCookies");
/// A whole request body that is neither a form nor a JSON document
/// ([`RaspLayer`](crate::RaspLayer)).
pub static BODY: SourceMeta = source("http.body", "rasp_axum::RaspLayer");
