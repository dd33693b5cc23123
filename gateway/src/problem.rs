//! RFC 9457 problem details: every error the gateway answers, including the services' gRPC
//! statuses, which are mapped here and nowhere else. Each problem has a stable `code`, and each
//! invalid field the reason code the service gave; [`localize`] writes title, detail and field
//! messages in the person's language from the catalogs (`crate::i18n`).

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tonic::Code;

use crate::i18n::{self, Catalog};

/// Every problem code the gateway answers (the slug of `type`): each has a title and a detail
/// in every catalog (`problem-<code>`, `problem-<code>-detail`).
pub const CODES: [&str; 24] = [
    "bad-request",
    "validation-error",
    "failed-precondition",
    "already-exists",
    "conflict",
    "forbidden",
    "interactive-sign-in-required",
    "reauthentication-required",
    "not-found",
    "not-implemented",
    "revocation-status-unknown",
    "too-many-requests",
    "session-expired",
    "session-revoked",
    "unauthenticated",
    "idempotency-key-reused",
    "internal",
    "method-not-allowed",
    "payload-too-large",
    "timeout",
    "unavailable",
    "csrf-token-invalid",
    "export-incomplete",
    "unsupported-media-type",
];

/// Field reason codes of identity, organizations' terms of use and the gateway with a message of
/// their own in every catalog (`field-<reason>`), besides the shared ones of `platform::error::violation_reason::ALL`;
/// others are written as `field-invalid` outside English.
pub const FIELD_REASONS: [&str; 15] = [
    "INVALID",
    "REQUIRED",
    "TOO_LONG",
    "CONTROL_CHARACTERS",
    "INVALID_ID",
    "NOT_EDITABLE",
    "LISTED_TWICE",
    "NOTHING_TO_CHANGE",
    "NOT_A_STRING",
    "INVALID_PHONE",
    "INVALID_LANGUAGE_TAG",
    "INVALID_TIME_ZONE",
    "NOT_HTTPS_URL",
    "TERMS_VERSION_REQUIRED",
    "TERMS_URL_REQUIRED",
];

/// `INVALID_TIME_ZONE` -> `field-invalid-time-zone`.
pub fn field_message_id(reason: &str) -> String {
    format!("field-{}", reason.to_ascii_lowercase().replace('_', "-"))
}

/// One invalid input field, named in the request's JSON casing.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    /// The stable code of what is wrong (`INVALID_TIME_ZONE`, `REQUIRED`), when the check that
    /// refused it gives one; `message` is its sentence in the person's language.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub code: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            code: String::new(),
        }
    }

    pub fn coded(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            ..Self::new(field, message)
        }
    }
}

/// RFC 9457 problem details, sent as `application/problem+json`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// `urn:myaccount:problem:<slug>`, e.g. `urn:myaccount:problem:validation-error`.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: Box<str>,
    /// The problem's stable code, the slug of `type` (`validation-error`): what a program
    /// tells problems apart by, while `title` and `detail` are written for the person, in their
    /// language (`Content-Language`).
    #[schema(value_type = String)]
    pub code: Box<str>,
    // Boxed strings: a problem is the error type of every handler, kept small enough to move.
    #[schema(value_type = String)]
    pub title: Box<str>,
    pub status: u16,
    #[schema(value_type = String)]
    pub detail: Box<str>,
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
            kind: format!("urn:myaccount:problem:{slug}").into(),
            code: slug.into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into().into(),
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
                        code: v.reason,
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

/// The problem written in a catalog's language: the title by its code; outside English the
/// detail by its code and each field message by its reason code (or the general
/// `field-invalid`). English keeps the specific sentences of the service or the gateway.
pub fn localize(mut problem: Problem, catalog: &Catalog) -> Problem {
    let code = problem.code.clone();
    if let Some(title) = catalog.message(&format!("problem-{code}"), &[]) {
        problem.title = title.into();
    }
    // English keeps the services' own sentences, which say more ("at most 64 characters").
    for error in problem.errors.iter_mut().filter(|_| !catalog.is_fallback()) {
        let by_code = if error.code.is_empty() {
            None
        } else {
            catalog.message(&field_message_id(&error.code), &[])
        };
        error.message = by_code
            .or_else(|| catalog.message("field-invalid", &[]))
            .unwrap_or_default();
    }
    if !catalog.is_fallback()
        && let Some(detail) = catalog.message(&format!("problem-{code}-detail"), &[])
    {
        problem.detail = detail.into();
    }
    problem
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let problem = localize(self, i18n::catalogs().fallback());
        let mut response = problem.clone().into_english_response();
        response.extensions_mut().insert(problem);
        response
    }
}

impl Problem {
    fn into_english_response(self) -> Response {
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
        assert_eq!(&*p.kind, "urn:myaccount:problem:reauthentication-required");
        let plain = Problem::from_status(&tonic::Status::permission_denied("needs the admin scope"));
        assert_eq!(&*plain.kind, "urn:myaccount:problem:forbidden");
    }

