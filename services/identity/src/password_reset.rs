//! Self-service password reset ("Forgot my password?"). A person who lost their password opens
//! a 15-minute flow with their user name, proves one or two of their registered methods
//! (security-info's second factors: the same `BeginSecondFactor`/`VerifySecondFactor` as a
//! sign-in's second step), then chooses a new password under the usual rules. Every session
//! ends, and `password_changed` (marked as a reset) tells security-info to revoke the app
//! passwords and notify every registered email address.
//!
//! No enumeration: every name typed gets a flow of the same shape, and the same work is done
//! (the account looked up, security-info asked) whether or not it names an account. A name
//! without an account, an account without methods and a disabled account get a stand-in method
//! that can never be proven, so that flow never completes. Method ids belong to the flow, so
//! nothing stable about a person is shown to whoever types their name. Wrong answers count
//! against the sign-in throttle of the name and the address, as wrong passwords do.

use chrono::{DateTime, Utc};
use platform::error::{FieldViolation, Violations};
use uuid::Uuid;

use crate::attempt::{self, Ended};
use crate::context::{Context, validate_client};
use crate::domain::{
    ClientInfo, ClientLocation, FactorCheck, FailureReason, MfaPolicy, MfaPrompt, MfaProof, PasswordResetFlow,
    ResetMethodView, ResetProgress, RevocationReason, SignInAttempt, Throttle, Verdict, check_password,
};
use crate::error::IdentityError;
use crate::events;
use crate::passwords::{hash_password, verify_password};
use crate::sessions::end_sessions_in_act;
use crate::store::{self, NewPasswordReset, NewResetMethod, PasswordReset, ResetMethod, SessionFilter};

/// How long a flow stays open (the contract's 15 minutes).
const FLOW_TTL_MINUTES: i64 = 15;

/// The method log name of a finished reset in "My sign-ins".
const RESET_METHOD: &str = "password_reset";

/// Opens a flow for `username`, alike whether or not it names an account.
pub async fn start(ctx: &Context, username: &str, client: &ClientInfo) -> Result<PasswordResetFlow, IdentityError> {
    let mut v = Violations::new();
    v.required("username", username);
    v.text("username", username, 256);
    validate_client(client, &mut v);
    v.into_result().map_err(IdentityError::Invalid)?;
    let typed = username.trim();
    let account = ctx
        .sign_in_subject(&typed.to_lowercase(), client)
        .await?
        .map(|(credentials, _)| credentials);
    // Asked for every name (the nil id for an unknown one), so the answer takes as long.
    let asked_for = account.as_ref().map_or(Uuid::nil(), |a| a.id);
    let factors = ctx.second_factors_of(asked_for).await?;
    let can_reset = account.as_ref().is_some_and(|a| a.enabled);
    let methods: Vec<NewResetMethod> = if can_reset && !factors.is_empty() {
        factors
            .into_iter()
            .map(|f| NewResetMethod {
                id: Uuid::new_v4(),
                kind: f.kind,
                label: f.label,
                factor_id: f.method_id,
            })
            .collect()
    } else {
        vec![stand_in_method(typed)]
    };
    let now = Utc::now();
    // Random (v4): the id is the credential of the later steps.
    let flow_id = Uuid::new_v4();
    let expires_at = now + chrono::Duration::minutes(FLOW_TTL_MINUTES);
    let mut conn = ctx.pool.acquire().await?;
    store::insert_password_reset(
        &mut conn,
        &NewPasswordReset {
            id: flow_id,
            user_id: account.as_ref().map(|a| a.id),
            typed_user_principal_name: typed,
            organization_id: account.as_ref().and_then(|a| a.home_organization_id),
            methods_required: ctx.reset_methods_required,
            now,
            expires_at,
            ip_address: &client.ip_address,
            user_agent: &client.user_agent,
            device_id: &client.device_id,
            app_id: &client.app_id,
            correlation_id: &client.correlation_id,
            methods: &methods,
        },
    )
    .await?;
    Ok(PasswordResetFlow {
        flow_id,
        methods: methods
            .into_iter()
            .map(|m| ResetMethodView {
                id: m.id,
                kind: m.kind,
                label: m.label,
            })
            .collect(),
        methods_required: ctx.reset_methods_required,
        expires_at,
    })
}

/// What a flow that can never complete offers: an email code, to the typed name partly hidden
/// as security-info hides addresses. It is never sent and never right.
fn stand_in_method(typed: &str) -> NewResetMethod {
    let label = match typed.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            let hidden = "•".repeat(local.chars().count().saturating_sub(1).max(1));
            format!("{first}{hidden}@{domain}")
        }
        None => "•".repeat(typed.chars().count().clamp(3, 64)),
    };
    NewResetMethod {
        id: Uuid::new_v4(),
        kind: "email".to_owned(),
        label,
        factor_id: String::new(),
    }
}

