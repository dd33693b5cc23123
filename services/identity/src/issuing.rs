//! Tokens: a session's refresh and access tokens, issued when a sign-in opens (or a step-up
//! renews) the session, and rotated on refresh with reuse detection.

use std::time::Duration;

use chrono::{DateTime, Utc};
use platform::error::Violations;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::context::{Account, Context, validate_client};
use crate::domain::{ClientInfo, IssuedTokens, RevocationReason, SessionExpiry};
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
    // The session begins now: no need to ask when.
    let tokens = issue_for_session_begun_at(ctx, tx, account, session_id, now, amr, now).await?;
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
    let session_created_at = store::session_created_at(tx, session_id)
        .await?
        .ok_or(IdentityError::SessionEnded)?;
    issue_for_session_begun_at(ctx, tx, account, session_id, session_created_at, amr, now).await
}

/// [`issue_for_session`] for a session known to have begun at `session_created_at` (its
/// absolute lifetime runs from then).
async fn issue_for_session_begun_at(
    ctx: &Context,
    tx: &mut PgConnection,
    account: &Account,
    session_id: Uuid,
    session_created_at: DateTime<Utc>,
    amr: &[String],
    now: DateTime<Utc>,
) -> Result<IssuedTokens, IdentityError> {
    let subject = TokenSubject {
        user_id: account.id,
        session_id,
        organization_id: account.organization_id,
        auth_time: now,
        amr: amr.to_vec(),
        roles: account.roles.clone(),
        session_ends_at: ctx.session_ends_at(session_created_at),
    };
    Ok(issue(ctx, tx, &subject, now).await?.0)
}

/// A refresh token that expires after the idle timeout (or at the session's end, if sooner),
/// and an access token for `subject`; with the access token's expiry.
async fn issue(
    ctx: &Context,
    tx: &mut PgConnection,
    subject: &TokenSubject,
    now: DateTime<Utc>,
) -> Result<(IssuedTokens, i64), IdentityError> {
    let (refresh_token, refresh_hash) = tokens::new_refresh_token();
    let refresh_expires_at = (now + ctx.idle_timeout()).min(subject.session_ends_at);
    store::insert_refresh_token(tx, &refresh_hash, subject.session_id, now, refresh_expires_at).await?;
    let claims = tokens::access_claims(&ctx.tokens, subject, now);
    let access_token = ctx.keys.sign(&claims).await?;
    let expires_in = u64::try_from(claims.exp - now.timestamp()).unwrap_or(0);
    let tokens = IssuedTokens {
        access_token,
        refresh_token,
        expires_in: Duration::from_secs(expires_in),
    };
    Ok((tokens, claims.exp))
}

/// Rotates a refresh token. Presenting a spent token again within the grace window gives the
/// pair it was already exchanged for (two gateway replicas refreshing one browser session at
/// once); later, it ends the whole session: either the client or a thief holds a copy, and we
/// cannot tell which. A session ends by itself after the idle timeout without a refresh and at
/// its absolute lifetime.
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
    if let Some(used_at) = record.used_at {
        let within_grace = now - used_at <= ctx.reuse_grace();
        if record.session_revoked_at.is_none() && record.enabled && within_grace {
            let repeated = record
                .successor
                .as_deref()
                .and_then(|sealed| tokens::open_successor(refresh_token, sealed, now));
            if let Some(tokens) = repeated {
                tracing::debug!(session_id = %record.session_id, "refresh repeated within the grace window");
                return Ok(tokens);
            }
        }
        if record.session_revoked_at.is_none() {
            let reason = RevocationReason::RefreshTokenReuse;
            end_session(&mut tx, record.user_id, record.session_id, reason, now).await?;
            tx.commit().await?;
            tracing::warn!(session_id = %record.session_id, "refresh token reused; session revoked");
        }
        return Err(IdentityError::InvalidRefreshToken);
    }
    if record.session_revoked_at.is_some() || !record.enabled {
        return Err(IdentityError::InvalidRefreshToken);
    }
    let session_ends_at = ctx.session_ends_at(record.session_created_at);
    if session_ends_at <= now {
        return Err(IdentityError::SessionExpired(SessionExpiry::MaxLifetime));
    }
    if record.expires_at <= now {
        return Err(IdentityError::SessionExpired(SessionExpiry::IdleTimeout));
    }
    let subject = TokenSubject {
        user_id: record.user_id,
        session_id: record.session_id,
        organization_id: record.organization_id,
        auth_time: record.auth_time,
        amr: record.amr,
        roles: record.roles,
        session_ends_at,
    };
    let (tokens, access_expires_at) = issue(ctx, &mut tx, &subject, now).await?;
    let successor = tokens::seal_successor(refresh_token, &tokens, access_expires_at).map_err(|e| {
        tracing::error!(error = %e, "cannot seal a refresh token's successor");
        IdentityError::InvalidRefreshToken
    })?;
    store::mark_refresh_token_used(&mut tx, &hash, &successor, now).await?;
    store::touch_session(&mut tx, record.session_id, &client.ip_address, &client.user_agent, now).await?;
    tx.commit().await?;
    Ok(tokens)
}
