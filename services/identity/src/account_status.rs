//! Disabling and enabling an account (an administrator's act, or the operator's from the
//! `myaccount user` command). A disabled account's sign-ins are refused and its sessions end at
//! once; identity publishes `user_disabled` / `user_enabled` in the same transaction, so
//! Shared Signals receivers hear RISC account-disabled / account-enabled.

use std::time::Duration;

use chrono::{DateTime, Utc};
use platform::auth::Caller;
use platform::error::FieldViolation;
use sqlx::PgPool;
use uuid::Uuid;

use crate::context::Context;
use crate::domain::RevocationReason;
use crate::error::IdentityError;
use crate::events;
use crate::sessions::end_sessions_in_act;
use crate::store::{self, SessionFilter};

/// Who changed the account's status: named in the event (RISC `initiating_entity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangedBy {
    /// An administrator, through identity's API.
    Admin,
    /// The installation's operator, with direct access to identity's database.
    Operator,
}

impl ChangedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangedBy::Admin => "admin",
            ChangedBy::Operator => "operator",
        }
    }
}

/// What [`set_enabled`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub user_id: Uuid,
    pub enabled: bool,
    /// False when the account already had that status (nothing published).
    pub changed: bool,
    pub at: DateTime<Utc>,
}

/// An administrator disables or enables a person of their own organization (another's answers
/// NOT_FOUND, as an unknown one does), after a multi-factor sign-in no older than
/// `step_up_max_age`. An administrator cannot disable themselves.
pub async fn set_enabled_as_admin(
    ctx: &Context,
    admin: &Caller,
    user_id: &str,
    enabled: bool,
    step_up_max_age: Duration,
) -> Result<StatusChange, IdentityError> {
    let user_id = Uuid::parse_str(user_id.trim()).map_err(|_| {
        IdentityError::Invalid(vec![FieldViolation {
            field: "user_id".into(),
            description: "must be a user id (a UUID)".into(),
            reason: platform::error::violation_reason::INVALID_ID.to_owned(),
        }])
    })?;
    if !enabled && user_id == admin.user_id {
        return Err(IdentityError::Invalid(vec![FieldViolation {
            field: "user_id".into(),
            description: "an administrator cannot disable their own account".into(),
            reason: String::new(),
        }]));
    }
    let home = store::account(&mut *ctx.pool.acquire().await?, user_id)
        .await?
        .map(|c| c.home_organization_id.map(|o| o.to_string()).unwrap_or_default());
    if !home.is_some_and(|home| admin.may_administer(&home)) {
        return Err(IdentityError::UserNotFound(user_id));
    }
    admin
        .require_recent_mfa(step_up_max_age)
        .map_err(|refusal| IdentityError::ReauthenticationRequired(refusal.message().to_owned()))?;
    set_enabled(&ctx.pool, user_id, enabled, ChangedBy::Admin).await
}

/// The operator disables or enables the account named `user_principal_name`.
pub async fn set_enabled_by_name(
    pool: &PgPool,
    user_principal_name: &str,
    enabled: bool,
) -> Result<StatusChange, IdentityError> {
    let upn = user_principal_name.trim().to_lowercase();
    let account = store::credentials_by_upn(&mut *pool.acquire().await?, &upn).await?;
    let Some(account) = account else {
        return Err(IdentityError::Invalid(vec![FieldViolation {
            field: "username".into(),
            description: format!("no account is named {upn:?}"),
            reason: String::new(),
        }]));
    };
    set_enabled(pool, account.id, enabled, ChangedBy::Operator).await
}

/// Sets the account's `enabled` flag; a change publishes `user_disabled` (ending every session
/// of the account, with their `session_revoked`) or `user_enabled`, in one transaction. Setting
/// the status it already has changes and publishes nothing.
pub async fn set_enabled(
    pool: &PgPool,
    user_id: Uuid,
    enabled: bool,
    by: ChangedBy,
) -> Result<StatusChange, IdentityError> {
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    let changed = match store::set_enabled(&mut tx, user_id, enabled, now).await? {
        None => return Err(IdentityError::UserNotFound(user_id)),
        Some(changed) => changed,
    };
    if changed {
        // One act: the status change and the sessions it ends share a cause.
        let cause_id = Uuid::now_v7();
        if enabled {
            events::user_enabled(&mut tx, user_id, by.as_str(), cause_id, now).await?;
        } else {
            end_sessions_in_act(
                &mut tx,
                user_id,
                &SessionFilter::default(),
                RevocationReason::AccountDisabled,
                None,
                cause_id,
                now,
            )
            .await?;
            events::user_disabled(&mut tx, user_id, by.as_str(), cause_id, now).await?;
        }
    }
    tx.commit().await?;
    if changed {
        tracing::info!(%user_id, enabled, by = by.as_str(), "account status changed");
    }
    Ok(StatusChange {
        user_id,
        enabled,
        changed,
        at: now,
    })
}
