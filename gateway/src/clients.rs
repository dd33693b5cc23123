//! One tower stack in front of each service's gRPC channel, built once and shared by every
//! request: a concurrency limit beyond which calls fail at once, a timeout over the whole
//! call, and the retry of a call whose replica went away (`platform::retry`), for the calls that are safe to send
//! again ([`resend_of`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use platform::retry::{Resend, RetryLayer, RetrySettings};
use tokio::sync::Semaphore;
use tonic::body::Body;
use tonic::transport::Channel;
use tower::load_shed::error::Overloaded;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, Layer, Service, ServiceBuilder};

/// What every service client is: the channel behind the stack, type-erased. Its error is a
/// concrete `Status` (not a boxed error), which also keeps handler futures provably `Send`.
pub type ServiceChannel = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, tonic::Status>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// Bound of one call, retries included.
    pub timeout: Duration,
    /// Calls in flight to one service; past it, calls fail at once (503) rather than queue.
    pub concurrency_limit: usize,
    /// Extra attempts of a call that is safe to send again after its replica went away.
    pub retries: u32,
}

/// The stack around `channel`. Outermost first: errors of the stack become gRPC statuses,
/// a client span whose trace context travels as `traceparent` metadata (one span over every
/// attempt), the concurrency limit (calls beyond it fail at once), the timeout (the retries stay within it),
/// the retry.
pub fn stack(channel: Channel, settings: &ClientSettings) -> ServiceChannel {
    let service = ServiceBuilder::new()
        .map_err(into_status)
        .layer(platform::instrument::GrpcClientLayer)
        .layer(ShedBeyondLayer::new(settings.concurrency_limit))
        .timeout(settings.timeout)
        .layer(RetryLayer::new(RetrySettings::new(settings.retries), resend_of))
        .service(channel);
    BoxCloneSyncService::new(service)
}

/// Writes whose repetition changes nothing: the state they leave is the same however often
/// they run (an answer to a repetition may differ: a second sign-out finds the session ended).
const IDEMPOTENT_WRITES: &[&str] = &[
    "/myaccount.identity.v1.IdentityService/RefreshToken",
    "/myaccount.identity.v1.IdentityService/SignOut",
    "/myaccount.identity.v1.IdentityService/SignOutEverywhere",
    "/myaccount.identity.v1.IdentityService/RevokeMySession",
    "/myaccount.identity.v1.IdentityService/RevokeMyOtherSessions",
    "/myaccount.identity.v1.IdentityService/DeleteMyAccount",
    "/myaccount.devices.v1.DevicesService/DisableMyDevice",
    // The same version accepted again leaves the first acceptance as it was.
    "/myaccount.organizations.v1.OrganizationsService/AcceptMyOrganizationTerms",
    "/myaccount.audit.v1.AuditService/ReviewMySignIn",
];

/// Writes whose service records each idempotency key with its answer
/// (`platform::idempotency`), so a repetition gets the first answer.
const KEYED_WRITES: &[&str] = &[
    "/myaccount.identity.v1.IdentityService/SignIn",
    "/myaccount.identity.v1.IdentityService/PasskeySignIn",
    "/myaccount.identity.v1.IdentityService/CompleteMfa",
    "/myaccount.devices.v1.DevicesService/RegisterDevice",
];

/// Whether a call to `path` may be sent again once it may have reached the service. Every
/// `Get*`, `List*` and `Describe*` method of the services only reads, and so does the health
/// check. `RefreshToken` is idempotent by identity's reuse grace: the same refresh token
/// presented again within it gets the very pair it was exchanged for.
pub fn resend_of(path: &str) -> Resend {
    if path == "/grpc.health.v1.Health/Check" {
        return Resend::Read;
    }
    let method = path.rsplit('/').next().unwrap_or_default();
    if ["Get", "List", "Describe"].iter().any(|verb| method.starts_with(verb)) {
        Resend::Read
    } else if IDEMPOTENT_WRITES.contains(&path) {
        Resend::Idempotent
    } else if KEYED_WRITES.contains(&path) {
        Resend::Keyed
    } else {
        Resend::Never
    }
}

