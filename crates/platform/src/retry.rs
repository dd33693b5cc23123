//! Sending a gRPC call again when the replica serving it went away: its connection was reset,
//! closed or refused, or went away (GOAWAY) before the whole answer came. The next attempt rides
//! the channel's next connection, which the balancer in front (a Kubernetes Service) gives to a
//! live replica. Attempts are few, spaced by a jittered backoff, drawn from a budget shared by
//! every call of the client (so a struggling service is not hammered by its own clients), and
//! bounded by the caller's deadline (the timeout around this layer).
//!
//! What may be sent again is the method's ([`Resend`]): a read always; a write only when doing
//! it twice is doing it once, by its nature or because the service answers a repeated
//! idempotency key with the first answer (`platform::idempotency`). A service's own
//! `UNAVAILABLE` (its database away) is its answer: only reads are sent again after it.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::HeaderValue;
use http_body_util::{BodyExt, Full};
use rand::Rng;
use tonic::body::Body;
use tower::retry::budget::{Budget, TpsBudget};
use tower::{BoxError, Layer, Service, ServiceExt};

use crate::idempotency::{self, IdempotencyKey};

/// Whether a call may be sent again once it may have reached the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// It only reads: sent again after a broken connection or an `UNAVAILABLE` answer.
    Read,
    /// A write that, done twice, is done once (sign out everywhere, disable a device).
    Idempotent,
    /// A write the service answers once per idempotency key: sent with one, the same on every
    /// attempt (the request's own, see [`idempotency::with_request_key`], or a fresh one).
    Keyed,
    /// Neither: never sent again.
    Never,
}

/// How hard a client tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySettings {
    /// Attempts after the first.
    pub retries: u32,
    /// The pause before the first retry; it doubles for each next one, with jitter.
    pub first_backoff: Duration,
}

impl RetrySettings {
    pub const fn new(retries: u32) -> Self {
        Self {
            retries,
            first_backoff: Duration::from_millis(25),
        }
    }

