//! Changing a person's sign-in identifiers: their user principal name (what they sign in with)
//! and email address, an administrator's act (`ChangeUserIdentifiers`) or the operator's
//! (`myaccount user rename`). The change and its `identifiers_changed` event commit together,
//! so Shared Signals receivers hear RISC identifier-changed about the old values. Sessions go
//! on (the person is the same); the old name no longer signs in.

use std::time::Duration;

use chrono::{DateTime, Utc};
use platform::auth::Caller;
use platform::error::FieldViolation;
use sqlx::PgPool;
use uuid::Uuid;

pub use crate::account_status::ChangedBy;
use crate::context::Context;
use crate::domain::{IdentifierChange, identifier_violation};
use crate::error::IdentityError;
use crate::events;
use crate::store::{self, Identifiers, StoreError};

/// What [`change_identifiers`] did: the identifiers before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifiersChange {
    pub user_id: Uuid,
    pub previous: Identifiers,
    pub current: Identifiers,
    /// False when the account already had the identifiers asked for (nothing published).
    pub changed: bool,
    pub at: DateTime<Utc>,
}

/// An administrator changes the identifiers of a person of their own organization (another's
/// answers NOT_FOUND, as an unknown one does), after a multi-factor sign-in no older than
/// `step_up_max_age`: the same rule as disabling an account.
pub async fn change_identifiers_as_admin(
    ctx: &Context,
    admin: &Caller,
    user_id: &str,
    new_user_principal_name: &str,
    new_email: &str,
    step_up_max_age: Duration,
) -> Result<IdentifiersChange, IdentityError> {
    let parsed_id = Uuid::parse_str(user_id.trim()).map_err(|_| FieldViolation {
        field: "user_id".into(),
        description: "must be a user id (a UUID)".into(),
        reason: platform::error::violation_reason::INVALID_ID.to_owned(),
    });
    // Every problem of the request at once.
    let change = IdentifierChange::parse(new_user_principal_name, new_email);
    let (user_id, change) = match (parsed_id, change) {
        (Ok(user_id), Ok(change)) => (user_id, change),
        (parsed_id, change) => {
            let mut violations: Vec<FieldViolation> = parsed_id.err().into_iter().collect();
            violations.extend(change.err().unwrap_or_default());
            return Err(IdentityError::Invalid(violations));
        }
    };
    let home = store::account(&mut *ctx.pool.acquire().await?, user_id)
        .await?
        .map(|c| c.home_organization_id.map(|o| o.to_string()).unwrap_or_default());
    if !home.is_some_and(|home| admin.may_administer(&home)) {
        return Err(IdentityError::UserNotFound(user_id));
    }
    admin
        .require_recent_mfa(step_up_max_age)
        .map_err(|refusal| IdentityError::ReauthenticationRequired(refusal.message().to_owned()))?;
    change_identifiers(&ctx.pool, user_id, &change, ChangedBy::Admin).await
}

/// The operator changes the identifiers of the account named `user_principal_name`.
pub async fn change_identifiers_by_name(
    pool: &PgPool,
    user_principal_name: &str,
    new_user_principal_name: &str,
    new_email: &str,
) -> Result<IdentifiersChange, IdentityError> {
    let upn = user_principal_name.trim().to_lowercase();
    let change = IdentifierChange::parse(new_user_principal_name, new_email).map_err(IdentityError::Invalid)?;
    let account = store::credentials_by_upn(&mut *pool.acquire().await?, &upn).await?;
    let Some(account) = account else {
        return Err(IdentityError::Invalid(vec![FieldViolation {
            field: "username".into(),
            description: format!("no account is named {upn:?}"),
            reason: identifier_violation::UNKNOWN_ACCOUNT.to_owned(),
        }]));
    };
    change_identifiers(pool, account.id, &change, ChangedBy::Operator).await
}

/// Applies `change` and publishes `identifiers_changed` in one transaction. Asking for the
/// identifiers the account already has changes and publishes nothing; a user principal name
/// another account has is [`IdentityError::DuplicateUser`] and changes nothing either.
pub async fn change_identifiers(
    pool: &PgPool,
    user_id: Uuid,
    change: &IdentifierChange,
    by: ChangedBy,
) -> Result<IdentifiersChange, IdentityError> {
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    let Some(previous) = store::identifiers_for_update(&mut tx, user_id).await? else {
        return Err(IdentityError::UserNotFound(user_id));
    };
    let current = Identifiers {
        user_principal_name: change
            .user_principal_name
            .as_ref()
            .map_or_else(|| previous.user_principal_name.clone(), |u| u.as_str().to_owned()),
        mail: change.email.clone().unwrap_or_else(|| previous.mail.clone()),
    };
    let changed = current != previous;
    if changed {
        store::set_identifiers(&mut tx, user_id, &current, now)
            .await
            .map_err(|e| match e {
                StoreError::DuplicateUser(upn) => IdentityError::DuplicateUser(upn),
                other => other.into(),
            })?;
        events::identifiers_changed(&mut tx, user_id, &previous, &current, by.as_str(), Uuid::now_v7(), now).await?;
    }
    tx.commit().await?;
    if changed {
        tracing::info!(
            %user_id,
            user_principal_name_changed = previous.user_principal_name != current.user_principal_name,
            email_changed = previous.mail != current.mail,
            by = by.as_str(),
            "sign-in identifiers changed"
        );
    }
    Ok(IdentifiersChange {
        user_id,
        previous,
        current,
        changed,
        at: now,
    })
}
