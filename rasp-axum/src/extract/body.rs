//! JSON and form bodies.
//!
//! The body is buffered once (under axum's body limit, through `Bytes`) and
//! handed to axum's extractor. When that extractor accepted it, and the
//! layer did not record the body already, it is walked for recording as it
//! is parsed, without building a second copy of the document.

use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, FormRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::Method;
use axum::http::request::Parts;
use axum::{Form, Json};
use rasp_core::Tainted;
use serde::de::DeserializeOwned;

use crate::record::{
    body_recorded, head_recorded, in_current, record_all, record_form_pairs, record_json,
};
use crate::sources;

/// A JSON body deserialized into `T`, tainted. Every object key and string
/// value of the document is recorded, however deeply nested (by
/// [`RaspLayer`](crate::RaspLayer) already, when the request passed through
/// it: the body is then parsed once, into `T`).
#[derive(Debug)]
pub struct TaintedJson<T>(pub Tainted<T>);

impl<T, S> FromRequest<S> for TaintedJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = JsonRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if body_recorded(req.extensions()) {
            let Json(value) = Json::<T>::from_request(req, state).await?;
            return Ok(TaintedJson(Tainted::new(value, &sources::JSON)));
        }
        let (parts, bytes) = buffer(req, state).await?;
        // `Bytes` clones share the buffer: the body is held once.
        let replay = Request::from_parts(parts, Body::from(bytes.clone()));
        let Json(value) = Json::<T>::from_request(replay, state).await?;
        // `Json` accepted the bytes, so they are a JSON document; the
        // generic walk sees every string `T` may have kept, whatever its
        // shape (maps, enums, `serde_json::Value` fields).
        in_current(|ctx| {
            if !record_json(ctx, &sources::JSON, &bytes) {
                record_all(ctx, &sources::JSON, [String::from_utf8_lossy(&bytes)]);
            }
        });
        Ok(TaintedJson(Tainted::new(value, &sources::JSON)))
    }
}

/// A form deserialized into `T`, tainted: the body of a `POST` (and other
/// methods), the query string of a `GET` or `HEAD`, as with axum's `Form`.
/// Every decoded key and value is recorded.
#[derive(Debug)]
pub struct TaintedForm<T>(pub Tainted<T>);

impl<T, S> FromRequest<S> for TaintedForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = FormRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if req.method() == Method::GET || req.method() == Method::HEAD {
            let uri = req.uri().clone();
            let recorded = head_recorded(req.extensions());
            let Form(value) = Form::<T>::from_request(req, state).await?;
            if !recorded && let Some(query) = uri.query() {
                in_current(|ctx| record_form_pairs(ctx, &sources::FORM, query.as_bytes()));
            }
            return Ok(TaintedForm(Tainted::new(value, &sources::FORM)));
        }
        if body_recorded(req.extensions()) {
            let Form(value) = Form::<T>::from_request(req, state).await?;
            return Ok(TaintedForm(Tainted::new(value, &sources::FORM)));
        }
        let (parts, bytes) = buffer(req, state).await?;
        let replay = Request::from_parts(parts, Body::from(bytes.clone()));
        let Form(value) = Form::<T>::from_request(replay, state).await?;
        in_current(|ctx| record_form_pairs(ctx, &sources::FORM, &bytes));
        Ok(TaintedForm(Tainted::new(value, &sources::FORM)))
    }
}

/// Reads the whole body through axum's `Bytes` extractor, so the route's
/// body limit applies, and keeps the request head to replay it.
async fn buffer<S: Send + Sync>(req: Request, state: &S) -> Result<(Parts, Bytes), BytesRejection> {
    let (parts, body) = req.into_parts();
    let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state).await?;
    Ok((parts, bytes))
}
