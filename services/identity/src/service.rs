//! Identity's use cases: create users, sign in (with a second factor checked by security-info when
//! the person has one), step-up, refresh, sign out, read and edit one's profile.

use std::sync::Arc;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use myaccount_proto::events::v1::ReportedLocation;
use platform::auth::{AuthError, Caller};
use platform::error::{ErrorKind, FieldViolation, ServiceError, Violations};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{
    FactorCheck, FailureReason, MfaPolicy, MfaPrompt, MfaProof, NewUserInput, Profile, ProfileChanges, SecondFactor,
    ThrottlePolicy,
};
use crate::events::{self, ClientInfo, SignInAttemptRecord};
use crate::security_info::SecurityInfoClient;
use crate::store::{self, NewSession, StoreError};
use crate::tokens::{self, KeyStore, TokenSettings, TokenSubject};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("the user name or password is incorrect")]
    InvalidCredentials,
    #[error("this account is disabled; contact your organization's administrator")]
    AccountDisabled,
    #[error("too many failed sign-in attempts; try again in {} seconds", retry_after.as_secs().max(1))]
    Throttled { retry_after: Duration },
    #[error("the refresh token is invalid, expired or already used; sign in again")]
    InvalidRefreshToken,
    #[error("this session has ended; sign in again")]
    SessionEnded,
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
}

