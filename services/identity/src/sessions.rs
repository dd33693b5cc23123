//! The person's sessions: list them (what the browser and operating system are, where and when
//! they were last used, which one is this one), end one, end all others ("sign out everywhere
//! else"), end all ("sign out everywhere"), and change the password with the offer to end the
//! other sessions. Every revocation is published as `myaccount.identity.v1.session_revoked` in
//! the transaction that makes it, including identity's reactions to a disabled device and to a
//! sign-in the person reported as not theirs.

use std::time::Duration;

use chrono::{DateTime, Utc};
use myaccount_proto::events::v1::{DeviceDisabled, SignInFlagged};
use platform::auth::{APP_PASSWORD_AMR, Caller};
use platform::consumer::{Delivery, Handler, HandlerError};
use platform::error::{ErrorKind, FieldViolation, ServiceError, Violations};
use platform::revocation::{Revocation, revoke_in_tx};
pub use platform::user_agent::ClientDescription;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::context::Context;
use crate::domain::{RevocationReason, Throttle, ThrottlePolicy, check_password};
use crate::error::IdentityError;
use crate::events;
use crate::passwords::{hash_password, verify_password};
use crate::store::{self, RevokedSession, SessionCursor, SessionFilter, SessionPage, StoreError};

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
    #[error("too many wrong passwords; try again in {} seconds", crate::error::whole_seconds(*retry_after))]
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

/// One page of the caller's active sessions (those that can still be refreshed), most recently
/// used first, and where the next page starts.
pub async fn list_my_sessions(
    ctx: &Context,
    caller: &Caller,
    page: SessionPage,
) -> Result<(Vec<SessionView>, Option<SessionCursor>), SessionsError> {
    let (sessions, next) =
        store::active_sessions(&mut *ctx.pool.acquire().await?, caller.user_id, Utc::now(), page).await?;
    // The caller's own session among them (usually the most recently used) is active: asked
    // about on its own only when the page does not show it.
    if !caller
        .session_id
        .is_some_and(|own| sessions.iter().any(|s| s.id == own))
    {
        ctx.require_active_session(caller).await?;
    }
    let sessions = sessions
        .into_iter()
        .map(|s| SessionView {
            current: Some(s.id) == caller.session_id,
            client: ClientDescription::from_user_agent(&s.user_agent),
            id: s.id,
            created_at: s.created_at,
            last_activity_at: s.last_seen_at,
            location: ctx.place_of(&s.ip_address),
            ip_address: s.ip_address,
            device_id: s.device_id,
            user_agent: s.user_agent,
            authentication_methods: s.amr,
        })
        .collect();
    Ok((sessions, next))
}

/// Ends one of the caller's sessions (the calling one too, which is signing out). Another
/// person's session, an unknown one and an ended one are all "not found".
pub async fn revoke_my_session(ctx: &Context, caller: &Caller, session_id: Uuid) -> Result<(), SessionsError> {
    ctx.require_active_session(caller).await?;
    let filter = SessionFilter {
        only: Some(session_id),
        ..SessionFilter::default()
    };
    let revoked = revoke(ctx, caller, filter, RevocationReason::RevokedByUser).await?;
    if revoked == 0 {
        return Err(SessionsError::SessionNotFound(session_id));
    }
    Ok(())
}

/// "Sign out everywhere else": every session of the caller except the calling one.
pub async fn revoke_my_other_sessions(ctx: &Context, caller: &Caller) -> Result<usize, SessionsError> {
    ctx.require_active_session(caller).await?;
    let current = caller.session_id.ok_or(SessionsError::NoSession)?;
    let filter = SessionFilter {
        except: Some(current),
        ..SessionFilter::default()
    };
    revoke(ctx, caller, filter, RevocationReason::OtherSessionsRevoked).await
}

/// "Sign out everywhere": every session of the caller, the calling one included.
pub async fn sign_out_everywhere(ctx: &Context, caller: &Caller) -> Result<usize, SessionsError> {
    ctx.require_active_session(caller).await?;
    revoke(
        ctx,
        caller,
        SessionFilter::default(),
        RevocationReason::SignedOutEverywhere,
    )
    .await
}

