//! Reading what is left of a request's body once its answer is ready.
//!
//! A handler that answers without reading the whole body (a refused token, a body past the
//! limit, a body sent where none is read) leaves the rest on its way. Hyper then closes the
//! connection with unread bytes in the socket, and the kernel answers them with a reset that can
//! overtake the answer: the client sees "connection reset" instead of its 401 or 413. Like
//! nginx's `lingering_close`, the gateway reads the rest (bounded in bytes and time) before the
//! answer goes out. A client that asked `Expect: 100-continue` has sent nothing yet and is left
//! alone.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Version, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::BodyExt;

/// At most this much of an unread body is read and thrown away; a client sending more is cut off.
pub const LINGER_BYTES: u64 = 8 << 20;
/// At most this long is spent on it, so a slow sender cannot hold an answer back.
pub const LINGER_TIME: Duration = Duration::from_secs(2);

/// Middleware: runs the request, then reads what its handler left of the body (HTTP/1 only:
/// HTTP/2 ends one stream without touching the connection).
pub async fn read_unread_body(request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let waits_for_continue = request
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if request.version() > Version::HTTP_11
        || request.body().is_end_stream()
        || waits_for_continue
        || announced.is_some_and(|n| n > LINGER_BYTES)
    {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let shared = Arc::new(Mutex::new(body));
    let mut response = next
        .run(Request::from_parts(parts, Body::new(SharedBody(shared.clone()))))
        .await;
    let mut rest = std::mem::replace(
        &mut *shared.lock().unwrap_or_else(PoisonError::into_inner),
        Body::empty(),
    );
    if rest.is_end_stream() {
        return response;
    }
    let read_to_the_end = tokio::time::timeout(LINGER_TIME, async {
        let mut thrown_away = 0u64;
        while let Some(Ok(frame)) = rest.frame().await {
            thrown_away += frame.data_ref().map_or(0, |d| d.len() as u64);
            if thrown_away > LINGER_BYTES {
                return false;
            }
        }
        true
    })
    .await;
    if read_to_the_end != Ok(true) {
        // The rest stays unread: say so, rather than leave the client to find out by a reset.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The request's body as its handler sees it, still reachable by the middleware afterwards.
struct SharedBody(Arc<Mutex<Body>>);

impl http_body::Body for SharedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let mut body = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Pin::new(&mut *body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).size_hint()
    }
}
