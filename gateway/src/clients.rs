//! One tower stack in front of each service's gRPC channel, built once and shared by every
//! request: load shedding, a concurrency limit, a timeout over the whole call, and a bounded
//! retry of read RPCs only. Writes are never retried: a write whose answer was lost may have
//! happened, and doing it twice is not the same as doing it once.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use tonic::body::Body;
use tonic::transport::Channel;
use tower::retry::Policy;
use tower::retry::budget::{Budget, TpsBudget};
use tower::util::BoxCloneSyncService;
use tower::{BoxError, Service, ServiceBuilder};

/// What every service client is: the channel behind the stack, type-erased. Its error is a
/// concrete `Status` (not a boxed error), which also keeps handler futures provably `Send`.
pub type ServiceChannel = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, tonic::Status>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// Bound of one call, retries included.
    pub timeout: Duration,
    /// Calls in flight to one service; past it, calls fail at once (503) rather than queue.
    pub concurrency_limit: usize,
    /// Extra attempts of a read RPC after a transport failure or `UNAVAILABLE`.
    pub read_retries: u32,
}

/// The stack around `channel`. Outermost first: errors of the stack become gRPC statuses,
/// a client span whose trace context travels as `traceparent` metadata (one span over every
/// attempt), load shedding, the concurrency limit, the timeout, buffering of read requests (so they can
/// be sent again), the retry.
pub fn stack(channel: Channel, settings: &ClientSettings) -> ServiceChannel {
    // Retries may add at most a fifth to the traffic (plus a floor), so a struggling service is
    // not hammered by its own clients.
    let budget = Arc::new(TpsBudget::new(Duration::from_secs(10), 10, 0.2));
    let service = ServiceBuilder::new()
        .map_err(into_status)
        .layer(platform::instrument::GrpcClientLayer)
        .load_shed()
        .concurrency_limit(settings.concurrency_limit.max(1))
        .timeout(settings.timeout)
        .layer_fn(|inner| BufferReads { inner })
        .retry(ReadRetry {
            remaining: settings.read_retries,
            attempt: 0,
            budget,
        })
        .service(channel);
    BoxCloneSyncService::new(service)
}

/// Read RPCs: safe to send twice. Every `Get*` and `List*` method of the services only reads,
/// and so does the health check; anything else (exports record an activity) is not retried.
pub fn is_read_rpc(path: &str) -> bool {
    if path == "/grpc.health.v1.Health/Check" {
        return true;
    }
    let method = path.rsplit('/').next().unwrap_or_default();
    method.starts_with("Get") || method.starts_with("List")
}

/// Statuses for the stack's own failures, which tonic would call UNKNOWN (a 500); transport
/// failures get tonic's own mapping (UNAVAILABLE for a refused connection).
fn into_status(error: BoxError) -> tonic::Status {
    if error.is::<tower::load_shed::error::Overloaded>() {
        tonic::Status::unavailable("the service is busy; try again shortly")
    } else if error.is::<tower::timeout::error::Elapsed>() {
        tonic::Status::deadline_exceeded("the service did not answer in time")
    } else {
        tonic::Status::from_error(error)
    }
}

/// The encoded message of a read request, kept so the retry can send it again.
#[derive(Clone)]
struct BufferedBody(Bytes);

/// Collects the body of read requests (small unary messages) into memory.
#[derive(Clone)]
struct BufferReads<S> {
    inner: S,
}

impl<S> Service<http::Request<Body>> for BufferReads<S>
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
        // The instance that was polled ready serves this call; the clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let request = if is_read_rpc(request.uri().path()) {
                let (mut parts, body) = request.into_parts();
                let bytes = body.collect().await?.to_bytes();
                parts.extensions.insert(BufferedBody(bytes.clone()));
                http::Request::from_parts(parts, Body::new(Full::new(bytes)))
            } else {
                request
            };
            inner.call(request).await.map_err(Into::into)
        })
    }
}

