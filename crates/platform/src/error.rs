//! Errors at the gRPC edge. Domain errors implement [`ServiceError`] to say which kind of
//! failure they are; [`to_status`] is the one place that turns a kind into a `tonic::Status`
//! (with field violations for bad input, retry info for throttling). Internal causes are logged
//! here, once, and never sent to the caller.

use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::revocation_reason::{REVOCATION_STATUS_UNKNOWN, RevocationReason, SESSION_REVOKED};

/// One invalid field of a request: `display_name`, `at most 256 characters`, and the stable
/// code of what is wrong (`TOO_LONG`; `google.rpc.BadRequest.FieldViolation.reason`), which
/// clients translate; empty where no code is given yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
    pub reason: String,
}

/// Stable codes of field violations: those `Violations` writes itself and those the services
/// share. The gateway writes each in the person's language (`field-<code>` in its catalogs, a
/// test checks every code in [`ALL`](violation_reason::ALL) has one), so a new code goes here.
pub mod violation_reason {
    pub const REQUIRED: &str = "REQUIRED";
    pub const TOO_LONG: &str = "TOO_LONG";
    pub const CONTROL_CHARACTERS: &str = "CONTROL_CHARACTERS";
    pub const INVALID_ID: &str = "INVALID_ID";
    /// An update names nothing to change.
    pub const NOTHING_TO_CHANGE: &str = "NOTHING_TO_CHANGE";
    /// A field or value is named twice.
    pub const LISTED_TWICE: &str = "LISTED_TWICE";
    /// An update names something that is not a setting the caller can change.
    pub const NOT_EDITABLE: &str = "NOT_EDITABLE";
    /// Not one of the values the field takes (an enum's unknown number, a type name).
    pub const UNKNOWN_VALUE: &str = "UNKNOWN_VALUE";
    /// A number outside the range the field allows.
    pub const OUT_OF_RANGE: &str = "OUT_OF_RANGE";
    /// A page token that is not from a previous page.
    pub const INVALID_PAGE_TOKEN: &str = "INVALID_PAGE_TOKEN";
    /// A time range whose start is not before its end.
    pub const START_AFTER_END: &str = "START_AFTER_END";
    /// A value this kind of request does not take (an organization's field on a personal device).
    pub const NOT_ALLOWED: &str = "NOT_ALLOWED";
    /// More items than the field allows.
    pub const TOO_MANY: &str = "TOO_MANY";
    pub const INVALID_URL: &str = "INVALID_URL";
    pub const INVALID_DOMAIN: &str = "INVALID_DOMAIN";
    pub const INVALID_EMAIL: &str = "INVALID_EMAIL";
    /// Not an E.164 phone number.
    pub const INVALID_PHONE: &str = "INVALID_PHONE";
    /// An office phone is called, never texted.
    pub const VOICE_ONLY: &str = "VOICE_ONLY";
    /// A BitLocker recovery key of the wrong shape (not 48 digits in 8 blocks).
    pub const INVALID_RECOVERY_KEY: &str = "INVALID_RECOVERY_KEY";
    /// A BitLocker recovery key with a block that fails its checksum: a typo.
    pub const RECOVERY_KEY_CHECKSUM: &str = "RECOVERY_KEY_CHECKSUM";
    /// A one-time code that is not the right one.
    pub const INCORRECT_CODE: &str = "INCORRECT_CODE";
    /// A security key's or passkey's answer that does not parse or verify.
    pub const SECURITY_KEY_NOT_VERIFIED: &str = "SECURITY_KEY_NOT_VERIFIED";

    /// Every code above.
    pub const ALL: [&str; 22] = [
        REQUIRED,
        TOO_LONG,
        CONTROL_CHARACTERS,
        INVALID_ID,
        NOTHING_TO_CHANGE,
        LISTED_TWICE,
        NOT_EDITABLE,
        UNKNOWN_VALUE,
        OUT_OF_RANGE,
        INVALID_PAGE_TOKEN,
        START_AFTER_END,
        NOT_ALLOWED,
        TOO_MANY,
        INVALID_URL,
        INVALID_DOMAIN,
        INVALID_EMAIL,
        INVALID_PHONE,
        VOICE_ONLY,
        INVALID_RECOVERY_KEY,
        RECOVERY_KEY_CHECKSUM,
        INCORRECT_CODE,
        SECURITY_KEY_NOT_VERIFIED,
    ];
}

impl From<myaccount_proto::InvalidId> for FieldViolation {
    fn from(e: myaccount_proto::InvalidId) -> Self {
        Self {
            description: e.description(),
            field: e.field,
            reason: violation_reason::INVALID_ID.to_owned(),
        }
    }
}

