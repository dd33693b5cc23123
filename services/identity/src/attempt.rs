//! The one place where a sign-in attempt's end is written down: the `signin.v1.recorded` event
//! and the throttle's failure counters, in the transaction of the attempt's other effects (the
//! session, the challenge, the change ticket), so they commit or vanish together.

use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use crate::domain::{IssuedTokens, SignInAttempt, SignInOutcome, Verdict};
use crate::error::IdentityError;
use crate::events;
use crate::store;

/// How a step ended: the verdict to record, and the answer for the caller.
pub struct Ended<T> {
    pub verdict: Verdict,
    pub answer: Result<T, IdentityError>,
}

impl<T> Ended<T> {
    pub fn answered(verdict: Verdict, answer: T) -> Self {
        Self {
            verdict,
            answer: Ok(answer),
        }
    }

    pub fn failed(verdict: Verdict, error: IdentityError) -> Self {
        Self {
            verdict,
            answer: Err(error),
        }
    }
}

impl Ended<SignInOutcome> {
    /// The session `session_id` opened (or was renewed) with `tokens`.
    pub fn signed_in(session_id: Uuid, tokens: IssuedTokens) -> Self {
        Self::answered(Verdict::SignedIn { session_id }, SignInOutcome::Tokens(tokens))
    }
}

/// Records how `attempt` ended: a wrong answer adds to its failure counters, proven credentials
/// reset them, and every finished attempt, good or bad, is published.
pub async fn record(tx: &mut PgConnection, attempt: &SignInAttempt, verdict: Verdict) -> Result<(), IdentityError> {
    if let Verdict::WrongAnswer(_) = verdict {
        for (key, policy) in &attempt.throttle.counted {
            store::record_failure(tx, key, *policy, attempt.time).await?;
        }
    } else if verdict.proven() {
        for key in &attempt.throttle.cleared {
            store::clear_failures(tx, key).await?;
        }
    }
    if let Some(outcome) = verdict.recorded_outcome() {
        events::sign_in_recorded(tx, attempt, outcome).await?;
    }
    Ok(())
}

/// Records the step's end, commits its transaction and hands back its answer.
pub async fn finish<T>(
    mut tx: Transaction<'_, Postgres>,
    attempt: &SignInAttempt,
    ended: Ended<T>,
) -> Result<T, IdentityError> {
    record(&mut tx, attempt, ended.verdict).await?;
    tx.commit().await?;
    ended.answer
}
