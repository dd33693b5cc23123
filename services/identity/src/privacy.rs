//! The person's data held by identity: export it, and delete the account (by the person when
//! their home organization allows it, or by an admin). Deleting publishes
//! `myaccount.identity.v1.user_deleted`, on which every other service erases what it keeps.

use std::time::Duration;

use chrono::{DateTime, Utc};
use platform::auth::Caller;
use platform::error::{ErrorKind, FieldViolation, ServiceError};
use uuid::Uuid;

use crate::context::Context;
use crate::domain::{Profile, RevocationReason, SelfDeletion};
use crate::error::IdentityError;
use crate::events;
use crate::store::{self, SessionRecord, StoreError};
use platform::revocation::{Revocation, revoke_in_tx};

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("your organization does not let members delete their own account; ask its administrator")]
    SelfDeletionNotAllowed,
    #[error("an administrator cannot delete their own account this way; use DeleteMyAccount")]
    AdminDeletingSelf,
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

impl From<StoreError> for PrivacyError {
    fn from(e: StoreError) -> Self {
        PrivacyError::Identity(e.into())
    }
}

impl From<sqlx::Error> for PrivacyError {
    fn from(e: sqlx::Error) -> Self {
        PrivacyError::Identity(e.into())
    }
}

impl ServiceError for PrivacyError {
    fn kind(&self) -> ErrorKind {
        match self {
            PrivacyError::SelfDeletionNotAllowed | PrivacyError::AdminDeletingSelf => {
                ErrorKind::FailedPrecondition(self.to_string())
            }
            PrivacyError::Invalid(v) => ErrorKind::InvalidArgument(v.clone()),
            PrivacyError::Identity(e) => e.kind(),
        }
    }
}

/// Everything identity keeps about one person.
#[derive(Debug, Clone)]
pub struct PersonalData {
    pub profile: Profile,
    pub password_changed_at: DateTime<Utc>,
    pub sessions: Vec<SessionRecord>,
    pub guest_organization_ids: Vec<Uuid>,
    /// Where the person signed in from successfully, and when last (smart lockout).
    pub familiar_addresses: Vec<(String, DateTime<Utc>)>,
    pub exported_at: DateTime<Utc>,
}

/// Who asked for the deletion; stored in `deleted_users`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletedBy {
    TheUser,
    Admin,
}

impl DeletedBy {
    fn as_str(self) -> &'static str {
        match self {
            DeletedBy::TheUser => "self",
            DeletedBy::Admin => "admin",
        }
    }
}

pub async fn export_my_data(ctx: &Context, caller: &Caller) -> Result<PersonalData, IdentityError> {
    ctx.require_active_session(caller).await?;
    // One snapshot, so the sessions match the profile.
    let mut tx = ctx.pool.begin().await?;
    let profile = store::profile(&mut tx, caller.user_id)
        .await?
        .ok_or(IdentityError::UserNotFound(caller.user_id))?;
    let password_changed_at = store::password_changed_at(&mut tx, caller.user_id)
        .await?
        .ok_or(IdentityError::UserNotFound(caller.user_id))?;
    let sessions = store::all_sessions(&mut tx, caller.user_id).await?;
    let guest_organization_ids = store::guest_organizations(&mut tx, caller.user_id).await?;
    let familiar_addresses = store::familiar_addresses(&mut tx, caller.user_id).await?;
    tx.commit().await?;
    Ok(PersonalData {
        profile,
        password_changed_at,
        sessions,
        guest_organization_ids,
        familiar_addresses,
        exported_at: Utc::now(),
    })
}

/// Whether the person has a second factor, which decides what step-up deleting needs.
/// Fails closed when security-info cannot answer.
pub async fn has_second_factor(ctx: &Context, user_id: Uuid) -> Result<bool, IdentityError> {
    Ok(!ctx.second_factors_of(user_id).await?.is_empty())
}

