//! Extractors that hand handlers [`Tainted`](rasp_core::Tainted) values.
//!
//! Each one delegates to axum's extractor of the same name, so parsing,
//! limits and rejections are axum's, then records the text it produced in
//! the current request context and labels the value with its source.
//!
//! They are local wrappers (`TaintedQuery<T>(pub Tainted<T>)`) rather than
//! `FromRequest` impls on `Tainted<Query<T>>`: both traits and `Tainted` are
//! foreign here, and implementing them in `rasp-core` would tie the core
//! crate to axum's releases. The wrappers also read like axum's own
//! extractors and destructure the same way.

mod body;
mod headers;
mod parts;

pub use body::{TaintedForm, TaintedJson};
pub use headers::{TaintedCookies, TaintedHeaders};
pub use parts::{TaintedPath, TaintedQuery};
