//! Step-up: a signed-in person proves their password again, and a second factor when they have
//! one (answered with a challenge that the second step finishes on this same session), before
//! a sensitive change.

use chrono::Utc;
use platform::auth::Caller;
use platform::error::Violations;

use crate::attempt::{self, Ended};
use crate::context::{Account, Context, validate_client, validate_typed_password};
use crate::domain::{ClientInfo, FailureReason, SignInAttempt, SignInOutcome, Throttle, Verdict};
use crate::error::IdentityError;
use crate::issuing::issue_for_session;
use crate::passwords::verify_password;
use crate::second_step::open_challenge;
use crate::store;

/// Renews the caller's session with a fresh `auth_time`, or opens a second step for it.
pub async fn reauthenticate(
    ctx: &Context,
    caller: &Caller,
    password: &str,
    client: &ClientInfo,
) -> Result<SignInOutcome, IdentityError> {
    let mut v = Violations::new();
    validate_typed_password(password, &mut v);
    validate_client(client, &mut v);
    v.into_result().map_err(IdentityError::Invalid)?;
    ctx.require_active_session(caller).await?;
    let session_id = caller.session_id.ok_or(IdentityError::SessionEnded)?;
    let mut conn = ctx.pool.acquire().await?;
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
    let familiar = ctx
        .is_familiar_place(&mut conn, caller.user_id, &client.ip_address, &client.device_id)
        .await?;
    // Released before the password is checked (slow) and the attempt opens its transaction.
    drop(conn);
    let throttle = Throttle::step_up(&upn, &client.ip_address, familiar);
    let mut attempt = SignInAttempt::new(Utc::now(), &upn, "password", client.clone(), throttle);
    attempt.user_id = Some(caller.user_id);
    attempt.organization_id = account.organization_id;
    // Refused before the password is checked and, unlike a throttled sign-in, not recorded:
    // kept as it was, since recording it would add an event.
    let reservation = match attempt::reserve(&ctx.pool, &mut attempt).await? {
        Ok(reservation) => reservation,
        Err(retry_after) => return Err(IdentityError::Throttled { retry_after }),
    };
    let password_ok = verify_password(password.to_owned(), credentials.password_hash.clone()).await?;

    let mut tx = ctx.pool.begin().await?;
    let ended = if password_ok {
        let factors = ctx.second_factors_of(caller.user_id).await?;
        match &ctx.second_factors {
            Some(si) if !factors.is_empty() => {
                open_challenge(
                    &mut tx,
                    &attempt,
                    caller.user_id,
                    Some(session_id),
                    None,
                    factors,
                    si.policy,
                )
                .await?
            }
            _ => {
                attempt.amr = vec!["pwd".to_owned()];
                // The session may have been revoked since the call came in: renew nothing then.
                if !store::renew_session(&mut tx, session_id, &attempt.amr, attempt.time).await? {
                    return Err(IdentityError::SessionEnded);
                }
                let tokens = issue_for_session(ctx, &mut tx, &account, session_id, &attempt.amr, attempt.time).await?;
                Ended::signed_in(session_id, tokens)
            }
        }
    } else {
        let verdict = Verdict::WrongAnswer(FailureReason::InvalidPassword);
        Ended::failed(verdict, IdentityError::InvalidCredentials)
    };
    attempt::finish_reserved(tx, &attempt, ended, reservation, None).await
}