impl ServiceError for IdentityError {
    fn kind(&self) -> ErrorKind {
        match self {
            IdentityError::Invalid(v) => ErrorKind::InvalidArgument(v.clone()),
            IdentityError::InvalidCredentials | IdentityError::InvalidRefreshToken | IdentityError::SessionEnded => {
                ErrorKind::Unauthenticated(self.to_string())
            }
            IdentityError::AccountDisabled
            | IdentityError::NotAMember(_)
            | IdentityError::PasswordChangeNeedsInteractiveSignIn => ErrorKind::PermissionDenied(self.to_string()),
            IdentityError::ChangeTicketInvalid => ErrorKind::Unauthenticated(self.to_string()),
            IdentityError::Throttled { retry_after } => ErrorKind::ResourceExhausted {
                message: self.to_string(),
                retry_after: Some(*retry_after),
            },
            IdentityError::UserNotFound(_) => ErrorKind::NotFound(self.to_string()),
            IdentityError::DuplicateUser(_) => ErrorKind::AlreadyExists(self.to_string()),
            IdentityError::Store(StoreError::DuplicateUser(upn)) => {
                ErrorKind::AlreadyExists(format!("a user named {upn} already exists"))
            }
            IdentityError::ChallengeInvalid
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

/// The first step's answer: tokens, or a second factor is due.
#[derive(Debug, Clone)]
pub enum SignInOutcome {
    Tokens(IssuedTokens),
    MfaRequired(MfaChallenge),
    /// Proven, but a new password is due before a session opens.
    PasswordChangeRequired(crate::required_password::ChangeTicket),
}

#[derive(Debug, Clone)]
pub struct MfaChallenge {
    pub challenge_id: Uuid,
    pub factors: Vec<SecondFactor>,
    pub expires_at: DateTime<Utc>,
}

/// Tokens handed to a client after sign-in or refresh.
#[derive(Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: Duration,
}

/// Never shows the tokens: a `?` in a log line must not hand out a session.
impl std::fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

pub struct Identity {
    pool: PgPool,
    keys: Arc<KeyStore>,
    tokens: TokenSettings,
    /// security-info, when second factors are in use (absent: password-only sign-in).
    second_factors: Option<SecurityInfoClient>,
    /// Verified against when the user name is unknown, so both paths cost one argon2 run and
    /// timing does not reveal which accounts exist.
    dummy_hash: String,
}

impl Identity {
    pub async fn new(pool: PgPool, keys: Arc<KeyStore>, tokens: TokenSettings) -> Result<Self, IdentityError> {
        let dummy_hash = hash_password(Uuid::new_v4().to_string()).await?;
        Ok(Self {
            pool,
            keys,
            tokens,
            second_factors: None,
            dummy_hash,
        })
    }

    /// Multi-factor sign-in, with security-info holding the factors.
    pub fn with_second_factors(mut self, client: SecurityInfoClient) -> Self {
        self.second_factors = Some(client);
        self
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn create_user(&self, input: NewUserInput) -> Result<Profile, IdentityError> {
        let user = input.validate().map_err(IdentityError::Invalid)?;
        let hash = hash_password(user.password.clone()).await?;
        let mut tx = self.pool.begin().await?;
        let profile = store::insert_user(&mut tx, Uuid::now_v7(), &user, &hash, Utc::now()).await?;
        events::user_created(&mut tx, &profile).await?;
        tx.commit().await?;
        tracing::info!(user_id = %profile.id, "user created");
        Ok(profile)
    }

    /// Signs in to the home organization, or to `organization` (a guest organization the
    /// person belongs to) when given.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        organization: &str,
        client: &ClientInfo,
    ) -> Result<SignInOutcome, IdentityError> {
        let mut v = Violations::new();
        v.required("username", username);
        v.text("username", username, 256);
        v.required("password", password);
        if password.chars().count() > 1024 {
            v.add("password", "at most 1024 characters");
        }
        let requested_organization = match organization.trim() {
            "" => None,
            raw => match Uuid::parse_str(raw) {
                Ok(id) => Some(id),
                Err(_) => {
                    v.add(
                        "organization_id",
                        "must be an organization id (a UUID), or empty for your home organization",
                    );
                    None
                }
            },
        };
        validate_client(client, &mut v);
        v.into_result().map_err(IdentityError::Invalid)?;

        let now = Utc::now();
        let typed = username.trim();
        let upn = typed.to_lowercase();
        let account_key = format!("account:{upn}");
        let ip_key = format!("ip:{}", client.ip_address);
        let mut record = SignInAttemptRecord {
            id: Uuid::now_v7(),
            time: now,
            user_id: None,
            organization_id: None,
            typed_user_principal_name: typed,
            client,
            outcome: Err(FailureReason::Throttled),
            amr: &[],
            method: "password",
        };

        let throttle_keys = if client.ip_address.is_empty() {
            vec![account_key.clone()]
        } else {
            vec![account_key.clone(), ip_key.clone()]
        };
        let mut conn = self.pool.acquire().await?;
        if let Some(until) = store::blocked_until(&mut conn, &throttle_keys, now).await? {
            // The password is not even checked while throttled; the answer is the same whether
            // or not the account exists.
            let credentials = store::credentials_by_upn(&mut conn, &upn).await?;
            drop(conn);
            record.user_id = credentials.as_ref().map(|c| c.id);
            record.organization_id = credentials.and_then(|c| c.home_organization_id);
            let mut tx = self.pool.begin().await?;
            events::sign_in_recorded(&mut tx, &record).await?;
            tx.commit().await?;
            return Err(IdentityError::Throttled {
                retry_after: (until - now).to_std().unwrap_or(Duration::from_secs(1)),
            });
        }

        let credentials = store::credentials_by_upn(&mut conn, &upn).await?;
        // Not held through the password check and the call to security-info.
        drop(conn);
        let hash = credentials
            .as_ref()
            .map_or(self.dummy_hash.clone(), |c| c.password_hash.clone());
        let password_ok = verify_password(password.to_owned(), hash).await?;
        // Non-interactive clients sign in with an app password instead of the password; they
        // never get a second step (amr stays "pwd").
        let app_password_ok = match (&credentials, &self.second_factors) {
            (Some(c), Some(si)) if !password_ok && c.enabled => {
                si.verify_app_password(c.id, password).await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "app password check failed");
                    false
                })
            }
            _ => false,
        };
        if app_password_ok {
            record.method = "app_password";
        }
        // An app password cannot choose a new password: the person must sign in interactively.
        let change_blocks_app_password =
            app_password_ok && credentials.as_ref().is_some_and(|c| c.password_change_required);

