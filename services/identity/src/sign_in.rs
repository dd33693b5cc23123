//! The first step of a sign-in: the password (or, for a non-interactive client, an app
//! password) checked under the throttle, then the organization asked for, then what is still
//! due: a second factor, a first second factor to register (the organization requires one),
//! a new password, or nothing (a session opens).

use std::ops::ControlFlow;

use chrono::Utc;
use platform::auth::APP_PASSWORD_AMR;
use platform::error::Violations;
use platform::idempotency::Once;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::attempt::{self, Ended};
use crate::context::{Account, Context, bind_device, validate_client, validate_typed_password};
use crate::domain::{ClientInfo, FailureReason, SignInAttempt, SignInOutcome, Throttle, Verdict};
use crate::error::IdentityError;
use crate::issuing::open_session;
use crate::mfa_registration;
use crate::passwords::verify_password;
use crate::required_password;
use crate::second_step::open_challenge;
use crate::store::{self, Credentials};

/// Signs in to the home organization, or to `organization` (a guest organization the person
/// belongs to) when given. A keyed call (`once`) records its answer with the attempt.
pub async fn sign_in(
    ctx: &Context,
    username: &str,
    password: &str,
    organization: &str,
    client: &ClientInfo,
    once: Option<&Once<'_, SignInOutcome>>,
) -> Result<SignInOutcome, IdentityError> {
    let requested_organization = check_request(username, password, organization, client)?;
    let typed = username.trim();
    let subject = ctx.sign_in_subject(&typed.to_lowercase(), client).await?;
    let familiar = subject.as_ref().is_some_and(|(_, familiar)| *familiar);
    let credentials = subject.map(|(credentials, _)| credentials);
    let throttle = Throttle::first_step(typed, &client.ip_address, familiar).with_lockout_base(ctx.lockout_base_ms);
    let mut attempt = SignInAttempt::new(Utc::now(), typed, "password", client.clone(), throttle);
    attempt.user_id = credentials.as_ref().map(|c| c.id);
    attempt.organization_id = credentials.as_ref().and_then(|c| c.home_organization_id);
    let reservation = match attempt::reserve(&ctx.pool, &mut attempt).await? {
        Ok(reservation) => reservation,
        Err(retry_after) => {
            // The password is not even checked while throttled; the answer is the same whether
            // or not the account exists.
            let verdict = Verdict::Refused(FailureReason::Throttled);
            let ended = Ended::failed(verdict, IdentityError::Throttled { retry_after });
            return attempt::finish(ctx.pool.begin().await?, &attempt, ended, once).await;
        }
    };
    let checked = check_credentials(ctx, &mut attempt, credentials, password).await?;
    let mut tx = ctx.pool.begin().await?;
    let ended = match checked {
        ControlFlow::Break(ended) => ended,
        ControlFlow::Continue(proof) => after_proof(ctx, &mut tx, &mut attempt, proof, requested_organization).await?,
    };
    attempt::finish_reserved(tx, &attempt, ended, reservation, once).await
}

/// An account whose password or app password was right.
struct Proof {
    credentials: Credentials,
    /// The password itself, not an app password.
    by_password: bool,
}

