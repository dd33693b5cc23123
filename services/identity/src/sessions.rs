//! The person's sessions: list them (what the browser and operating system are, where and when
//! they were last used, which one is this one), end one, end all others ("sign out everywhere
//! else"), end all ("sign out everywhere"), and change the password with the offer to end the
//! other sessions. Every revocation is published as `myaccount.identity.v1.session_revoked` in
//! the transaction that makes it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use platform::auth::Caller;
use platform::error::{ErrorKind, FieldViolation, ServiceError, Violations};
pub use platform::user_agent::ClientDescription;
use uuid::Uuid;

use crate::domain::{ThrottlePolicy, check_password};
use crate::events;
use crate::service::{Identity, IdentityError, hash_password, verify_password};
use crate::store::{self, SessionCursor, SessionFilter, SessionPage, StoreError};

/// Why sessions ended; the stable `reason` codes of `session_revoked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationReason {
    RevokedByUser,
    OtherSessionsRevoked,
    SignedOutEverywhere,
    PasswordChanged,
    DeviceDisabled,
    /// The person reported a sign-in as not theirs.
    ReportedNotMe,
    SignedOut,
    /// A spent refresh token came back: someone holds a copy.
    RefreshTokenReuse,
    /// The person left the guest organization the session acted in.
    LeftOrganization,
    /// An admin removed the person from the guest organization the session acted in.
    RemovedFromOrganization,
}

impl RevocationReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::RevokedByUser => "revoked_by_user",
            RevocationReason::OtherSessionsRevoked => "other_sessions_revoked",
            RevocationReason::SignedOutEverywhere => "signed_out_everywhere",
            RevocationReason::PasswordChanged => "password_changed",
            RevocationReason::DeviceDisabled => "device_disabled",
            RevocationReason::ReportedNotMe => "reported_not_me",
            RevocationReason::SignedOut => "signed_out",
            RevocationReason::RefreshTokenReuse => "refresh_token_reuse",
            RevocationReason::LeftOrganization => "left_organization",
            RevocationReason::RemovedFromOrganization => "removed_from_organization",
        }
    }
}

/// A session as the person sees it on the "Devices and sessions" page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub ip_address: String,
    /// Approximate location from the IP address. Always empty: there is no geolocation source
    /// yet (a later issue brings one); clients show nothing rather than a guess.
    pub location: String,
    pub client: ClientDescription,
    pub device_id: String,
    pub user_agent: String,
    pub authentication_methods: Vec<String>,
    /// The session of the calling access token.
    pub current: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionsError {
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("session {0} not found")]
    SessionNotFound(Uuid),
    #[error("this access token is not bound to a session; sign in again")]
    NoSession,
    #[error("too many wrong passwords; try again in {} seconds", retry_after.as_secs().max(1))]
    Throttled { retry_after: Duration },
    #[error("storage failed")]
    Store(#[from] StoreError),
    #[error("database failed")]
    Database(#[from] sqlx::Error),
}

impl ServiceError for SessionsError {
    fn kind(&self) -> ErrorKind {
        match self {
            SessionsError::Identity(e) => e.kind(),
            SessionsError::Invalid(v) => ErrorKind::InvalidArgument(v.clone()),
            SessionsError::SessionNotFound(_) => ErrorKind::NotFound(self.to_string()),
            SessionsError::NoSession => ErrorKind::FailedPrecondition(self.to_string()),
            SessionsError::Throttled { retry_after } => ErrorKind::ResourceExhausted {
                message: self.to_string(),
                retry_after: Some(*retry_after),
            },
            SessionsError::Store(_) | SessionsError::Database(_) => ErrorKind::Internal,
        }
    }
}

/// A request to change one's own password.
#[derive(Debug, Clone)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
    pub end_other_sessions: bool,
}

impl Identity {
    /// One page of the caller's active sessions (those that can still be refreshed), most
    /// recently used first, and where the next page starts.
    pub async fn list_my_sessions(
        &self,
        caller: &Caller,
        page: SessionPage,
    ) -> Result<(Vec<SessionView>, Option<SessionCursor>), SessionsError> {
        self.require_active_session(caller).await?;
        let (sessions, next) =
            store::active_sessions(&mut *self.pool().acquire().await?, caller.user_id, Utc::now(), page).await?;
        let sessions = sessions
            .into_iter()
            .map(|s| SessionView {
                current: Some(s.id) == caller.session_id,
                client: ClientDescription::from_user_agent(&s.user_agent),
                id: s.id,
                created_at: s.created_at,
                last_activity_at: s.last_seen_at,
                ip_address: s.ip_address,
                location: String::new(),
                device_id: s.device_id,
                user_agent: s.user_agent,
                authentication_methods: s.amr,
            })
            .collect();
        Ok((sessions, next))
    }