    #[test]
    fn problems_are_written_in_a_catalog_s_language_by_their_codes() {
        let mut violations = platform::error::Violations::new();
        violations.add_with_reason("time_zone", "INVALID_TIME_ZONE", "must be an IANA time zone");
        violations.add("nickname", "a check without a code yet");
        let problem = Problem::from_status(&platform::error::invalid_argument(violations.into_vec()));
        assert_eq!(&*problem.code, "validation-error");
        assert_eq!(problem.errors[0].code, "INVALID_TIME_ZONE");
        assert_eq!(problem.errors[0].field, "timeZone");

        let english = localize(problem.clone(), i18n::catalogs().fallback());
        assert_eq!(&*english.title, "Some fields are not valid");
        assert_eq!(
            english.errors[0].message, "must be an IANA time zone",
            "English keeps the service's words"
        );

        let french = localize(problem, i18n::catalogs().choose(None, Some("fr")));
        assert_eq!(&*french.title, "Certains champs ne sont pas valides");
        assert_eq!(&*french.detail, "Corrigez les champs signalés et réessayez.");
        assert_eq!(
            french.errors[0].message,
            "Choisissez un fuseau horaire tel que Europe/Paris."
        );
        assert_eq!(french.errors[1].message, "Cette valeur n’est pas valide.");
        assert_eq!(
            (french.status, &*french.kind),
            (400, "urn:myaccount:problem:validation-error")
        );
    }

    #[test]
    fn every_problem_code_and_field_reason_has_its_messages() {
        for language in i18n::LANGUAGES {
            let catalog = i18n::catalogs().get(language);
            assert_eq!(catalog.language(), language, "{language} is loaded");
            for code in CODES {
                for id in [format!("problem-{code}"), format!("problem-{code}-detail")] {
                    assert!(catalog.message(&id, &[]).is_some(), "{language}: {id}");
                }
            }
            for reason in FIELD_REASONS
                .iter()
                .chain(platform::error::violation_reason::ALL.iter())
            {
                let id = field_message_id(reason);
                assert!(catalog.message(&id, &[]).is_some(), "{language}: {id}");
            }
        }
    }

    /// The services whose field violations all carry a code of `violation_reason` (and so a
    /// message in every language): no violation of theirs is written without one.
    const SERVICES_WITH_CODED_VIOLATIONS: [&str; 4] = ["audit", "devices", "organizations", "security-info"];

    #[test]
    fn every_field_violation_of_audit_devices_organizations_and_security_info_has_a_code() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../services");
        let mut uncoded = Vec::new();
        let mut files = 0;
        for service in SERVICES_WITH_CODED_VIOLATIONS {
            let src = root.join(service).join("src");
            let mut dirs = vec![src];
            while let Some(dir) = dirs.pop() {
                for entry in std::fs::read_dir(&dir).expect("service sources are readable") {
                    let path = entry.expect("a directory entry").path();
                    if path.is_dir() {
                        dirs.push(path);
                        continue;
                    }
                    if path.extension().is_none_or(|e| e != "rs") {
                        continue;
                    }
                    files += 1;
                    let source = std::fs::read_to_string(&path).expect("a source file");
                    // Only the service's own code: unit tests may build violations as they like.
                    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
                    for (number, line) in code.lines().enumerate() {
                        let reasonless = line.contains("v.add(")
                            || line.contains("violations.add(")
                            || line.contains("reason: String::new()")
                            || line.contains("reason: \"\"");
                        if reasonless {
                            uncoded.push(format!("{}:{}: {}", path.display(), number + 1, line.trim()));
                        }
                    }
                }
            }
        }
        assert!(files > 20, "the services' sources are found: {files} files");
        assert!(uncoded.is_empty(), "field violations without a code: {uncoded:#?}");
    }

    #[test]
    fn the_services_codes_are_written_in_german_and_french() {
        let mut violations = platform::error::Violations::new();
        violations.add_with_reason(
            "code",
            platform::error::violation_reason::INCORRECT_CODE,
            "is incorrect",
        );
        let problem = Problem::from_status(&platform::error::invalid_argument(violations.into_vec()));
        let german = localize(problem.clone(), i18n::catalogs().get("de"));
        assert_eq!(
            german.errors[0].message,
            "Dieser Code ist nicht richtig. Überprüfen Sie ihn, und versuchen Sie es erneut."
        );
        let french = localize(problem, i18n::catalogs().get("fr"));
        assert_eq!(
            french.errors[0].message,
            "Ce code n’est pas correct. Vérifiez-le et réessayez."
        );
    }

    #[test]
    fn internal_statuses_do_not_leak() {
        let p = Problem::from_status(&tonic::Status::internal("relation users does not exist"));
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("relation"));
    }
}
