//! identity's outgoing gRPC edge: asking security-info which second factors a person has and
//! whether a proof is right. Every call carries identity's workload token for security-info
//! (`platform::workload`), on no person's token. Proto <-> domain conversion for these calls
//! happens here and nowhere else.

use std::sync::Arc;
use std::time::Duration;

use myaccount_proto::securityinfo::v1 as pb;
use myaccount_proto::securityinfo::v1::security_info_service_client::SecurityInfoServiceClient;
use platform::config::{ConfigError, Env};
use platform::instrument::GrpcClient;
use platform::retry::{Resend, RetryLayer, RetrySettings, Retrying};
use platform::tls::ClientTls;
use platform::workload::{SECURITY_INFO, SignedAsWorkload, WorkloadKey};
use tonic::transport::Channel;
use uuid::Uuid;

use crate::domain::{FactorCheck, MfaPolicy, MfaPrompt, MfaProof, PasskeyCheck, PasskeyOptions, SecondFactor};
use crate::error::IdentityError;

/// Where security-info is and how the second step behaves.
#[derive(Debug, Clone)]
pub struct SecondFactorSettings {
    pub security_info_url: String,
    pub policy: MfaPolicy,
    /// What an `https://` SECURITYINFO_URL is verified with (`GRPC_TLS_CA_FILE`).
    pub tls: ClientTls,
}

impl SecondFactorSettings {
    pub fn new(security_info_url: impl Into<String>) -> Self {
        Self {
            security_info_url: security_info_url.into(),
            policy: MfaPolicy::default(),
            tls: ClientTls::default(),
        }
    }

    /// `SECURITYINFO_URL` (default `http://127.0.0.1:50052`), `MFA_CHALLENGE_TTL` (default 5m),
    /// `MFA_MAX_ATTEMPTS` (default 5), `GRPC_TLS_CA_FILE`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let url: String = env.or("SECURITYINFO_URL", "http://127.0.0.1:50052".to_owned())?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ConfigError::new(
                "SECURITYINFO_URL",
                format!("must be an http(s) URL, got {url:?}"),
            ));
        }
        let ttl = env.duration("MFA_CHALLENGE_TTL", Duration::from_secs(300))?;
        if ttl < Duration::from_secs(30) || ttl > Duration::from_secs(1800) {
            return Err(ConfigError::new("MFA_CHALLENGE_TTL", "must be between 30s and 30m"));
        }
        let max_attempts: i32 = env.or("MFA_MAX_ATTEMPTS", 5)?;
        if !(1..=20).contains(&max_attempts) {
            return Err(ConfigError::new("MFA_MAX_ATTEMPTS", "must be between 1 and 20"));
        }
        Ok(Self {
            security_info_url: url,
            policy: MfaPolicy {
                challenge_ttl_secs: i64::try_from(ttl.as_secs()).unwrap_or(300),
                max_attempts,
            },
            tls: ClientTls::from_env(env)?,
        })
    }
}

/// How long one call to security-info may take.
const SECURITY_INFO_TIMEOUT: Duration = Duration::from_secs(3);

/// How a call to security-info may be sent again after the replica serving it went away
/// (`platform::retry`): the questions, yes; a proof of a second factor or a code sent, never
/// (each is spent once), so those fail as unavailable and the person tries again.
fn resend_of(path: &str) -> Resend {
    match path.rsplit('/').next().unwrap_or_default() {
        // Only reads, but sent again only after a broken connection, not after security-info
        // answered UNAVAILABLE (its database away): those attempts would outlast the
        // gateway's deadline, and the person gets 503 sooner.
        "ListSecondFactors" => Resend::Idempotent,
        // Finds the app password and notes when it was last used: the same however often.
        "VerifyAppPassword" => Resend::Idempotent,
        // A second ceremony nobody answers costs a row that expires.
        "BeginPasskeySignIn" => Resend::Idempotent,
        _ => Resend::Never,
    }
}

/// Attempts after the first, for a call safe to send again.
const SECURITY_INFO_RETRIES: u32 = 2;

