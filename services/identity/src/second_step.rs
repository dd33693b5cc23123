//! The second step of a sign-in or step-up: the challenge a proven password opens, preparing the
//! chosen factor, and checking the answer with security-info. Every answer, right or wrong, ends
//! the attempt and is recorded.

use chrono::Utc;
use platform::error::{FieldViolation, Violations};
use platform::idempotency::Once;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::attempt::{self, Ended};
use crate::context::{Account, Context};
use crate::domain::{
    ClientInfo, ClientLocation, FactorCheck, FailureReason, MfaChallenge, MfaPolicy, MfaPrompt, MfaProof, SecondFactor,
    SignInAttempt, SignInOutcome, Throttle, Verdict,
};
use crate::error::IdentityError;
use crate::issuing::{issue_for_session, open_session};
use crate::required_password;
use crate::store::{self, Challenge, Credentials};

/// Opens the second step of a proven `attempt`: `session_id` when it steps up a session,
/// `organization_id` when it signs in to a guest organization.
pub async fn open_challenge(
    tx: &mut PgConnection,
    attempt: &SignInAttempt,
    user_id: Uuid,
    session_id: Option<Uuid>,
    organization_id: Option<Uuid>,
    factors: Vec<SecondFactor>,
    policy: MfaPolicy,
) -> Result<Ended<SignInOutcome>, IdentityError> {
    // Random (v4): the id is the credential of the second step.
    let challenge_id = Uuid::new_v4();
    let expires_at = attempt.time + chrono::Duration::seconds(policy.challenge_ttl_secs);
    let client = &attempt.client;
    store::insert_challenge(
        tx,
        &store::NewChallenge {
            id: challenge_id,
            user_id,
            session_id,
            typed_user_principal_name: &attempt.typed_user_principal_name,
            now: attempt.time,
            expires_at,
            ip_address: &client.ip_address,
            user_agent: &client.user_agent,
            device_id: &client.device_id,
            app_id: &client.app_id,
            correlation_id: &client.correlation_id,
            organization_id,
        },
    )
    .await?;
    let challenge = MfaChallenge {
        challenge_id,
        factors,
        expires_at,
    };
    Ok(Ended::answered(
        Verdict::SecondFactorDue,
        SignInOutcome::MfaRequired(challenge),
    ))
}

/// Prepares the chosen factor: sends a code by SMS, voice or email, or returns WebAuthn
/// options. TOTP and recovery codes need nothing.
pub async fn start_mfa(ctx: &Context, challenge_id: &str, method_id: &str) -> Result<MfaPrompt, IdentityError> {
    let mut v = Violations::new();
    validate_method_and_challenge(method_id, challenge_id, &mut v);
    v.into_result().map_err(IdentityError::Invalid)?;
    let id = parse_challenge_id(challenge_id)?;
    let challenge = store::challenge(&mut *ctx.pool.acquire().await?, id)
        .await?
        .ok_or(IdentityError::ChallengeInvalid)?;
    let si = ctx.second_factor_client()?;
    if challenge.completed_at.is_some() {
        return Err(IdentityError::ChallengeInvalid);
    }
    if challenge.expires_at <= Utc::now() {
        return Err(IdentityError::ChallengeExpired);
    }
    if challenge.attempts >= si.policy.max_attempts {
        return Err(IdentityError::MfaTooManyAttempts);
    }
    si.begin(challenge.user_id, method_id.trim()).await
}