/// Ends the caller's session; its refresh tokens stop working at once.
pub async fn sign_out(ctx: &Context, caller: &Caller) -> Result<(), IdentityError> {
    let session_id = caller.session_id.ok_or(IdentityError::SessionEnded)?;
    let mut tx = ctx.pool.begin().await?;
    end_session(
        &mut tx,
        caller.user_id,
        session_id,
        RevocationReason::SignedOut,
        Utc::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn revoke(
    ctx: &Context,
    caller: &Caller,
    filter: SessionFilter,
    reason: RevocationReason,
) -> Result<usize, SessionsError> {
    let mut tx = ctx.pool.begin().await?;
    let revoked = end_sessions(&mut tx, caller.user_id, &filter, reason, caller.session_id, Utc::now()).await?;
    tx.commit().await?;
    if !revoked.is_empty() {
        tracing::info!(user_id = %caller.user_id, count = revoked.len(), reason = reason.code(), "sessions revoked");
    }
    Ok(revoked.len())
}

/// Ends the user's active sessions that `filter` picks and publishes, in the same transaction,
/// `session_revoked` for each and one `access_revoked` for the revocation feed, which ends
/// their access tokens at every service; sessions that had already ended are left alone.
/// Their `session_revoked` events share one `cause_id`: one act.
pub async fn end_sessions(
    conn: &mut PgConnection,
    user_id: Uuid,
    filter: &SessionFilter,
    reason: RevocationReason,
    actor_session_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Vec<RevokedSession>, StoreError> {
    end_sessions_in_act(conn, user_id, filter, reason, actor_session_id, Uuid::now_v7(), now).await
}

/// [`end_sessions`] as part of a larger act (a password change or reset), whose other events
/// carry the same `cause_id`.
pub async fn end_sessions_in_act(
    conn: &mut PgConnection,
    user_id: Uuid,
    filter: &SessionFilter,
    reason: RevocationReason,
    actor_session_id: Option<Uuid>,
    cause_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<RevokedSession>, StoreError> {
    let revoked = store::revoke_sessions(conn, user_id, filter, reason.code(), now).await?;
    for session in &revoked {
        events::session_revoked(
            conn,
            user_id,
            session.id,
            &session.device_id,
            reason,
            actor_session_id,
            cause_id,
            now,
        )
        .await?;
    }
    let revocation = Revocation {
        user_id,
        sessions: revoked.iter().map(|s| s.id).collect(),
        reason,
        device_id: filter.device_id.clone(),
        at: now,
    };
    revoke_in_tx(conn, &revocation).await?;
    Ok(revoked)
}

/// Ends one session on its own behalf (signing out, a reused refresh token).
pub async fn end_session(
    conn: &mut PgConnection,
    user_id: Uuid,
    session_id: Uuid,
    reason: RevocationReason,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let filter = SessionFilter {
        only: Some(session_id),
        ..SessionFilter::default()
    };
    end_sessions(conn, user_id, &filter, reason, Some(session_id), now).await?;
    Ok(())
}

/// Changes the caller's password after checking the current one (wrong guesses count towards
/// the account's sign-in throttle), and ends the other sessions when asked to. Returns how
/// many other sessions were ended.
pub async fn change_my_password(
    ctx: &Context,
    caller: &Caller,
    change: PasswordChange,
) -> Result<usize, SessionsError> {
    ctx.require_active_session(caller).await?;
    let mut v = Violations::new();
    v.required("current_password", &change.current_password);
    if change.current_password.chars().count() > 1024 {
        v.add("current_password", "at most 1024 characters");
    }
    v.required("new_password", &change.new_password);
    let account = store::password_of(&mut *ctx.pool.acquire().await?, caller.user_id)
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
    // The check and the count are one step (`attempt::reserve_on`), as for sign-in, so parallel
    // wrong current passwords cannot all be verified before the first failure is counted.
    let account_key = Throttle::account_key(&account.user_principal_name);
    let policy = ThrottlePolicy::ACCOUNT.with_base_delay(ctx.lockout_base_ms);
    let mut throttle = Throttle {
        counted: vec![(account_key.clone(), policy)],
        cleared: Vec::new(),
        reserved: false,
    };
    let reservation = match crate::attempt::reserve_on(&ctx.pool, &mut throttle).await? {
        Ok(reservation) => reservation,
        Err(retry_after) => return Err(SessionsError::Throttled { retry_after }),
    };
    if !verify_password(change.current_password.clone(), account.password_hash.clone()).await? {
        let mut tx = ctx.pool.begin().await?;
        store::record_failure(&mut tx, &account_key, policy, now, true).await?;
        tx.commit().await?;
        reservation.settled();
        return Err(SessionsError::Invalid(vec![FieldViolation {
            field: "current_password".into(),
            description: "is not your current password".into(),
            reason: String::new(),
        }]));
    }

    let hash = hash_password(change.new_password).await?;
    let mut tx = ctx.pool.begin().await?;
    store::release_attempt(&mut tx, reservation.keys()).await?;
    store::set_password(&mut tx, caller.user_id, &hash, now).await?;
    let mut ended = 0;
    // The change and the sessions it ends are one act: their SETs share a txn.
    let cause_id = Uuid::now_v7();
    if change.end_other_sessions {
        let filter = SessionFilter {
            except: caller.session_id,
            ..SessionFilter::default()
        };
        let reason = RevocationReason::PasswordChanged;
        ended = end_sessions_in_act(
            &mut tx,
            caller.user_id,
            &filter,
            reason,
            caller.session_id,
            cause_id,
            now,
        )
        .await?
        .len();
    } else {
        // The app passwords go with the old password (security-info revokes them when it hears
        // of the change), and so do the sessions they opened.
        let filter = SessionFilter {
            amr: Some(APP_PASSWORD_AMR.to_owned()),
            except: caller.session_id,
            ..SessionFilter::default()
        };
        let reason = RevocationReason::PasswordChanged;
        end_sessions_in_act(
            &mut tx,
            caller.user_id,
            &filter,
            reason,
            caller.session_id,
            cause_id,
            now,
        )
        .await?;
    }
    events::password_changed(&mut tx, caller.user_id, caller.session_id, ended, cause_id, now).await?;
    tx.commit().await?;
    reservation.settled();
    tracing::info!(user_id = %caller.user_id, other_sessions_ended = ended, "password changed");
    Ok(ended)
}

/// Consumes `myaccount.devices.v1.disabled`: ends every active session of the owner bound to the
/// device, publishing `session_revoked` for each in the same transaction. A redelivered event
/// finds nothing left to revoke (and is skipped as a duplicate before that).
pub struct DeviceDisabledHandler;

impl Handler<DeviceDisabled> for DeviceDisabledHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<DeviceDisabled>) -> Result<(), HandlerError> {
        let event = &delivery.event;
        let user_id = Uuid::parse_str(&event.user_id)
            .map_err(|_| HandlerError::Rejected(format!("user_id {:?} is not a UUID", event.user_id)))?;
        if event.device_id.is_empty() {
            return Err(HandlerError::Rejected("device_id is empty".into()));
        }
        crate::known_devices::disabled(conn, delivery).await?;
        let filter = SessionFilter {
            device_id: Some(event.device_id.clone()),
            ..Default::default()
        };
        let revoked = end_sessions(
            conn,
            user_id,
            &filter,
            RevocationReason::DeviceDisabled,
            None,
            Utc::now(),
        )
        .await?;
        tracing::info!(%user_id, device_id = %event.device_id, sessions = revoked.len(), "device disabled; its sessions ended");
        Ok(())
    }
}

/// Consumes `myaccount.signin.v1.flagged` (the person said "this wasn't me"): ends every active
/// session of theirs, so refresh tokens held by whoever signed in stop working at once, and
/// publishes `session_revoked` for each in the same transaction.
pub struct SignInFlaggedHandler;

impl Handler<SignInFlagged> for SignInFlaggedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<SignInFlagged>) -> Result<(), HandlerError> {
        let event = &delivery.event;
        let user_id = Uuid::parse_str(&event.user_id)
            .map_err(|_| HandlerError::Rejected(format!("user_id {:?} is not a UUID", event.user_id)))?;
        // The password may be what let them in: the next sign-in must choose a new one.
        store::require_password_change(conn, user_id).await?;
        let filter = SessionFilter::default();
        let revoked = end_sessions(
            conn,
            user_id,
            &filter,
            RevocationReason::ReportedNotMe,
            None,
            Utc::now(),
        )
        .await?;
        tracing::warn!(%user_id, sign_in_id = %event.sign_in_id, sessions = revoked.len(), "sign-in reported as not me; every session ended");
        Ok(())
    }
}
