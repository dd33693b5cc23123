//! Identity's use cases: create users, sign in, refresh, sign out, read and edit one's profile.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::Utc;
use platform::auth::{AuthError, Caller};
use platform::error::{ErrorKind, FieldViolation, ServiceError, Violations};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{FailureReason, NewUserInput, Profile, ProfileChanges, ThrottlePolicy};
use crate::events::{self, ClientInfo, SignInAttemptRecord};
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
}

impl ServiceError for IdentityError {
    fn kind(&self) -> ErrorKind {
        match self {
            IdentityError::Invalid(v) => ErrorKind::InvalidArgument(v.clone()),
            IdentityError::InvalidCredentials | IdentityError::InvalidRefreshToken | IdentityError::SessionEnded => {
                ErrorKind::Unauthenticated(self.to_string())
            }
            IdentityError::AccountDisabled => ErrorKind::PermissionDenied(self.to_string()),
            IdentityError::Throttled { retry_after } => ErrorKind::ResourceExhausted {
                message: self.to_string(),
                retry_after: Some(*retry_after),
            },
            IdentityError::UserNotFound(_) => ErrorKind::NotFound(self.to_string()),
            IdentityError::DuplicateUser(_) => ErrorKind::AlreadyExists(self.to_string()),
            IdentityError::Store(StoreError::DuplicateUser(upn)) => {
                ErrorKind::AlreadyExists(format!("a user named {upn} already exists"))
            }
            IdentityError::Store(_) | IdentityError::Database(_) | IdentityError::Hashing(_) | IdentityError::Signing(_) => {
                ErrorKind::Internal
            }
        }
    }
}

/// Tokens handed to a client after sign-in or refresh.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: Duration,
}

pub struct Identity {
    pool: PgPool,
    keys: Arc<KeyStore>,
    tokens: TokenSettings,
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
            dummy_hash,
        })
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

    pub async fn sign_in(&self, username: &str, password: &str, client: &ClientInfo) -> Result<IssuedTokens, IdentityError> {
        let mut v = Violations::new();
        v.required("username", username);
        v.text("username", username, 256);
        v.required("password", password);
        if password.chars().count() > 1024 {
            v.add("password", "at most 1024 characters");
        }
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
        };

        let throttle_keys = if client.ip_address.is_empty() {
            vec![account_key.clone()]
        } else {
            vec![account_key.clone(), ip_key.clone()]
        };
        if let Some(until) = store::blocked_until(&self.pool, &throttle_keys, now).await? {
            // The password is not even checked while throttled; the answer is the same whether
            // or not the account exists.
            let credentials = store::credentials_by_upn(&self.pool, &upn).await?;
            record.user_id = credentials.as_ref().map(|c| c.id);
            record.organization_id = credentials.and_then(|c| c.home_organization_id);
            let mut tx = self.pool.begin().await?;
            events::sign_in_recorded(&mut tx, &record).await?;
            tx.commit().await?;
            return Err(IdentityError::Throttled {
                retry_after: (until - now).to_std().unwrap_or(Duration::from_secs(1)),
            });
        }

        let credentials = store::credentials_by_upn(&self.pool, &upn).await?;
        let hash = credentials.as_ref().map_or(self.dummy_hash.clone(), |c| c.password_hash.clone());
        let password_ok = verify_password(password.to_owned(), hash).await?;

        let mut tx = self.pool.begin().await?;
        let failure = match &credentials {
            None => Some(FailureReason::UnknownUser),
            Some(_) if !password_ok => Some(FailureReason::InvalidPassword),
            Some(c) if !c.enabled => Some(FailureReason::AccountDisabled),
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
                _ => IdentityError::InvalidCredentials,
            });
        }
        let Some(credentials) = credentials else {
            return Err(IdentityError::InvalidCredentials);
        };

        let session_id = Uuid::now_v7();
        let amr = vec!["pwd".to_owned()];
        store::clear_failures(&mut tx, &account_key).await?;
        store::insert_session(
            &mut tx,
            &NewSession {
                id: session_id,
                user_id: credentials.id,
                now,
                ip_address: &client.ip_address,
                user_agent: &client.user_agent,
                device_id: &client.device_id,
                amr: &amr,
            },
        )
        .await?;
        let (refresh_token, refresh_hash) = tokens::new_refresh_token();
        store::insert_refresh_token(&mut tx, &refresh_hash, session_id, now, now + ttl(self.tokens.refresh_token_ttl)).await?;
        record.outcome = Ok(session_id);
        record.amr = &amr;
        events::sign_in_recorded(&mut tx, &record).await?;
        let subject = TokenSubject {
            user_id: credentials.id,
            session_id,
            organization_id: credentials.home_organization_id,
            auth_time: now,
            amr: amr.clone(),
            roles: credentials.roles,
        };
        let access_token = self.keys.sign(&tokens::access_claims(&self.tokens, &subject, now)).await?;
        tx.commit().await?;
        Ok(IssuedTokens {
            access_token,
            refresh_token,
            expires_in: self.tokens.access_token_ttl,
        })
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
                store::revoke_session(&mut tx, record.user_id, record.session_id, "refresh_token_reuse", now).await?;
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
        store::insert_refresh_token(&mut tx, &new_hash, record.session_id, now, now + ttl(self.tokens.refresh_token_ttl)).await?;
        store::touch_session(&mut tx, record.session_id, &client.ip_address, &client.user_agent, now).await?;
        let subject = TokenSubject {
            user_id: record.user_id,
            session_id: record.session_id,
            organization_id: record.home_organization_id,
            auth_time: record.auth_time,
            amr: record.amr,
            roles: record.roles,
        };
        let access_token = self.keys.sign(&tokens::access_claims(&self.tokens, &subject, now)).await?;
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
        store::revoke_session(&mut tx, caller.user_id, session_id, "signed_out", Utc::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Refuses callers whose session has been revoked (signed out, reuse detected), so an
    /// access token stops working here as soon as its session ends.
    pub async fn require_active_session(&self, caller: &Caller) -> Result<(), IdentityError> {
        let Some(session_id) = caller.session_id else {
            return Ok(());
        };
        match store::session(&self.pool, session_id).await? {
            Some(s) if s.revoked_at.is_none() && s.user_id == caller.user_id => Ok(()),
            _ => Err(IdentityError::SessionEnded),
        }
    }

    pub async fn my_profile(&self, caller: &Caller) -> Result<Profile, IdentityError> {
        self.require_active_session(caller).await?;
        store::profile(&self.pool, caller.user_id)
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

fn validate_client(client: &ClientInfo, v: &mut Violations) {
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
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| IdentityError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| IdentityError::Hashing(e.to_string()))?
}

async fn verify_password(password: String, hash: String) -> Result<bool, IdentityError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| IdentityError::Hashing(e.to_string()))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| IdentityError::Hashing(e.to_string()))?
}
