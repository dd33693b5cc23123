//! What ends access, spelled once: the reasons of a revocation and their codes, the `ErrorInfo`
//! reasons of a refused token, and how long a revocation matters. A leaf: the error mapping,
//! the event streams and the revocation feed all build on it.

use std::time::Duration;

/// How long a revocation matters: the longest access token lifetime identity allows (1 h) plus
/// the verifiers' leeway, with room to spare. The stream keeps events this long.
pub const HORIZON: Duration = Duration::from_secs(3600 + 5 * 60);

/// `ErrorInfo.reason` of a token refused because its access was revoked.
pub const SESSION_REVOKED: &str = "SESSION_REVOKED";
/// `ErrorInfo.reason` of a sensitive operation refused while the feed is not known current.
pub const REVOCATION_STATUS_UNKNOWN: &str = "REVOCATION_STATUS_UNKNOWN";

/// Why access ended: the stable codes of `AccessRevoked.reason` (and of identity's
/// `session_revoked`), spelled once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationReason {
    /// The person signed out of this session.
    SignedOut,
    /// The person ended this session from their sessions page.
    RevokedByUser,
    /// The person signed out everywhere else.
    OtherSessionsRevoked,
    /// The person signed out everywhere.
    SignedOutEverywhere,
    /// A password change ended the other sessions.
    PasswordChanged,
    /// The device was disabled (reported lost).
    DeviceDisabled,
    /// The person reported a sign-in as not theirs.
    ReportedNotMe,
    /// The person reset their password ("Forgot my password?"): whoever held a session may
    /// have known the old one.
    PasswordReset,
    /// A spent refresh token came back: someone holds a copy.
    RefreshTokenReuse,
    /// The person left the guest organization the session acted in.
    LeftOrganization,
    /// An admin removed the person from the guest organization the session acted in.
    RemovedFromOrganization,
    AccountDeleted,
    AccountDisabled,
}

const REASONS: [(RevocationReason, &str); 13] = [
    (RevocationReason::SignedOut, "signed_out"),
    (RevocationReason::RevokedByUser, "revoked_by_user"),
    (RevocationReason::OtherSessionsRevoked, "other_sessions_revoked"),
    (RevocationReason::SignedOutEverywhere, "signed_out_everywhere"),
    (RevocationReason::PasswordChanged, "password_changed"),
    (RevocationReason::DeviceDisabled, "device_disabled"),
    (RevocationReason::ReportedNotMe, "reported_not_me"),
    (RevocationReason::PasswordReset, "password_reset"),
    (RevocationReason::RefreshTokenReuse, "refresh_token_reuse"),
    (RevocationReason::LeftOrganization, "left_organization"),
    (RevocationReason::RemovedFromOrganization, "removed_from_organization"),
    (RevocationReason::AccountDeleted, "account_deleted"),
    (RevocationReason::AccountDisabled, "account_disabled"),
];

impl RevocationReason {
    /// Whether every token of the person goes, not only the sessions named.
    pub fn ends_every_session(self) -> bool {
        matches!(
            self,
            RevocationReason::SignedOutEverywhere
                | RevocationReason::ReportedNotMe
                | RevocationReason::PasswordReset
                | RevocationReason::AccountDeleted
                | RevocationReason::AccountDisabled
        )
    }

    pub fn code(self) -> &'static str {
        REASONS.iter().find(|(r, _)| *r == self).map_or("", |(_, code)| code)
    }

    pub fn from_code(code: &str) -> Option<Self> {
        REASONS.iter().find(|(_, c)| *c == code).map(|(r, _)| *r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip() {
        for (reason, code) in REASONS {
            assert_eq!(reason.code(), code);
            assert_eq!(RevocationReason::from_code(code), Some(reason));
        }
    }
}
