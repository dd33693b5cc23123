//! "More information required": the sign-in to an organization that requires multi-factor
//! authentication, by a person who has no second factor yet. The proven password gets a
//! short-lived registration token instead of a session: a JWT with the scope
//! `myaccount.mfa_registration`, which every service's auth layer refuses except security-info's
//! calls that register a first method and identity's `CompleteMfaRegistration`. Its `sid` names
//! the interrupted sign-in, and security-info marks the methods added with it; once one of those
//! is verified, `CompleteMfaRegistration` opens the session with `amr` naming that factor. The
//! interrupted attempt is recorded as `mfa_registration_required`, the finished one as a
//! success.

use chrono::Utc;
use platform::auth::{Caller, Claims, MFA_AMR, MFA_REGISTRATION_SCOPE};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::attempt::{self, Ended};
use crate::context::{Account, Context};
use crate::domain::{
    ClientInfo, ClientLocation, FailureReason, RegistrationTicket, SignInAttempt, SignInOutcome, Throttle, Verdict,
};
use crate::error::IdentityError;
use crate::issuing::open_session;
use crate::required_password;
use crate::store::{self, Credentials, MfaRegistration, NewMfaRegistration};

/// How long the person has to register and verify a method.
const REGISTRATION_TTL_MINUTES: i64 = 10;

/// Whether a proven sign-in to `account`'s organization must register a second factor first.
/// The home organization's rule came with the `credentials`; a guest organization's is asked.
pub async fn required(
    conn: &mut PgConnection,
    account: &Account,
    credentials: &Credentials,
) -> Result<bool, IdentityError> {
    match account.organization_id {
        Some(home) if Some(home) == credentials.home_organization_id => Ok(credentials.home_organization_requires_mfa),
        Some(organization_id) => Ok(store::organization_requires_mfa(conn, organization_id).await?),
        None => Ok(false),
    }
}

/// Stops a password-proven `attempt` short of a session: a registration token for a first
/// method, remembering who signed in to which organization and from where.
pub async fn interrupt(
    ctx: &Context,
    tx: &mut PgConnection,
    account: &Account,
    attempt: &SignInAttempt,
) -> Result<Ended<SignInOutcome>, IdentityError> {
    // Random (v4): with the token's signature, it names this one interrupted sign-in.
    let registration_id = Uuid::new_v4();
    let now = attempt.time;
    let expires_at = now + chrono::Duration::minutes(REGISTRATION_TTL_MINUTES);
    let client = &attempt.client;
    store::insert_mfa_registration(
        tx,
        &NewMfaRegistration {
            id: registration_id,
            user_id: account.id,
            organization_id: account.organization_id,
            typed_user_principal_name: &attempt.typed_user_principal_name,
            ip_address: &client.ip_address,
            user_agent: &client.user_agent,
            device_id: &client.device_id,
            app_id: &client.app_id,
            correlation_id: &client.correlation_id,
            now,
            expires_at,
        },
    )
    .await?;
    let claims = Claims {
        iss: ctx.tokens.issuer.clone(),
        aud: ctx.tokens.audience.clone(),
        sub: account.id.to_string(),
        exp: expires_at.timestamp(),
        iat: now.timestamp(),
        jti: Uuid::new_v4().to_string(),
        sid: Some(registration_id.to_string()),
        org: account.organization_id.map(|o| o.to_string()),
        auth_time: now.timestamp(),
        amr: vec!["pwd".to_owned()],
        // Only this scope: never the admin scope, whatever the person's roles.
        scope: Some(MFA_REGISTRATION_SCOPE.to_owned()),
    };
    let registration_token = ctx.keys.sign(&claims).await?;
    tracing::info!(user_id = %account.id, "sign-in interrupted: a second factor must be registered");
    Ok(Ended::answered(
        Verdict::StoppedAfterProof(FailureReason::MfaRegistrationRequired),
        SignInOutcome::MfaRegistrationRequired(RegistrationTicket {
            registration_token,
            expires_at,
        }),
    ))
}

/// Finishes the sign-in `caller` (a registration token) interrupted, once a method added with
/// that token is verified: the session opens with `amr` = password + that factor + "mfa" (or,
/// when a new password is due, that interrupt follows).
pub async fn complete(
    ctx: &Context,
    caller: &Caller,
    location: Option<ClientLocation>,
) -> Result<SignInOutcome, IdentityError> {
    let registration_id = caller
        .session_id
        .filter(|_| caller.is_mfa_registration())
        .ok_or(IdentityError::MfaRegistrationInvalid)?;
    // Asked before the transaction: a call to another service holds no lock.
    let factor = ctx
        .second_factors_of(caller.user_id)
        .await?
        .into_iter()
        .find(|f| f.registration_id == Some(registration_id));
    let mut tx = ctx.pool.begin().await?;
    let now = Utc::now();
    let registration = store::mfa_registration_for_update(&mut tx, registration_id)
        .await?
        .filter(|r| r.user_id == caller.user_id && r.completed_at.is_none() && r.expires_at > now)
        .ok_or(IdentityError::MfaRegistrationInvalid)?;
    let factor = factor.ok_or(IdentityError::MfaRegistrationIncomplete)?;
    let credentials = store::account(&mut tx, caller.user_id)
        .await?
        .ok_or(IdentityError::MfaRegistrationInvalid)?;
    let account = Account::in_organization(&credentials, registration.organization_id);
    let familiar = ctx
        .is_familiar_place(
            &mut tx,
            registration.user_id,
            &registration.ip_address,
            &registration.device_id,
        )
        .await?;
    let mut attempt = registration_attempt(ctx, &registration, location, familiar);
    attempt.method = factor.method;
    attempt.amr = ["pwd".to_owned()]
        .into_iter()
        .chain(factor.amr)
        .chain([MFA_AMR.to_owned()])
        .collect();
    let ended = if credentials.enabled {
        store::complete_mfa_registration(&mut tx, registration.id, now).await?;
        if credentials.password_change_required {
            required_password::interrupt(&mut tx, &account, &attempt).await?
        } else {
            let (session_id, tokens) = open_session(ctx, &mut tx, &account, &attempt.amr, &attempt.client, now).await?;
            Ended::signed_in(session_id, tokens)
        }
    } else {
        Ended::failed(
            Verdict::Refused(FailureReason::AccountDisabled),
            IdentityError::AccountDisabled,
        )
    };
    attempt::finish(tx, &attempt, ended, None).await
}

/// The attempt the registration finishes: the first step's client, with where the last call
/// came from.
fn registration_attempt(
    ctx: &Context,
    registration: &MfaRegistration,
    location: Option<ClientLocation>,
    familiar: bool,
) -> SignInAttempt {
    let client = ClientInfo {
        ip_address: registration.ip_address.clone(),
        user_agent: registration.user_agent.clone(),
        device_id: registration.device_id.clone(),
        app_id: registration.app_id.clone(),
        correlation_id: registration.correlation_id.clone(),
        location,
    };
    let typed = &registration.typed_user_principal_name;
    let throttle =
        Throttle::second_step(typed, &registration.ip_address, familiar).with_lockout_base(ctx.lockout_base_ms);
    let mut attempt = SignInAttempt::new(Utc::now(), typed, "", client, throttle);
    attempt.user_id = Some(registration.user_id);
    attempt.organization_id = registration.organization_id;
    attempt
}