        let mut tx = self.pool.begin().await?;
        let failure = match &credentials {
            None => Some(FailureReason::UnknownUser),
            Some(_) if !password_ok && !app_password_ok => Some(FailureReason::InvalidPassword),
            Some(c) if !c.enabled => Some(FailureReason::AccountDisabled),
            Some(_) if change_blocks_app_password => Some(FailureReason::PasswordChangeRequired),
            Some(_) => None,
        };
        record.user_id = credentials.as_ref().map(|c| c.id);
        record.organization_id = credentials.as_ref().and_then(|c| c.home_organization_id);
        if let Some(reason) = failure {
            if matches!(reason, FailureReason::UnknownUser | FailureReason::InvalidPassword) {
                store::record_failure(&mut tx, &account_key, ThrottlePolicy::ACCOUNT, now).await?;
                if !client.ip_address.is_empty() {
                    store::record_failure(&mut tx, &ip_key, ThrottlePolicy::IP, now).await?;
                }
            }
            record.outcome = Err(reason);
            events::sign_in_recorded(&mut tx, &record).await?;
            tx.commit().await?;
            return Err(match reason {
                FailureReason::AccountDisabled => IdentityError::AccountDisabled,
                FailureReason::PasswordChangeRequired => IdentityError::PasswordChangeNeedsInteractiveSignIn,
                _ => IdentityError::InvalidCredentials,
            });
        }
        let Some(credentials) = credentials else {
            return Err(IdentityError::InvalidCredentials);
        };
        store::clear_failures(&mut tx, &account_key).await?;

        // Asked only once the password is right, so membership is not revealed to strangers.
        let guest_organization = match requested_organization {
            Some(o) if Some(o) != credentials.home_organization_id => {
                if !store::is_guest_member(&mut tx, credentials.id, o).await? {
                    record.organization_id = Some(o);
                    record.outcome = Err(FailureReason::NotAMember);
                    events::sign_in_recorded(&mut tx, &record).await?;
                    tx.commit().await?;
                    return Err(IdentityError::NotAMember(o));
                }
                Some(o)
            }
            _ => None,
        };
        let account = Account::in_organization(&credentials, guest_organization);
        record.organization_id = account.organization_id;

        if password_ok && let Some(si) = &self.second_factors {
            // Fails closed: without an answer from security-info nobody signs in on a password
            // alone, since we cannot tell who has a second factor.
            let factors = si.second_factors(credentials.id).await.map_err(|e| {
                tracing::error!(error = %e, "cannot list second factors");
                IdentityError::SecondFactorsUnavailable
            })?;
            if !factors.is_empty() {
                let challenge = self
                    .open_challenge(
                        &mut tx,
                        credentials.id,
                        None,
                        guest_organization,
                        typed,
                        client,
                        factors,
                        si.policy,
                        now,
                    )
                    .await?;
                tx.commit().await?;
                return Ok(SignInOutcome::MfaRequired(challenge));
            }
        }

