//! Passwordless sign-in with a passkey: security-info gives options without an allow-list and
//! checks the assertion, whose user handle names the person; the attempt goes through the same
//! throttle reservation, sign-in record (`method` "passkey") and session issuing as a password
//! sign-in. A user-verified passkey is multi-factor on its own (RFC 8176 "hwk" or "swk", and
//! "mfa"), so no second step follows.

use chrono::Utc;
use platform::error::Violations;
use platform::idempotency::Once;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::attempt::{self, Ended};
use crate::context::{Account, Context, bind_device, validate_client};
use crate::domain::{
    ClientInfo, FailureReason, PasskeyCheck, PasskeyOptions, SignInAttempt, SignInOutcome, Throttle, Verdict,
};
use crate::error::IdentityError;
use crate::issuing::open_session;
use crate::required_password;
use crate::store;

/// The method's stable name in the sign-in log.
pub const PASSKEY_METHOD: &str = "passkey";

/// The largest assertion taken: a WebAuthn assertion is a few hundred bytes.
const MAX_ASSERTION_BYTES: usize = 16 * 1024;

/// Options for `navigator.credentials.get()` (no allow-list, user verification required) and
/// the challenge id the assertion must come back with.
pub async fn start(ctx: &Context, client: &ClientInfo) -> Result<PasskeyOptions, IdentityError> {
    let mut v = Violations::new();
    validate_client(client, &mut v);
    v.into_result().map_err(IdentityError::Invalid)?;
    ctx.second_factor_client()?.begin_passkey_sign_in().await
}

/// Signs in with the assertion answering `challenge_id`. A keyed call (`once`) records its
/// answer with the attempt.
pub async fn sign_in(
    ctx: &Context,
    challenge_id: &str,
    assertion_json: &str,
    client: &ClientInfo,
    once: Option<&Once<'_, SignInOutcome>>,
) -> Result<SignInOutcome, IdentityError> {
    check_request(challenge_id, assertion_json, client)?;
    let si = ctx.second_factor_client()?;
    let throttle = Throttle::passkey(&client.ip_address).with_lockout_base(ctx.lockout_base_ms);
    let mut attempt = SignInAttempt::new(Utc::now(), "", PASSKEY_METHOD, client.clone(), throttle);
    let reservation = match attempt::reserve(&ctx.pool, &mut attempt).await? {
        Ok(reservation) => reservation,
        Err(retry_after) => {
            let ended = Ended::failed(
                Verdict::Refused(FailureReason::Throttled),
                IdentityError::Throttled { retry_after },
            );
            return attempt::finish(ctx.pool.begin().await?, &attempt, ended, once).await;
        }
    };
    // A malformed assertion fails here as bad input: the reservation is given back, nothing
    // is recorded and the challenge stays unspent.
    let check = si.verify_passkey_sign_in(challenge_id.trim(), assertion_json).await?;
    let mut tx = ctx.pool.begin().await?;
    let ended = match check {
        PasskeyCheck::Verified { user_id, amr } => after_passkey(ctx, &mut tx, &mut attempt, user_id, amr).await?,
        PasskeyCheck::Incorrect { user_id } => {
            name_the_person(&mut tx, &mut attempt, user_id).await?;
            Ended::failed(
                Verdict::WrongAnswer(FailureReason::PasskeyFailed),
                IdentityError::PasskeyIncorrect,
            )
        }
        PasskeyCheck::UnknownCredential => Ended::failed(
            Verdict::WrongAnswer(FailureReason::PasskeyNotRecognized),
            IdentityError::PasskeyNotRecognized,
        ),
        // An answer sent twice may be a captured one replayed: it counts as a wrong answer.
        PasskeyCheck::ChallengeInvalid => Ended::failed(
            Verdict::WrongAnswer(FailureReason::PasskeyChallengeInvalid),
            IdentityError::ChallengeInvalid,
        ),
        PasskeyCheck::ChallengeExpired => Ended::failed(
            Verdict::Refused(FailureReason::PasskeyChallengeInvalid),
            IdentityError::PasskeyChallengeExpired,
        ),
    };
    attempt::finish_reserved(tx, &attempt, ended, reservation, once).await
}

/// The attempt is the person's from here on: their sign-in log shows it under their name.
async fn name_the_person(
    conn: &mut PgConnection,
    attempt: &mut SignInAttempt,
    user_id: Uuid,
) -> Result<Option<store::Credentials>, IdentityError> {
    let Some(credentials) = store::account(&mut *conn, user_id).await? else {
        return Ok(None);
    };
    attempt.user_id = Some(user_id);
    attempt.organization_id = credentials.home_organization_id;
    attempt.typed_user_principal_name = store::user_principal_name(&mut *conn, user_id)
        .await?
        .unwrap_or_default();
    Ok(Some(credentials))
}

/// A verified passkey: the account must be enabled and the device not disabled; then a new
/// password when one is due, or a session in the home organization.
async fn after_passkey(
    ctx: &Context,
    tx: &mut PgConnection,
    attempt: &mut SignInAttempt,
    user_id: Uuid,
    amr: Vec<String>,
) -> Result<Ended<SignInOutcome>, IdentityError> {
    // A passkey left behind by an account deleted meanwhile names nobody.
    let Some(credentials) = name_the_person(tx, attempt, user_id).await? else {
        return Ok(Ended::failed(
            Verdict::WrongAnswer(FailureReason::PasskeyNotRecognized),
            IdentityError::PasskeyNotRecognized,
        ));
    };
    if !credentials.enabled {
        return Ok(Ended::failed(
            Verdict::Refused(FailureReason::AccountDisabled),
            IdentityError::AccountDisabled,
        ));
    }
    if !bind_device(tx, credentials.id, &mut attempt.client).await? {
        return Ok(Ended::failed(
            Verdict::StoppedAfterProof(FailureReason::DeviceDisabled),
            IdentityError::DeviceDisabled,
        ));
    }
    attempt.amr = amr;
    let account = Account::in_organization(&credentials, None);
    // Whoever holds the passkey may choose the new password a reported sign-in made due, as
    // after a password and its second factor.
    if credentials.password_change_required {
        return required_password::interrupt(tx, &account, attempt).await;
    }
    let (session_id, tokens) = open_session(ctx, tx, &account, &attempt.amr, &attempt.client, attempt.time).await?;
    Ok(Ended::signed_in(session_id, tokens))
}

/// Checks the request's shape; bad input changes nothing.
fn check_request(challenge_id: &str, assertion_json: &str, client: &ClientInfo) -> Result<(), IdentityError> {
    let mut v = Violations::new();
    if Uuid::parse_str(challenge_id.trim()).is_err() {
        v.add(
            "challenge_id",
            "must be the challengeId from the passkey sign-in's start",
        );
    }
    if assertion_json.trim().is_empty() || assertion_json.len() > MAX_ASSERTION_BYTES {
        v.add("assertion", "give the passkey's answer (at most 16 KiB)");
    }
    validate_client(client, &mut v);
    v.into_result().map_err(IdentityError::Invalid)
}
