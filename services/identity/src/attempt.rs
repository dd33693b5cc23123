//! The one place where a sign-in attempt's end is written down: the `signin.v1.recorded` event
//! and the throttle's failure counters, in the transaction of the attempt's other effects (the
//! session, the challenge, the change ticket), so they commit or vanish together. And where an
//! attempt that verifies a password reserves its place on the throttle first, so the check and
//! the count are one step that concurrent attempts cannot race past.

use std::time::Duration;

use chrono::Utc;
use platform::idempotency::Once;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::domain::{Admission, IssuedTokens, SignInAttempt, SignInOutcome, Throttle, Verdict, retry_after};
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

/// How long an attempt waits for a place on a busy counter before it is answered as throttled.
/// Places free up as the attempts holding them finish (one password verification each). Well
/// under every request timeout (the gateway's is 10 s): a queue of guesses behind a busy
/// counter is answered 429, never left to time out as a 504 (the fault suite saw those at 10 s).
const RESERVATION_WAIT: Duration = Duration::from_secs(2);

/// Woken once for every place given back in this process, so a waiter tries again at once
/// rather than at its next poll; places given back by other replicas are found by polling.
static PLACE_GIVEN_BACK: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// A place held on every counter of an attempt, from before its password is verified until its
/// record settles it. Dropped unsettled (the request failed or was cancelled), it is given back
/// in the background, so a place is never held for longer than the attempt.
pub struct Reservation {
    pool: PgPool,
    keys: Vec<String>,
    settled: bool,
}

impl Reservation {
    /// The counters it holds a place on.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Once the transaction that settled its places (a failure counted, or the place given
    /// back) has committed.
    pub fn settled(mut self) {
        self.settled = true;
        PLACE_GIVEN_BACK.notify_one();
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.settled || self.keys.is_empty() {
            return;
        }
        let (pool, keys) = (self.pool.clone(), std::mem::take(&mut self.keys));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let released = async {
                    let mut conn = pool.acquire().await?;
                    store::release_attempt(&mut conn, &keys).await?;
                    Ok::<_, IdentityError>(())
                };
                match released.await {
                    Ok(()) => PLACE_GIVEN_BACK.notify_one(),
                    // Forgotten once stale (`RESERVATION_STALE_SECS`).
                    Err(e) => tracing::warn!(error = %e, "cannot give back a sign-in throttle reservation"),
                }
            });
        }
    }
}

/// Reserves a place for `attempt` on each of its counters, in one transaction that locks them,
/// judges them with their policies and counts the attempt in flight; waits while a counter is
/// busy. `Err(retry after)` when a counter is locked out (or stays busy too long): the password
/// must not be verified then. No lock or connection is held once this returns.
pub async fn reserve(
    pool: &PgPool,
    attempt: &mut SignInAttempt,
) -> Result<Result<Reservation, Duration>, IdentityError> {
    reserve_on(pool, &mut attempt.throttle).await
}

/// [`reserve`] for any password check with counters of its own (a password change's current
/// password): the same check-and-count step.
pub async fn reserve_on(
    pool: &PgPool,
    throttle: &mut Throttle,
) -> Result<Result<Reservation, Duration>, IdentityError> {
    let mut keys = throttle.keys();
    // One order for everyone: two attempts never hold each other's next lock.
    keys.sort();
    keys.dedup();
    let waiting_since = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        let now = Utc::now();
        let mut tx = pool.begin().await?;
        let states = store::lock_throttle(&mut tx, &keys).await?;
        let admission = Admission::all(states.iter().map(|(key, state)| {
            throttle
                .policy_of(key)
                .map_or(Admission::Admitted, |policy| policy.admission(state, now))
        }));
        match admission {
            Admission::Admitted => {
                store::reserve_attempt(&mut tx, &keys, now).await?;
                tx.commit().await?;
                throttle.reserved = true;
                return Ok(Ok(Reservation {
                    pool: pool.clone(),
                    keys,
                    settled: false,
                }));
            }
            Admission::Blocked(until) => {
                tx.rollback().await?;
                return Ok(Err(retry_after(until, now)));
            }
            Admission::Busy => {
                tx.rollback().await?;
                if waiting_since.elapsed() >= RESERVATION_WAIT {
                    return Ok(Err(Duration::from_secs(1)));
                }
                // Back when a place is given back here, or at the next poll (spread out, so
                // waiters do not all come back at once).
                let jitter = Duration::from_micros(rand::random::<u64>() % 5_000);
                let _ = tokio::time::timeout(pause + jitter, PLACE_GIVEN_BACK.notified()).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
        }
    }
}