/// Checks the proof with security-info and, when right, opens the session (or renews the one
/// being stepped up) with `amr` = password + the factor + "mfa".
/// A keyed call (`once`) records its answer with the attempt.
pub async fn complete_mfa(
    ctx: &Context,
    challenge_id: &str,
    method_id: &str,
    proof: Option<MfaProof>,
    location: Option<ClientLocation>,
    once: Option<&Once<'_, SignInOutcome>>,
) -> Result<SignInOutcome, IdentityError> {
    let (id, proof) = check_answer(challenge_id, method_id, proof)?;
    let method_id = method_id.trim();
    let si = ctx.second_factor_client()?;
    // Count the answer first, in its own transaction, so concurrent guesses cannot exceed the
    // limit.
    let mut tx = ctx.pool.begin().await?;
    let challenge = store::challenge_for_update(&mut tx, id)
        .await?
        .filter(|c| c.completed_at.is_none())
        .ok_or(IdentityError::ChallengeInvalid)?;
    let credentials = store::account(&mut tx, challenge.user_id)
        .await?
        .ok_or(IdentityError::ChallengeInvalid)?;
    // A step-up of a session revoked meanwhile ends here, whatever the answer.
    if let Some(session_id) = challenge.session_id
        && store::session(&mut tx, session_id)
            .await?
            .is_none_or(|s| s.revoked_at.is_some())
    {
        return Err(IdentityError::SessionEnded);
    }
    let account = account_answering(&mut tx, &challenge, &credentials).await?;
    let familiar = ctx
        .is_familiar_place(&mut tx, challenge.user_id, &challenge.ip_address, &challenge.device_id)
        .await?;
    let mut attempt = answer_attempt(ctx, &challenge, &account, location, familiar);
    let ended = match refusal(&challenge, &credentials, si.policy, &attempt) {
        Some(refused) => refused,
        None => {
            store::count_challenge_attempt(&mut tx, id).await?;
            tx.commit().await?;
            let check = si.verify(challenge.user_id, method_id, &proof).await?;
            tx = ctx.pool.begin().await?;
            match proven_or_wrong(check, method_id) {
                Ok((factor_amr, method)) => {
                    attempt.method = method;
                    attempt.amr = ["pwd".to_owned()]
                        .into_iter()
                        .chain(factor_amr)
                        .chain([platform::auth::MFA_AMR.to_owned()])
                        .collect();
                    let password_change_due = credentials.password_change_required;
                    open_after_second_factor(ctx, &mut tx, &attempt, &challenge, &account, password_change_due).await?
                }
                Err((method, ended)) => {
                    attempt.method = method;
                    ended
                }
            }
        }
    };
    attempt::finish(tx, &attempt, ended, once).await
}

/// A step-up keeps its session's organization; a sign-in goes to the one it asked for.
async fn account_answering(
    conn: &mut PgConnection,
    challenge: &Challenge,
    credentials: &Credentials,
) -> Result<Account, IdentityError> {
    let organization_id = match challenge.session_id {
        Some(session_id) => store::session(conn, session_id).await?.and_then(|s| s.organization_id),
        None => challenge.organization_id,
    };
    Ok(Account::in_organization(credentials, organization_id))
}

/// The attempt an answer to `challenge` ends: the first step's client, with where the answer
/// came from (the first step's location is not kept with the challenge), counted against the
/// account from the first step's place.
fn answer_attempt(
    ctx: &Context,
    challenge: &Challenge,
    account: &Account,
    location: Option<ClientLocation>,
    familiar: bool,
) -> SignInAttempt {
    let client = ClientInfo {
        ip_address: challenge.ip_address.clone(),
        user_agent: challenge.user_agent.clone(),
        device_id: challenge.device_id.clone(),
        app_id: challenge.app_id.clone(),
        correlation_id: challenge.correlation_id.clone(),
        location,
    };
    let typed = &challenge.typed_user_principal_name;
    let throttle = Throttle::second_step(typed, &challenge.ip_address, familiar).with_lockout_base(ctx.lockout_base_ms);
    let mut attempt = SignInAttempt::new(Utc::now(), typed, "", client, throttle);
    attempt.user_id = Some(challenge.user_id);
    attempt.organization_id = account.organization_id;
    attempt
}

/// Why an answer is refused before it is checked, if it is.
fn refusal(
    challenge: &Challenge,
    credentials: &Credentials,
    policy: MfaPolicy,
    attempt: &SignInAttempt,
) -> Option<Ended<SignInOutcome>> {
    let (reason, error) = if challenge.expires_at <= attempt.time {
        (FailureReason::MfaChallengeExpired, IdentityError::ChallengeExpired)
    } else if challenge.attempts >= policy.max_attempts {
        (FailureReason::MfaTooManyAttempts, IdentityError::MfaTooManyAttempts)
    } else if !credentials.enabled {
        (FailureReason::AccountDisabled, IdentityError::AccountDisabled)
    } else {
        return None;
    };
    Some(Ended::failed(Verdict::Refused(reason), error))
}