    /// Ends one of the caller's sessions (the calling one too, which is signing out). Another
    /// person's session, an unknown one and an ended one are all "not found".
    pub async fn revoke_my_session(&self, caller: &Caller, session_id: Uuid) -> Result<(), SessionsError> {
        self.require_active_session(caller).await?;
        let filter = SessionFilter {
            only: Some(session_id),
            ..SessionFilter::default()
        };
        let revoked = self.revoke(caller, filter, RevocationReason::RevokedByUser).await?;
        if revoked == 0 {
            return Err(SessionsError::SessionNotFound(session_id));
        }
        Ok(())
    }

    /// "Sign out everywhere else": every session of the caller except the calling one.
    pub async fn revoke_my_other_sessions(&self, caller: &Caller) -> Result<usize, SessionsError> {
        self.require_active_session(caller).await?;
        let current = caller.session_id.ok_or(SessionsError::NoSession)?;
        let filter = SessionFilter {
            except: Some(current),
            ..SessionFilter::default()
        };
        self.revoke(caller, filter, RevocationReason::OtherSessionsRevoked)
            .await
    }

    /// "Sign out everywhere": every session of the caller, the calling one included.
    pub async fn sign_out_everywhere(&self, caller: &Caller) -> Result<usize, SessionsError> {
        self.require_active_session(caller).await?;
        self.revoke(caller, SessionFilter::default(), RevocationReason::SignedOutEverywhere)
            .await
    }

    async fn revoke(
        &self,
        caller: &Caller,
        filter: SessionFilter,
        reason: RevocationReason,
    ) -> Result<usize, SessionsError> {
        let now = Utc::now();
        let mut tx = self.pool().begin().await?;
        let revoked = store::revoke_sessions(&mut tx, caller.user_id, &filter, reason.as_str(), now).await?;
        for session in &revoked {
            events::session_revoked(&mut tx, caller.user_id, session, reason, caller.session_id, now).await?;
        }
        tx.commit().await?;
        if !revoked.is_empty() {
            tracing::info!(user_id = %caller.user_id, count = revoked.len(), reason = reason.as_str(), "sessions revoked");
        }
        Ok(revoked.len())
    }

    /// Changes the caller's password after checking the current one (wrong guesses count
    /// towards the account's sign-in throttle), and ends the other sessions when asked to.
    /// Returns how many other sessions were ended.
    pub async fn change_my_password(&self, caller: &Caller, change: PasswordChange) -> Result<usize, SessionsError> {
        self.require_active_session(caller).await?;
        let mut v = Violations::new();
        v.required("current_password", &change.current_password);
        if change.current_password.chars().count() > 1024 {
            v.add("current_password", "at most 1024 characters");
        }
        v.required("new_password", &change.new_password);
        let mut conn = self.pool().acquire().await?;
        let account = store::password_of(&mut conn, caller.user_id)
            .await?
            .ok_or(IdentityError::UserNotFound(caller.user_id))?;
        if !change.new_password.is_empty() {
            let inputs = [
                account.user_principal_name.as_str(),
                account.display_name.as_str(),
                account.mail.as_str(),
            ];
            check_password("new_password", &change.new_password, &inputs, &mut v);
            if change.new_password == change.current_password {
                v.add("new_password", "must differ from the current password");
            }
        }
        v.into_result().map_err(SessionsError::Invalid)?;

        let now = Utc::now();
        let account_key = format!("account:{}", account.user_principal_name);
        let blocked = store::blocked_until(&mut conn, std::slice::from_ref(&account_key), now).await?;
        // Released before the password check and the transactions below.
        drop(conn);
        if let Some(until) = blocked {
            return Err(SessionsError::Throttled {
                retry_after: (until - now).to_std().unwrap_or(Duration::from_secs(1)),
            });
        }
        if !verify_password(change.current_password.clone(), account.password_hash.clone()).await? {
            let mut tx = self.pool().begin().await?;
            store::record_failure(&mut tx, &account_key, ThrottlePolicy::ACCOUNT, now).await?;
            tx.commit().await?;
            return Err(SessionsError::Invalid(vec![FieldViolation {
                field: "current_password".into(),
                description: "is not your current password".into(),
            }]));
        }

        let hash = hash_password(change.new_password).await?;
        let mut tx = self.pool().begin().await?;
        store::set_password(&mut tx, caller.user_id, &hash, now).await?;
        let mut ended = 0;
        if change.end_other_sessions {
            let filter = SessionFilter {
                except: caller.session_id,
                ..SessionFilter::default()
            };
            let reason = RevocationReason::PasswordChanged;
            let revoked = store::revoke_sessions(&mut tx, caller.user_id, &filter, reason.as_str(), now).await?;
            for session in &revoked {
                events::session_revoked(&mut tx, caller.user_id, session, reason, caller.session_id, now).await?;
            }
            ended = revoked.len();
        }
        events::password_changed(&mut tx, caller.user_id, caller.session_id, ended, now).await?;
        tx.commit().await?;
        tracing::info!(user_id = %caller.user_id, other_sessions_ended = ended, "password changed");
        Ok(ended)
    }
}