/// Prepares one of the flow's methods: sends its code, or returns WebAuthn options.
pub async fn begin_method(ctx: &Context, flow_id: &str, method_id: &str) -> Result<MfaPrompt, IdentityError> {
    let mut v = Violations::new();
    let (flow_id, method_id) = parse_ids(flow_id, method_id, &mut v);
    v.into_result().map_err(IdentityError::Invalid)?;
    let (flow_id, method_id) = flow_id.zip(method_id).ok_or(IdentityError::ResetNotFound)?;
    let mut conn = ctx.pool.acquire().await?;
    let flow = open_flow(&mut conn, flow_id, Utc::now()).await?;
    let method = method_of(&mut conn, &flow, method_id).await?;
    drop(conn);
    if flow.attempts >= max_attempts(ctx) {
        return Err(IdentityError::ResetTooManyAttempts);
    }
    let si = ctx.second_factors.as_ref();
    match (flow.user_id, method.factor_id.as_str(), si) {
        (Some(user_id), factor_id, Some(si)) if !factor_id.is_empty() => si.begin(user_id, factor_id).await,
        _ => {
            // The stand-in: security-info is asked all the same (about nobody), so the answer
            // takes as long, and it says the code went where a real one would.
            if let Some(si) = si {
                let _ = si.begin(Uuid::nil(), &Uuid::nil().to_string()).await;
            }
            Ok(MfaPrompt {
                sent_to: method.label,
                request_options_json: String::new(),
            })
        }
    }
}

/// Checks a proof of one of the flow's methods. A wrong one counts against the flow and the
/// sign-in throttle, and is recorded in the sign-in log; a right one marks the method proven.
pub async fn verify_method(
    ctx: &Context,
    flow_id: &str,
    method_id: &str,
    proof: Option<MfaProof>,
    location: Option<ClientLocation>,
) -> Result<ResetProgress, IdentityError> {
    let mut v = Violations::new();
    let (flow_id, method_id) = parse_ids(flow_id, method_id, &mut v);
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
    let (Some(flow_id), Some(method_id), Some(proof)) = (flow_id, method_id, proof) else {
        return Err(IdentityError::ResetNotFound);
    };

    let now = Utc::now();
    let mut conn = ctx.pool.acquire().await?;
    let flow = store::password_reset(&mut conn, flow_id, false)
        .await?
        .filter(|f| f.completed_at.is_none())
        .ok_or(IdentityError::ResetNotFound)?;
    let methods = store::password_reset_methods(&mut conn, flow_id).await?;
    let method = methods
        .iter()
        .find(|m| m.id == method_id)
        .cloned()
        .ok_or_else(|| not_offered(method_id))?;
    if method.proven_at.is_some() {
        return Ok(progress(&flow, &methods));
    }
    let familiar = match flow.user_id {
        Some(user_id) => {
            ctx.is_familiar_place(&mut conn, user_id, &flow.ip_address, &flow.device_id)
                .await?
        }
        None => false,
    };
    drop(conn);
    let mut attempt = reset_attempt(ctx, &flow, location, familiar, now);

    let refused = if flow.expires_at <= now {
        Some((FailureReason::MfaChallengeExpired, IdentityError::ResetExpired))
    } else if flow.attempts >= max_attempts(ctx) {
        Some((FailureReason::MfaTooManyAttempts, IdentityError::ResetTooManyAttempts))
    } else {
        None
    };
    if let Some((reason, error)) = refused {
        let ended = Ended::failed(Verdict::Refused(reason), error);
        return attempt::finish(ctx.pool.begin().await?, &attempt, ended, None).await;
    }
    let reservation = match attempt::reserve(&ctx.pool, &mut attempt).await? {
        Ok(reservation) => reservation,
        Err(retry_after) => {
            let ended = Ended::failed(
                Verdict::Refused(FailureReason::Throttled),
                IdentityError::Throttled { retry_after },
            );
            return attempt::finish(ctx.pool.begin().await?, &attempt, ended, None).await;
        }
    };
    // Count the answer first, in its own transaction, so concurrent guesses cannot exceed the
    // flow's limit.
    let mut tx = ctx.pool.begin().await?;
    let locked = store::password_reset(&mut tx, flow_id, true)
        .await?
        .filter(|f| f.completed_at.is_none())
        .ok_or(IdentityError::ResetNotFound)?;
    if locked.attempts >= max_attempts(ctx) {
        let ended = Ended::failed(
            Verdict::Refused(FailureReason::MfaTooManyAttempts),
            IdentityError::ResetTooManyAttempts,
        );
        return attempt::finish_reserved(tx, &attempt, ended, reservation, None).await;
    }
    store::count_password_reset_attempt(&mut tx, flow_id).await?;
    tx.commit().await?;

    let check = check_proof(ctx, &flow, &method, &proof).await?;
    let mut tx = ctx.pool.begin().await?;
    let ended = match check {
        FactorCheck::Verified { amr, method: proven } => {
            store::prove_password_reset_method(&mut tx, flow_id, method_id, &proven, &amr, now).await?;
            let methods = store::password_reset_methods(&mut tx, flow_id).await?;
            // Not a record of its own: the reset goes on, and is recorded when it ends.
            Ended::answered(Verdict::SecondFactorDue, progress(&flow, &methods))
        }
        wrong => {
            let (reason, error) = wrong_answer(wrong, flow.user_id.is_some());
            Ended::failed(Verdict::WrongAnswer(reason), error)
        }
    };
    attempt::finish_reserved(tx, &attempt, ended, reservation, None).await
}

