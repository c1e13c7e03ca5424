//! Query strings and path parameters.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, RawPathParams};
use axum::http::request::Parts;
use rasp_core::Tainted;
use serde::de::DeserializeOwned;

use crate::record::{head_recorded, in_current, record_all, record_form_pairs};
use crate::sources;

/// The query string deserialized into `T`, tainted. Every decoded key and
/// value of the query string is recorded (by [`RaspLayer`](crate::RaspLayer)
/// already, when the request passed through it).
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
        if !head_recorded(&parts.extensions)
            && let Some(query) = parts.uri.query()
        {
            in_current(|ctx| record_form_pairs(ctx, &sources::QUERY, query.as_bytes()));
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
        if !head_recorded(&parts.extensions)
            && let Ok(raw) = RawPathParams::from_request_parts(parts, state).await
        {
            in_current(|ctx| record_all(ctx, &sources::PATH, raw.iter().map(|(_, value)| value)));
        }
        Ok(TaintedPath(Tainted::new(value, &sources::PATH)))
    }
}
