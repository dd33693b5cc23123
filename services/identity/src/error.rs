//! The errors of identity's use cases; the gRPC edge maps each to one status code through
//! `platform::error::ServiceError`.

use std::time::Duration;

use platform::auth::AuthError;
use platform::error::{ErrorKind, FieldViolation, ServiceError};
use platform::idempotency::IdempotencyError;
use uuid::Uuid;

use crate::domain::{RevocationReason, SessionExpiry};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("the user name or password is incorrect")]
    InvalidCredentials,
    #[error("this account is disabled; contact your organization's administrator")]
    AccountDisabled,
    #[error("too many failed sign-in attempts; try again in {} seconds", whole_seconds(*retry_after))]
    Throttled { retry_after: Duration },
    #[error("the refresh token is invalid, expired or already used; sign in again")]
    InvalidRefreshToken,
    #[error("this session has ended; sign in again")]
    SessionEnded,
    #[error("{}; sign in again", match .0 {
        SessionExpiry::IdleTimeout => "this session ended after a time without activity",
        SessionExpiry::MaxLifetime => "this session reached its maximum length",
    })]
    SessionExpired(SessionExpiry),
    #[error("user {0} not found")]
    UserNotFound(Uuid),
    #[error("a user named {0} already exists")]
    DuplicateUser(String),
    #[error("storage failed")]
    Store(#[from] StoreError),
    #[error("database failed")]
    Database(#[from] sqlx::Error),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("token signing failed")]
    Signing(#[from] AuthError),
    #[error("the sign-in challenge is invalid or already answered; sign in again")]
    ChallengeInvalid,
    #[error("the sign-in challenge has expired; sign in again with your password")]
    ChallengeExpired,
    #[error("too many wrong answers to this sign-in challenge; sign in again")]
    MfaTooManyAttempts,
    #[error("the code or security key answer is not right")]
    SecondFactorIncorrect,
    #[error("this code was already used; wait for the next code")]
    SecondFactorReplayed,
    #[error("the code has expired; ask for a new one")]
    SecondFactorExpired,
    #[error("method {0} is not one of your sign-in methods")]
    MethodNotFound(String),
    #[error("second factors cannot be checked right now; try again shortly")]
    SecondFactorsUnavailable,
    /// security-info cannot use this method now (a phone without an SMS or voice provider): its
    /// own words, which say what to use instead.
    #[error("{0}")]
    MethodUnavailable(String),
    #[error("security-info call failed: {0}")]
    SecurityInfo(tonic::Status),
    #[error(
        "you are not a member of organization {0}; sign in to your home organization or accept an invitation first"
    )]
    NotAMember(Uuid),
    #[error("this account must choose a new password first; sign in with your password in a browser")]
    PasswordChangeNeedsInteractiveSignIn,
    #[error("the password change ticket is invalid, expired or already used; sign in again")]
    ChangeTicketInvalid,
    #[error("this session was ended ({}); sign in again", .0.code())]
    SessionRevoked(RevocationReason),
    #[error("this device was disabled; sign in from another device, or ask an administrator to enable it")]
    DeviceDisabled,
    #[error("the registration token is invalid, expired or already used; sign in again")]
    MfaRegistrationInvalid,
    /// Another organization, to an admin: not found, so existence does not leak.
    #[error("organization {0} not found")]
    OrganizationNotFound(String),
    /// The step-up refusal (`Caller::require_recent_mfa`'s message).
    #[error("{0}")]
    ReauthenticationRequired(String),
    #[error(
        "no sign-in method added with this registration token has been verified yet: add an authenticator app, phone, email or security key and verify it, then finish signing in"
    )]
    MfaRegistrationIncomplete,
    /// A keyed call: its key refused, or answered before by an attempt that committed first.
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    #[error("this password reset does not exist or is already finished; start again")]
    ResetNotFound,
    #[error("this password reset has expired (it lasts 15 minutes); start again")]
    ResetExpired,
    #[error("prove {0} more of your sign-in methods before choosing a new password")]
    ResetMethodsMissing(i32),
    #[error("too many wrong answers to this password reset; start again")]
    ResetTooManyAttempts,
    #[error("this passkey is not registered to an account here (it may have been removed); sign in another way")]
    PasskeyNotRecognized,
    #[error("the passkey's answer did not verify; try again")]
    PasskeyIncorrect,
    #[error("this passkey sign-in has expired (it lasts 5 minutes); start again")]
    PasskeyChallengeExpired,
}

