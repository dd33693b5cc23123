//! Every SQL statement of the signals service, returning domain types.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::domain::{Delivery, DeliveryMethod, NewStream, Receiver, Stream, StreamStatus};
use crate::keys::SignedSet;

/// Which queued SETs may leave now (`t` a SET, `s` its stream): all of an enabled stream's;
/// of a paused or disabled one, only the stream-updated SET that tells the receiver so.
macro_rules! deliverable {
    () => {
        "(s.status = 'enabled' OR t.event_type = 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated')"
    };
}

/// The Postgres channel a new SET is announced on (at commit), so pushers and long polls of
/// every replica wake at once.
pub const NEW_SETS_CHANNEL: &str = "signals_new_sets";

/// A stream's columns, as [`stream`] reads them (a macro, so statements stay static strings).
macro_rules! stream_columns {
    () => {
        "id, receiver_id, delivery_method, endpoint_url, authorization_header, events_requested, description, status, status_reason, all_subjects, created_at"
    };
}

fn receiver(row: &PgRow) -> Result<Receiver, sqlx::Error> {
    Ok(Receiver {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        audience: row.try_get("audience")?,
        client_id: row.try_get("client_id")?,
        created_at: row.try_get("created_at")?,
    })
}

fn stream(row: &PgRow) -> Result<Stream, sqlx::Error> {
    let method: String = row.try_get("delivery_method")?;
    let status: String = row.try_get("status")?;
    let delivery = match DeliveryMethod::parse(&method) {
        Some(DeliveryMethod::Push) => Delivery::Push {
            endpoint_url: row.try_get::<Option<String>, _>("endpoint_url")?.unwrap_or_default(),
            authorization_header: row.try_get("authorization_header")?,
        },
        Some(DeliveryMethod::Poll) => Delivery::Poll,
        None => return Err(decode_error("delivery_method", &method)),
    };
    Ok(Stream {
        id: row.try_get("id")?,
        receiver_id: row.try_get("receiver_id")?,
        delivery,
        events_requested: row.try_get("events_requested")?,
        description: row.try_get("description")?,
        status: StreamStatus::parse(&status).ok_or_else(|| decode_error("status", &status))?,
        status_reason: row.try_get("status_reason")?,
        all_subjects: row.try_get("all_subjects")?,
        created_at: row.try_get("created_at")?,
    })
}

fn decode_error(column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("unknown value {value:?}").into(),
    }
}

