//! The transactional outbox. A service writes its events with [`publish_in_tx`] inside the
//! transaction that changes its state; the [`OutboxRelay`] publishes committed rows to JetStream
//! (claiming them with `FOR UPDATE SKIP LOCKED`, so replicas share the work), waits for each
//! PublishAck and only then marks them sent. While NATS is unreachable rows simply wait.
//!
//! A row that fails for a reason of its own (too large, refused by the server) does not hold up
//! the others: every attempt is counted on the row (`attempts`), its own failures too
//! (`failures`, `last_error`), and after [`RelaySettings::quarantine_after`] of those it is
//! quarantined (`quarantined_at`) until `myaccount outbox retry` ([`retry_stuck`]) releases it.
//!
//! A relay killed between a publish and marking its row sent publishes the row again: JetStream
//! drops the copy within its duplicate window (same `Nats-Msg-Id`), and consumers skip an event
//! id they applied. Sent rows are kept for the replay horizon
//! ([`crate::events::NatsSettings::replay_horizon`]) so that [`replay_sent_since`] can send them
//! again after JetStream lost acknowledged writes.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use chrono::{DateTime, Utc};
use futures::future::join_all;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::field::Empty;
use uuid::Uuid;

use crate::events::{Event, EventBus, Stream, headers};
use crate::telemetry::{TraceHeaders, set_remote_parent};

const NOTIFY_CHANNEL: &str = "platform_outbox";

/// An event ready for the outbox: subject, CloudEvents attributes and the protobuf payload.
#[derive(Debug, Clone)]
pub struct OutgoingEvent {
    pub id: Uuid,
    pub subject: String,
    pub ce_subject: String,
    pub payload: Vec<u8>,
    /// The trace context the event continues: the current span's where it was made.
    pub trace: TraceHeaders,
}

impl OutgoingEvent {
    pub fn new<E: Event>(id: Uuid, event: &E) -> Self {
        Self {
            id,
            subject: E::subject(),
            ce_subject: event.ce_subject(),
            payload: event.encode_to_vec(),
            trace: TraceHeaders::current(),
        }
    }
}

/// Writes `event` to the outbox in the caller's transaction; it is published after commit.
pub async fn publish_in_tx(conn: &mut PgConnection, event: &OutgoingEvent) -> Result<(), sqlx::Error> {
    publish_all_in_tx(conn, std::slice::from_ref(event)).await
}

/// Writes `events` to the outbox in the caller's transaction, in order, with one statement
/// (a consumer applying a batch set-wise publishes its batch's events at once).
pub async fn publish_all_in_tx(conn: &mut PgConnection, events: &[OutgoingEvent]) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    let subjects: Vec<&str> = events.iter().map(|e| e.subject.as_str()).collect();
    let ce_subjects: Vec<&str> = events.iter().map(|e| e.ce_subject.as_str()).collect();
    let payloads: Vec<&[u8]> = events.iter().map(|e| e.payload.as_slice()).collect();
    let traceparents: Vec<Option<&str>> = events.iter().map(|e| e.trace.traceparent.as_deref()).collect();
    let tracestates: Vec<Option<&str>> = events.iter().map(|e| e.trace.tracestate.as_deref()).collect();
    // The notification is delivered at commit and wakes the relay at once instead of at its next
    // poll; one statement writes and notifies, saving the sign-in path a round trip.
    sqlx::query(
        "WITH written AS (\
             INSERT INTO platform.outbox (id, subject, ce_type, ce_subject, payload, traceparent, tracestate) \
             SELECT id, subject, subject, ce_subject, payload, traceparent, tracestate \
             FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::bytea[], $6::text[], $7::text[]) \
                  AS t(id, subject, ce_subject, payload, traceparent, tracestate) \
             RETURNING 1) \
         SELECT pg_notify($5, '') FROM (SELECT 1 FROM written LIMIT 1) AS any_written",
    )
    .bind(&ids)
    .bind(&subjects)
    .bind(&ce_subjects)
    .bind(&payloads)
    .bind(NOTIFY_CHANNEL)
    .bind(&traceparents)
    .bind(&tracestates)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("outbox query failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("publish to nats failed: {0}")]
    Publish(String),
}

#[derive(Debug, Clone)]
pub struct RelaySettings {
    pub batch_size: i64,
    /// Safety net when a notification is missed (e.g. the listener reconnected).
    pub poll_interval: Duration,
    pub max_backoff: Duration,
    /// A row is quarantined after this many failures of its own.
    pub quarantine_after: i32,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            batch_size: 256,
            poll_interval: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
            quarantine_after: 10,
        }
    }
}