type Stack = SignedAsWorkload<GrpcClient<Retrying<Channel>>>;

/// A lazily connected client of security-info's internal methods.
pub struct SecurityInfoClient {
    /// Each call gets identity's workload token, a client span whose context travels as
    /// `traceparent` metadata (one over every attempt), and the retry.
    channel: Stack,
    pub policy: MfaPolicy,
}

impl SecurityInfoClient {
    /// A client signing its calls with identity's workload `key`.
    pub fn new(settings: &SecondFactorSettings, key: Arc<WorkloadKey>) -> Result<Self, ConfigError> {
        let channel = settings
            .tls
            .endpoint(&settings.security_info_url, "SECURITYINFO_URL")?
            .connect_timeout(Duration::from_secs(2))
            // A wrong password asks security-info too, then writes its own outcome: with both
            // databases away, this wait and identity's pool acquire (5 s) must still end before
            // the gateway's 10 s, so the person gets 503 rather than a 504 (seen in the fault
            // suite at 5 s).
            .timeout(SECURITY_INFO_TIMEOUT)
            .connect_lazy();
        let retrying = tower::Layer::layer(
            &RetryLayer::new(RetrySettings::new(SECURITY_INFO_RETRIES), resend_of),
            channel,
        );
        Ok(Self {
            channel: SignedAsWorkload::new(GrpcClient::new(retrying), key, SECURITY_INFO),
            policy: settings.policy,
        })
    }

    fn client(&self) -> SecurityInfoServiceClient<Stack> {
        SecurityInfoServiceClient::new(self.channel.clone())
    }

