//! Erasure of a deleted account, the same in every service: the `identity.v1.user_deleted`
//! consumer, the tombstone (`platform.erased_users`) and the check that keeps later events from
//! bringing an erased person back. A service says only how its own rows go ([`Erasure`]).
//!
//! Erasing takes an exclusive advisory lock on the person, and [`is_erased`] / [`erased_among`]
//! a shared one held until the caller's transaction ends: a write about the person that runs
//! beside an erasure either commits first (and is erased) or sees the tombstone.

use std::collections::HashSet;
use std::future::Future;

use chrono::{DateTime, Utc};
use myaccount_proto::events::v1::UserDeleted;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::consumer::{Delivery, Handler, HandlerError};

/// How one service erases what it keeps about a person, inside the consumer's transaction.
pub trait Erasure: Send + Sync + 'static {
    /// Deletes (or pseudonymises) every row about `user_id`. Running it again must change
    /// nothing more. Returns how many rows it changed, for the log.
    fn erase_user(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;
}

/// The `user_deleted` handler every service registers through the service kit.
pub struct UserDeletedHandler<T>(pub T);

impl<T: Erasure> Handler<UserDeleted> for UserDeletedHandler<T> {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<UserDeleted>) -> Result<(), HandlerError> {
        let user_id = myaccount_proto::parse_id("user_id", &delivery.event.user_id)
            .map_err(|e| HandlerError::Rejected(e.to_string()))?;
        let changed = erase(conn, &self.0, user_id, Utc::now()).await?;
        tracing::info!(%user_id, changed, "user erased");
        Ok(())
    }
}

/// Erases `user_id` with `erasure` and leaves the tombstone, in the caller's transaction.
pub async fn erase<T: Erasure>(
    conn: &mut PgConnection,
    erasure: &T,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    // Exclusive: waits for transactions that are writing about the person right now.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('myaccount.erasure'), hashtext($1::text))")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let changed = erasure.erase_user(conn, user_id, now).await?;
    // The answers of the person's keyed calls (sealed, but about them) go too.
    crate::idempotency::forget_calls_of(conn, user_id).await?;
    sqlx::query(
        "INSERT INTO platform.erased_users (user_id, erased_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(changed)
}

/// Whether the person's account was erased. Holds a shared lock on the person until the
/// transaction ends, so an erasure running meanwhile waits and then also removes what the
/// transaction wrote.
pub async fn is_erased(conn: &mut PgConnection, user_id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(erased_among(conn, &[user_id]).await?.contains(&user_id))
}

/// Which of `users` were erased, holding the shared lock of [`is_erased`] on each of them.
pub async fn erased_among(conn: &mut PgConnection, users: &[Uuid]) -> Result<HashSet<Uuid>, sqlx::Error> {
    if users.is_empty() {
        return Ok(HashSet::new());
    }
    let mut users = users.to_vec();
    // One order for every caller, so two batches never wait for each other crosswise.
    users.sort_unstable();
    users.dedup();
    // Two 32-bit keys: a key space apart from any single-key lock a service takes.
    sqlx::query(
        "SELECT pg_advisory_xact_lock_shared(hashtext('myaccount.erasure'), hashtext(u::text)) \
         FROM UNNEST($1::uuid[]) AS u",
    )
    .bind(&users)
    .execute(&mut *conn)
    .await?;
    // A statement of its own: its snapshot is taken after the locks, so it sees an erasure that
    // committed while we waited.
    let erased: Vec<Uuid> = sqlx::query_scalar("SELECT user_id FROM platform.erased_users WHERE user_id = ANY($1)")
        .bind(&users)
        .fetch_all(&mut *conn)
        .await?;
    Ok(erased.into_iter().collect())
}
