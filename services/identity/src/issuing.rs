//! Tokens: a session's refresh and access tokens, issued when a sign-in opens (or a step-up
//! renews) the session, and rotated on refresh with reuse detection.

use chrono::{DateTime, Utc};
use platform::error::Violations;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::context::{Account, Context, validate_client};
use crate::domain::{ClientInfo, IssuedTokens, RevocationReason};
use crate::error::IdentityError;
use crate::sessions::end_session;
use crate::store::{self, NewSession};
use crate::tokens::{self, TokenSubject};

/// Creates a session proven with `amr` and issues its tokens; returns the new session's id.
pub async fn open_session(
    ctx: &Context,
    tx: &mut PgConnection,
    account: &Account,
    amr: &[String],
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(Uuid, IssuedTokens), IdentityError> {
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
    let tokens = issue_for_session(ctx, tx, account, session_id, amr, now).await?;
    Ok((session_id, tokens))
}

/// A new refresh token and access token for `session_id`, proven at `now` with `amr`.
pub async fn issue_for_session(
    ctx: &Context,
    tx: &mut PgConnection,
    account: &Account,
    session_id: Uuid,
    amr: &[String],
    now: DateTime<Utc>,
) -> Result<IssuedTokens, IdentityError> {
    let (refresh_token, refresh_hash) = tokens::new_refresh_token();
    store::insert_refresh_token(tx, &refresh_hash, session_id, now, now + ctx.refresh_token_ttl()).await?;
    let subject = TokenSubject {
        user_id: account.id,
        session_id,
        organization_id: account.organization_id,
        auth_time: now,
        amr: amr.to_vec(),
        roles: account.roles.clone(),
    };
    let access_token = ctx
        .keys
        .sign(&tokens::access_claims(&ctx.tokens, &subject, now))
        .await?;
    Ok(IssuedTokens {
        access_token,
        refresh_token,
        expires_in: ctx.tokens.access_token_ttl,
    })
}

/// Rotates a refresh token. Presenting an already-used token ends the whole session: either
/// the client or a thief holds a copy, and we cannot tell which.
pub async fn refresh(ctx: &Context, refresh_token: &str, client: &ClientInfo) -> Result<IssuedTokens, IdentityError> {
    let mut v = Violations::new();
    v.required("refresh_token", refresh_token);
    v.text("refresh_token", refresh_token, 512);
    validate_client(client, &mut v);
    v.into_result().map_err(IdentityError::Invalid)?;

    let now = Utc::now();
    let hash = tokens::refresh_token_hash(refresh_token);
    let mut tx = ctx.pool.begin().await?;
    let Some(record) = store::refresh_token_for_update(&mut tx, &hash).await? else {
        return Err(IdentityError::InvalidRefreshToken);
    };
    if record.used_at.is_some() {
        if record.session_revoked_at.is_none() {
            let reason = RevocationReason::RefreshTokenReuse;
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
        now + ctx.refresh_token_ttl(),
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
    let access_token = ctx
        .keys
        .sign(&tokens::access_claims(&ctx.tokens, &subject, now))
        .await?;
    tx.commit().await?;
    Ok(IssuedTokens {
        access_token,
        refresh_token: new_token,
        expires_in: ctx.tokens.access_token_ttl,
    })
}