pub struct OutboxRelay {
    pool: PgPool,
    bus: EventBus,
    source: String,
    streams: Vec<Stream>,
    settings: RelaySettings,
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: Uuid,
    subject: String,
    ce_type: String,
    ce_subject: String,
    payload: Vec<u8>,
    traceparent: Option<String>,
    tracestate: Option<String>,
    created_at: DateTime<Utc>,
}

impl OutboxRelay {
    /// `source` becomes the CloudEvents source (`myaccount/identity`); `streams` are the streams
    /// this service publishes to, created or updated before the first publish.
    pub fn new(pool: PgPool, bus: EventBus, source: impl Into<String>, streams: Vec<Stream>) -> Self {
        Self {
            pool,
            bus,
            source: source.into(),
            streams,
            settings: RelaySettings::default(),
        }
    }

    pub fn with_settings(mut self, settings: RelaySettings) -> Self {
        self.settings = settings;
        self
    }

    /// Runs until `shutdown`, publishing as rows commit and backing off while NATS is down.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut listener = self.listen().await;
        let mut streams_ready = false;
        let mut backoff = Duration::from_millis(100);
        let mut last_prune = tokio::time::Instant::now();
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            if !streams_ready {
                match self.bus.ensure_streams(&self.streams).await {
                    Ok(()) => streams_ready = true,
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in = ?backoff, "outbox relay: streams not ready");
                        if sleep_or_cancel(backoff, &shutdown).await {
                            return;
                        }
                        backoff = (backoff * 2).min(self.settings.max_backoff);
                        continue;
                    }
                }
            }
            match self.relay_batch().await {
                Ok(n) if n as i64 == self.settings.batch_size => {
                    backoff = Duration::from_millis(100);
                    continue;
                }
                Ok(_) => {
                    backoff = Duration::from_millis(100);
                    if last_prune.elapsed() > Duration::from_secs(60) {
                        self.prune().await;
                        last_prune = tokio::time::Instant::now();
                    }
                    if self.wait_for_work(&mut listener, &shutdown).await {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "outbox relay: batch not published");
                    if matches!(e, RelayError::Publish(_)) {
                        // The stream may have been deleted or NATS replaced: set it up again.
                        streams_ready = false;
                    }
                    if sleep_or_cancel(backoff, &shutdown).await {
                        return;
                    }
                    backoff = (backoff * 2).min(self.settings.max_backoff);
                }
            }
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool).await.ok()?;
        listener.listen(NOTIFY_CHANNEL).await.ok()?;
        Some(listener)
    }

    /// Waits for a commit notification, the poll interval, or shutdown (returns true).
    async fn wait_for_work(&self, listener: &mut Option<PgListener>, shutdown: &CancellationToken) -> bool {
        let notified = async {
            match listener {
                Some(l) => {
                    if l.recv().await.is_err() {
                        tokio::time::sleep(self.settings.poll_interval).await;
                    }
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => true,
            _ = notified => false,
            _ = tokio::time::sleep(self.settings.poll_interval) => false,
        }
    }

    /// Publishes one batch of unsent rows; returns how many were claimed. A row that fails for
    /// a reason of its own is counted and skipped; a failure of NATS itself ends the batch
    /// (the rows not sent wait for the next one) and is returned.
    pub async fn relay_batch(&self) -> Result<usize, RelayError> {
        let mut tx = crate::db::begin_with_generic_plans(&self.pool).await?;
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT id, subject, ce_type, ce_subject, payload, traceparent, tracestate, created_at
             FROM platform.outbox WHERE published_at IS NULL AND quarantined_at IS NULL
             ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(self.settings.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        let claimed = rows.len();
        let naming = self.bus.naming();

        // Send every message first, then await the acks together: one round trip per batch.
        let mut pending = Vec::with_capacity(rows.len());
        let mut failed: Vec<(Uuid, String, bool)> = Vec::new();
        let mut nats_error = None;
        for row in &rows {
            let subject = naming.subject(&row.subject);
            // A producer span per event, a child of the context stored with it; the consumer
            // continues from this span.
            let span = publish_span(row, &subject);
            let mut headers = self.headers(row);
            let trace = TraceHeaders::of(&tracing_opentelemetry::OpenTelemetrySpanExt::context(&span));
            if let Some(tp) = &trace.traceparent {
                headers.insert(headers::TRACEPARENT, tp.as_str());
            }
            if let Some(ts) = &trace.tracestate {
                headers.insert(headers::TRACESTATE, ts.as_str());
            }
            match self
                .bus
                .jetstream()
                .publish_with_headers(subject, headers, row.payload.clone().into())
                .await
            {
                Ok(ack) => pending.push((row.id, span, ack)),
                Err(e) => {
                    span.record("otel.status_code", "ERROR");
                    let own = fault_of_the_row(&e);
                    failed.push((row.id, e.to_string(), own));
                    if !own {
                        nats_error = Some(e.to_string());
                        break;
                    }
                }
            }
        }
        let mut ids = Vec::with_capacity(pending.len());
        let mut spans = Vec::with_capacity(pending.len());
        let mut acks = Vec::with_capacity(pending.len());
        for (id, span, ack) in pending {
            ids.push(id);
            spans.push(span);
            acks.push(ack);
        }
        let results = join_all(acks.into_iter().map(|ack| ack.into_future())).await;
        let mut sent = Vec::with_capacity(ids.len());
        for ((id, span), result) in ids.into_iter().zip(&spans).zip(results) {
            match result {
                Ok(_) => sent.push(id),
                Err(e) => {
                    span.record("otel.status_code", "ERROR");
                    let own = fault_of_the_row(&e);
                    if !own {
                        nats_error.get_or_insert_with(|| e.to_string());
                    }
                    failed.push((id, e.to_string(), own));
                }
            }
        }
        metrics::counter!("outbox_events_published_total", "source" => self.source.clone())
            .increment(sent.len() as u64);
        // The spans end when the acks are in.
        drop(spans);
        // Rows acked before a failure are marked sent; the rest stay for the next attempt.
        if !sent.is_empty() {
            sqlx::query("UPDATE platform.outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1)")
                .bind(&sent)
                .execute(&mut *tx)
                .await?;
        }
        if !failed.is_empty() {
            self.record_failures(&mut tx, &failed).await?;
        }
        tx.commit().await?;
        match nats_error {
            Some(e) => Err(RelayError::Publish(e)),
            None => Ok(claimed),
        }
    }

    /// Counts the attempt on every failed row, and the failure on those at fault themselves,
    /// quarantining a row at its `quarantine_after`th.
    async fn record_failures(
        &self,
        conn: &mut PgConnection,
        failed: &[(Uuid, String, bool)],
    ) -> Result<(), RelayError> {
        let ids: Vec<Uuid> = failed.iter().map(|(id, _, _)| *id).collect();
        let errors: Vec<&str> = failed.iter().map(|(_, e, _)| e.as_str()).collect();
        let own: Vec<bool> = failed.iter().map(|(_, _, own)| *own).collect();
        let quarantined: Vec<(Uuid, String, i32, String)> = sqlx::query_as(
            "UPDATE platform.outbox AS o SET \
                 attempts = o.attempts + 1, \
                 failures = o.failures + f.own::int, \
                 last_error = f.error, \
                 quarantined_at = CASE WHEN f.own AND o.failures + 1 >= $4 THEN now() END \
             FROM UNNEST($1::uuid[], $2::text[], $3::bool[]) AS f(id, error, own) \
             WHERE o.id = f.id \
             RETURNING o.id, o.subject, o.failures, f.error, o.quarantined_at IS NOT NULL AS quarantined",
        )
        .bind(&ids)
        .bind(&errors)
        .bind(&own)
        .bind(self.settings.quarantine_after)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .filter_map(
            |(id, subject, failures, error, quarantined): (Uuid, String, i32, String, bool)| {
                quarantined.then_some((id, subject, failures, error))
            },
        )
        .collect();
        for (id, subject, failures, error) in quarantined {
            tracing::error!(event_id = %id, %subject, failures, %error, "outbox event quarantined: it failed too often; `myaccount outbox list-stuck` shows it, `myaccount outbox retry` releases it");
            metrics::counter!("outbox_events_quarantined_total", "source" => self.source.clone()).increment(1);
        }
        Ok(())
    }

    fn headers(&self, row: &OutboxRow) -> HeaderMap {
        let id = row.id.to_string();
        headers::cloud_event(&id, &id, &row.ce_type, &self.source, row.created_at, &row.ce_subject)
    }

    /// Deletes rows sent longer ago than the replay horizon: they can no longer be sent again.
    async fn prune(&self) {
        let keep = chrono::Duration::from_std(self.bus.replay_horizon()).unwrap_or(chrono::Duration::days(1));
        let result = sqlx::query("DELETE FROM platform.outbox WHERE published_at < $1")
            .bind(Utc::now() - keep)
            .execute(&self.pool)
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "outbox relay: pruning sent rows failed");
        }
    }
}