    /// The pause before retry `n` (1-based): half of the doubled backoff, plus up to the other
    /// half at random, so callers failed by one crash do not all come back at once. Also paces
    /// retries of calls that are not gRPC (security-info's SMS and voice provider).
    pub fn backoff(&self, n: u32) -> Duration {
        let full = self.first_backoff * 2u32.pow(n.saturating_sub(1).min(6));
        let half = full / 2;
        half + half.mul_f64(rand::thread_rng().r#gen::<f64>())
    }
}

/// Retries calls as `classify` says of each method path.
#[derive(Clone)]
pub struct RetryLayer {
    settings: RetrySettings,
    classify: fn(&str) -> Resend,
    budget: Arc<TpsBudget>,
}

impl RetryLayer {
    pub fn new(settings: RetrySettings, classify: fn(&str) -> Resend) -> Self {
        Self {
            settings,
            classify,
            // Retries may add at most a fifth to the traffic (plus a floor of 10 a second).
            budget: Arc::new(TpsBudget::new(Duration::from_secs(10), 10, 0.2)),
        }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retrying<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Retrying {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Retrying<S> {
    inner: S,
    layer: RetryLayer,
}

/// How one attempt ended.
enum Attempt {
    /// A whole answer (body and trailers read), to hand on.
    Answered(http::Response<Body>),
    /// A read answered `UNAVAILABLE`: worth another attempt, else handed on.
    Unavailable(http::Response<Body>),
    /// The connection broke before the whole answer came.
    WentAway(BoxError),
}

/// `grpc-status` 14, in the headers of a trailers-only answer or in the trailers.
fn is_unavailable(headers: Option<&http::HeaderMap>) -> bool {
    headers
        .and_then(|h| h.get("grpc-status"))
        .is_some_and(|status| status == "14")
}

impl<S> Service<http::Request<Body>> for Retrying<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        // The instance that was polled ready serves the first attempt; the clone waits for the
        // next call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let resend = (self.layer.classify)(request.uri().path());
        let RetryLayer { settings, budget, .. } = self.layer.clone();
        Box::pin(async move {
            if resend == Resend::Never {
                return inner.call(request).await.map_err(Into::into);
            }
            budget.deposit();
            // Unary messages are small: kept, so every attempt sends the whole of it.
            let (mut parts, body) = request.into_parts();
            let message = body.collect().await?.to_bytes();
            if resend == Resend::Keyed && !parts.headers.contains_key(idempotency::METADATA) {
                let key = idempotency::request_key().unwrap_or_else(IdempotencyKey::generate);
                parts
                    .headers
                    .insert(idempotency::METADATA, HeaderValue::from_str(key.as_str())?);
            }
            let mut retried = 0;
            loop {
                let answer = inner.call(copy(&parts, &message)).await.map_err(Into::into);
                let attempt = match answer {
                    Err(e) => Attempt::WentAway(e),
                    Ok(response) => read_whole(response, resend).await,
                };
                let again = retried < settings.retries
                    && match &attempt {
                        Attempt::Answered(_) => false,
                        Attempt::Unavailable(_) => true,
                        // A deadline spent is spent: another attempt would only wait again.
                        Attempt::WentAway(e) => !timed_out(&**e),
                    };
                if again && budget.withdraw() {
                    retried += 1;
                    tokio::time::sleep(settings.backoff(retried)).await;
                    inner.ready().await.map_err(Into::into)?;
                    continue;
                }
                return match attempt {
                    Attempt::Answered(response) | Attempt::Unavailable(response) => Ok(response),
                    Attempt::WentAway(e) => Err(e),
                };
            }
        })
    }
}

/// Whether the attempt ran out of time (the call's `grpc-timeout`, the channel's timeout)
/// rather than losing its connection.
fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<tonic::TimeoutExpired>() || e.is::<tower::timeout::error::Elapsed>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// One attempt's request: the same head and message every time.
fn copy(parts: &http::request::Parts, message: &Bytes) -> http::Request<Body> {
    let mut request = http::Request::new(Body::new(Full::new(message.clone())));
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    *request.version_mut() = parts.version;
    *request.headers_mut() = parts.headers.clone();
    *request.extensions_mut() = parts.extensions.clone();
    request
}

/// Reads the whole answer, so a connection that breaks after the headers is an attempt that
/// failed rather than an error surfacing later in the caller's decoding.
async fn read_whole(response: http::Response<Body>, resend: Resend) -> Attempt {
    let read = resend == Resend::Read;
    if read && is_unavailable(Some(response.headers())) {
        return Attempt::Unavailable(response);
    }
    let (parts, body) = response.into_parts();
    match body.collect().await {
        Err(e) => Attempt::WentAway(e.into()),
        Ok(whole) => {
            let unavailable = read && is_unavailable(whole.trailers());
            let response = http::Response::from_parts(parts, Body::new(whole));
            if unavailable {
                Attempt::Unavailable(response)
            } else {
                Attempt::Answered(response)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn by_name(path: &str) -> Resend {
        match path.rsplit('/').next().unwrap_or_default() {
            m if m.starts_with("Get") => Resend::Read,
            "DisableMyDevice" => Resend::Idempotent,
            "RegisterDevice" => Resend::Keyed,
            _ => Resend::Never,
        }
    }

    /// A stand-in channel that fails its first `failures` calls in transport, and remembers
    /// the idempotency key of each call.
    #[derive(Clone)]
    struct Flaky {
        calls: Arc<AtomicUsize>,
        failures: usize,
        keys: Arc<std::sync::Mutex<Vec<Option<String>>>>,
    }

    impl Service<http::Request<Body>> for Flaky {
        type Response = http::Response<Body>;
        type Error = BoxError;
        type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: http::Request<Body>) -> Self::Future {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let failures = self.failures;
            let key = request
                .headers()
                .get(idempotency::METADATA)
                .and_then(|k| k.to_str().ok())
                .map(str::to_owned);
            self.keys.lock().expect("keys").push(key);
            Box::pin(async move {
                let body = request.into_body().collect().await?.to_bytes();
                assert_eq!(&body[..], b"message", "every attempt sends the whole message");
                if n < failures {
                    Err("connection reset".into())
                } else {
                    Ok(http::Response::new(Body::empty()))
                }
            })
        }
    }

    async fn calls_for(path: &str, failures: usize) -> (usize, bool, Vec<Option<String>>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let keys = Arc::default();
        let mut service = RetryLayer::new(RetrySettings::new(2), by_name).layer(Flaky {
            calls: calls.clone(),
            failures,
            keys: Arc::clone(&keys),
        });
        let request = http::Request::builder()
            .uri(path)
            .body(Body::new(Full::new(Bytes::from_static(b"message"))))
            .expect("request");
        let ok = service.ready().await.expect("ready").call(request).await.is_ok();
        let keys = keys.lock().expect("keys").clone();
        (calls.load(Ordering::SeqCst), ok, keys)
    }

    #[tokio::test]
    async fn a_call_safe_to_resend_is_retried_a_bounded_number_of_times_and_others_never() {
        let (calls, ok, _) = calls_for("/p.S/GetMyProfile", 1).await;
        assert_eq!((calls, ok), (2, true));
        let (calls, ok, _) = calls_for("/p.S/DisableMyDevice", 5).await;
        assert_eq!((calls, ok), (3, false));
        let (calls, ok, keys) = calls_for("/p.S/DeleteMyDevice", 1).await;
        assert_eq!((calls, ok), (1, false));
        assert_eq!(keys, vec![None], "only keyed methods carry a key");
    }

    #[tokio::test]
    async fn every_attempt_of_a_keyed_call_carries_the_same_key() {
        let (calls, ok, keys) = calls_for("/p.S/RegisterDevice", 2).await;
        assert_eq!((calls, ok), (3, true));
        let first = keys[0].clone().expect("a key");
        assert!(IdempotencyKey::parse(&first).is_ok());
        assert!(keys.iter().all(|k| k.as_deref() == Some(first.as_str())), "{keys:?}");

        let requested = IdempotencyKey::generate();
        let (_, _, keys) = idempotency::with_request_key(requested.clone(), calls_for("/p.S/RegisterDevice", 1)).await;
        assert_eq!(
            keys,
            vec![Some(requested.as_str().to_owned()); 2],
            "the request's own key"
        );
    }
}
