//! Query strings and path parameters.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, RawPathParams};
use axum::http::request::Parts;
use rasp_core::Tainted;
use serde::de::DeserializeOwned;

use crate::record::{record_all, record_form_pairs};
use crate::sources;

/// The query string deserialized into `T`, tainted. Every decoded key and
/// value of the query string is recorded.
#[derive(Debug)]
pub struct TaintedQuery<T>(pub Tainted<T>);

impl<T, S> FromRequestParts<S> for TaintedQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = QueryRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        if let Some(query) = parts.uri.query() {
            record_form_pairs(&sources::QUERY, query.as_bytes());
        }
        Ok(TaintedQuery(Tainted::new(value, &sources::QUERY)))
    }
}

/// The path parameters deserialized into `T`, tainted. Every decoded
/// parameter value is recorded.
#[derive(Debug)]
pub struct TaintedPath<T>(pub Tainted<T>);

impl<T, S> FromRequestParts<S> for TaintedPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = PathRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        // `Path` succeeded, so the raw parameters are there and valid UTF-8.
        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await {
            record_all(&sources::PATH, raw.iter().map(|(_, value)| value));
        }
        Ok(TaintedPath(Tainted::new(value, &sources::PATH)))
    }
}