/// The relay's span for publishing `row`: OpenTelemetry messaging attributes, parent = the
/// context stored with the event (a new trace for rows written without one).
fn publish_span(row: &OutboxRow, subject: &str) -> tracing::Span {
    let span = tracing::info_span!(
        "outbox.publish",
        otel.name = %format_args!("publish {}", row.subject),
        otel.kind = "producer",
        messaging.system = "nats",
        messaging.operation = "publish",
        messaging.operation.type = "send",
        messaging.destination.name = %subject,
        messaging.message.id = %row.id,
        otel.status_code = Empty,
    );
    let stored = TraceHeaders {
        traceparent: row.traceparent.clone(),
        tracestate: row.tracestate.clone(),
    };
    set_remote_parent(&span, stored.context());
    span
}

/// Whether a failed publish was the row's own fault (too large, refused by the server) rather
/// than NATS's (unreachable, no stream, timed out, the server unavailable).
fn fault_of_the_row(e: &PublishError) -> bool {
    match e.kind() {
        PublishErrorKind::MaxPayloadExceeded
        | PublishErrorKind::WrongLastMessageId
        | PublishErrorKind::WrongLastSequence => true,
        PublishErrorKind::StreamNotFound
        | PublishErrorKind::TimedOut
        | PublishErrorKind::BrokenPipe
        | PublishErrorKind::MaxAckPending => false,
        // The server's answer to this message: a refusal (4xx) is the row's, an unavailable
        // stream or leader (5xx) is not. Without an answer, the subject itself was refused.
        PublishErrorKind::Other => std::error::Error::source(e)
            .and_then(|source| source.downcast_ref::<async_nats::jetstream::Error>())
            .is_none_or(|answer| answer.code() < 500),
    }
}