impl ServiceError for IdentityError {
    fn kind(&self) -> ErrorKind {
        match self {
            IdentityError::Invalid(v) => ErrorKind::InvalidArgument(v.clone()),
            IdentityError::InvalidCredentials | IdentityError::InvalidRefreshToken | IdentityError::SessionEnded => {
                ErrorKind::Unauthenticated(self.to_string())
            }
            IdentityError::AccountDisabled
            | IdentityError::DeviceDisabled
            | IdentityError::NotAMember(_)
            | IdentityError::PasswordChangeNeedsInteractiveSignIn => ErrorKind::PermissionDenied(self.to_string()),
            IdentityError::ChangeTicketInvalid | IdentityError::MfaRegistrationInvalid => {
                ErrorKind::Unauthenticated(self.to_string())
            }
            IdentityError::MfaRegistrationIncomplete
            | IdentityError::ResetExpired
            | IdentityError::ResetMethodsMissing(_)
            | IdentityError::MethodUnavailable(_) => ErrorKind::FailedPrecondition(self.to_string()),
            IdentityError::Idempotency(e) => e.kind(),
            IdentityError::ResetNotFound => ErrorKind::NotFound(self.to_string()),
            IdentityError::ResetTooManyAttempts => ErrorKind::ResourceExhausted {
                message: self.to_string(),
                retry_after: None,
            },
            IdentityError::SessionRevoked(reason) => ErrorKind::SessionRevoked(*reason),
            IdentityError::SessionExpired(expiry) => ErrorKind::SessionExpired {
                reason: expiry.code(),
                message: self.to_string(),
            },
            IdentityError::Throttled { retry_after } => ErrorKind::ResourceExhausted {
                message: self.to_string(),
                retry_after: Some(*retry_after),
            },
            IdentityError::UserNotFound(_) | IdentityError::OrganizationNotFound(_) => {
                ErrorKind::NotFound(self.to_string())
            }
            IdentityError::ReauthenticationRequired(m) => ErrorKind::ReauthenticationRequired(m.clone()),
            IdentityError::DuplicateUser(_) => ErrorKind::AlreadyExists(self.to_string()),
            IdentityError::Store(StoreError::DuplicateUser(upn)) => {
                ErrorKind::AlreadyExists(format!("a user named {upn} already exists"))
            }
            IdentityError::ChallengeInvalid
            | IdentityError::PasskeyNotRecognized
            | IdentityError::PasskeyIncorrect
            | IdentityError::PasskeyChallengeExpired
            | IdentityError::ChallengeExpired
            | IdentityError::SecondFactorIncorrect
            | IdentityError::SecondFactorReplayed
            | IdentityError::SecondFactorExpired => ErrorKind::Unauthenticated(self.to_string()),
            IdentityError::MfaTooManyAttempts => ErrorKind::ResourceExhausted {
                message: self.to_string(),
                retry_after: None,
            },
            IdentityError::MethodNotFound(_) => ErrorKind::NotFound(self.to_string()),
            IdentityError::SecondFactorsUnavailable => ErrorKind::Unavailable(self.to_string()),
            IdentityError::SecurityInfo(status) if status.code() == tonic::Code::Unavailable => {
                ErrorKind::Unavailable(IdentityError::SecondFactorsUnavailable.to_string())
            }
            IdentityError::Store(_)
            | IdentityError::Database(_)
            | IdentityError::Hashing(_)
            | IdentityError::Signing(_)
            | IdentityError::SecurityInfo(_) => ErrorKind::Internal,
        }
    }
}

/// A wait in whole seconds, rounded up (a caller who waits that long is let in), at least one.
pub fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}
