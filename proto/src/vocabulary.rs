//! The words the whole system shares, each spelled once: the stable codes of sign-in failure
//! reasons, risk reasons and sign-in method types (what is stored, logged and sent to clients)
//! and the sentence a person reads for each failure.

use crate::events::v1::SignInFailureReason;
use crate::securityinfo::v1::MethodType;

/// Each failure reason: its stable code and the sentence "My sign-ins" shows.
const FAILURE_REASONS: [(SignInFailureReason, &str, &str); 15] = [
    (
        SignInFailureReason::UnknownUser,
        "unknown_user",
        "No account has this user name.",
    ),
    (
        SignInFailureReason::InvalidPassword,
        "invalid_password",
        "The password was wrong.",
    ),
    (
        SignInFailureReason::AccountDisabled,
        "account_disabled",
        "The account is disabled.",
    ),
    (
        SignInFailureReason::Throttled,
        "throttled",
        "Blocked for a while after too many failed attempts.",
    ),
    (
        SignInFailureReason::SecondFactorFailed,
        "second_factor_failed",
        "The password was right but the second factor was not.",
    ),
    (
        SignInFailureReason::MfaChallengeExpired,
        "mfa_challenge_expired",
        "The second step was not completed in time.",
    ),
    (
        SignInFailureReason::SecondFactorReplayed,
        "second_factor_replayed",
        "A code that had already been used was tried again.",
    ),
    (
        SignInFailureReason::MfaTooManyAttempts,
        "mfa_too_many_attempts",
        "Too many wrong second-factor attempts.",
    ),
    (
        SignInFailureReason::NotAMember,
        "not_a_member",
        "The password was right but the account is not a member of that organization.",
    ),
    (
        SignInFailureReason::PasswordChangeRequired,
        "password_change_required",
        "The credentials were right but a new password had to be chosen first.",
    ),
    (
        SignInFailureReason::DeviceDisabled,
        "device_disabled",
        "The sign-in came from a device that was disabled.",
    ),
    (
        SignInFailureReason::MfaRegistrationRequired,
        "mfa_registration_required",
        "The password was right but the organization requires a second factor, which had to be registered first.",
    ),
    (
        SignInFailureReason::PasskeyNotRecognized,
        "passkey_not_recognized",
        "A passkey this account does not have was offered.",
    ),
    (
        SignInFailureReason::PasskeyFailed,
        "passkey_failed",
        "The passkey's answer did not verify.",
    ),
    (
        SignInFailureReason::PasskeyChallengeInvalid,
        "passkey_challenge_invalid",
        "The passkey sign-in was not completed in time, or was answered twice.",
    ),
];

impl SignInFailureReason {
    /// Every reason a failed sign-in can have (not `Unspecified`).
    pub fn all() -> impl Iterator<Item = Self> {
        FAILURE_REASONS.iter().map(|(reason, _, _)| *reason)
    }

    /// The stable code: `mfa_too_many_attempts`; empty for `Unspecified`.
    pub fn code(self) -> &'static str {
        FAILURE_REASONS
            .iter()
            .find(|(reason, _, _)| *reason == self)
            .map_or("", |(_, code, _)| code)
    }

    pub fn from_code(code: &str) -> Option<Self> {
        FAILURE_REASONS
            .iter()
            .find(|(_, known, _)| *known == code)
            .map(|(reason, _, _)| *reason)
    }

    /// What a person reads about it; empty for `Unspecified`.
    pub fn description(self) -> &'static str {
        FAILURE_REASONS
            .iter()
            .find(|(reason, _, _)| *reason == self)
            .map_or("", |(_, _, text)| text)
    }
}

/// Why a sign-in looks risky, as audit's rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RiskReason {
    /// A country this person never signed in from before.
    NewCountry,
    /// A browser and operating system this person never used before.
    NewDevice,
    /// Many failures from the same address across accounts (password spraying).
    IpFailuresAcrossAccounts,
    /// Two places too far apart for the time between them.
    ImpossibleTravel,
}

