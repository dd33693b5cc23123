//! One tower stack in front of each service's gRPC channel, built once and shared by every
//! request: load shedding, a concurrency limit, a timeout over the whole call, and the retry of
//! a call whose replica went away (`platform::retry`), for the calls that are safe to send
//! again ([`resend_of`]).

use std::time::Duration;

use platform::retry::{Resend, RetryLayer, RetrySettings};
use tonic::body::Body;
use tonic::transport::Channel;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, ServiceBuilder};

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
/// attempt), load shedding, the concurrency limit, the timeout (the retries stay within it),
/// the retry.
pub fn stack(channel: Channel, settings: &ClientSettings) -> ServiceChannel {
    let service = ServiceBuilder::new()
        .map_err(into_status)
        .layer(platform::instrument::GrpcClientLayer)
        .load_shed()
        .concurrency_limit(settings.concurrency_limit.max(1))
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

#[cfg(test)]
mod tests {
    use super::*;

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
