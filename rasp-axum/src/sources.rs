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

/// Decoded query-string keys and values ([`TaintedQuery`](crate::TaintedQuery)).
pub static QUERY: SourceMeta = source("http.query", "rasp_axum::TaintedQuery");
/// Decoded path parameters ([`TaintedPath`](crate::TaintedPath)).
pub static PATH: SourceMeta = source("http.path", "rasp_axum::TaintedPath");
/// Keys and string values of a JSON body ([`TaintedJson`](crate::TaintedJson)).
pub static JSON: SourceMeta = source("http.body.json", "rasp_axum::TaintedJson");
/// Decoded keys and values of a form ([`TaintedForm`](crate::TaintedForm)).
pub static FORM: SourceMeta = source("http.body.form", "rasp_axum::TaintedForm");
/// Header values ([`TaintedHeaders`](crate::TaintedHeaders)).
pub static HEADER: SourceMeta = source("http.header", "rasp_axum::TaintedHeaders");
/// Cookie values ([`TaintedCookies`](crate::TaintedCookies)).
pub static COOKIE: SourceMeta = source("http.cookie", "rasp_axum::TaintedCookies");
