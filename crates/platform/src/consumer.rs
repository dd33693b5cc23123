//! The idempotent consumer. A durable pull consumer with explicit ack; each batch is applied in
//! one Postgres transaction where every message runs in its own savepoint together with the
//! record of its event id (`ON CONFLICT DO NOTHING`), so a redelivered event changes nothing.
//! Messages are acked only after the commit; the record of an id is kept as long as the stream
//! could still deliver its event or an outbox could send it again (the longer of the stream's
//! maximum age and the replay horizon, plus a day).
//!
//! Two kinds of failure, told apart because only one of them is the message's fault:
//! - The infrastructure's (Postgres unreachable, pool exhausted, failover, serialization failure
//!   or deadlock; see [`crate::db::is_infrastructure_error`]), and any failure of the engine's own
//!   statements: the consumer keeps the batch, reports itself stalled (metric and readiness),
//!   and applies the same batch again with exponential backoff (capped at 30 s) for as long as
//!   it takes, probing Postgres every second so it resumes within a second or two of its return.
//!   No delivery attempt is spent: JetStream delivers without limit, and the consumer counts
//!   only the handler's own failures.
//! - The message's own: it cannot be decoded or the handler rejects it (dead-lettered at once),
//!   or the handler keeps failing with [`HandlerError::Transient`] (counted in
//!   `platform.consumer_failures`, in the batch's transaction, and dead-lettered after
//!   `max_deliver` failures, redelivered with exponential backoff in between).
//!
//! A dead letter goes to `myaccount.deadletter.v1.<consumer>` with everything needed to send it
//! again ([`crate::deadletter`]): the original subject, headers and event id.
//!
//! A consumer whose handler is also a [`BatchHandler`] ([`BatchConsumer`]) applies a batch
//! set-wise instead: one statement records every event id (`RETURNING` the fresh ones), one
//! handler call applies them all, and only a batch that fails goes back to the message by
//! message path above, which finds the message at fault. Statements per batch stay a handful
//! instead of several per message.
//!
//! Three front ends share one engine: [`Consumer`] for one event type with a typed [`Handler`],
//! [`BatchConsumer`] for one event type with a [`BatchHandler`], and [`StreamConsumer`] for
//! every subject of a stream with a [`RawHandler`] that dispatches on the subject itself (the
//! audit activity log).
//!
//! Acks: pull consumers ack each message explicitly (JetStream's `AckPolicy::All` is for push
//! consumers, and a batch mixes acks, naks and terms anyway). An ack is a plain publish on the
//! connection, not a request, so acking a batch costs no round trips.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::{AckKind, Message};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use opentelemetry::trace::TraceContextExt;
use sqlx::{Acquire, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::deadletter;
use crate::events::{Event, EventBus, Stream, headers};
use crate::outbox::sleep_or_cancel;
use crate::telemetry::{TraceContext, TraceHeaders, set_remote_parent};

/// A decoded event as handed to a handler.
#[derive(Debug, Clone)]
pub struct Delivery<E> {
    /// The CloudEvents id (`ce-id`), unique per event.
    pub id: String,
    pub event: E,
    pub time: Option<DateTime<Utc>>,
    /// How many times JetStream has delivered this message (1 on the first try).
    pub delivered: i64,
}

/// A message with its CloudEvents attributes checked but its payload not decoded.
#[derive(Debug, Clone)]
pub struct RawDelivery {
    pub id: String,
    /// The CloudEvents type, which is also the logical subject: `myaccount.devices.v1.disabled`.
    pub ce_type: String,
    /// The CloudEvents subject: the id of the user the event is about, when it is about one.
    pub ce_subject: Option<String>,
    pub payload: Bytes,
    pub time: Option<DateTime<Utc>>,
    pub delivered: i64,
}

impl RawDelivery {
    /// Decodes the payload as `E` if the type matches; `None` for another type.
    pub fn decode<E: Event>(&self) -> Option<Result<E, HandlerError>> {
        (self.ce_type == E::subject()).then(|| {
            E::decode(self.payload.clone()).map_err(|e| HandlerError::Rejected(format!("undecodable payload: {e}")))
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event can never be applied (e.g. it contradicts itself): dead-letter it now.
    #[error("event rejected: {0}")]
    Rejected(String),
    /// The handler failed on this event and may succeed later: redelivered with backoff, and
    /// dead-lettered after `max_deliver` such failures.
    #[error("transient failure: {0}")]
    Transient(String),
    /// A dependency is unavailable (Postgres unreachable, a deadlock to retry): not the event's
    /// fault, so the whole batch is applied again, for as long as it takes, and nothing is
    /// counted against the event.
    #[error("dependency unavailable: {0}")]
    Unavailable(String),
}

/// `?` on a query sorts the error: the infrastructure's ([`crate::db::is_infrastructure_error`])
/// is `Unavailable`, any other (a constraint, a bad value) `Transient`.
/// An event naming something by an id that is not one can never be applied.
impl From<myaccount_proto::InvalidId> for HandlerError {
    fn from(e: myaccount_proto::InvalidId) -> Self {
        HandlerError::Rejected(e.to_string())
    }
}

impl From<sqlx::Error> for HandlerError {
    fn from(e: sqlx::Error) -> Self {
        if crate::db::is_infrastructure_error(&e) {
            HandlerError::Unavailable(e.to_string())
        } else {
            HandlerError::Transient(e.to_string())
        }
    }
}

/// Applies one event of type `E` inside the consumer's transaction.
pub trait Handler<E: Event>: Send + Sync + 'static {
    fn handle(
        &self,
        conn: &mut PgConnection,
        delivery: &Delivery<E>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// Whether `event` can change anything here, judged from the event alone. One that cannot is
    /// acknowledged without a transaction: with nothing to write there is nothing to deduplicate
    /// either, and a consumer that sees every sign-in but acts on few (devices) no longer pays
    /// a transaction for each.
    fn concerns(&self, _event: &E) -> bool {
        true
    }
}

/// Applies any event of a stream inside the consumer's transaction.
pub trait RawHandler: Send + Sync + 'static {
    fn handle(
        &self,
        conn: &mut PgConnection,
        delivery: &RawDelivery,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// As [`Handler::concerns`].
    fn concerns(&self, _delivery: &RawDelivery) -> bool {
        true
    }
}

/// Applies a whole batch of events of type `E` set-wise inside the consumer's transaction.
///
/// `deliveries` are the batch's new events (duplicates already removed), in stream order. The
/// handler applies every one of them except those it rejects in the [`BatchOutcome`], of which
/// it must write nothing. Returning an error undoes the whole batch, which is then applied again
/// message by message through [`Handler::handle`], each in its own savepoint: that per-message
/// path is the fallback that isolates a failing message, so it must have the same effect.
pub trait BatchHandler<E: Event>: Handler<E> {
    fn handle_batch(
        &self,
        conn: &mut PgConnection,
        deliveries: &[Delivery<E>],
    ) -> impl Future<Output = Result<BatchOutcome, HandlerError>> + Send;
}

/// What a [`BatchHandler`] did with its batch: everything is applied except the rejected.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    rejected: Vec<(usize, String)>,
}

impl BatchOutcome {
    /// Every delivery applied.
    pub fn new() -> Self {
        Self::default()
    }

    /// `deliveries[index]` can never be applied (it contradicts itself) and nothing of it was
    /// written: it goes to the dead letter, and its event id stays unused.
    pub fn reject(&mut self, index: usize, reason: impl Into<String>) {
        self.rejected.push((index, reason.into()));
    }

    pub fn rejected(&self) -> &[(usize, String)] {
        &self.rejected
    }
}

#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// Durable consumer name: the consuming service (`audit`, `identity`, ...).
    pub durable_name: String,
    /// How many times the handler may fail on one event ([`HandlerError::Transient`]) before
    /// it is dead-lettered. Failures of the infrastructure do not count.
    pub max_deliver: i64,
    pub ack_wait: Duration,
    pub batch_size: usize,
    /// How long one pull waits for messages before asking again.
    pub fetch_expiry: Duration,
    /// The first redelivery delay after a handler failure; doubled after each further one, up
    /// to [`MAX_BACKOFF`].
    pub retry_delay: Duration,
}

impl ConsumerSettings {
    /// Eight tries over about a minute (0.5 s, 1 s, 2 s, ... capped at 30 s apart).
    pub fn new(durable_name: impl Into<String>) -> Self {
        Self {
            durable_name: durable_name.into(),
            max_deliver: 8,
            ack_wait: Duration::from_secs(30),
            batch_size: 256,
            fetch_expiry: Duration::from_secs(2),
            retry_delay: Duration::from_millis(500),
        }
    }

    /// The redelivery delay after the `failures`th handler failure of one event.
    fn retry_delay_after(&self, failures: i64) -> Duration {
        let doublings = u32::try_from(failures.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
        self.retry_delay.saturating_mul(1 << doublings).min(MAX_BACKOFF)
    }
}

/// The longest wait between two tries, of a batch while a dependency is down or of an event its
/// handler failed on.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The first wait after a dependency failed; doubled after each further failure.
const FIRST_STALL_BACKOFF: Duration = Duration::from_millis(500);

/// How often a stalled consumer asks Postgres whether it is back.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// The durable consumer of `E` for a service whose consumers are named `prefix` (`devices` ->
/// `devices_recorded`): what [`Consumer`] creates, and what NATS permissions are granted for.
pub fn durable_name<E: Event>(prefix: &str) -> String {
    format!("{prefix}_{}", E::NAME)
}

/// The durable consumer of a whole stream (`audit` + `activity_devices` -> `audit_activity_devices`),
/// as [`StreamConsumer`] creates it.
pub fn stream_durable_name(prefix: &str, purpose: &str) -> String {
    format!("{prefix}_{purpose}")
}

/// What the engine runs: every consumer applies one message at a time (in a savepoint); one
/// with a [`BatchHandler`] first tries the whole batch set-wise.
trait Apply: Send + Sync + 'static {
    /// Whether [`Apply::batch`] is worth trying.
    const SET_WISE: bool = false;

    fn one(&self, conn: &mut PgConnection, raw: &RawDelivery) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// Whether `raw` can change anything ([`Handler::concerns`]); one that does not decode does
    /// (the handler's path rejects it).
    fn concerns(&self, raw: &RawDelivery) -> bool;

    /// Applies `raws` (fresh, distinct events) set-wise; an error sends the batch message by
    /// message. Only called when `SET_WISE`.
    fn batch(
        &self,
        _conn: &mut PgConnection,
        _raws: &[RawDelivery],
    ) -> impl Future<Output = Result<BatchOutcome, HandlerError>> + Send {
        async { Err(HandlerError::Transient("no set-wise path".into())) }
    }
}

impl<H: RawHandler> Apply for H {
    fn one(&self, conn: &mut PgConnection, raw: &RawDelivery) -> impl Future<Output = Result<(), HandlerError>> + Send {
        self.handle(conn, raw)
    }

    fn concerns(&self, raw: &RawDelivery) -> bool {
        RawHandler::concerns(self, raw)
    }
}

/// Checks the type and decodes the payload, for the typed handlers.
fn typed<E: Event>(raw: &RawDelivery) -> Result<Delivery<E>, HandlerError> {
    let event = match raw.decode::<E>() {
        Some(result) => result?,
        None => {
            return Err(HandlerError::Rejected(format!(
                "unexpected ce-type {:?}, expected {:?}",
                raw.ce_type,
                E::subject()
            )));
        }
    };
    Ok(Delivery {
        id: raw.id.clone(),
        event,
        time: raw.time,
        delivered: raw.delivered,
    })
}

/// A typed [`Handler`] as the engine sees it.
struct Typed<E, H> {
    handler: H,
    _event: PhantomData<fn() -> E>,
}

impl<E: Event, H: Handler<E>> RawHandler for Typed<E, H> {
    async fn handle(&self, conn: &mut PgConnection, raw: &RawDelivery) -> Result<(), HandlerError> {
        self.handler.handle(conn, &typed::<E>(raw)?).await
    }

    fn concerns(&self, raw: &RawDelivery) -> bool {
        typed::<E>(raw).map_or(true, |d| self.handler.concerns(&d.event))
    }
}

/// A typed [`BatchHandler`] as the engine sees it.
struct TypedBatch<E, H> {
    handler: H,
    _event: PhantomData<fn() -> E>,
}

impl<E: Event, H: BatchHandler<E>> Apply for TypedBatch<E, H> {
    const SET_WISE: bool = true;

    async fn one(&self, conn: &mut PgConnection, raw: &RawDelivery) -> Result<(), HandlerError> {
        self.handler.handle(conn, &typed::<E>(raw)?).await
    }

    fn concerns(&self, raw: &RawDelivery) -> bool {
        typed::<E>(raw).map_or(true, |d| self.handler.concerns(&d.event))
    }

    async fn batch(&self, conn: &mut PgConnection, raws: &[RawDelivery]) -> Result<BatchOutcome, HandlerError> {
        let mut outcome = BatchOutcome::new();
        // Messages that do not decode are rejected here; the handler sees the others, and its
        // indices are mapped back to positions in `raws`.
        let mut deliveries = Vec::with_capacity(raws.len());
        let mut positions = Vec::with_capacity(raws.len());
        for (i, raw) in raws.iter().enumerate() {
            match typed::<E>(raw) {
                Ok(d) => {
                    deliveries.push(d);
                    positions.push(i);
                }
                Err(HandlerError::Rejected(reason)) => outcome.reject(i, reason),
                Err(e) => return Err(e),
            }
        }
        if !deliveries.is_empty() {
            let handled = self.handler.handle_batch(conn, &deliveries).await?;
            for (index, reason) in handled.rejected {
                let position = positions.get(index).copied().ok_or_else(|| {
                    HandlerError::Transient(format!("batch handler rejected index {index} of {}", deliveries.len()))
                })?;
                outcome.reject(position, reason);
            }
        }
        Ok(outcome)
    }
}

/// Consumes one event type with a typed handler.
pub struct Consumer<E, H> {
    engine: Engine<Typed<E, H>>,
}

impl<E: Event, H: Handler<E>> Consumer<E, H> {
    pub fn new(pool: PgPool, bus: EventBus, settings: ConsumerSettings, handler: H) -> Self {
        let handler = Typed {
            handler,
            _event: PhantomData,
        };
        Self {
            engine: Engine::of_event::<E>(pool, bus, settings, handler),
        }
    }

    /// Creates (or updates) the streams and the durable consumer.
    pub async fn setup(&self) -> Result<PullConsumer, String> {
        self.engine.setup().await
    }

    /// Consumes until `shutdown`, reconnecting with backoff when NATS or Postgres is away.
    pub async fn run(self, shutdown: CancellationToken) {
        self.engine.run(shutdown).await
    }

    /// Applies a batch in one transaction and acknowledges after the commit; while a
    /// dependency is down, holds the batch and tries again.
    pub async fn process(&self, messages: Vec<Message>) {
        self.engine
            .process_until_applied(messages, &CancellationToken::new())
            .await;
    }
}

/// Consumes one event type with a [`BatchHandler`]: batches are applied set-wise.
pub struct BatchConsumer<E, H> {
    engine: Engine<TypedBatch<E, H>>,
}

impl<E: Event, H: BatchHandler<E>> BatchConsumer<E, H> {
    /// Same durable consumer as [`Consumer::new`] would make: switching between them keeps the
    /// stream position and the record of processed events.
    pub fn new(pool: PgPool, bus: EventBus, settings: ConsumerSettings, handler: H) -> Self {
        let handler = TypedBatch {
            handler,
            _event: PhantomData,
        };
        Self {
            engine: Engine::of_event::<E>(pool, bus, settings, handler),
        }
    }

    pub async fn setup(&self) -> Result<PullConsumer, String> {
        self.engine.setup().await
    }

    pub async fn run(self, shutdown: CancellationToken) {
        self.engine.run(shutdown).await
    }

    /// Applies a batch (set-wise, else message by message) and acknowledges after the commit;
    /// while a dependency is down, holds the batch and tries again.
    pub async fn process(&self, messages: Vec<Message>) {
        self.engine
            .process_until_applied(messages, &CancellationToken::new())
            .await;
    }
}

/// Consumes every subject of a stream with one handler.
pub struct StreamConsumer<H> {
    engine: Engine<H>,
}

impl<H: RawHandler> StreamConsumer<H> {
    /// `purpose` names the durable consumer together with the service: `audit_activity`.
    pub fn new(
        pool: PgPool,
        bus: EventBus,
        settings: ConsumerSettings,
        stream: Stream,
        purpose: &str,
        handler: H,
    ) -> Self {
        let durable = stream_durable_name(&settings.durable_name, purpose);
        Self {
            engine: Engine {
                pool,
                bus,
                settings,
                durable,
                stream,
                filter: None,
                handler,
            },
        }
    }

    /// Takes only `logical_subject` of the stream instead of all of it.
    pub fn only(mut self, logical_subject: impl Into<String>) -> Self {
        self.engine.filter = Some(logical_subject.into());
        self
    }

    pub async fn setup(&self) -> Result<PullConsumer, String> {
        self.engine.setup().await
    }

    pub async fn run(self, shutdown: CancellationToken) {
        self.engine.run(shutdown).await
    }
}

struct Engine<H> {
    pool: PgPool,
    bus: EventBus,
    settings: ConsumerSettings,
    durable: String,
    stream: Stream,
    /// Logical subject; `None` takes the whole stream.
    filter: Option<String>,
    handler: H,
}

enum Outcome {
    Ack,
    /// Redelivered after the delay.
    Retry(Duration),
    DeadLetter(String),
}

/// Why a batch could not be applied at all: a dependency failed (or the engine's own
/// statements did). Nothing was committed and nothing is counted against the messages.
#[derive(Debug)]
struct Stall {
    reason: String,
    /// A serialization failure, deadlock or lock timeout: Postgres answers, so probing it says
    /// nothing and the whole backoff is waited out.
    contention: bool,
}

impl From<sqlx::Error> for Stall {
    fn from(e: sqlx::Error) -> Self {
        let contention = matches!(&e, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40001" | "40P01" | "55P03")));
        Self {
            reason: e.to_string(),
            contention,
        }
    }
}

impl Stall {
    fn of(reason: String) -> Self {
        Self {
            reason,
            contention: false,
        }
    }
}

impl<H: Apply> Engine<H> {
    /// The engine of a consumer of one event type. The durable name is scoped to the event, so
    /// one service can consume several subjects.
    fn of_event<E: Event>(pool: PgPool, bus: EventBus, settings: ConsumerSettings, handler: H) -> Self {
        let durable = durable_name::<E>(&settings.durable_name);
        Self {
            pool,
            bus,
            settings,
            durable,
            stream: E::STREAM,
            filter: Some(E::subject()),
            handler,
        }
    }

    async fn setup(&self) -> Result<PullConsumer, String> {
        self.bus
            .ensure_streams(&[self.stream, Stream::DeadLetter])
            .await
            .map_err(|e| e.to_string())?;
        let naming = self.bus.naming();
        let stream = self
            .bus
            .jetstream()
            .get_stream(naming.stream(self.stream))
            .await
            .map_err(|e| e.to_string())?;
        stream
            .create_consumer(pull::Config {
                durable_name: Some(self.durable.clone()),
                filter_subject: self.filter.as_deref().map(|f| naming.subject(f)).unwrap_or_default(),
                ack_policy: AckPolicy::Explicit,
                deliver_policy: DeliverPolicy::All,
                ack_wait: self.settings.ack_wait,
                // Unlimited: a redelivery after an outage or a crash is no failure of the
                // message, so JetStream must never drop one. The handler's own failures are
                // counted in Postgres and bounded by `max_deliver` there.
                max_deliver: -1,
                // Room for two loops' batches in flight: at JetStream's default of 1,000, a
                // pull for more than the room left waits out its whole expiry.
                max_ack_pending: i64::try_from(self.settings.batch_size.saturating_mul(2))
                    .unwrap_or(i64::MAX)
                    .max(DEFAULT_MAX_ACK_PENDING),
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())
    }

    async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        // Across reconnections: a flapping NATS must not make every reconnection prune again.
        let mut pruned: Option<Instant> = None;
        'setup: loop {
            let consumer = match self.setup().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(consumer = %self.durable, error = %e, retry_in = ?backoff, "consumer not ready");
                    if sleep_or_cancel(backoff, &shutdown).await {
                        return;
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            backoff = Duration::from_millis(100);
            let mut lag_checked: Option<Instant> = None;
            loop {
                if lag_checked.is_none_or(|at| at.elapsed() > LAG_INTERVAL) {
                    self.record_lag(&consumer).await;
                    lag_checked = Some(Instant::now());
                }
                if pruned.is_none_or(|at| at.elapsed() > PRUNE_INTERVAL) {
                    self.forget_undeliverable().await;
                    pruned = Some(Instant::now());
                }
                let batch = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    batch = self.fetch(&consumer) => batch,
                };
                match batch {
                    Ok(messages) if messages.is_empty() => {}
                    Ok(messages) => {
                        if self.process_until_applied(messages, &shutdown).await {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(consumer = %self.durable, error = %e, "fetch failed; setting the consumer up again");
                        if sleep_or_cancel(backoff, &shutdown).await {
                            return;
                        }
                        continue 'setup;
                    }
                }
            }
        }
    }

    async fn fetch(&self, consumer: &PullConsumer) -> Result<Vec<Message>, String> {
        let mut batch = consumer
            .fetch()
            .max_messages(self.settings.batch_size)
            .expires(self.settings.fetch_expiry)
            .messages()
            .await
            .map_err(|e| e.to_string())?;
        let mut messages = Vec::new();
        while let Some(message) = batch.next().await {
            messages.push(message.map_err(|e| e.to_string())?);
        }
        Ok(messages)
    }

    /// Forgets the ids of events that can no longer come back: older than the stream's maximum
    /// age and than the outboxes' replay horizon (plus a day for clocks and late publishes).
    /// Without this the record grows by every event for ever; before it, a replay would apply
    /// an event a second time. Failure counts go with them. A failure is logged and tried again
    /// at the next round.
    async fn forget_undeliverable(&self) {
        let horizon = self.bus.stream_max_age().max(self.bus.replay_horizon()) + Duration::from_secs(24 * 3600);
        let Ok(horizon) = chrono::Duration::from_std(horizon) else {
            return;
        };
        let result = sqlx::query(
            "WITH failures AS (DELETE FROM platform.consumer_failures WHERE consumer = $1 AND failed_at < $2) \
             DELETE FROM platform.processed_events WHERE consumer = $1 AND processed_at < $2",
        )
        .bind(&self.durable)
        .bind(Utc::now() - horizon)
        .execute(&self.pool)
        .await;
        match result {
            Ok(done) if done.rows_affected() > 0 => {
                tracing::info!(consumer = %self.durable, forgotten = done.rows_affected(), "forgot ids of events past the stream's age");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(consumer = %self.durable, error = %e, "forgetting old event ids failed"),
        }
    }

    /// Consumer lag as JetStream sees it (messages not yet delivered, delivered but unacked).
    async fn record_lag(&self, consumer: &PullConsumer) {
        if let Ok(Ok(info)) = tokio::time::timeout(Duration::from_secs(2), consumer.get_info()).await {
            metrics::gauge!("messaging_consumer_lag_messages", "consumer_group" => self.durable.clone())
                .set(info.num_pending as f64);
            metrics::gauge!("messaging_consumer_ack_pending_messages", "consumer_group" => self.durable.clone())
                .set(info.num_ack_pending as f64);
        }
    }

    /// A consumer span for `message`: OpenTelemetry messaging attributes, parent = the
    /// producer's context from the `traceparent` header.
    fn process_span(&self, message: &Message) -> tracing::Span {
        let h = message.headers.as_ref();
        let logical = self.bus.naming().logical_subject(message.subject.as_str()).to_owned();
        let span = tracing::info_span!(
            "consumer.process",
            otel.name = %format_args!("process {logical}"),
            otel.kind = "consumer",
            messaging.system = "nats",
            messaging.operation = "process",
            messaging.operation.type = "process",
            messaging.destination.name = %message.subject,
            messaging.message.id = header(h, headers::ID).unwrap_or_default(),
            messaging.consumer.group.name = %self.durable,
            otel.status_code = Empty,
        );
        set_remote_parent(&span, message_context(message));
        span
    }

    /// Applies a batch and settles every message, holding the batch while a dependency is down
    /// (see the module's doc). Returns true if shutdown came first; the batch's messages are
    /// then handed back to JetStream for another replica.
    async fn process_until_applied(&self, messages: Vec<Message>, shutdown: &CancellationToken) -> bool {
        let start = Instant::now();
        if let Some(info) = messages.last().and_then(|m| m.info().ok()) {
            metrics::gauge!("messaging_consumer_lag_messages", "consumer_group" => self.durable.clone())
                .set(info.pending as f64);
        }
        let redelivered = messages
            .iter()
            .filter(|m| m.info().is_ok_and(|i| i.delivered > 1))
            .count();
        if redelivered > 0 {
            metrics::counter!("messaging_consumer_redeliveries_total", "consumer_group" => self.durable.clone())
                .increment(redelivered as u64);
        }
        let mut backoff = FIRST_STALL_BACKOFF;
        let mut stalled = false;
        loop {
            match self.apply(&messages).await {
                Ok(outcomes) => {
                    if stalled {
                        tracing::info!(consumer = %self.durable, "dependency back; consuming again");
                        self.bus.consumer_stalls().resumed(&self.durable);
                    }
                    self.settle(&messages, outcomes).await;
                    break;
                }
                Err(stall) => {
                    // Nothing was committed; the batch stays here and is applied again.
                    metrics::counter!("messaging_consumer_infrastructure_failures_total", "consumer_group" => self.durable.clone())
                        .increment(1);
                    tracing::warn!(consumer = %self.durable, error = %stall.reason, retry_in = ?backoff, messages = messages.len(), "batch not applied: a dependency failed; holding it");
                    self.bus.consumer_stalls().stalled(&self.durable, &stall.reason);
                    stalled = true;
                    if self.hold(&messages, backoff, !stall.contention, shutdown).await {
                        for m in &messages {
                            let _ = m.ack_with(AckKind::Nak(None)).await;
                        }
                        self.bus.consumer_stalls().resumed(&self.durable);
                        return true;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        metrics::histogram!("messaging_process_duration_seconds", "consumer_group" => self.durable.clone())
            .record(start.elapsed().as_secs_f64());
        false
    }

    /// Waits `backoff` before the next try, keeping the held messages ours (progress acks,
    /// well within `ack_wait`). With `probe`, asks Postgres every second and stops waiting as
    /// soon as it answers. Returns true if shutdown came first.
    async fn hold(&self, messages: &[Message], backoff: Duration, probe: bool, shutdown: &CancellationToken) -> bool {
        let deadline = Instant::now() + backoff;
        let progress_every = (self.settings.ack_wait / 3).max(Duration::from_millis(100));
        let mut progressed = Instant::now();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            if sleep_or_cancel(left.min(PROBE_INTERVAL), shutdown).await {
                return true;
            }
            if progressed.elapsed() >= progress_every {
                for m in messages {
                    // A lost progress ack only means the message comes back after ack_wait.
                    let _ = m.ack_with(AckKind::Progress).await;
                }
                progressed = Instant::now();
            }
            if probe && self.postgres_answers().await {
                return false;
            }
        }
    }

    async fn postgres_answers(&self) -> bool {
        tokio::time::timeout(Duration::from_secs(2), sqlx::query("SELECT 1").execute(&self.pool))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Acks, naks or dead-letters every message after its batch committed.
    async fn settle(&self, messages: &[Message], outcomes: Vec<Outcome>) {
        for (message, outcome) in messages.iter().zip(outcomes) {
            let label = match outcome {
                Outcome::Ack => "ack",
                Outcome::Retry(_) => "retry",
                Outcome::DeadLetter(_) => "dead_letter",
            };
            metrics::counter!("messaging_process_messages_total", "consumer_group" => self.durable.clone(), "outcome" => label)
                .increment(1);
            let result = match outcome {
                Outcome::Ack => message.ack().await,
                Outcome::Retry(delay) => message.ack_with(AckKind::Nak(Some(delay))).await,
                Outcome::DeadLetter(reason) => match self.dead_letter(message, &reason).await {
                    Ok(()) => {
                        self.forget_failures(message).await;
                        message.ack_with(AckKind::Term).await
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "dead-letter publish failed; will retry");
                        message.ack_with(AckKind::Nak(Some(self.settings.retry_delay))).await
                    }
                },
            };
            if let Err(e) = result {
                // The ack is lost: the message is redelivered and skipped as a duplicate.
                tracing::warn!(consumer = %self.durable, error = %e, "ack failed");
            }
        }
    }

    /// A dead letter starts afresh when replayed: its failure count goes with it.
    async fn forget_failures(&self, message: &Message) {
        let Some(id) = header(message.headers.as_ref(), headers::ID) else {
            return;
        };
        let result = sqlx::query("DELETE FROM platform.consumer_failures WHERE consumer = $1 AND event_id = $2")
            .bind(&self.durable)
            .bind(id)
            .execute(&self.pool)
            .await;
        if let Err(e) = result {
            // Pruned with the processed ids later; until then a replay fails sooner.
            tracing::warn!(consumer = %self.durable, error = %e, "forgetting a dead letter's failure count failed");
        }
    }

    async fn apply(&self, messages: &[Message]) -> Result<Vec<Outcome>, Stall> {
        if H::SET_WISE {
            match self.apply_set_wise(messages).await {
                Ok(outcomes) => return Ok(outcomes),
                // The message by message path would fail the same way.
                Err(HandlerError::Unavailable(reason)) => return Err(Stall::of(reason)),
                Err(e) => {
                    tracing::warn!(consumer = %self.durable, error = %e, messages = messages.len(), "batch not applied set-wise; applying it message by message");
                }
            }
        }
        self.apply_one_by_one(messages).await
    }

    /// The whole batch in one transaction with a handful of statements. Any error leaves
    /// nothing behind (the transaction is rolled back) for the message by message path.
    async fn apply_set_wise(&self, messages: &[Message]) -> Result<Vec<Outcome>, HandlerError> {
        let mut outcomes = Vec::with_capacity(messages.len());
        let mut deliveries = Vec::with_capacity(messages.len());
        for (position, message) in messages.iter().enumerate() {
            match read_attributes(message) {
                Ok(d) => {
                    outcomes.push(Outcome::Ack);
                    if self.handler.concerns(&d) {
                        deliveries.push((position, d));
                    }
                }
                Err(reason) => outcomes.push(Outcome::DeadLetter(reason)),
            }
        }
        if deliveries.is_empty() {
            return Ok(outcomes);
        }
        // One span for the batch, linked to every message's producer context; and a span per
        // message, a child of its producer's context linked to the batch, so each event's
        // trace still reaches its consumer.
        let batch_span = tracing::info_span!(
            "consumer.process_batch",
            otel.name = %format_args!("process {}", self.filter.as_deref().unwrap_or(&self.durable)),
            otel.kind = "consumer",
            messaging.system = "nats",
            messaging.operation = "process",
            messaging.operation.type = "process",
            messaging.destination.name = messages.first().map(|m| m.subject.as_str()).unwrap_or_default(),
            messaging.consumer.group.name = %self.durable,
            messaging.batch.message_count = messages.len(),
            otel.status_code = Empty,
        );
        for message in messages {
            batch_span.add_link(message_context(message).span().span_context().clone());
        }
        let batch_context = batch_span.context().span().span_context().clone();
        let message_spans: Vec<tracing::Span> = messages
            .iter()
            .map(|m| {
                let span = self.process_span(m);
                span.add_link(batch_context.clone());
                span
            })
            .collect();
        let result = async {
            let mut tx = crate::db::begin_with_generic_plans(&self.pool).await?;
            match self.claim_and_apply(&mut tx, deliveries, &mut outcomes).await {
                Ok(()) => {
                    tx.commit().await?;
                    Ok(())
                }
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            }
        }
        .instrument(batch_span.clone())
        .await;
        if result.is_err() {
            batch_span.record("otel.status_code", "ERROR");
        }
        for (span, outcome) in message_spans.iter().zip(&outcomes) {
            if matches!(outcome, Outcome::DeadLetter(_)) {
                span.record("otel.status_code", "ERROR");
            }
        }
        result.map(|()| outcomes)
    }

    async fn claim_and_apply(
        &self,
        conn: &mut PgConnection,
        deliveries: Vec<(usize, RawDelivery)>,
        outcomes: &mut [Outcome],
    ) -> Result<(), HandlerError> {
        let mut ids: Vec<&str> = deliveries.iter().map(|(_, d)| d.id.as_str()).collect();
        // One order for every batch: two consumers claiming the same redelivered ids never wait
        // for each other crosswise.
        ids.sort_unstable();
        ids.dedup();
        // Records every id at once; those already there are duplicates, acked unapplied. A
        // concurrent replica holding the same id makes this wait for its commit, then skip it.
        let fresh: HashSet<String> = sqlx::query_scalar(
            "INSERT INTO platform.processed_events (consumer, event_id) SELECT $1, id FROM UNNEST($2::text[]) AS t(id) \
             ON CONFLICT DO NOTHING RETURNING event_id",
        )
        .bind(&self.durable)
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
        // The first copy of each fresh id is applied; a later copy in the same batch waits for
        // the first's fate.
        let mut first: HashMap<String, usize> = HashMap::new();
        let mut copies = Vec::new();
        let mut positions = Vec::new();
        let mut raws = Vec::new();
        for (position, delivery) in deliveries {
            if !fresh.contains(&delivery.id) {
                continue;
            }
            match first.get(&delivery.id) {
                Some(&k) => copies.push((position, k)),
                None => {
                    first.insert(delivery.id.clone(), raws.len());
                    positions.push(position);
                    raws.push(delivery);
                }
            }
        }
        if raws.is_empty() {
            return Ok(());
        }
        let outcome = self.handler.batch(conn, &raws).await?;
        let mut rejected = HashSet::new();
        for (k, reason) in outcome.rejected {
            let position = positions
                .get(k)
                .copied()
                .ok_or_else(|| HandlerError::Transient(format!("rejected index {k} of {}", raws.len())))?;
            outcomes[position] = Outcome::DeadLetter(reason);
            rejected.insert(k);
        }
        // A copy of a rejected message may be a proper resend: it comes back in a later batch.
        for (position, k) in copies {
            if rejected.contains(&k) {
                outcomes[position] = Outcome::Retry(self.settings.retry_delay);
            }
        }
        if !rejected.is_empty() {
            // Dead-lettering does not use up the event id, as on the message by message path.
            let unused: Vec<&str> = rejected.iter().map(|&k| raws[k].id.as_str()).collect();
            sqlx::query("DELETE FROM platform.processed_events WHERE consumer = $1 AND event_id = ANY($2)")
                .bind(&self.durable)
                .bind(&unused)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    async fn apply_one_by_one(&self, messages: &[Message]) -> Result<Vec<Outcome>, Stall> {
        // Read once; `None` for a message that cannot concern the handler (one whose attributes
        // do not read is dead-lettered on the way in).
        let deliveries: Vec<Option<Result<RawDelivery, String>>> = messages
            .iter()
            .map(|m| match read_attributes(m) {
                Ok(d) if !self.handler.concerns(&d) => None,
                read => Some(read),
            })
            .collect();
        if deliveries.iter().all(Option::is_none) {
            return Ok(messages.iter().map(|_| Outcome::Ack).collect());
        }
        let mut tx = crate::db::begin_with_generic_plans(&self.pool).await?;
        let mut outcomes = Vec::with_capacity(messages.len());
        for (message, delivery) in messages.iter().zip(deliveries) {
            let Some(delivery) = delivery else {
                outcomes.push(Outcome::Ack);
                continue;
            };
            // Each message in its consumer span, a child of its producer's context.
            let span = self.process_span(message);
            let outcome = self.apply_one(&mut tx, delivery).instrument(span.clone()).await?;
            if matches!(outcome, Outcome::DeadLetter(_)) {
                span.record("otel.status_code", "ERROR");
            }
            outcomes.push(outcome);
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Applies a message (its attributes as read) in a savepoint of `conn`'s transaction.
    async fn apply_one(
        &self,
        conn: &mut PgConnection,
        delivery: Result<RawDelivery, String>,
    ) -> Result<Outcome, Stall> {
        let delivery = match delivery {
            Ok(d) => d,
            Err(reason) => return Ok(Outcome::DeadLetter(reason)),
        };
        let mut savepoint = conn.begin().await?;
        let fresh = sqlx::query(
            "INSERT INTO platform.processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(&self.durable)
        .bind(&delivery.id)
        .execute(&mut *savepoint)
        .await?
        .rows_affected()
            == 1;
        if !fresh {
            savepoint.rollback().await?;
            return Ok(Outcome::Ack);
        }
        Ok(match self.handler.one(&mut savepoint, &delivery).await {
            Ok(()) => {
                savepoint.commit().await?;
                Outcome::Ack
            }
            Err(HandlerError::Rejected(reason)) => {
                savepoint.rollback().await?;
                Outcome::DeadLetter(reason)
            }
            Err(HandlerError::Transient(reason)) => {
                savepoint.rollback().await?;
                // Counted in the batch's transaction: only failures whose rollback committed
                // count, whatever JetStream's delivery count says.
                let failures: i64 = sqlx::query_scalar(
                    "INSERT INTO platform.consumer_failures (consumer, event_id, failures, last_error) \
                     VALUES ($1, $2, 1, $3) \
                     ON CONFLICT (consumer, event_id) DO UPDATE \
                     SET failures = consumer_failures.failures + 1, last_error = EXCLUDED.last_error, failed_at = now() \
                     RETURNING failures::bigint",
                )
                .bind(&self.durable)
                .bind(&delivery.id)
                .bind(&reason)
                .fetch_one(&mut *conn)
                .await?;
                if failures >= self.settings.max_deliver {
                    Outcome::DeadLetter(format!("gave up after {failures} attempts: {reason}"))
                } else {
                    let delay = self.settings.retry_delay_after(failures);
                    tracing::warn!(consumer = %self.durable, event_id = %delivery.id, error = %reason, failures, retry_in = ?delay, "handler failed; will retry");
                    Outcome::Retry(delay)
                }
            }
            // Not the event's fault: the batch is applied again once the dependency is back.
            Err(HandlerError::Unavailable(reason)) => return Err(Stall::of(reason)),
        })
    }

    async fn dead_letter(&self, message: &Message, reason: &str) -> Result<(), String> {
        let naming = self.bus.naming();
        let subject = naming.subject(&format!("{}.{}", Stream::DeadLetter.subject_root(), self.durable));
        let mut h = message.headers.clone().unwrap_or_default();
        // What a replay needs to send it again as it was (`crate::deadletter`).
        h.insert(
            deadletter::ORIGINAL_SUBJECT,
            naming.logical_subject(message.subject.as_str()),
        );
        if let Some(original) = header(message.headers.as_ref(), deadletter::NATS_MSG_ID) {
            let original = original.to_owned();
            h.insert(deadletter::ORIGINAL_MSG_ID, original.as_str());
        }
        h.insert(deadletter::REASON, reason);
        h.insert(deadletter::CONSUMER, self.durable.as_str());
        h.insert(
            deadletter::DEAD_LETTERED_AT,
            Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true).as_str(),
        );
        // A fresh id: the original Nats-Msg-Id must not dedupe against the original stream.
        h.insert(
            deadletter::NATS_MSG_ID,
            format!("dlq-{}-{}", self.durable, message_id(message)).as_str(),
        );
        tracing::error!(consumer = %self.durable, subject = %message.subject, %reason, "event dead-lettered");
        metrics::counter!("messaging_dead_letters_total", "consumer_group" => self.durable.clone()).increment(1);
        self.bus
            .jetstream()
            .publish_with_headers(subject, h, message.payload.clone())
            .await
            .map_err(|e| e.to_string())?
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// Unique per original message (not per event id: two different bad messages may share a ce-id).
fn message_id(message: &Message) -> String {
    match message.info() {
        Ok(info) => format!("{}-{}", info.stream, info.stream_sequence),
        Err(_) => header(message.headers.as_ref(), headers::ID)
            .unwrap_or_default()
            .to_owned(),
    }
}

/// How often the consumer asks JetStream for its lag while running.
const LAG_INTERVAL: Duration = Duration::from_secs(10);

/// JetStream's own default for unacknowledged messages per consumer.
const DEFAULT_MAX_ACK_PENDING: i64 = 1000;

/// How often the consumer forgets the ids of events its stream no longer holds.
const PRUNE_INTERVAL: Duration = Duration::from_secs(3600);

/// The producer's trace context from the message's `traceparent`/`tracestate` headers.
fn message_context(message: &Message) -> TraceContext {
    let h = message.headers.as_ref();
    TraceHeaders {
        traceparent: header(h, headers::TRACEPARENT).map(str::to_owned),
        tracestate: header(h, headers::TRACESTATE).map(str::to_owned),
    }
    .context()
}

fn header<'a>(h: Option<&'a HeaderMap>, name: &str) -> Option<&'a str> {
    h.and_then(|h| h.get(name)).map(|v| v.as_str())
}

/// Checks the CloudEvents attributes every MyAccount event carries.
fn read_attributes(message: &Message) -> Result<RawDelivery, String> {
    let h = message.headers.as_ref();
    let id = header(h, headers::ID)
        .filter(|id| !id.is_empty())
        .ok_or("missing ce-id header")?
        .to_owned();
    let ce_type = header(h, headers::TYPE).ok_or("missing ce-type header")?.to_owned();
    if let Some(content_type) = header(h, headers::CONTENT_TYPE)
        && content_type != headers::PROTOBUF
    {
        return Err(format!("unsupported content-type {content_type:?}"));
    }
    let time = header(h, headers::TIME)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
    Ok(RawDelivery {
        id,
        ce_type,
        ce_subject: header(h, headers::SUBJECT).filter(|s| !s.is_empty()).map(str::to_owned),
        payload: message.payload.clone(),
        time,
        delivered,
    })
}