/// At most `limit` calls in flight to one service; a call beyond them fails at once with
/// [`Overloaded`] rather than queue: what `load_shed` over `concurrency_limit` does, with the
/// permit taken when the call is made. The stack is cloned for every call (a tonic client
/// takes `&mut self`), and this layer's clone is one reference count where
/// `concurrency_limit`'s allocates a future of its own.
#[derive(Clone)]
struct ShedBeyondLayer {
    permits: Arc<Semaphore>,
}

impl ShedBeyondLayer {
    fn new(limit: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit.max(1))),
        }
    }
}

impl<S> Layer<S> for ShedBeyondLayer {
    type Service = ShedBeyond<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ShedBeyond {
            inner,
            permits: self.permits.clone(),
        }
    }
}

#[derive(Clone)]
struct ShedBeyond<S> {
    inner: S,
    permits: Arc<Semaphore>,
}

impl<S, R> Service<R> for ShedBeyond<S>
where
    S: Service<R>,
    S::Response: Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: R) -> Self::Future {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => {
                let call = self.inner.call(request);
                Box::pin(async move {
                    let answer = call.await.map_err(Into::into);
                    drop(permit);
                    answer
                })
            }
            Err(_) => Box::pin(std::future::ready(Err(Overloaded::new().into()))),
        }
    }
}

/// Statuses for the stack's own failures, which tonic would call UNKNOWN (a 500); transport
/// failures get tonic's own mapping (UNAVAILABLE for a refused connection).
fn into_status(error: BoxError) -> tonic::Status {
    if error.is::<Overloaded>() {
        tonic::Status::unavailable("the service is busy; try again shortly")
    } else if error.is::<tower::timeout::error::Elapsed>() {
        tonic::Status::deadline_exceeded("the service did not answer in time")
    } else {
        tonic::Status::from_error(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_beyond_the_limit_fail_at_once_and_a_finished_call_frees_its_place() {
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let released = Arc::new(tokio::sync::Mutex::new(Some(released)));
        // `true` waits until released; `false` answers at once.
        let inner = tower::service_fn(move |waits: bool| {
            let released = released.clone();
            async move {
                if waits && let Some(released) = released.lock().await.take() {
                    let _ = released.await;
                }
                Ok::<_, BoxError>(waits)
            }
        });
        let mut service = ShedBeyondLayer::new(1).layer(inner);
        let held = service.call(true);
        let refused = service.clone().call(false).await.expect_err("beyond the limit");
        assert!(refused.is::<Overloaded>());
        assert_eq!(into_status(refused).code(), tonic::Code::Unavailable);
        release.send(()).expect("released");
        assert!(held.await.expect("answered"));
        assert!(!service.call(false).await.expect("a place again"));
    }

    #[test]
    fn reads_idempotent_and_keyed_writes_are_sent_again_and_nothing_else() {
        for read in [
            "/myaccount.identity.v1.IdentityService/GetMyProfile",
            "/myaccount.audit.v1.AuditService/ListMySignIns",
            "/myaccount.devices.v1.DevicesService/DescribeMyPersonalData",
            "/grpc.health.v1.Health/Check",
        ] {
            assert_eq!(resend_of(read), Resend::Read, "{read}");
        }
        for write in IDEMPOTENT_WRITES {
            assert_eq!(resend_of(write), Resend::Idempotent, "{write}");
        }
        for write in KEYED_WRITES {
            assert_eq!(resend_of(write), Resend::Keyed, "{write}");
        }
        for write in [
            "/myaccount.identity.v1.IdentityService/StartMfa",
            "/myaccount.audit.v1.AuditService/ExportMyData",
            "/myaccount.devices.v1.DevicesService/DeleteMyDevice",
            "/myaccount.securityinfo.v1.SecurityInfoService/VerifyMethod",
        ] {
            assert_eq!(resend_of(write), Resend::Never, "{write}");
        }
    }
}
