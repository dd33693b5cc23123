//! RFC 9457 problem details: every error the gateway answers, including the services' gRPC
//! statuses, which are mapped here and nowhere else.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tonic::Code;

/// One invalid input field, named in the request's JSON casing.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// RFC 9457 problem details, sent as `application/problem+json`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// `urn:myaccount:problem:<slug>`, e.g. `urn:myaccount:problem:validation-error`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Every invalid field, for `validation-error`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Why the session ended, for `session-revoked`: `signed_out_everywhere`,
    /// `device_disabled`, `not_me`, `password_changed`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub reason: Option<Box<str>>,
    #[serde(skip)]
    /// Whole seconds for `Retry-After` (rounded up, at least 1).
    retry_after_secs: Option<u32>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:myaccount:problem:{slug}"),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            reason: None,
            retry_after_secs: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        let mut p = Self::new(StatusCode::BAD_REQUEST, "validation-error", detail);
        p.errors = errors;
        p
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    /// 429 with `Retry-After` (whole seconds, at least 1).
    pub fn too_many_requests(detail: impl Into<String>, retry_after: Duration) -> Self {
        let mut p = Self::new(StatusCode::TOO_MANY_REQUESTS, "too-many-requests", detail);
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        p.retry_after_secs = Some(u32::try_from(secs.max(1)).unwrap_or(u32::MAX));
        p
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Maps a service's answer. Messages of client errors are written for the caller and pass
    /// through; server-side failures become generic.
    pub fn from_status(status: &tonic::Status) -> Self {
        let message = status.message().to_owned();
        match status.code() {
            Code::InvalidArgument | Code::OutOfRange => {
                let errors: Vec<FieldError> = platform::error::field_violations(status)
                    .into_iter()
                    .map(|v| FieldError {
                        field: camel_case_path(&v.field),
                        message: v.description,
                    })
                    .collect();
                if errors.is_empty() {
                    Self::bad_request(message)
                } else {
                    Self::validation(errors)
                }
            }
            Code::Unauthenticated => {
                if let Some(reason) = platform::revocation::revoked_reason(status) {
                    let mut p = Self::new(StatusCode::UNAUTHORIZED, "session-revoked", message);
                    p.reason = Some(reason.into_boxed_str());
                    p
                } else if let Some(reason) = platform::error::session_expired_reason(status) {
                    let mut p = Self::new(StatusCode::UNAUTHORIZED, "session-expired", message);
                    p.reason = Some(reason.into_boxed_str());
                    p
                } else {
                    Self::unauthenticated(message)
                }
            }
            Code::Unavailable if platform::revocation::is_status_unknown(status) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "revocation-status-unknown", message)
            }
            Code::PermissionDenied if platform::error::is_reauthentication_required(status) => {
                Self::new(StatusCode::FORBIDDEN, "reauthentication-required", message)
            }
            Code::PermissionDenied if platform::error::is_interactive_sign_in_required(status) => {
                Self::new(StatusCode::FORBIDDEN, "interactive-sign-in-required", message)
            }
            Code::PermissionDenied => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            Code::NotFound => Self::not_found(message),
            Code::AlreadyExists => Self::new(StatusCode::CONFLICT, "already-exists", message),
            Code::Aborted => Self::new(StatusCode::CONFLICT, "conflict", message),
            // draft-ietf-httpapi-idempotency-key-header: a key used for another request is 422.
            Code::FailedPrecondition if platform::error::is_idempotency_key_reused(status) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency-key-reused", message)
            }
            Code::FailedPrecondition => Self::new(StatusCode::BAD_REQUEST, "failed-precondition", message),
            Code::ResourceExhausted => Self::too_many_requests(
                message,
                platform::error::retry_after(status).unwrap_or(Duration::from_secs(1)),
            ),
            Code::DeadlineExceeded => Self::new(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                "a service did not answer in time; try again",
            ),
            // The connection to the service broke under the call (a replica that died): the
            // service is unavailable, not failing; the client may try again.
            Code::Unknown if is_broken_connection(status) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "a service is unavailable; try again shortly",
            ),
            Code::Unavailable | Code::Cancelled => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "a service is unavailable; try again shortly",
            ),
            Code::Unimplemented => Self::new(StatusCode::NOT_IMPLEMENTED, "not-implemented", message),
            _ => {
                tracing::error!(code = ?status.code(), message = %status.message(), "service failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side",
                )
            }
        }
    }
}

/// Whether the call failed in the transport (the connection to the service broke) rather than
/// in the service: tonic reports that as UNKNOWN with the transport error as its source.
fn is_broken_connection(status: &tonic::Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(cause) = source {
        if cause.downcast_ref::<tonic::transport::Error>().is_some() {
            return true;
        }
        source = cause.source();
    }
    false
}

impl From<tonic::Status> for Problem {
    fn from(status: tonic::Status) -> Self {
        Self::from_status(&status)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = self.retry_after_secs;
        let www_authenticate = status == StatusCode::UNAUTHORIZED;
        let mut response = (status, Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            headers.insert(header::RETRY_AFTER, v);
        }
        if www_authenticate {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// `client.ip_address` -> `client.ipAddress`: service field names in the JSON casing.
pub fn camel_case_path(path: &str) -> String {
    path.split('.').map(camel_case).collect::<Vec<_>>().join(".")
}

fn camel_case(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    let mut upper = false;
    for c in segment.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_become_camel_case() {
        assert_eq!(camel_case_path("display_name"), "displayName");
        assert_eq!(camel_case_path("client.ip_address"), "client.ipAddress");
        assert_eq!(camel_case_path("username"), "username");
    }

    #[test]
    fn a_step_up_refusal_is_its_own_problem_type() {
        let status = platform::error::reauthentication_required("sign in again with a second factor");
        let p = Problem::from_status(&status);
        assert_eq!(p.status, 403);
        assert_eq!(p.kind, "urn:myaccount:problem:reauthentication-required");
        let plain = Problem::from_status(&tonic::Status::permission_denied("needs the admin scope"));
        assert_eq!(plain.kind, "urn:myaccount:problem:forbidden");
    }

    #[test]
    fn internal_statuses_do_not_leak() {
        let p = Problem::from_status(&tonic::Status::internal("relation users does not exist"));
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("relation"));
    }
}