/// Records how `attempt` ended: a wrong answer adds to its failure counters, proven credentials
/// reset them, and every finished attempt, good or bad, is published. A reserved attempt gives
/// its places back at the same time; a successful sign-in makes its address familiar.
pub async fn record(tx: &mut PgConnection, attempt: &SignInAttempt, verdict: Verdict) -> Result<(), IdentityError> {
    let throttle = &attempt.throttle;
    let reserved = throttle.reserved;
    // In the order reservations lock them (see `reserve`).
    let mut counted = throttle.counted.clone();
    counted.sort_by(|a, b| a.0.cmp(&b.0));
    if let Verdict::WrongAnswer(_) = verdict {
        for (key, policy) in &counted {
            store::record_failure(tx, key, *policy, attempt.time, reserved).await?;
        }
    } else if verdict.proven() && !throttle.cleared.is_empty() {
        // In the order reservations lock them.
        let mut cleared = throttle.cleared.clone();
        cleared.sort();
        store::clear_failures(tx, &cleared, reserved).await?;
    }
    let settled_above = matches!(verdict, Verdict::WrongAnswer(_)) || verdict.proven();
    if reserved {
        let unsettled: Vec<String> = throttle
            .keys()
            .into_iter()
            .filter(|key| !settled_above || (verdict.proven() && !throttle.cleared.contains(key)))
            .collect();
        if !unsettled.is_empty() {
            store::release_attempt(tx, &unsettled).await?;
        }
    }
    if let (Verdict::SignedIn { .. }, Some(user_id)) = (verdict, attempt.user_id)
        && !attempt.client.ip_address.is_empty()
    {
        store::remember_address(tx, user_id, &attempt.client.ip_address, attempt.time).await?;
    }
    if let Some(outcome) = verdict.recorded_outcome() {
        events::sign_in_recorded(tx, attempt, outcome).await?;
    }
    Ok(())
}

/// Records the step's end, commits its transaction and hands back its answer. A keyed call
/// (`once`) records its answer in the same transaction.
pub async fn finish<T>(
    mut tx: Transaction<'_, Postgres>,
    attempt: &SignInAttempt,
    ended: Ended<T>,
    once: Option<&Once<'_, T>>,
) -> Result<T, IdentityError> {
    record(&mut tx, attempt, ended.verdict).await?;
    record_answer(&mut tx, &ended, once).await?;
    tx.commit().await?;
    ended.answer
}

/// [`finish`] for an attempt that holds `reservation`: settled by the record, once committed.
pub async fn finish_reserved<T>(
    tx: Transaction<'_, Postgres>,
    attempt: &SignInAttempt,
    ended: Ended<T>,
    reservation: Reservation,
    once: Option<&Once<'_, T>>,
) -> Result<T, IdentityError> {
    let mut tx = tx;
    record(&mut tx, attempt, ended.verdict).await?;
    record_answer(&mut tx, &ended, once).await?;
    tx.commit().await?;
    reservation.settled();
    ended.answer
}

/// A keyed call's answer, written with the attempt. When an earlier attempt of the same call
/// committed first, this one fails with `AnsweredBefore`: its transaction rolls back (a
/// reservation it held is given back) and the caller gets the first answer.
async fn record_answer<T>(
    tx: &mut PgConnection,
    ended: &Ended<T>,
    once: Option<&Once<'_, T>>,
) -> Result<(), IdentityError> {
    if let Some(once) = once {
        once.record(tx, &ended.answer).await?;
    }
    Ok(())
}