    pub async fn second_factors(&self, user_id: Uuid) -> Result<Vec<SecondFactor>, IdentityError> {
        let request = tonic::Request::new(pb::ListSecondFactorsRequest {
            user_id: user_id.to_string(),
        });
        let factors = self
            .client()
            .list_second_factors(request)
            .await
            .map_err(IdentityError::SecurityInfo)?
            .into_inner()
            .factors;
        Ok(factors
            .into_iter()
            .map(|f| SecondFactor {
                kind: kind(f.r#type()).to_owned(),
                method_id: f.method_id,
                label: f.label,
                is_default: f.is_default,
                registration_id: Uuid::parse_str(&f.registration_id).ok(),
                amr: f.amr,
                method: f.method,
            })
            .collect())
    }

    pub async fn begin(&self, user_id: Uuid, method_id: &str) -> Result<MfaPrompt, IdentityError> {
        let request = tonic::Request::new(pb::BeginSecondFactorRequest {
            user_id: user_id.to_string(),
            method_id: method_id.to_owned(),
        });
        let prompt = self
            .client()
            .begin_second_factor(request)
            .await
            .map_err(|s| match s.code() {
                tonic::Code::NotFound | tonic::Code::InvalidArgument => {
                    IdentityError::MethodNotFound(method_id.to_owned())
                }
                tonic::Code::FailedPrecondition => IdentityError::MethodUnavailable(s.message().to_owned()),
                _ => IdentityError::SecurityInfo(s),
            })?
            .into_inner();
        Ok(MfaPrompt {
            sent_to: prompt.sent_to,
            request_options_json: prompt.request_options_json,
        })
    }

    pub async fn verify(&self, user_id: Uuid, method_id: &str, proof: &MfaProof) -> Result<FactorCheck, IdentityError> {
        let request = tonic::Request::new(pb::VerifySecondFactorRequest {
            user_id: user_id.to_string(),
            method_id: method_id.to_owned(),
            proof: Some(match proof {
                MfaProof::Code(c) => pb::verify_second_factor_request::Proof::Code(c.clone()),
                MfaProof::Assertion(a) => pb::verify_second_factor_request::Proof::AssertionJson(a.clone()),
            }),
        });
        let answer = self
            .client()
            .verify_second_factor(request)
            .await
            .map_err(IdentityError::SecurityInfo)?
            .into_inner();
        let method = answer.method.clone();
        Ok(match answer.outcome() {
            pb::VerificationOutcome::Verified => FactorCheck::Verified {
                amr: answer.amr,
                method,
            },
            pb::VerificationOutcome::Replayed => FactorCheck::Replayed { method },
            pb::VerificationOutcome::Expired => FactorCheck::Expired { method },
            pb::VerificationOutcome::TooManyAttempts => FactorCheck::TooManyAttempts { method },
            pb::VerificationOutcome::UnknownMethod => FactorCheck::UnknownMethod,
            pb::VerificationOutcome::Incorrect
            | pb::VerificationOutcome::PossibleClone
            | pb::VerificationOutcome::Unspecified => FactorCheck::Incorrect { method },
        })
    }

    /// A passwordless sign-in's options and the id of its single-use ceremony.
    pub async fn begin_passkey_sign_in(&self) -> Result<PasskeyOptions, IdentityError> {
        let prompt = self
            .client()
            .begin_passkey_sign_in(tonic::Request::new(pb::BeginPasskeySignInRequest {}))
            .await
            .map_err(IdentityError::SecurityInfo)?
            .into_inner();
        Ok(PasskeyOptions {
            challenge_id: prompt.ceremony_id,
            request_options_json: prompt.request_options_json,
            expires_at: prompt.expires_at.and_then(|t| myaccount_proto::datetime(&t)),
        })
    }

    /// Whose passkey signed a passwordless sign-in's challenge, if one did. A malformed assertion
    /// is bad input (nothing was spent).
    pub async fn verify_passkey_sign_in(
        &self,
        challenge_id: &str,
        assertion_json: &str,
    ) -> Result<PasskeyCheck, IdentityError> {
        let request = tonic::Request::new(pb::VerifyPasskeySignInRequest {
            ceremony_id: challenge_id.to_owned(),
            assertion_json: assertion_json.to_owned(),
        });
        let answer = self
            .client()
            .verify_passkey_sign_in(request)
            .await
            .map_err(|s| match s.code() {
                tonic::Code::InvalidArgument => IdentityError::Invalid(vec![platform::error::FieldViolation {
                    field: "assertion".into(),
                    description:
                        "is not a WebAuthn assertion (the PublicKeyCredential JSON of navigator.credentials.get())"
                            .into(),
                    reason: String::new(),
                }]),
                _ => IdentityError::SecurityInfo(s),
            })?
            .into_inner();
        let user_id = Uuid::parse_str(&answer.user_id).ok();
        use pb::PasskeySignInOutcome as O;
        Ok(match (answer.outcome(), user_id) {
            (O::Verified, Some(user_id)) => PasskeyCheck::Verified {
                user_id,
                amr: answer.amr,
            },
            (O::Incorrect | O::PossibleClone, Some(user_id)) => PasskeyCheck::Incorrect { user_id },
            (O::CeremonyExpired, _) => PasskeyCheck::ChallengeExpired,
            (O::UnknownCeremony | O::CeremonyUsed, _) => PasskeyCheck::ChallengeInvalid,
            _ => PasskeyCheck::UnknownCredential,
        })
    }

    /// Whether `password` is one of the person's app passwords.
    pub async fn verify_app_password(&self, user_id: Uuid, password: &str) -> Result<bool, IdentityError> {
        let request = tonic::Request::new(pb::VerifyAppPasswordRequest {
            user_id: user_id.to_string(),
            password: password.to_owned(),
        });
        Ok(self
            .client()
            .verify_app_password(request)
            .await
            .map_err(IdentityError::SecurityInfo)?
            .into_inner()
            .valid)
    }
}

fn kind(t: pb::MethodType) -> &'static str {
    match t {
        pb::MethodType::AuthenticatorApp => "authenticator_app",
        pb::MethodType::Phone => "phone",
        pb::MethodType::Email => "email",
        pb::MethodType::SecurityKey => "security_key",
        pb::MethodType::AppPassword => "app_password",
        pb::MethodType::RecoveryCodes => "recovery_codes",
        pb::MethodType::Unspecified => "unknown",
    }
}