/// The right answer: the challenge is spent, then the stepped-up session is renewed, or the
/// new password interrupts, or a session opens.
async fn open_after_second_factor(
    ctx: &Context,
    tx: &mut PgConnection,
    attempt: &SignInAttempt,
    challenge: &Challenge,
    account: &Account,
    password_change_due: bool,
) -> Result<Ended<SignInOutcome>, IdentityError> {
    let now = attempt.time;
    if !store::complete_challenge(tx, challenge.id, now).await? {
        return Err(IdentityError::ChallengeInvalid);
    }
    match challenge.session_id {
        Some(session_id) => {
            // A step-up finished on a session revoked meanwhile issues nothing.
            if !store::renew_session(tx, session_id, &attempt.amr, now).await? {
                return Err(IdentityError::SessionEnded);
            }
            let tokens = issue_for_session(ctx, tx, account, session_id, &attempt.amr, now).await?;
            Ok(Ended::signed_in(session_id, tokens))
        }
        None if password_change_due => required_password::interrupt(tx, account, attempt).await,
        None => {
            let (session_id, tokens) = open_session(ctx, tx, account, &attempt.amr, &attempt.client, now).await?;
            Ok(Ended::signed_in(session_id, tokens))
        }
    }
}

/// security-info's verdict: the `amr` values and method proven, or the method tried and how
/// the attempt ends.
fn proven_or_wrong(
    check: FactorCheck,
    method_id: &str,
) -> Result<(Vec<String>, String), (String, Ended<SignInOutcome>)> {
    let (reason, error, method) = match check {
        FactorCheck::Verified { amr, method } => return Ok((amr, method)),
        FactorCheck::Incorrect { method } => (
            FailureReason::SecondFactorFailed,
            IdentityError::SecondFactorIncorrect,
            method,
        ),
        FactorCheck::Replayed { method } => (
            FailureReason::SecondFactorReplayed,
            IdentityError::SecondFactorReplayed,
            method,
        ),
        FactorCheck::Expired { method } => (
            FailureReason::SecondFactorFailed,
            IdentityError::SecondFactorExpired,
            method,
        ),
        FactorCheck::TooManyAttempts { method } => (
            FailureReason::MfaTooManyAttempts,
            IdentityError::MfaTooManyAttempts,
            method,
        ),
        FactorCheck::UnknownMethod => (
            FailureReason::SecondFactorFailed,
            IdentityError::MethodNotFound(method_id.to_owned()),
            String::new(),
        ),
    };
    Err((method, Ended::failed(Verdict::WrongAnswer(reason), error)))
}

/// Checks the shape of an answer; a malformed one changes nothing.
fn check_answer(
    challenge_id: &str,
    method_id: &str,
    proof: Option<MfaProof>,
) -> Result<(Uuid, MfaProof), IdentityError> {
    let mut v = Violations::new();
    validate_method_and_challenge(method_id, challenge_id, &mut v);
    match &proof {
        Some(MfaProof::Code(c)) if c.trim().is_empty() || c.chars().count() > 64 => {
            v.add("code", "give the code (at most 64 characters)");
        }
        Some(MfaProof::Assertion(a)) if a.trim().is_empty() || a.len() > 16 * 1024 => {
            v.add("assertion", "give the security key's answer (at most 16 KiB)");
        }
        None => v.add("code", "give a code or a security key assertion"),
        _ => {}
    }
    v.into_result().map_err(IdentityError::Invalid)?;
    let (Some(proof), Ok(id)) = (proof, parse_challenge_id(challenge_id)) else {
        return Err(IdentityError::ChallengeInvalid);
    };
    Ok((id, proof))
}

fn validate_method_and_challenge(method_id: &str, challenge_id: &str, v: &mut Violations) {
    v.required("method_id", method_id);
    v.text("method_id", method_id, 64);
    if Uuid::parse_str(challenge_id.trim()).is_err() {
        v.add("challenge_id", "must be the challenge id from the sign-in answer");
    }
}

fn parse_challenge_id(raw: &str) -> Result<Uuid, IdentityError> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        IdentityError::Invalid(vec![FieldViolation {
            field: "challenge_id".into(),
            description: "must be the challenge id from the sign-in answer".into(),
            reason: String::new(),
        }])
    })
}