const RISK_REASONS: [(RiskReason, &str); 4] = [
    (RiskReason::NewCountry, "new_country"),
    (RiskReason::NewDevice, "new_device"),
    (RiskReason::IpFailuresAcrossAccounts, "ip_failures_across_accounts"),
    (RiskReason::ImpossibleTravel, "impossible_travel"),
];

impl RiskReason {
    pub fn all() -> impl Iterator<Item = Self> {
        RISK_REASONS.iter().map(|(reason, _)| *reason)
    }

    /// The stable code in events, the sign-in log and the API: `impossible_travel`.
    pub fn code(self) -> &'static str {
        RISK_REASONS
            .iter()
            .find(|(reason, _)| *reason == self)
            .map_or("", |(_, code)| code)
    }

    pub fn from_code(code: &str) -> Option<Self> {
        RISK_REASONS
            .iter()
            .find(|(_, known)| *known == code)
            .map(|(reason, _)| *reason)
    }
}

/// Each sign-in method type: its stable code (events, the sign-in log) and its name in the
/// JSON API (lowerCamelCase).
const METHOD_TYPES: [(MethodType, &str, &str); 6] = [
    (MethodType::AuthenticatorApp, "authenticator_app", "authenticatorApp"),
    (MethodType::Phone, "phone", "phone"),
    (MethodType::Email, "email", "email"),
    (MethodType::SecurityKey, "security_key", "securityKey"),
    (MethodType::AppPassword, "app_password", "appPassword"),
    (MethodType::RecoveryCodes, "recovery_codes", "recoveryCodes"),
];

impl MethodType {
    pub fn all() -> impl Iterator<Item = Self> {
        METHOD_TYPES.iter().map(|(kind, _, _)| *kind)
    }

    /// `authenticator_app`; empty for `Unspecified`.
    pub fn code(self) -> &'static str {
        METHOD_TYPES
            .iter()
            .find(|(kind, _, _)| *kind == self)
            .map_or("", |(_, code, _)| code)
    }

    pub fn from_code(code: &str) -> Option<Self> {
        METHOD_TYPES
            .iter()
            .find(|(_, known, _)| *known == code)
            .map(|(kind, _, _)| *kind)
    }

    /// `authenticatorApp`: the JSON API's name; `unknown` for `Unspecified`.
    pub fn json_name(self) -> &'static str {
        METHOD_TYPES
            .iter()
            .find(|(kind, _, _)| *kind == self)
            .map_or("unknown", |(_, _, name)| name)
    }

    pub fn from_json_name(name: &str) -> Option<Self> {
        METHOD_TYPES
            .iter()
            .find(|(_, _, known)| *known == name)
            .map(|(kind, _, _)| *kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_reason_has_one_code_and_a_sentence() {
        let reasons: Vec<_> = SignInFailureReason::all().collect();
        assert_eq!(reasons.len(), 15);
        for reason in reasons {
            assert_eq!(SignInFailureReason::from_code(reason.code()), Some(reason));
            assert!(reason.description().ends_with('.'), "{reason:?}");
            // The code is the proto name without its prefix, so the wire and the words agree.
            let wire = reason.as_str_name().trim_start_matches("SIGN_IN_FAILURE_REASON_");
            assert_eq!(reason.code(), wire.to_ascii_lowercase());
        }
        assert_eq!(SignInFailureReason::Unspecified.code(), "");
        assert_eq!(SignInFailureReason::from_code("nope"), None);
    }

    #[test]
    fn risk_reasons_and_method_types_round_trip() {
        for reason in RiskReason::all() {
            assert_eq!(RiskReason::from_code(reason.code()), Some(reason));
        }
        for kind in MethodType::all() {
            assert_eq!(MethodType::from_code(kind.code()), Some(kind));
            assert_eq!(MethodType::from_json_name(kind.json_name()), Some(kind));
            let wire = kind.as_str_name().trim_start_matches("METHOD_TYPE_");
            assert_eq!(kind.code(), wire.to_ascii_lowercase());
        }
        assert_eq!(MethodType::Unspecified.json_name(), "unknown");
    }
}