/// Sets the new password once enough methods are proven: every session ends, and the reset is
/// published (app passwords revoked, every email address told) and recorded.
pub async fn complete(
    ctx: &Context,
    flow_id: &str,
    new_password: &str,
    client: &ClientInfo,
) -> Result<(), IdentityError> {
    let mut v = Violations::new();
    let parsed = Uuid::parse_str(flow_id.trim()).ok();
    if parsed.is_none() {
        v.add("flow_id", "must be the flow id from the password reset's start");
    }
    v.required("new_password", new_password);
    if new_password.chars().count() > 1024 {
        v.add("new_password", "at most 1024 characters");
    }
    validate_client(client, &mut v);
    v.into_result().map_err(IdentityError::Invalid)?;
    let flow_id = parsed.ok_or(IdentityError::ResetNotFound)?;

    let now = Utc::now();
    let mut tx = ctx.pool.begin().await?;
    let flow = open_flow(&mut tx, flow_id, now).await?;
    let methods = store::password_reset_methods(&mut tx, flow_id).await?;
    let due = progress(&flow, &methods).methods_required;
    if due > 0 {
        return Err(IdentityError::ResetMethodsMissing(due));
    }
    // Only a flow for an account can have proven methods.
    let user_id = flow.user_id.ok_or(IdentityError::ResetNotFound)?;
    let credentials = store::account(&mut tx, user_id)
        .await?
        .ok_or(IdentityError::ResetNotFound)?;
    if !credentials.enabled {
        return Err(IdentityError::AccountDisabled);
    }
    let person = store::password_of(&mut tx, user_id)
        .await?
        .ok_or(IdentityError::ResetNotFound)?;
    let mut v = Violations::new();
    let inputs = [
        person.user_principal_name.as_str(),
        person.display_name.as_str(),
        person.mail.as_str(),
    ];
    check_password("new_password", new_password, &inputs, &mut v);
    v.into_result().map_err(IdentityError::Invalid)?;
    if verify_password(new_password.to_owned(), person.password_hash.clone()).await? {
        return Err(IdentityError::Invalid(vec![FieldViolation {
            field: "new_password".into(),
            description: "must differ from your current password".into(),
            reason: String::new(),
        }]));
    }
    let hash = hash_password(new_password.to_owned()).await?;

    if !store::complete_password_reset(&mut tx, flow_id, now).await? {
        return Err(IdentityError::ResetNotFound);
    }
    store::set_password(&mut tx, user_id, &hash, now).await?;
    // Whoever held a session may have known the old password: every session ends, in the
    // same act as the reset (their SETs share a txn).
    let cause_id = Uuid::now_v7();
    let ended = end_sessions_in_act(
        &mut tx,
        user_id,
        &SessionFilter::default(),
        RevocationReason::PasswordReset,
        None,
        cause_id,
        now,
    )
    .await?;
    let proven: Vec<&ResetMethod> = methods.iter().filter(|m| m.proven_at.is_some()).collect();
    let proven_names = proven.iter().map(|m| m.proven_method.clone()).collect();
    events::password_reset(&mut tx, user_id, ended.len(), proven_names, cause_id, now).await?;
    let mut attempt = reset_attempt(ctx, &flow, client.location.clone(), false, now);
    attempt.method = RESET_METHOD.to_owned();
    let mut amr: Vec<String> = proven.iter().flat_map(|m| m.proven_amr.iter().cloned()).collect();
    amr.sort();
    amr.dedup();
    if proven.len() > 1 {
        amr.push(platform::auth::MFA_AMR.to_owned());
    }
    attempt.amr = amr;
    attempt::finish(tx, &attempt, Ended::answered(Verdict::PasswordReset, ()), None).await?;
    tracing::info!(%user_id, sessions_ended = ended.len(), "password reset");
    Ok(())
}