/// Retries a read RPC that failed in transport or answered `UNAVAILABLE`, a bounded number of
/// times with a short backoff, within the shared budget. Cloned per call, so `remaining` counts
/// that call's attempts.
#[derive(Clone)]
struct ReadRetry {
    remaining: u32,
    attempt: u32,
    budget: Arc<TpsBudget>,
}

/// `grpc-status` 14: a trailers-only answer from a server that cannot take the call now.
const UNAVAILABLE: &str = "14";

impl<E> Policy<http::Request<Body>, http::Response<Body>, E> for ReadRetry {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        request: &mut http::Request<Body>,
        result: &mut Result<http::Response<Body>, E>,
    ) -> Option<Self::Future> {
        // Only buffered (read) requests can be sent again.
        request.extensions().get::<BufferedBody>()?;
        let transient = match result {
            Err(_) => true,
            Ok(response) => response.headers().get("grpc-status").is_some_and(|s| s == UNAVAILABLE),
        };
        if !transient {
            self.budget.deposit();
            return None;
        }
        if self.remaining == 0 || !self.budget.withdraw() {
            return None;
        }
        self.remaining -= 1;
        self.attempt += 1;
        Some(tokio::time::sleep(
            Duration::from_millis(25) * 2u32.pow(self.attempt.min(5)),
        ))
    }

    fn clone_request(&mut self, request: &http::Request<Body>) -> Option<http::Request<Body>> {
        let BufferedBody(bytes) = request.extensions().get::<BufferedBody>()?;
        let mut clone = http::Request::new(Body::new(Full::new(bytes.clone())));
        *clone.method_mut() = request.method().clone();
        *clone.uri_mut() = request.uri().clone();
        *clone.version_mut() = request.version();
        *clone.headers_mut() = request.headers().clone();
        *clone.extensions_mut() = request.extensions().clone();
        Some(clone)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn only_reads_are_retried() {
        for read in [
            "/myaccount.identity.v1.IdentityService/GetMyProfile",
            "/myaccount.audit.v1.AuditService/ListMySignIns",
            "/grpc.health.v1.Health/Check",
        ] {
            assert!(is_read_rpc(read), "{read}");
        }
        for write in [
            "/myaccount.identity.v1.IdentityService/SignIn",
            "/myaccount.identity.v1.IdentityService/RefreshToken",
            "/myaccount.audit.v1.AuditService/ExportMyData",
            "/myaccount.devices.v1.DevicesService/DeleteMyDevice",
        ] {
            assert!(!is_read_rpc(write), "{write}");
        }
    }

    /// A stand-in channel that fails its first `failures` calls in transport.
    #[derive(Clone)]
    struct Flaky {
        calls: Arc<AtomicUsize>,
        failures: usize,
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

    async fn calls_for(path: &str, failures: usize) -> (usize, bool) {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut service = ServiceBuilder::new()
            .layer_fn(|inner| BufferReads { inner })
            .retry(ReadRetry {
                remaining: 2,
                attempt: 0,
                budget: Arc::new(TpsBudget::new(Duration::from_secs(10), 10, 0.2)),
            })
            .service(Flaky {
                calls: calls.clone(),
                failures,
            });
        let request = http::Request::builder()
            .uri(path)
            .body(Body::new(Full::new(Bytes::from_static(b"message"))))
            .expect("request");
        let ok = tower::ServiceExt::ready(&mut service)
            .await
            .expect("ready")
            .call(request)
            .await
            .is_ok();
        (calls.load(Ordering::SeqCst), ok)
    }

    #[tokio::test]
    async fn a_read_is_retried_a_bounded_number_of_times_and_a_write_never() {
        assert_eq!(calls_for("/p.S/GetMyProfile", 1).await, (2, true));
        assert_eq!(calls_for("/p.S/ListMyDevices", 5).await, (3, false));
        assert_eq!(calls_for("/p.S/DeleteMyDevice", 1).await, (1, false));
    }
}