pub async fn insert_receiver(pool: &PgPool, receiver: &Receiver, secret_sha256: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO receivers (id, name, audience, client_id, client_secret_sha256, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(receiver.id)
    .bind(&receiver.name)
    .bind(&receiver.audience)
    .bind(&receiver.client_id)
    .bind(secret_sha256)
    .bind(receiver.created_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// The receiver with `client_id` and the hash of its secret.
pub async fn receiver_credentials(pool: &PgPool, client_id: &str) -> Result<Option<(Receiver, Vec<u8>)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, name, audience, client_id, created_at, client_secret_sha256 FROM receivers WHERE client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(pool)
    .await?;
    row.map(|row| Ok((receiver(&row)?, row.try_get("client_secret_sha256")?)))
        .transpose()
}

/// Stores an access token's hash, and forgets tokens long expired.
pub async fn insert_token(
    pool: &PgPool,
    token_sha256: &[u8],
    receiver_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM receiver_tokens WHERE expires_at < now() - interval '1 hour'")
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO receiver_tokens (token_sha256, receiver_id, expires_at) VALUES ($1, $2, $3)")
        .bind(token_sha256)
        .bind(receiver_id)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// The receiver an unexpired access token belongs to.
pub async fn receiver_by_token(
    pool: &PgPool,
    token_sha256: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<Receiver>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT r.id, r.name, r.audience, r.client_id, r.created_at
         FROM receiver_tokens t JOIN receivers r ON r.id = t.receiver_id
         WHERE t.token_sha256 = $1 AND t.expires_at > $2",
    )
    .bind(token_sha256)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(receiver).transpose()
}

pub async fn insert_stream(pool: &PgPool, stream: &Stream) -> Result<(), sqlx::Error> {
    let (endpoint_url, authorization_header) = match &stream.delivery {
        Delivery::Push {
            endpoint_url,
            authorization_header,
        } => (Some(endpoint_url.as_str()), authorization_header.as_deref()),
        Delivery::Poll => (None, None),
    };
    sqlx::query(
        "INSERT INTO streams (id, receiver_id, delivery_method, endpoint_url, authorization_header,
                              events_requested, description, status, status_reason, all_subjects, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(stream.id)
    .bind(stream.receiver_id)
    .bind(stream.delivery.method().as_str())
    .bind(endpoint_url)
    .bind(authorization_header)
    .bind(&stream.events_requested)
    .bind(&stream.description)
    .bind(stream.status.as_str())
    .bind(&stream.status_reason)
    .bind(stream.all_subjects)
    .bind(stream.created_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// A stream of `receiver_id`'s; another receiver's is as unknown as a missing one.
pub async fn stream_of(pool: &PgPool, receiver_id: Uuid, stream_id: Uuid) -> Result<Option<Stream>, sqlx::Error> {
    let row = sqlx::query(concat!(
        "SELECT ",
        stream_columns!(),
        " FROM streams WHERE id = $1 AND receiver_id = $2"
    ))
    .bind(stream_id)
    .bind(receiver_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(stream).transpose()
}

pub async fn streams_of(pool: &PgPool, receiver_id: Uuid) -> Result<Vec<Stream>, sqlx::Error> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        stream_columns!(),
        " FROM streams WHERE receiver_id = $1 ORDER BY created_at, id"
    ))
    .bind(receiver_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(stream).collect()
}

/// Deletes a stream of `receiver_id`'s with its undelivered SETs; whether there was one.
pub async fn delete_stream(pool: &PgPool, receiver_id: Uuid, stream_id: Uuid) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM streams WHERE id = $1 AND receiver_id = $2")
        .bind(stream_id)
        .bind(receiver_id)
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected() > 0)
}

/// A stream an event may be addressed to, with the audience its SETs carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressee {
    pub stream_id: Uuid,
    pub audience: String,
}

/// The streams that take `event_uri` about `user_id` now: they requested it, the person is
/// among their subjects (or they take all and did not remove them), and they are enabled, or
/// paused with fewer than `hold_limit` SETs held. A disabled stream drops what it would get.
pub async fn addressees(
    conn: &mut PgConnection,
    event_uri: &str,
    user_id: Uuid,
    hold_limit: i64,
) -> Result<Vec<Addressee>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT s.id, r.audience FROM streams s JOIN receivers r ON r.id = s.receiver_id
         WHERE $1 = ANY (s.events_requested)
           AND COALESCE((SELECT ss.included FROM stream_subjects ss
                         WHERE ss.stream_id = s.id AND ss.user_id = $2), s.all_subjects)
           AND (s.status = 'enabled'
                OR (s.status = 'paused'
                    AND (SELECT count(*) FROM security_event_tokens t
                         WHERE t.stream_id = s.id AND t.settled_at IS NULL) < $3))
         ORDER BY s.id",
    )
    .bind(event_uri)
    .bind(user_id)
    .bind(hold_limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Addressee {
                stream_id: row.try_get("id")?,
                audience: row.try_get("audience")?,
            })
        })
        .collect()
}

/// Whether a stream takes a SET about itself (a verification) now: enabled, or paused with
/// fewer than `hold_limit` SETs held.
pub async fn takes_stream_sets(conn: &mut PgConnection, stream_id: Uuid, hold_limit: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT s.status = 'enabled'
                OR (s.status = 'paused'
                    AND (SELECT count(*) FROM security_event_tokens t
                         WHERE t.stream_id = s.id AND t.settled_at IS NULL) < $2)
         FROM streams s WHERE s.id = $1",
    )
    .bind(stream_id)
    .bind(hold_limit)
    .fetch_optional(&mut *conn)
    .await
    .map(|takes| takes.unwrap_or(false))
}

/// Replaces a stream's receiver-supplied configuration; `None` when `receiver_id` has no such
/// stream. A new push endpoint is tried at once, with its failures forgotten.
pub async fn update_stream_configuration(
    pool: &PgPool,
    receiver_id: Uuid,
    stream_id: Uuid,
    configuration: &NewStream,
) -> Result<Option<Stream>, sqlx::Error> {
    let (endpoint_url, authorization_header) = match &configuration.delivery {
        Delivery::Push {
            endpoint_url,
            authorization_header,
        } => (Some(endpoint_url.as_str()), authorization_header.as_deref()),
        Delivery::Poll => (None, None),
    };
    let row = sqlx::query(concat!(
        "UPDATE streams SET delivery_method = $3, endpoint_url = $4, authorization_header = $5,
             events_requested = $6, description = $7, all_subjects = $8,
             push_failures = CASE WHEN endpoint_url IS DISTINCT FROM $4 THEN 0 ELSE push_failures END,
             next_push_at = CASE WHEN endpoint_url IS DISTINCT FROM $4 THEN now() ELSE next_push_at END
         WHERE id = $1 AND receiver_id = $2 RETURNING ",
        stream_columns!()
    ))
    .bind(stream_id)
    .bind(receiver_id)
    .bind(configuration.delivery.method().as_str())
    .bind(endpoint_url)
    .bind(authorization_header)
    .bind(&configuration.events_requested)
    .bind(&configuration.description)
    .bind(configuration.all_subjects)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(stream).transpose()
}