/// The flow, while it can still be answered.
async fn open_flow(
    conn: &mut sqlx::PgConnection,
    flow_id: Uuid,
    now: DateTime<Utc>,
) -> Result<PasswordReset, IdentityError> {
    let flow = store::password_reset(conn, flow_id, true)
        .await?
        .filter(|f| f.completed_at.is_none())
        .ok_or(IdentityError::ResetNotFound)?;
    if flow.expires_at <= now {
        return Err(IdentityError::ResetExpired);
    }
    Ok(flow)
}

async fn method_of(
    conn: &mut sqlx::PgConnection,
    flow: &PasswordReset,
    method_id: Uuid,
) -> Result<ResetMethod, IdentityError> {
    store::password_reset_methods(conn, flow.id)
        .await?
        .into_iter()
        .find(|m| m.id == method_id)
        .ok_or_else(|| not_offered(method_id))
}

fn not_offered(method_id: Uuid) -> IdentityError {
    IdentityError::Invalid(vec![FieldViolation {
        field: "method_id".into(),
        description: format!("{method_id} is not one of this password reset's methods"),
        reason: String::new(),
    }])
}

/// How many more methods are due, and which are proven.
fn progress(flow: &PasswordReset, methods: &[ResetMethod]) -> ResetProgress {
    let proven_method_ids: Vec<Uuid> = methods.iter().filter(|m| m.proven_at.is_some()).map(|m| m.id).collect();
    let proven = i32::try_from(proven_method_ids.len()).unwrap_or(i32::MAX);
    ResetProgress {
        methods_required: (flow.methods_required - proven).max(0),
        proven_method_ids,
    }
}

/// security-info's verdict on the proof; the stand-in is never right, but security-info is
/// asked all the same (about nobody), so a wrong answer takes as long either way.
async fn check_proof(
    ctx: &Context,
    flow: &PasswordReset,
    method: &ResetMethod,
    proof: &MfaProof,
) -> Result<FactorCheck, IdentityError> {
    let Some(si) = ctx.second_factors.as_ref() else {
        return Ok(FactorCheck::UnknownMethod);
    };
    match flow.user_id {
        Some(user_id) if !method.factor_id.is_empty() => si.verify(user_id, &method.factor_id, proof).await,
        _ => {
            si.verify(Uuid::nil(), &Uuid::nil().to_string(), proof).await?;
            Ok(FactorCheck::UnknownMethod)
        }
    }
}

/// Why a wrong answer failed, for the log, and what the person is told.
fn wrong_answer(check: FactorCheck, account: bool) -> (FailureReason, IdentityError) {
    match check {
        FactorCheck::Replayed { .. } => (FailureReason::SecondFactorReplayed, IdentityError::SecondFactorReplayed),
        FactorCheck::Expired { .. } => (FailureReason::SecondFactorFailed, IdentityError::SecondFactorExpired),
        FactorCheck::TooManyAttempts { .. } => (FailureReason::MfaTooManyAttempts, IdentityError::MfaTooManyAttempts),
        FactorCheck::UnknownMethod if !account => (FailureReason::UnknownUser, IdentityError::SecondFactorIncorrect),
        _ => (FailureReason::SecondFactorFailed, IdentityError::SecondFactorIncorrect),
    }
}

/// The attempt a step of `flow` is recorded as: the start's client (where the person typed
/// their name), with where this step came from, counted against the name and the address.
fn reset_attempt(
    ctx: &Context,
    flow: &PasswordReset,
    location: Option<ClientLocation>,
    familiar: bool,
    now: DateTime<Utc>,
) -> SignInAttempt {
    let client = ClientInfo {
        ip_address: flow.ip_address.clone(),
        user_agent: flow.user_agent.clone(),
        device_id: flow.device_id.clone(),
        app_id: flow.app_id.clone(),
        correlation_id: flow.correlation_id.clone(),
        location,
    };
    let typed = &flow.typed_user_principal_name;
    let throttle = Throttle::password_reset(typed, &flow.ip_address, familiar).with_lockout_base(ctx.lockout_base_ms);
    let mut attempt = SignInAttempt::new(now, typed, RESET_METHOD, client, throttle);
    attempt.user_id = flow.user_id;
    attempt.organization_id = flow.organization_id;
    attempt
}

fn max_attempts(ctx: &Context) -> i32 {
    ctx.second_factors
        .as_ref()
        .map_or(MfaPolicy::default().max_attempts, |si| si.policy.max_attempts)
}

fn parse_ids(flow_id: &str, method_id: &str, v: &mut Violations) -> (Option<Uuid>, Option<Uuid>) {
    let flow_id = Uuid::parse_str(flow_id.trim()).ok();
    if flow_id.is_none() {
        v.add("flow_id", "must be the flow id from the password reset's start");
    }
    let method = Uuid::parse_str(method_id.trim()).ok();
    if method.is_none() {
        v.add(
            "method_id",
            "must be one of the method ids from the password reset's start",
        );
    }
    (flow_id, method)
}