/// The person deletes their own account. The caller has passed the step-up check; the
/// typed user principal name must match, and the home organization must allow it.
pub async fn delete_my_account(
    ctx: &Context,
    caller: &Caller,
    confirm_user_principal_name: &str,
) -> Result<DateTime<Utc>, PrivacyError> {
    ctx.require_active_session(caller).await?;
    let mut conn = ctx.pool.acquire().await?;
    let account = store::account(&mut conn, caller.user_id)
        .await?
        .ok_or(IdentityError::UserNotFound(caller.user_id))?;
    let upn = store::user_principal_name(&mut conn, caller.user_id)
        .await?
        .ok_or(IdentityError::UserNotFound(caller.user_id))?;
    if confirm_user_principal_name.trim().to_lowercase() != upn {
        return Err(PrivacyError::Invalid(vec![FieldViolation {
            field: "confirm_user_principal_name".into(),
            description: "type your user name exactly as you sign in with it, to confirm".into(),
            reason: String::new(),
        }]));
    }
    let rule = home_organization_rule(&mut conn, account.home_organization_id).await?;
    // Released before the deletion takes its own transaction.
    drop(conn);
    if rule != SelfDeletion::Allowed {
        return Err(PrivacyError::SelfDeletionNotAllowed);
    }
    delete_account(ctx, caller.user_id, DeletedBy::TheUser).await
}

/// Whether the person may delete their own account now: the rule `delete_my_account` applies.
pub async fn self_deletion(ctx: &Context, caller: &Caller) -> Result<SelfDeletion, PrivacyError> {
    let mut conn = ctx.pool.acquire().await?;
    let account = store::account(&mut conn, caller.user_id)
        .await?
        .ok_or(IdentityError::UserNotFound(caller.user_id))?;
    home_organization_rule(&mut conn, account.home_organization_id).await
}

async fn home_organization_rule(
    conn: &mut sqlx::PgConnection,
    home_organization_id: Option<Uuid>,
) -> Result<SelfDeletion, PrivacyError> {
    let setting = match home_organization_id {
        Some(home) => store::allows_self_deletion(conn, home).await?,
        None => None,
    };
    Ok(SelfDeletion::from_setting(setting))
}

/// An admin deletes an account (not their own: that would lock them out mid-request).
/// An admin deletes a person of their own organization (another's answers NOT_FOUND, as an
/// unknown one does), after a multi-factor sign-in no older than `step_up_max_age`.
pub async fn delete_user(
    ctx: &Context,
    admin: &Caller,
    user_id: &str,
    step_up_max_age: Duration,
) -> Result<DateTime<Utc>, PrivacyError> {
    let user_id = Uuid::parse_str(user_id.trim()).map_err(|_| {
        PrivacyError::Invalid(vec![FieldViolation {
            field: "user_id".into(),
            description: "must be a user id (a UUID)".into(),
            reason: String::new(),
        }])
    })?;
    if user_id == admin.user_id {
        return Err(PrivacyError::AdminDeletingSelf);
    }
    let home = store::account(&mut *ctx.pool.acquire().await?, user_id)
        .await?
        .map(|c| c.home_organization_id.map(|o| o.to_string()).unwrap_or_default());
    if !home.is_some_and(|home| admin.may_administer(&home)) {
        return Err(IdentityError::UserNotFound(user_id).into());
    }
    admin
        .require_recent_mfa(step_up_max_age)
        .map_err(|refusal| IdentityError::ReauthenticationRequired(refusal.message().to_owned()))?;
    delete_account(ctx, user_id, DeletedBy::Admin).await
}

/// Deletes the user row (sessions, refresh tokens and challenges go with it) and publishes
/// `user_deleted` in the same transaction, so the erasure elsewhere is certain to follow.
async fn delete_account(ctx: &Context, user_id: Uuid, by: DeletedBy) -> Result<DateTime<Utc>, PrivacyError> {
    let now = Utc::now();
    let mut tx = ctx.pool.begin().await?;
    // Named before they go with the account, so even a token of this very second is refused.
    let sessions = store::live_session_ids(&mut tx, user_id).await?;
    if store::delete_user(&mut tx, user_id, by.as_str(), now).await?.is_none() {
        return Err(IdentityError::UserNotFound(user_id).into());
    }
    events::user_deleted(&mut tx, user_id, now).await?;
    // Its sessions went with the account: every token it still holds ends at every service.
    let revocation = Revocation {
        user_id,
        sessions,
        reason: RevocationReason::AccountDeleted,
        device_id: None,
        at: now,
    };
    revoke_in_tx(&mut tx, &revocation).await?;
    tx.commit().await?;
    tracing::info!(%user_id, deleted_by = by.as_str(), "account deleted");
    Ok(now)
}