/// Collects every problem of a request before answering, so a caller can fix them all at once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.add_with_reason(field, "", description);
    }

    /// A violation with its stable code (`violation_reason`, or a service's own).
    pub fn add_with_reason(&mut self, field: impl Into<String>, reason: &str, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
            reason: reason.to_owned(),
        });
    }

    /// Checks length in characters and rejects control characters (a name or phone number never
    /// needs them; they corrupt logs and UIs).
    pub fn text(&mut self, field: &str, value: &str, max_chars: usize) {
        if value.chars().count() > max_chars {
            self.add_with_reason(
                field,
                violation_reason::TOO_LONG,
                format!("at most {max_chars} characters"),
            );
        } else if value.chars().any(char::is_control) {
            self.add_with_reason(
                field,
                violation_reason::CONTROL_CHARACTERS,
                "must not contain control characters",
            );
        }
    }

    /// The id in `field`, or `None` with the violation recorded.
    pub fn id(&mut self, field: &str, raw: &str) -> Option<uuid::Uuid> {
        myaccount_proto::parse_id(field, raw)
            .map_err(|e| self.0.push(e.into()))
            .ok()
    }

    pub fn required(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.add_with_reason(field, violation_reason::REQUIRED, "is required");
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many violations so far (a check tells whether it added one).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn into_result(self) -> Result<(), Vec<FieldViolation>> {
        if self.0.is_empty() { Ok(()) } else { Err(self.0) }
    }

    pub fn into_vec(self) -> Vec<FieldViolation> {
        self.0
    }
}

/// What kind of failure an error is, independent of transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidArgument(Vec<FieldViolation>),
    NotFound(String),
    AlreadyExists(String),
    FailedPrecondition(String),
    PermissionDenied(String),
    /// The change needs a recent multi-factor sign-in (step-up): PERMISSION_DENIED with an
    /// `ErrorInfo` whose reason is [`REAUTHENTICATION_REQUIRED`].
    ReauthenticationRequired(String),
    Unauthenticated(String),
    /// The caller's session ended: `UNAUTHENTICATED` with reason `SESSION_REVOKED`, as the auth
    /// layer answers once the revocation feed has it.
    SessionRevoked(RevocationReason),
    /// The session ended by itself (`reason`: `idle_timeout`, `max_lifetime`): `UNAUTHENTICATED`
    /// with reason `SESSION_EXPIRED`.
    SessionExpired {
        reason: &'static str,
        message: String,
    },
    ResourceExhausted {
        message: String,
        retry_after: Option<Duration>,
    },
    Unavailable(String),
    /// The idempotency key of a keyed call was used before by another caller or for another
    /// request (`platform::idempotency`): `FAILED_PRECONDITION` with reason
    /// [`IDEMPOTENCY_KEY_REUSED`].
    IdempotencyKeyReused(String),
    /// An earlier attempt of the same keyed call committed first: its answer stands, and
    /// `platform::idempotency::answer_once` sends it. Only seen outside that as `ABORTED`.
    AnsweredBefore,
    /// A bug or an infrastructure failure; the caller only learns that something went wrong.
    Internal,
}

pub trait ServiceError: std::error::Error {
    fn kind(&self) -> ErrorKind;
}

/// Maps a domain error to the status sent to the caller.
pub fn to_status<E: ServiceError>(error: E) -> Status {
    status_of(&error)
}

/// [`to_status`] of a borrowed error (a keyed call records the answer it also returns).
pub fn status_of<E: ServiceError>(error: &E) -> Status {
    match error.kind() {
        ErrorKind::InvalidArgument(violations) => invalid_argument(violations),
        ErrorKind::NotFound(m) => Status::not_found(m),
        ErrorKind::AlreadyExists(m) => Status::already_exists(m),
        ErrorKind::FailedPrecondition(m) => Status::failed_precondition(m),
        ErrorKind::PermissionDenied(m) => Status::permission_denied(m),
        ErrorKind::ReauthenticationRequired(m) => reauthentication_required(m),
        ErrorKind::Unauthenticated(m) => Status::unauthenticated(m),
        ErrorKind::SessionRevoked(reason) => revoked_status(reason),
        ErrorKind::SessionExpired { reason, message } => session_expired(reason, message),
        ErrorKind::ResourceExhausted { message, retry_after } => {
            let details = ErrorDetails::with_retry_info(retry_after);
            Status::with_error_details(Code::ResourceExhausted, message, details)
        }
        ErrorKind::Unavailable(m) => Status::unavailable(m),
        ErrorKind::IdempotencyKeyReused(m) => {
            let details =
                ErrorDetails::with_error_info(IDEMPOTENCY_KEY_REUSED, ERROR_DOMAIN, std::collections::HashMap::new());
            Status::with_error_details(Code::FailedPrecondition, m, details)
        }
        ErrorKind::AnsweredBefore => Status::aborted(
            "an earlier attempt of this call was answered first; send it again with the same idempotency key",
        ),
        // The database away (down, restarting, failing over, out of connections) is not a bug:
        // the same call succeeds once it is back, so the caller hears "try again", never 500.
        ErrorKind::Internal if caused_by_database_outage(error) => {
            tracing::warn!(error = %error_chain(error), "database unavailable");
            Status::unavailable(DATABASE_UNAVAILABLE)
        }
        ErrorKind::Internal => {
            tracing::error!(error = %error_chain(error), "internal error");
            Status::internal("internal error")
        }
    }
}