        let amr = vec!["pwd".to_owned()];
        record.amr = &amr;
        if credentials.password_change_required && password_ok {
            let ticket = self
                .interrupt_for_password_change(&mut tx, &account, &amr, typed, client, &mut record, now)
                .await?;
            tx.commit().await?;
            return Ok(SignInOutcome::PasswordChangeRequired(ticket));
        }
        let tokens = self
            .open_session(&mut tx, &account, &amr, client, &mut record, now)
            .await?;
        tx.commit().await?;
        Ok(SignInOutcome::Tokens(tokens))
    }

    /// Creates a session with `amr`, records the successful attempt, and issues its tokens.
    pub(crate) async fn open_session(
        &self,
        tx: &mut PgConnection,
        account: &Account,
        amr: &[String],
        client: &ClientInfo,
        record: &mut SignInAttemptRecord<'_>,
        now: DateTime<Utc>,
    ) -> Result<IssuedTokens, IdentityError> {
        let session_id = Uuid::now_v7();
        store::insert_session(
            tx,
            &NewSession {
                id: session_id,
                user_id: account.id,
                now,
                ip_address: &client.ip_address,
                user_agent: &client.user_agent,
                device_id: &client.device_id,
                amr,
                organization_id: account.organization_id,
            },
        )
        .await?;
        self.issue_for_session(tx, account, session_id, amr, record, now).await
    }

    /// A new refresh token and access token for `session_id`, proven at `now` with `amr`.
    async fn issue_for_session(
        &self,
        tx: &mut PgConnection,
        account: &Account,
        session_id: Uuid,
        amr: &[String],
        record: &mut SignInAttemptRecord<'_>,
        now: DateTime<Utc>,
    ) -> Result<IssuedTokens, IdentityError> {
        let (refresh_token, refresh_hash) = tokens::new_refresh_token();
        store::insert_refresh_token(
            tx,
            &refresh_hash,
            session_id,
            now,
            now + ttl(self.tokens.refresh_token_ttl),
        )
        .await?;
        record.outcome = Ok(session_id);
        events::sign_in_recorded(tx, record).await?;
        let subject = TokenSubject {
            user_id: account.id,
            session_id,
            organization_id: account.organization_id,
            auth_time: now,
            amr: amr.to_vec(),
            roles: account.roles.clone(),
        };
        let access_token = self
            .keys
            .sign(&tokens::access_claims(&self.tokens, &subject, now))
            .await?;
        Ok(IssuedTokens {
            access_token,
            refresh_token,
            expires_in: self.tokens.access_token_ttl,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn open_challenge(
        &self,
        tx: &mut PgConnection,
        user_id: Uuid,
        session_id: Option<Uuid>,
        organization_id: Option<Uuid>,
        typed: &str,
        client: &ClientInfo,
        factors: Vec<SecondFactor>,
        policy: MfaPolicy,
        now: DateTime<Utc>,
    ) -> Result<MfaChallenge, IdentityError> {
        // Random (v4): the id is the credential of the second step.
        let challenge_id = Uuid::new_v4();
        let expires_at = now + chrono::Duration::seconds(policy.challenge_ttl_secs);
        store::insert_challenge(
            tx,
            &store::NewChallenge {
                id: challenge_id,
                user_id,
                session_id,
                typed_user_principal_name: typed,
                now,
                expires_at,
                ip_address: &client.ip_address,
                user_agent: &client.user_agent,
                device_id: &client.device_id,
                app_id: &client.app_id,
                correlation_id: &client.correlation_id,
                organization_id,
            },
        )
        .await?;
        Ok(MfaChallenge {
            challenge_id,
            factors,
            expires_at,
        })
    }

    /// security-info, when second factors are in use.
    pub(crate) fn second_factor_source(&self) -> Option<&SecurityInfoClient> {
        self.second_factors.as_ref()
    }

    fn second_factor_client(&self) -> Result<&SecurityInfoClient, IdentityError> {
        self.second_factors.as_ref().ok_or(IdentityError::ChallengeInvalid)
    }

    /// An open challenge: known, unanswered, not expired, attempts left.
    async fn open_challenge_by_id(&self, challenge_id: &str) -> Result<store::Challenge, IdentityError> {
        let id = parse_challenge_id(challenge_id)?;
        let challenge = store::challenge(&mut *self.pool.acquire().await?, id)
            .await?
            .ok_or(IdentityError::ChallengeInvalid)?;
        let policy = self.second_factor_client()?.policy;
        if challenge.completed_at.is_some() {
            return Err(IdentityError::ChallengeInvalid);
        }
        if challenge.expires_at <= Utc::now() {
            return Err(IdentityError::ChallengeExpired);
        }
        if challenge.attempts >= policy.max_attempts {
            return Err(IdentityError::MfaTooManyAttempts);
        }
        Ok(challenge)
    }

    /// Prepares the chosen factor: sends a code by SMS, voice or email, or returns WebAuthn
    /// options. TOTP and recovery codes need nothing.
    pub async fn start_mfa(&self, challenge_id: &str, method_id: &str) -> Result<MfaPrompt, IdentityError> {
        let mut v = Violations::new();
        v.required("method_id", method_id);
        v.text("method_id", method_id, 64);
        if Uuid::parse_str(challenge_id.trim()).is_err() {
            v.add("challenge_id", "must be the challenge id from the sign-in answer");
        }
        v.into_result().map_err(IdentityError::Invalid)?;
        let challenge = self.open_challenge_by_id(challenge_id).await?;
        self.second_factor_client()?
            .begin(challenge.user_id, method_id.trim())
            .await
    }

    /// The second step: checks the proof with security-info and, when right, opens the session
    /// (or renews the one being stepped up) with `amr` = password + the factor + "mfa". Every
    /// answer, right or wrong, is recorded as a sign-in attempt.
    pub async fn complete_mfa(
        &self,
        challenge_id: &str,
        method_id: &str,
        proof: Option<MfaProof>,
        location: Option<ReportedLocation>,
    ) -> Result<SignInOutcome, IdentityError> {
        let mut v = Violations::new();
        v.required("method_id", method_id);
        v.text("method_id", method_id, 64);
        if Uuid::parse_str(challenge_id.trim()).is_err() {
            v.add("challenge_id", "must be the challenge id from the sign-in answer");
        }
        match &proof {
            Some(MfaProof::Code(c)) if c.trim().is_empty() || c.chars().count() > 64 => {
                v.add("code", "give the code (at most 64 characters)");
            }
            Some(MfaProof::Assertion(a)) if a.trim().is_empty() || a.len() > 16 * 1024 => {
                v.add("assertion", "give the security key's answer (at most 16 KiB)");
            }
            None => v.add("code", "give a code or a security key assertion"),
            _ => {}
        }
        v.into_result().map_err(IdentityError::Invalid)?;
        let (Some(proof), Ok(id)) = (proof, parse_challenge_id(challenge_id)) else {
            return Err(IdentityError::ChallengeInvalid);
        };
        let si = self.second_factor_client()?;
        let now = Utc::now();

        // Count the attempt first, in its own transaction, so concurrent guesses cannot exceed
        // the limit.
        let mut tx = self.pool.begin().await?;
        let challenge = store::challenge_for_update(&mut tx, id)
            .await?
            .ok_or(IdentityError::ChallengeInvalid)?;
        if challenge.completed_at.is_some() {
            return Err(IdentityError::ChallengeInvalid);
        }
        let client = ClientInfo {
            ip_address: challenge.ip_address.clone(),
            user_agent: challenge.user_agent.clone(),
            device_id: challenge.device_id.clone(),
            app_id: challenge.app_id.clone(),
            correlation_id: challenge.correlation_id.clone(),
            // Where the answer came from: the first step's report is not kept with the challenge.
            location,
        };
        let credentials = store::account(&mut tx, challenge.user_id)
            .await?
            .ok_or(IdentityError::ChallengeInvalid)?;
        // A step-up keeps its session's organization; a sign-in goes to the one it asked for.
        let organization_id = match challenge.session_id {
            Some(session_id) => store::session(&mut tx, session_id)
                .await?
                .and_then(|s| s.organization_id),
            None => challenge.organization_id,
        };
        let account = Account::in_organization(&credentials, organization_id);
        let mut record = SignInAttemptRecord {
            id: Uuid::now_v7(),
            time: now,
            user_id: Some(challenge.user_id),
            organization_id: account.organization_id,
            typed_user_principal_name: &challenge.typed_user_principal_name,
            client: &client,
            outcome: Err(FailureReason::MfaChallengeExpired),
            amr: &[],
            method: "",
        };
        if challenge.expires_at <= now {
            events::sign_in_recorded(&mut tx, &record).await?;
            tx.commit().await?;
            return Err(IdentityError::ChallengeExpired);
        }
        if challenge.attempts >= si.policy.max_attempts {
            record.outcome = Err(FailureReason::MfaTooManyAttempts);
            events::sign_in_recorded(&mut tx, &record).await?;
            tx.commit().await?;
            return Err(IdentityError::MfaTooManyAttempts);
        }
        if !credentials.enabled {
            record.outcome = Err(FailureReason::AccountDisabled);
            events::sign_in_recorded(&mut tx, &record).await?;
            tx.commit().await?;
            return Err(IdentityError::AccountDisabled);
        }
        store::count_challenge_attempt(&mut tx, id).await?;
        tx.commit().await?;

        let check = si.verify(challenge.user_id, method_id.trim(), &proof).await?;
        let account_key = format!("account:{}", challenge.typed_user_principal_name.to_lowercase());
        let mut tx = self.pool.begin().await?;
        let (reason, error, method) = match check {
            FactorCheck::Verified {
                amr: factor_amr,
                method,
            } => {
                if !store::complete_challenge(&mut tx, id, now).await? {
                    return Err(IdentityError::ChallengeInvalid);
                }
                let mut amr = vec!["pwd".to_owned()];
                amr.extend(factor_amr);
                amr.push(platform::auth::MFA_AMR.to_owned());
                record.amr = &amr;
                record.method = &method;
                let outcome = match challenge.session_id {
                    Some(session_id) => {
                        store::renew_session(&mut tx, session_id, &amr, now).await?;
                        SignInOutcome::Tokens(
                            self.issue_for_session(&mut tx, &account, session_id, &amr, &mut record, now)
                                .await?,
                        )
                    }
                    None if credentials.password_change_required => SignInOutcome::PasswordChangeRequired(
                        self.interrupt_for_password_change(
                            &mut tx,
                            &account,
                            &amr,
                            &challenge.typed_user_principal_name,
                            &client,
                            &mut record,
                            now,
                        )
                        .await?,
                    ),
                    None => SignInOutcome::Tokens(
                        self.open_session(&mut tx, &account, &amr, &client, &mut record, now)
                            .await?,
                    ),
                };
                store::clear_failures(&mut tx, &account_key).await?;
                tx.commit().await?;
                return Ok(outcome);
            }
            FactorCheck::Incorrect { method } => (
                FailureReason::SecondFactorFailed,
                IdentityError::SecondFactorIncorrect,
                method,
            ),
            FactorCheck::Replayed { method } => (
                FailureReason::SecondFactorReplayed,
                IdentityError::SecondFactorReplayed,
                method,
            ),
            FactorCheck::Expired { method } => (
                FailureReason::SecondFactorFailed,
                IdentityError::SecondFactorExpired,
                method,
            ),
            FactorCheck::TooManyAttempts { method } => (
                FailureReason::MfaTooManyAttempts,
                IdentityError::MfaTooManyAttempts,
                method,
            ),
            FactorCheck::UnknownMethod => (
                FailureReason::SecondFactorFailed,
                IdentityError::MethodNotFound(method_id.trim().to_owned()),
                String::new(),
            ),
        };
        record.outcome = Err(reason);
        record.method = &method;
        // Wrong second factors count against the account like wrong passwords, so a stolen
        // password cannot be paired with unlimited guesses over many challenges.
        store::record_failure(&mut tx, &account_key, ThrottlePolicy::ACCOUNT, now).await?;
        events::sign_in_recorded(&mut tx, &record).await?;
        tx.commit().await?;
        Err(error)
    }

    /// Step-up: the caller proves their password again, and a second factor when they have one
    /// (answered with a challenge that `complete_mfa` finishes on this same session).
    pub async fn reauthenticate(
        &self,
        caller: &Caller,
        password: &str,
        client: &ClientInfo,
    ) -> Result<SignInOutcome, IdentityError> {
        let mut v = Violations::new();
        v.required("password", password);
        if password.chars().count() > 1024 {
            v.add("password", "at most 1024 characters");
        }
        validate_client(client, &mut v);
        v.into_result().map_err(IdentityError::Invalid)?;
        self.require_active_session(caller).await?;
        let session_id = caller.session_id.ok_or(IdentityError::SessionEnded)?;
        let mut conn = self.pool.acquire().await?;
        let credentials = store::account(&mut conn, caller.user_id)
            .await?
            .ok_or(IdentityError::UserNotFound(caller.user_id))?;
        let session_organization = store::session(&mut conn, session_id)
            .await?
            .and_then(|s| s.organization_id);
        let account = Account::in_organization(&credentials, session_organization);
        let upn = store::user_principal_name(&mut conn, caller.user_id)
            .await?
            .unwrap_or_default();
        let account_key = format!("account:{upn}");
        let now = Utc::now();
        let blocked = store::blocked_until(&mut conn, std::slice::from_ref(&account_key), now).await?;
        drop(conn);
        if let Some(until) = blocked {
            return Err(IdentityError::Throttled {
                retry_after: (until - now).to_std().unwrap_or(Duration::from_secs(1)),
            });
        }
        let password_ok = verify_password(password.to_owned(), credentials.password_hash.clone()).await?;
        let mut record = SignInAttemptRecord {
            id: Uuid::now_v7(),
            time: now,
            user_id: Some(caller.user_id),
            organization_id: account.organization_id,
            typed_user_principal_name: &upn,
            client,
            outcome: Err(FailureReason::InvalidPassword),
            amr: &[],
            method: "password",
        };
        let mut tx = self.pool.begin().await?;
        if !password_ok {
            store::record_failure(&mut tx, &account_key, ThrottlePolicy::ACCOUNT, now).await?;
            events::sign_in_recorded(&mut tx, &record).await?;
            tx.commit().await?;
            return Err(IdentityError::InvalidCredentials);
        }
        if let Some(si) = &self.second_factors {
            let factors = si.second_factors(caller.user_id).await.map_err(|e| {
                tracing::error!(error = %e, "cannot list second factors");
                IdentityError::SecondFactorsUnavailable
            })?;
            if !factors.is_empty() {
                let challenge = self
                    .open_challenge(
                        &mut tx,
                        caller.user_id,
                        Some(session_id),
                        None,
                        &upn,
                        client,
                        factors,
                        si.policy,
                        now,
                    )
                    .await?;
                tx.commit().await?;
                return Ok(SignInOutcome::MfaRequired(challenge));
            }
        }
        let amr = vec!["pwd".to_owned()];
        record.amr = &amr;
        store::renew_session(&mut tx, session_id, &amr, now).await?;
        let tokens = self
            .issue_for_session(&mut tx, &account, session_id, &amr, &mut record, now)
            .await?;
        tx.commit().await?;
        Ok(SignInOutcome::Tokens(tokens))
    }

    /// Rotates a refresh token. Presenting an already-used token ends the whole session: either
    /// the client or a thief holds a copy, and we cannot tell which.
    pub async fn refresh(&self, refresh_token: &str, client: &ClientInfo) -> Result<IssuedTokens, IdentityError> {
        let mut v = Violations::new();
        v.required("refresh_token", refresh_token);
        v.text("refresh_token", refresh_token, 512);
        validate_client(client, &mut v);
        v.into_result().map_err(IdentityError::Invalid)?;

        let now = Utc::now();
        let hash = tokens::refresh_token_hash(refresh_token);
        let mut tx = self.pool.begin().await?;
        let Some(record) = store::refresh_token_for_update(&mut tx, &hash).await? else {
            return Err(IdentityError::InvalidRefreshToken);
        };
        if record.used_at.is_some() {
            if record.session_revoked_at.is_none() {
                let reason = crate::sessions::RevocationReason::RefreshTokenReuse;
                end_session(&mut tx, record.user_id, record.session_id, reason, now).await?;
                tx.commit().await?;
                tracing::warn!(session_id = %record.session_id, "refresh token reused; session revoked");
            }
            return Err(IdentityError::InvalidRefreshToken);
        }
        if record.session_revoked_at.is_some() || record.expires_at <= now || !record.enabled {
            return Err(IdentityError::InvalidRefreshToken);
        }
        store::mark_refresh_token_used(&mut tx, &hash, now).await?;
        let (new_token, new_hash) = tokens::new_refresh_token();
        store::insert_refresh_token(
            &mut tx,
            &new_hash,
            record.session_id,
            now,
            now + ttl(self.tokens.refresh_token_ttl),
        )
        .await?;
        store::touch_session(&mut tx, record.session_id, &client.ip_address, &client.user_agent, now).await?;
        let subject = TokenSubject {
            user_id: record.user_id,
            session_id: record.session_id,
            organization_id: record.organization_id,
            auth_time: record.auth_time,
            amr: record.amr,
            roles: record.roles,
        };
        let access_token = self
            .keys
            .sign(&tokens::access_claims(&self.tokens, &subject, now))
            .await?;
        tx.commit().await?;
        Ok(IssuedTokens {
            access_token,
            refresh_token: new_token,
            expires_in: self.tokens.access_token_ttl,
        })
    }

    /// Ends the caller's session; its refresh tokens stop working at once.
    pub async fn sign_out(&self, caller: &Caller) -> Result<(), IdentityError> {
        let session_id = caller.session_id.ok_or(IdentityError::SessionEnded)?;
        let mut tx = self.pool.begin().await?;
        let reason = crate::sessions::RevocationReason::SignedOut;
        end_session(&mut tx, caller.user_id, session_id, reason, Utc::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Refuses callers whose session has been revoked (signed out, reuse detected), so an
    /// access token stops working here as soon as its session ends.
    pub async fn require_active_session(&self, caller: &Caller) -> Result<(), IdentityError> {
        let Some(session_id) = caller.session_id else {
            return Ok(());
        };
        match store::session(&mut *self.pool.acquire().await?, session_id).await? {
            Some(s) if s.revoked_at.is_none() && s.user_id == caller.user_id => Ok(()),
            _ => Err(IdentityError::SessionEnded),
        }
    }

    pub async fn my_profile(&self, caller: &Caller) -> Result<Profile, IdentityError> {
        self.require_active_session(caller).await?;
        store::profile(&mut *self.pool.acquire().await?, caller.user_id)
            .await?
            .ok_or(IdentityError::UserNotFound(caller.user_id))
    }

    pub async fn update_my_profile(&self, caller: &Caller, changes: ProfileChanges) -> Result<Profile, IdentityError> {
        self.require_active_session(caller).await?;
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let profile = store::update_profile(&mut tx, caller.user_id, &changes, now)
            .await?
            .ok_or(IdentityError::UserNotFound(caller.user_id))?;
        events::profile_updated(&mut tx, caller.user_id, caller.session_id, changes.field_names(), now).await?;
        tx.commit().await?;
        Ok(profile)
    }
}

/// Who a session is for: what the access token needs to say.
pub(crate) struct Account {
    pub(crate) id: Uuid,
    /// The organization the session acts in: the home organization unless the person signed in
    /// to a guest organization.
    pub(crate) organization_id: Option<Uuid>,
    roles: Vec<String>,
}

impl Account {
    pub(crate) fn in_organization(c: &store::Credentials, organization_id: Option<Uuid>) -> Self {
        Self {
            id: c.id,
            organization_id: organization_id.or(c.home_organization_id),
            roles: c.roles.clone(),
        }
    }
}

fn parse_challenge_id(raw: &str) -> Result<Uuid, IdentityError> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        IdentityError::Invalid(vec![FieldViolation {
            field: "challenge_id".into(),
            description: "must be the challenge id from the sign-in answer".into(),
        }])
    })
}

pub(crate) fn validate_client(client: &ClientInfo, v: &mut Violations) {
    v.text("client.ip_address", &client.ip_address, 64);
    if !client.ip_address.is_empty() && client.ip_address.parse::<std::net::IpAddr>().is_err() {
        v.add("client.ip_address", "must be an IPv4 or IPv6 address");
    }
    v.text("client.user_agent", &client.user_agent, 1024);
    v.text("client.device_id", &client.device_id, 128);
    v.text("client.app_id", &client.app_id, 128);
    v.text("client.correlation_id", &client.correlation_id, 128);
}

fn ttl(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(14))
}