/// The password (or an app password). Stops the attempt when neither is right. Every path does
/// the same work, whether the account exists, is disabled, or the password is wrong: one
/// argon2 verification (against a dummy hash of the same parameters for an unknown name) and,
/// for a wrong password, the app-password question to security-info, so the answer's timing
/// does not tell which accounts exist.
async fn check_credentials(
    ctx: &Context,
    attempt: &mut SignInAttempt,
    credentials: Option<Credentials>,
    password: &str,
) -> Result<ControlFlow<Ended<SignInOutcome>, Proof>, IdentityError> {
    let hash = credentials
        .as_ref()
        .map_or(ctx.dummy_hash.clone(), |c| c.password_hash.clone());
    let password_ok = verify_password(password.to_owned(), hash).await?;
    // Non-interactive clients sign in with an app password instead of the password; they never
    // get a second step, and their session can only read (amr "app_pwd"). Only an enabled
    // account's app password counts.
    let app_password_ok = match &ctx.second_factors {
        Some(si) if !password_ok => {
            let asked_for = credentials.as_ref().map_or(Uuid::nil(), |c| c.id);
            let found = si.verify_app_password(asked_for, password).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "app password check failed");
                false
            });
            found && credentials.as_ref().is_some_and(|c| c.enabled)
        }
        _ => false,
    };
    if app_password_ok {
        attempt.method = "app_password".to_owned();
    }
    let (verdict, error) = match credentials {
        None => (
            Verdict::WrongAnswer(FailureReason::UnknownUser),
            IdentityError::InvalidCredentials,
        ),
        Some(_) if !password_ok && !app_password_ok => (
            Verdict::WrongAnswer(FailureReason::InvalidPassword),
            IdentityError::InvalidCredentials,
        ),
        Some(c) if !c.enabled => (
            Verdict::Refused(FailureReason::AccountDisabled),
            IdentityError::AccountDisabled,
        ),
        // An app password cannot choose a new password: the person must sign in interactively.
        Some(c) if app_password_ok && c.password_change_required => (
            Verdict::Refused(FailureReason::PasswordChangeRequired),
            IdentityError::PasswordChangeNeedsInteractiveSignIn,
        ),
        Some(credentials) => {
            return Ok(ControlFlow::Continue(Proof {
                credentials,
                by_password: password_ok,
            }));
        }
    };
    Ok(ControlFlow::Break(Ended::failed(verdict, error)))
}

/// The organization asked for, then a second factor when the person has one, a new password
/// when one is due, or a session.
async fn after_proof(
    ctx: &Context,
    tx: &mut PgConnection,
    attempt: &mut SignInAttempt,
    proof: Proof,
    requested_organization: Option<Uuid>,
) -> Result<Ended<SignInOutcome>, IdentityError> {
    let credentials = &proof.credentials;
    // Asked only once the password is right, so membership is not revealed to strangers.
    let guest_organization = match requested_organization {
        Some(o) if Some(o) != credentials.home_organization_id => {
            if !store::is_guest_member(&mut *tx, credentials.id, o).await? {
                attempt.organization_id = Some(o);
                let verdict = Verdict::StoppedAfterProof(FailureReason::NotAMember);
                return Ok(Ended::failed(verdict, IdentityError::NotAMember(o)));
            }
            Some(o)
        }
        _ => None,
    };
    let account = Account::in_organization(credentials, guest_organization);
    attempt.organization_id = account.organization_id;
    // Only the person's own registered device is bound to the session; a disabled one refused.
    if !bind_device(&mut *tx, credentials.id, &mut attempt.client).await? {
        let verdict = Verdict::StoppedAfterProof(FailureReason::DeviceDisabled);
        return Ok(Ended::failed(verdict, IdentityError::DeviceDisabled));
    }

    if proof.by_password
        && let Some(si) = &ctx.second_factors
    {
        let factors = ctx.second_factors_of(credentials.id).await?;
        if !factors.is_empty() {
            let user_id = credentials.id;
            return open_challenge(tx, attempt, user_id, None, guest_organization, factors, si.policy).await;
        }
    }
    attempt.amr = vec![if proof.by_password { "pwd" } else { APP_PASSWORD_AMR }.to_owned()];
    // No second factor, and the organization requires one: register it before a session opens.
    if proof.by_password && mfa_registration::required(tx, &account, credentials).await? {
        return mfa_registration::interrupt(ctx, tx, &account, attempt).await;
    }
    if credentials.password_change_required && proof.by_password {
        return required_password::interrupt(tx, &account, attempt).await;
    }
    let (session_id, tokens) = open_session(ctx, tx, &account, &attempt.amr, &attempt.client, attempt.time).await?;
    Ok(Ended::signed_in(session_id, tokens))
}

/// Checks the request's shape and reads the organization asked for; bad input changes nothing.
fn check_request(
    username: &str,
    password: &str,
    organization: &str,
    client: &ClientInfo,
) -> Result<Option<Uuid>, IdentityError> {
    let mut v = Violations::new();
    v.required("username", username);
    v.text("username", username, 256);
    validate_typed_password(password, &mut v);
    let requested_organization = match organization.trim() {
        "" => None,
        raw => match Uuid::parse_str(raw) {
            Ok(id) => Some(id),
            Err(_) => {
                v.add(
                    "organization_id",
                    "must be an organization id (a UUID), or empty for your home organization",
                );
                None
            }
        },
    };
    validate_client(client, &mut v);
    v.into_result().map_err(IdentityError::Invalid)?;
    Ok(requested_organization)
}