/// The message of a call that failed because the service's database is unavailable.
pub const DATABASE_UNAVAILABLE: &str = "the service cannot reach its database right now; try again shortly";

/// Whether a sqlx error of the infrastructure's ([`crate::db::is_infrastructure_error`]) is
/// among the causes of `error`.
fn caused_by_database_outage(error: &dyn std::error::Error) -> bool {
    let mut source = error.source();
    while let Some(cause) = source {
        if cause
            .downcast_ref::<sqlx::Error>()
            .is_some_and(crate::db::is_infrastructure_error)
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// `ErrorInfo.reason` of a step-up refusal.
pub const REAUTHENTICATION_REQUIRED: &str = "REAUTHENTICATION_REQUIRED";
/// `ErrorInfo.domain` of MyAccount's own reasons.
pub const ERROR_DOMAIN: &str = "myaccount";

/// `ErrorInfo.reason` of a session that ended by itself (idle timeout, maximum lifetime).
pub const SESSION_EXPIRED: &str = "SESSION_EXPIRED";

/// `UNAUTHENTICATED` with reason [`SESSION_REVOKED`] and the revocation's code: the answer to
/// a token whose access was revoked.
pub fn revoked_status(reason: RevocationReason) -> Status {
    let metadata = std::collections::HashMap::from([("reason".to_owned(), reason.code().to_owned())]);
    let details = ErrorDetails::with_error_info(SESSION_REVOKED, ERROR_DOMAIN, metadata);
    Status::with_error_details(
        Code::Unauthenticated,
        format!("this session was ended ({}); sign in again", reason.code()),
        details,
    )
}

/// `UNAVAILABLE` with reason [`REVOCATION_STATUS_UNKNOWN`]: a sensitive operation refused while
/// this process cannot know that the token was not revoked.
pub fn revocation_status_unknown() -> Status {
    let details = ErrorDetails::with_error_info(
        REVOCATION_STATUS_UNKNOWN,
        ERROR_DOMAIN,
        std::collections::HashMap::new(),
    );
    Status::with_error_details(
        Code::Unavailable,
        "this operation is unavailable for a moment: whether your session is still valid cannot be checked; try again shortly",
        details,
    )
}

/// `UNAUTHENTICATED` for a session that ended by itself; `why` (`idle_timeout`,
/// `max_lifetime`) travels as the `reason` metadata, so a client can say which.
pub fn session_expired(why: &str, message: impl Into<String>) -> Status {
    let metadata = std::collections::HashMap::from([("reason".to_owned(), why.to_owned())]);
    let details = ErrorDetails::with_error_info(SESSION_EXPIRED, ERROR_DOMAIN, metadata);
    Status::with_error_details(Code::Unauthenticated, message, details)
}

/// Why the session ended, when `status` is a [`session_expired`] answer.
pub fn session_expired_reason(status: &Status) -> Option<String> {
    let details = status.get_error_details();
    let info = details.error_info()?;
    (status.code() == Code::Unauthenticated && info.reason == SESSION_EXPIRED && info.domain == ERROR_DOMAIN)
        .then(|| info.metadata.get("reason").cloned().unwrap_or_default())
}

/// `ErrorInfo.reason` of a keyed call whose idempotency key was used before by another caller
/// or for another request.
pub const IDEMPOTENCY_KEY_REUSED: &str = "IDEMPOTENCY_KEY_REUSED";

/// Whether a status refuses a reused idempotency key (for clients such as the gateway).
pub fn is_idempotency_key_reused(status: &Status) -> bool {
    status.code() == Code::FailedPrecondition
        && status
            .get_error_details()
            .error_info()
            .is_some_and(|info| info.reason == IDEMPOTENCY_KEY_REUSED && info.domain == ERROR_DOMAIN)
}

/// `ErrorInfo.reason` of a change refused to a read-only (app password) session.
pub const INTERACTIVE_SIGN_IN_REQUIRED: &str = "INTERACTIVE_SIGN_IN_REQUIRED";

/// `PERMISSION_DENIED` for a read-only (app password) session asking for a change: only an
/// interactive sign-in with the account's password may make it.
pub fn interactive_sign_in_required(message: impl Into<String>) -> Status {
    let details = ErrorDetails::with_error_info(
        INTERACTIVE_SIGN_IN_REQUIRED,
        ERROR_DOMAIN,
        std::collections::HashMap::new(),
    );
    Status::with_error_details(Code::PermissionDenied, message, details)
}

/// Whether a status is the refusal of [`interactive_sign_in_required`].
pub fn is_interactive_sign_in_required(status: &Status) -> bool {
    status.code() == Code::PermissionDenied
        && status
            .get_error_details()
            .error_info()
            .is_some_and(|info| info.reason == INTERACTIVE_SIGN_IN_REQUIRED && info.domain == ERROR_DOMAIN)
}

/// `PERMISSION_DENIED` that tells the client to sign in again with a second factor.
pub fn reauthentication_required(message: impl Into<String>) -> Status {
    let details = ErrorDetails::with_error_info(
        REAUTHENTICATION_REQUIRED,
        ERROR_DOMAIN,
        std::collections::HashMap::new(),
    );
    Status::with_error_details(Code::PermissionDenied, message, details)
}

/// Whether a status is a step-up refusal (for clients such as the gateway).
pub fn is_reauthentication_required(status: &Status) -> bool {
    status.code() == Code::PermissionDenied
        && status
            .get_error_details()
            .error_info()
            .is_some_and(|info| info.reason == REAUTHENTICATION_REQUIRED && info.domain == ERROR_DOMAIN)
}

/// `INVALID_ARGUMENT` with a `BadRequest` detail listing every field violation.
pub fn invalid_argument(violations: Vec<FieldViolation>) -> Status {
    let message = violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ");
    let mut details = ErrorDetails::new();
    let violations: Vec<tonic_types::FieldViolation> = violations
        .into_iter()
        .map(|v| tonic_types::FieldViolation {
            field: v.field,
            description: v.description,
            reason: v.reason,
            localized_message: None,
        })
        .collect();
    details.set_bad_request(violations);
    Status::with_error_details(Code::InvalidArgument, message, details)
}

/// The id in a request's `field`; a malformed one is `INVALID_ARGUMENT` naming the field.
pub fn request_id(field: &str, raw: &str) -> Result<uuid::Uuid, Status> {
    myaccount_proto::parse_id(field, raw).map_err(|e| invalid_argument(vec![e.into()]))
}

/// The field violations carried by a status, if any (for clients such as the gateway).
pub fn field_violations(status: &Status) -> Vec<FieldViolation> {
    status
        .get_error_details()
        .bad_request()
        .map(|br| {
            br.field_violations
                .iter()
                .map(|v| FieldViolation {
                    field: v.field.clone(),
                    description: v.description.clone(),
                    reason: v.reason.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The retry delay carried by a status, if any.
pub fn retry_after(status: &Status) -> Option<Duration> {
    status.get_error_details().retry_info().and_then(|r| r.retry_delay)
}

/// `error: cause: cause`, for one log line.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum StoreFailure {
        #[error("storage failed: {0}")]
        Database(#[from] sqlx::Error),
    }

    impl ServiceError for StoreFailure {
        fn kind(&self) -> ErrorKind {
            ErrorKind::Internal
        }
    }

    #[test]
    fn a_database_outage_is_unavailable_and_a_bug_stays_internal() {
        let outages = [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset)),
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)),
        ];
        for outage in outages {
            let status = to_status(StoreFailure::from(outage));
            assert_eq!(status.code(), Code::Unavailable);
            assert_eq!(status.message(), DATABASE_UNAVAILABLE);
        }
        let bug = to_status(StoreFailure::from(sqlx::Error::RowNotFound));
        assert_eq!(bug.code(), Code::Internal);
        assert_eq!(bug.message(), "internal error");
    }

    #[test]
    fn violations_round_trip_through_a_status() {
        let mut v = Violations::new();
        v.text("display_name", &"x".repeat(300), 256);
        v.required("user_principal_name", " ");
        let status = invalid_argument(v.into_vec());
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "display_name: at most 256 characters; user_principal_name: is required"
        );
        let back = field_violations(&status);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].field, "display_name");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("store failed")]
    struct Broken(#[source] std::io::Error);
    impl ServiceError for Broken {
        fn kind(&self) -> ErrorKind {
            ErrorKind::Internal
        }
    }

    #[test]
    fn internal_errors_do_not_leak() {
        let status = to_status(Broken(std::io::Error::other("relation \"users\" does not exist")));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("slow down")]
    struct Throttled;
    impl ServiceError for Throttled {
        fn kind(&self) -> ErrorKind {
            ErrorKind::ResourceExhausted {
                message: "slow down".into(),
                retry_after: Some(Duration::from_secs(4)),
            }
        }
    }

    #[test]
    fn throttling_carries_retry_after() {
        let status = to_status(Throttled);
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(retry_after(&status), Some(Duration::from_secs(4)));
    }
}
