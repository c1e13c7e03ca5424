//! Reading a request body so the layer can record it, and handing the same
//! bytes on to the handler.
//!
//! The body is read up to the limit and no further: a larger one is never
//! held whole. What was read is handed on in front of the rest of the
//! stream, so a request let through past the limit (`on_exceeded =
//! "monitor"`) reaches the handler unchanged, trailers and errors included.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::HeaderMap;
use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;

/// A body read for recording.
pub(crate) enum Read {
    /// The whole body, within the limit, and the body to hand on.
    Whole { bytes: Bytes, body: Body },
    /// Longer than the limit: the body to hand on, nothing recorded.
    TooLarge { body: Body },
    /// The body failed while read (the client went away, or sent a
    /// malformed chunk): handed on with its error, for the handler's
    /// extractor to reject as it would have without the layer.
    Failed { body: Body },
}

/// Reads `body` whole if it holds at most `limit` bytes; `declared` is its
/// `Content-Length`, if it has one, which rules out a larger body before
/// any of it is read.
pub(crate) async fn read(mut body: Body, limit: usize, declared: Option<u64>) -> Read {
    if declared.is_some_and(|len| len > limit as u64) {
        return Read::TooLarge { body };
    }
    let mut buf = BytesMut::new();
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(frame) => frame,
            Err(error) => {
                let replay = Replay::new(buf.freeze(), None, Tail::Error(error));
                return Read::Failed {
                    body: Body::new(replay),
                };
            }
        };
        match frame.into_data() {
            Ok(data) if buf.len() + data.len() > limit => {
                buf.extend_from_slice(&data);
                let replay = Replay::new(buf.freeze(), None, Tail::Rest(body));
                return Read::TooLarge {
                    body: Body::new(replay),
                };
            }
            Ok(data) => buf.extend_from_slice(&data),
            // Trailers end the body.
            Err(frame) => trailers = frame.into_trailers().ok(),
        }
    }
    let bytes = buf.freeze();
    let body = match trailers {
        None => Body::from(bytes.clone()),
        Some(trailers) => Body::new(Replay::new(bytes.clone(), Some(trailers), Tail::End)),
    };
    Read::Whole { bytes, body }
}

/// What follows the bytes a [`Replay`] read ahead.
enum Tail {
    End,
    Rest(Body),
    Error(axum::Error),
}

/// A body whose start was read ahead: those bytes, then the trailers, the
/// rest of the original body, or its error.
struct Replay {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
    tail: Tail,
}

impl Replay {
    fn new(data: Bytes, trailers: Option<HeaderMap>, tail: Tail) -> Replay {
        Replay {
            data: (!data.is_empty()).then_some(data),
            trailers,
            tail,
        }
    }
}

impl http_body::Body for Replay {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if let Some(data) = this.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        if let Some(trailers) = this.trailers.take() {
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        match &mut this.tail {
            Tail::End => Poll::Ready(None),
            Tail::Rest(rest) => Pin::new(rest).poll_frame(cx),
            Tail::Error(_) => match std::mem::replace(&mut this.tail, Tail::End) {
                Tail::Error(error) => Poll::Ready(Some(Err(error))),
                _ => Poll::Ready(None),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
            && self.trailers.is_none()
            && match &self.tail {
                Tail::End => true,
                Tail::Rest(rest) => rest.is_end_stream(),
                Tail::Error(_) => false,
            }
    }

    fn size_hint(&self) -> SizeHint {
        let ahead = self.data.as_ref().map_or(0, |d| d.len() as u64);
        let mut hint = match &self.tail {
            Tail::Rest(rest) => rest.size_hint(),
            Tail::End | Tail::Error(_) => SizeHint::with_exact(0),
        };
        hint.set_lower(hint.lower() + ahead);
        if let Some(upper) = hint.upper() {
            hint.set_upper(upper + ahead);
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(body: Body) -> Vec<u8> {
        body.collect().await.unwrap().to_bytes().to_vec()
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_and_handed_on_whole() {
        let Read::Whole { bytes, body } = read(Body::from("hello"), 5, Some(5)).await else {
            panic!("within the limit");
        };
        assert_eq!(&bytes[..], b"hello");
        assert_eq!(collect(body).await, b"hello");
    }

    #[tokio::test]
    async fn a_longer_body_is_handed_on_unchanged() {
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from("abc")),
            Ok(Bytes::from("def")),
            Ok(Bytes::from("gh")),
        ];
        let stream = Body::from_stream(futures_stream(chunks));
        let Read::TooLarge { body } = read(stream, 4, None).await else {
            panic!("over the limit");
        };
        assert_eq!(collect(body).await, b"abcdefgh");
        let Read::TooLarge { body } = read(Body::from("abcdefgh"), 4, Some(8)).await else {
            panic!("declared over the limit");
        };
        assert_eq!(collect(body).await, b"abcdefgh");
    }

    /// A stream of ready chunks, without a dependency for it.
    fn futures_stream(
        chunks: Vec<Result<Bytes, std::io::Error>>,
    ) -> impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
        struct Chunks(std::collections::VecDeque<Result<Bytes, std::io::Error>>);
        impl futures_core::Stream for Chunks {
            type Item = Result<Bytes, std::io::Error>;
            fn poll_next(
                mut self: Pin<&mut Self>,
                _: &mut Context<'_>,
            ) -> Poll<Option<Self::Item>> {
                Poll::Ready(self.0.pop_front())
            }
        }
        Chunks(chunks.into())
    }
}
