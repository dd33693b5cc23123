//! Accounts and profiles: an admin creates a user; a person reads and edits their own profile.

use chrono::Utc;
use platform::auth::Caller;
use uuid::Uuid;

use crate::context::Context;
use crate::domain::{NewUserInput, Profile, ProfileChanges};
use crate::error::IdentityError;
use crate::events;
use crate::passwords::hash_password;
use crate::store;

pub async fn create_user(ctx: &Context, input: NewUserInput) -> Result<Profile, IdentityError> {
    let user = input.validate().map_err(IdentityError::Invalid)?;
    let hash = hash_password(user.password.clone()).await?;
    let mut tx = ctx.pool.begin().await?;
    let profile = store::insert_user(&mut tx, Uuid::now_v7(), &user, &hash, Utc::now()).await?;
    events::user_created(&mut tx, &profile).await?;
    tx.commit().await?;
    tracing::info!(user_id = %profile.id, "user created");
    Ok(profile)
}

pub async fn my_profile(ctx: &Context, caller: &Caller) -> Result<Profile, IdentityError> {
    ctx.require_active_session(caller).await?;
    store::profile(&mut *ctx.pool.acquire().await?, caller.user_id)
        .await?
        .ok_or(IdentityError::UserNotFound(caller.user_id))
}

pub async fn update_my_profile(
    ctx: &Context,
    caller: &Caller,
    changes: ProfileChanges,
) -> Result<Profile, IdentityError> {
    ctx.require_active_session(caller).await?;
    let now = Utc::now();
    let mut tx = ctx.pool.begin().await?;
    let profile = store::update_profile(&mut tx, caller.user_id, &changes, now)
        .await?
        .ok_or(IdentityError::UserNotFound(caller.user_id))?;
    events::profile_updated(&mut tx, &profile, caller.session_id, changes.field_names(), now).await?;
    tx.commit().await?;
    Ok(profile)
}