/// argon2id with the OWASP-recommended parameters (19 MiB, 2 iterations, 1 lane), off the
/// async runtime.
pub async fn hash_password(password: String) -> Result<String, IdentityError> {
    on_a_hashing_core(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| IdentityError::Hashing(e.to_string()))
    })
    .await
}

pub(crate) async fn verify_password(password: String, hash: String) -> Result<bool, IdentityError> {
    on_a_hashing_core(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| IdentityError::Hashing(e.to_string()))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
}

/// Runs a password hash on a blocking thread, at most one per core at a time: each takes a core
/// and 19 MiB, so dozens at once (64 people signing in) only take turns on the same cores and
/// evict each other's memory from the caches; waiting for a core is cheaper.
async fn on_a_hashing_core<T: Send + 'static>(
    hash: impl FnOnce() -> Result<T, IdentityError> + Send + 'static,
) -> Result<T, IdentityError> {
    static CORES: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
    });
    let _core = CORES
        .acquire()
        .await
        .map_err(|e| IdentityError::Hashing(e.to_string()))?;
    tokio::task::spawn_blocking(hash)
        .await
        .map_err(|e| IdentityError::Hashing(e.to_string()))?
}

/// Ends one session and publishes `session_revoked` in the same transaction (nothing when it had
/// already ended).
async fn end_session(
    tx: &mut sqlx::PgConnection,
    user_id: Uuid,
    session_id: Uuid,
    reason: crate::sessions::RevocationReason,
    now: chrono::DateTime<Utc>,
) -> Result<(), IdentityError> {
    let filter = store::SessionFilter {
        only: Some(session_id),
        ..Default::default()
    };
    for session in store::revoke_sessions(tx, user_id, &filter, reason.as_str(), now).await? {
        events::session_revoked(tx, user_id, &session, reason, Some(session_id), now).await?;
    }
    Ok(())
}