/// A stream with its receiver's audience, locked for a status change; any receiver's when
/// `receiver_id` is `None` (the operator's).
pub async fn stream_for_status_change(
    conn: &mut PgConnection,
    receiver_id: Option<Uuid>,
    stream_id: Uuid,
) -> Result<Option<(Stream, String)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT s.id, s.receiver_id, s.delivery_method, s.endpoint_url, s.authorization_header,
                s.events_requested, s.description, s.status, s.status_reason, s.all_subjects,
                s.created_at, r.audience
         FROM streams s JOIN receivers r ON r.id = s.receiver_id
         WHERE s.id = $1 AND ($2::uuid IS NULL OR s.receiver_id = $2)
         FOR UPDATE OF s",
    )
    .bind(stream_id)
    .bind(receiver_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| Ok((stream(&row)?, row.try_get("audience")?))).transpose()
}

/// Sets a stream's status. Disabling drops the SETs it holds, all but the stream-updated ones
/// that tell the receiver.
pub async fn set_status(
    conn: &mut PgConnection,
    stream_id: Uuid,
    status: StreamStatus,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE streams SET status = $2, status_reason = $3, next_push_at = now() WHERE id = $1")
        .bind(stream_id)
        .bind(status.as_str())
        .bind(reason)
        .execute(&mut *conn)
        .await?;
    if status == StreamStatus::Disabled {
        let dropped = sqlx::query(
            "DELETE FROM security_event_tokens
             WHERE stream_id = $1 AND settled_at IS NULL
               AND event_type <> 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated'",
        )
        .bind(stream_id)
        .execute(&mut *conn)
        .await?;
        if dropped.rows_affected() > 0 {
            tracing::info!(%stream_id, dropped = dropped.rows_affected(), "disabled stream dropped its held security event tokens");
        }
    }
    // Enabling releases what the stream held: wake the pushers and polls.
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(NEW_SETS_CHANNEL)
        .bind(stream_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Adds a person to a stream of `receiver_id`'s (`included`) or removes them; whether the
/// stream exists.
pub async fn set_subject(
    pool: &PgPool,
    receiver_id: Uuid,
    stream_id: Uuid,
    user_id: Uuid,
    included: bool,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO stream_subjects (stream_id, user_id, included)
         SELECT id, $3, $4 FROM streams WHERE id = $1 AND receiver_id = $2
         ON CONFLICT (stream_id, user_id) DO UPDATE SET included = EXCLUDED.included",
    )
    .bind(stream_id)
    .bind(receiver_id)
    .bind(user_id)
    .bind(included)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The outcome of a receiver's verification request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerificationClaim {
    /// Granted: the last request is now.
    Granted,
    /// Too soon after the last one: the next may come at this time.
    TooSoon(DateTime<Utc>),
    NotFound,
}

/// Records a verification request of `receiver_id`'s stream unless the last one was less than
/// `interval` ago, in the caller's transaction.
pub async fn claim_verification(
    conn: &mut PgConnection,
    receiver_id: Uuid,
    stream_id: Uuid,
    interval: std::time::Duration,
) -> Result<VerificationClaim, sqlx::Error> {
    let interval = chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::MAX);
    let granted = sqlx::query(
        "UPDATE streams SET last_verification_at = now()
         WHERE id = $1 AND receiver_id = $2
           AND (last_verification_at IS NULL OR last_verification_at <= now() - $3::interval)",
    )
    .bind(stream_id)
    .bind(receiver_id)
    .bind(interval)
    .execute(&mut *conn)
    .await?;
    if granted.rows_affected() > 0 {
        return Ok(VerificationClaim::Granted);
    }
    let last: Option<Option<DateTime<Utc>>> =
        sqlx::query_scalar("SELECT last_verification_at FROM streams WHERE id = $1 AND receiver_id = $2")
            .bind(stream_id)
            .bind(receiver_id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(match last {
        None => VerificationClaim::NotFound,
        Some(last) => VerificationClaim::TooSoon(last.unwrap_or_else(Utc::now) + interval),
    })
}

/// A SET for one stream, queued in the caller's transaction and announced at its commit.
pub async fn queue_set(
    conn: &mut PgConnection,
    stream_id: Uuid,
    jti: &str,
    event_type: &str,
    signed: &SignedSet,
    created_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // A redelivered cause makes the same jti: it is already queued.
    sqlx::query(
        "INSERT INTO security_event_tokens (stream_id, jti, event_type, token, created_at, kid)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (stream_id, jti) DO NOTHING",
    )
    .bind(stream_id)
    .bind(jti)
    .bind(event_type)
    .bind(&signed.token)
    .bind(created_at)
    .bind(&signed.kid)
    .execute(&mut *conn)
    .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(NEW_SETS_CHANNEL)
        .bind(stream_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A queued SET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedSet {
    pub seq: i64,
    pub jti: String,
    pub token: String,
}

/// The oldest `limit` SETs of a stream still queued that may leave now, in order.
pub async fn queued_sets(pool: &PgPool, stream_id: Uuid, limit: i64) -> Result<Vec<QueuedSet>, sqlx::Error> {
    let rows = sqlx::query(concat!(
        "SELECT t.seq, t.jti, t.token FROM security_event_tokens t JOIN streams s ON s.id = t.stream_id
             WHERE t.stream_id = $1 AND t.settled_at IS NULL AND ",
        deliverable!(),
        " ORDER BY t.seq LIMIT $2"
    ))
    .bind(stream_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(QueuedSet {
                seq: row.try_get("seq")?,
                jti: row.try_get("jti")?,
                token: row.try_get("token")?,
            })
        })
        .collect()
}

/// Marks a stream's SETs delivered (acknowledged by a poll); unknown jtis change nothing.
pub async fn acknowledge(
    pool: &PgPool,
    stream_id: Uuid,
    jtis: &[String],
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE security_event_tokens SET settled_at = $3
         WHERE stream_id = $1 AND jti = ANY ($2) AND settled_at IS NULL",
    )
    .bind(stream_id)
    .bind(jtis)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Takes a SET off the queue as refused by the receiver, keeping its error.
pub async fn refuse(
    pool: &PgPool,
    stream_id: Uuid,
    jti: &str,
    err: &str,
    description: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE security_event_tokens SET settled_at = $5, refused_err = $3, refused_description = $4
         WHERE stream_id = $1 AND jti = $2 AND settled_at IS NULL",
    )
    .bind(stream_id)
    .bind(jti)
    .bind(err)
    .bind(description)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A push stream this replica holds for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTarget {
    pub stream_id: Uuid,
    pub endpoint_url: String,
    pub authorization_header: Option<String>,
    pub failures: i32,
}

/// Claims up to `limit` enabled push streams with queued SETs that are due, for `lease`: one
/// pusher per stream at a time keeps its SETs in order across replicas.
pub async fn claim_push_targets(
    pool: &PgPool,
    lease: std::time::Duration,
    limit: i64,
) -> Result<Vec<PushTarget>, sqlx::Error> {
    let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let rows = sqlx::query(concat!(
        "UPDATE streams SET push_lease_until = now() + $1
         WHERE id IN (
             SELECT s.id FROM streams s
             WHERE s.delivery_method = 'push' AND s.next_push_at <= now()
               AND (s.push_lease_until IS NULL OR s.push_lease_until < now())
               AND EXISTS (SELECT 1 FROM security_event_tokens t
                           WHERE t.stream_id = s.id AND t.settled_at IS NULL AND ",
        deliverable!(),
        ")
             ORDER BY s.next_push_at LIMIT $2
             FOR UPDATE SKIP LOCKED)
         RETURNING id, endpoint_url, authorization_header, push_failures"
    ))
    .bind(lease)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(PushTarget {
                stream_id: row.try_get("id")?,
                endpoint_url: row.try_get::<Option<String>, _>("endpoint_url")?.unwrap_or_default(),
                authorization_header: row.try_get("authorization_header")?,
                failures: row.try_get("push_failures")?,
            })
        })
        .collect()
}

/// A SET the receiver took (202).
pub async fn mark_pushed(pool: &PgPool, seq: i64, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE security_event_tokens SET settled_at = $2 WHERE seq = $1 AND settled_at IS NULL")
        .bind(seq)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

/// Gives the stream back after a push round: `retry_at` after a failure (which counts), or at
/// once after success.
pub async fn release_push_target(
    pool: &PgPool,
    stream_id: Uuid,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE streams SET push_lease_until = NULL,
             push_failures = CASE WHEN $2::timestamptz IS NULL THEN 0 ELSE push_failures + 1 END,
             next_push_at = COALESCE($2, now())
         WHERE id = $1",
    )
    .bind(stream_id)
    .bind(retry_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// When the next push stream with queued SETs falls due, if any does.
pub async fn next_push_due(pool: &PgPool) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(concat!(
        "SELECT min(GREATEST(s.next_push_at, COALESCE(s.push_lease_until, s.next_push_at))) FROM streams s
         WHERE s.delivery_method = 'push'
           AND EXISTS (SELECT 1 FROM security_event_tokens t WHERE t.stream_id = s.id AND t.settled_at IS NULL AND ",
        deliverable!(),
        ")"
    ))
    .fetch_one(pool)
    .await
}