/// Number of events written but not yet acknowledged by JetStream (quarantined ones included).
pub async fn backlog(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM platform.outbox WHERE published_at IS NULL")
        .fetch_one(pool)
        .await
}

/// An unsent event that failed: quarantined, or on its way there.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StuckEvent {
    pub id: Uuid,
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub failures: i32,
    pub last_error: Option<String>,
    pub quarantined_at: Option<DateTime<Utc>>,
    pub payload_bytes: i32,
}

/// The unsent events that failed for a reason of their own, quarantined first, oldest first.
pub async fn stuck_events(pool: &PgPool) -> Result<Vec<StuckEvent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, subject, created_at, attempts, failures, last_error, quarantined_at, \
                octet_length(payload) AS payload_bytes \
         FROM platform.outbox WHERE published_at IS NULL AND failures > 0 \
         ORDER BY quarantined_at IS NULL, created_at, id",
    )
    .fetch_all(pool)
    .await
}

/// Releases quarantined events (one, or all when `id` is `None`) for the relay to try again,
/// with their failure count reset; returns how many.
pub async fn retry_stuck(pool: &PgPool, id: Option<Uuid>) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let released = sqlx::query(
        "UPDATE platform.outbox SET quarantined_at = NULL, failures = 0 \
         WHERE published_at IS NULL AND quarantined_at IS NOT NULL AND ($1::uuid IS NULL OR id = $1)",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    notify_relay(&mut tx).await?;
    tx.commit().await?;
    Ok(released)
}

/// Wakes the relays at commit.
async fn notify_relay(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(NOTIFY_CHANNEL)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Marks every event sent since `since` unsent again, so the relay publishes it again with its
/// original id (`Nats-Msg-Id` = `ce-id`): after JetStream lost acknowledged writes. Events
/// still in the stream are dropped as duplicates within its duplicate window, and consumers skip
/// ids they applied. Only rows within the replay horizon are still there. Returns how many.
pub async fn replay_sent_since(pool: &PgPool, since: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let replayed = sqlx::query("UPDATE platform.outbox SET published_at = NULL WHERE published_at >= $1")
        .bind(since)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    notify_relay(&mut tx).await?;
    tx.commit().await?;
    Ok(replayed)
}

/// Sleeps, returning true if shutdown came first.
pub(crate) async fn sleep_or_cancel(duration: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => true,
        _ = tokio::time::sleep(duration) => false,
    }
}
