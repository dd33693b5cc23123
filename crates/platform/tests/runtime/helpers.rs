//! Shared set-up of the runtime tests: a database and a NATS namespace per test, events, raw
//! publishing and reading streams back.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use async_nats::HeaderMap;
use async_nats::jetstream::consumer;
use async_nats::jetstream::message::StreamMessage;
use futures::StreamExt;
use myaccount_proto::events::v1::{SignInRecorded, SignInStatus};
use platform::consumer::{Delivery, Handler, HandlerError};
use platform::events::{Event, EventBus, Stream, headers};
use platform::outbox::{OutgoingEvent, publish_in_tx};
use platform::testing::{TestDatabase, TestNats};
use sqlx::migrate::Migrator;
use sqlx::{PgConnection, PgPool};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How long an asynchronous outcome (a publish, a delivery) may take.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The migrations of a test "service": one table the consumer tests' handler writes to.
pub static TEST_MIGRATOR: Migrator = sqlx::migrate!("./tests/runtime/migrations");

/// A service without migrations of its own.
pub fn empty_migrator() -> Migrator {
    Migrator::with_migrations(Vec::new())
}

/// One test's world: its own database (migrated) and its own NATS namespace.
pub struct Harness {
    pub pool: PgPool,
    pub bus: EventBus,
    pub db: TestDatabase,
    pub nats: TestNats,
}

impl Harness {
    pub async fn new(migrator: &Migrator) -> Result<Self> {
        Self::with_nats(migrator, TestNats::new()).await
    }

    pub async fn with_nats(migrator: &Migrator, nats: TestNats) -> Result<Self> {
        let db = TestDatabase::new("platform");
        let pool = platform::db::connect(&db.settings, migrator)
            .await
            .context("connecting the test database")?;
        let bus = EventBus::connect(&nats.settings, "platform-runtime-tests")
            .await
            .context("connecting to nats")?;
        Ok(Self { pool, bus, db, nats })
    }

    /// Another replica's connections: its own pool and its own NATS connection.
    pub async fn replica(&self, migrator: &Migrator) -> Result<(PgPool, EventBus)> {
        let pool = platform::db::connect(&self.db.settings, migrator).await?;
        let bus = EventBus::connect(&self.nats.settings, "platform-runtime-tests-replica").await?;
        Ok((pool, bus))
    }

    /// The wire subject of a logical one, in this test's namespace.
    pub fn subject(&self, logical: &str) -> String {
        self.bus.naming().subject(logical)
    }
}

/// A background task (relay, consumer) and the token that stops it.
pub struct Running {
    token: CancellationToken,
    handle: Option<JoinHandle<()>>,
}

impl Running {
    pub fn spawn<F, Fut>(task: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let token = CancellationToken::new();
        let handle = tokio::spawn(task(token.clone()));
        Self {
            token,
            handle: Some(handle),
        }
    }

    /// Cancels the task and checks that it returns.
    pub async fn stop(mut self) -> Result<()> {
        self.token.cancel();
        let handle = self.handle.take().context("stopped twice")?;
        tokio::time::timeout(Duration::from_secs(15), handle)
            .await
            .map_err(|_| anyhow!("the task did not stop within 15s of cancellation"))??;
        Ok(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failing test must not leave the task running against a dropped database.
        self.token.cancel();
    }
}

pub fn sign_in(user_id: &str, user_principal_name: &str) -> SignInRecorded {
    SignInRecorded {
        sign_in_id: Uuid::new_v4().to_string(),
        time: Some(prost_types::Timestamp {
            seconds: chrono::Utc::now().timestamp(),
            nanos: 0,
        }),
        user_id: user_id.to_owned(),
        user_principal_name: user_principal_name.to_owned(),
        app_id: "platform-tests".into(),
        ip_address: "192.0.2.1".into(),
        user_agent: "runtime-tests".into(),
        status: SignInStatus::Success as i32,
        authentication_methods: vec!["pwd".into()],
        ..Default::default()
    }
}

/// Writes one event through the outbox in a transaction of its own; returns the outbox id.
pub async fn commit_event(pool: &PgPool, event: &SignInRecorded) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    publish_in_tx(&mut tx, &OutgoingEvent::new(id, event)).await?;
    tx.commit().await?;
    Ok(id)
}

pub fn header(headers: Option<&HeaderMap>, name: &str) -> Option<String> {
    headers.and_then(|h| h.get(name)).map(|v| v.as_str().to_owned())
}

/// Number of messages stored in the test's copy of `stream` (0 if it does not exist yet).
pub async fn stream_len(bus: &EventBus, stream: Stream) -> u64 {
    match bus.jetstream().get_stream(bus.naming().stream(stream)).await {
        Ok(s) => s.cached_info().state.messages,
        Err(_) => 0,
    }
}

/// Every message of the test's copy of `stream`, in stream order.
pub async fn stream_messages(bus: &EventBus, stream: Stream) -> Result<Vec<StreamMessage>> {
    Ok(platform::testing::stream_messages(bus, stream).await)
}

/// The CloudEvents headers of a well-formed `SignInRecorded` message.
pub fn event_headers(ce_id: &str, msg_id: &str, ce_type: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("Nats-Msg-Id", msg_id);
    h.insert(headers::SPEC_VERSION, "1.0");
    h.insert(headers::ID, ce_id);
    h.insert(headers::TYPE, ce_type);
    h.insert(headers::SOURCE, "myaccount/platform-tests");
    h.insert(headers::CONTENT_TYPE, headers::PROTOBUF);
    h
}

/// Publishes straight to the stream (no outbox) and waits for the PublishAck.
pub async fn publish_raw(bus: &EventBus, headers: HeaderMap, payload: Vec<u8>) -> Result<()> {
    let subject = bus.naming().subject(&SignInRecorded::subject());
    bus.jetstream()
        .publish_with_headers(subject, headers, payload.into())
        .await?
        .await?;
    Ok(())
}

/// Publishes `event` as a well-formed message with the given CloudEvents id and Nats-Msg-Id.
pub async fn publish_event(bus: &EventBus, event: &SignInRecorded, ce_id: &str, msg_id: &str) -> Result<()> {
    let h = event_headers(ce_id, msg_id, &SignInRecorded::subject());
    publish_raw(bus, h, prost::Message::encode_to_vec(event)).await
}

/// The state of a durable consumer of the sign-in stream, if it exists yet.
pub async fn consumer_info(bus: &EventBus, durable: &str) -> Option<consumer::Info> {
    let stream = bus
        .jetstream()
        .get_stream(bus.naming().stream(Stream::SignIn))
        .await
        .ok()?;
    stream.consumer_info(durable).await.ok()
}

/// True once the consumer has settled `stream_messages` messages: all delivered, none waiting
/// for an ack.
pub async fn consumer_settled(bus: &EventBus, durable: &str, stream_messages: u64) -> bool {
    consumer_info(bus, durable).await.is_some_and(|info| {
        info.num_pending == 0 && info.num_ack_pending == 0 && info.ack_floor.stream_sequence >= stream_messages
    })
}

/// The durable consumer of the consumer tests (each test has a NATS namespace and a database of
/// its own, so one name serves them all): `tests` on `SignInRecorded`.
pub const DURABLE: &str = "tests_recorded";

/// Small batches and short waits, so retries and dead-lettering happen within a test.
pub fn consumer_settings() -> platform::consumer::ConsumerSettings {
    platform::consumer::ConsumerSettings {
        durable_name: "tests".into(),
        max_deliver: 3,
        ack_wait: Duration::from_secs(10),
        batch_size: 64,
        fetch_expiry: Duration::from_millis(500),
        retry_delay: Duration::from_millis(50),
    }
}

/// The event ids [`DURABLE`] has recorded as processed, sorted.
pub async fn processed(pool: &PgPool) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT event_id FROM platform.processed_events WHERE consumer = $1 ORDER BY event_id")
            .bind(DURABLE)
            .fetch_all(pool)
            .await?,
    )
}

/// Pulls exactly `n` messages from `pull` (the test published them), to hand to a consumer's
/// `process` as one batch.
pub async fn fetch_exactly(pull: &consumer::PullConsumer, n: usize) -> Result<Vec<async_nats::jetstream::Message>> {
    let mut batch = Vec::new();
    while batch.len() < n {
        let mut fetched = pull
            .fetch()
            .max_messages(n - batch.len())
            .expires(Duration::from_secs(1))
            .messages()
            .await?;
        while let Some(message) = fetched.next().await {
            batch.push(message.map_err(|e| anyhow!(e))?);
        }
    }
    Ok(batch)
}

/// Counts the applications of each event; refuses every event while `refusing` (a bug that a
/// later release fixes).
#[derive(Clone, Default)]
pub struct Counting {
    pub refusing: Arc<AtomicBool>,
    applied: Arc<Mutex<HashMap<String, u32>>>,
}

impl Counting {
    pub fn applied(&self, event_id: &str) -> u32 {
        self.applied
            .lock()
            .map(|a| a.get(event_id).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// How many applications in all.
    pub fn total(&self) -> u32 {
        self.applied.lock().map(|a| a.values().sum()).unwrap_or(0)
    }
}

impl Handler<SignInRecorded> for Counting {
    async fn handle(&self, _conn: &mut PgConnection, delivery: &Delivery<SignInRecorded>) -> Result<(), HandlerError> {
        if self.refusing.load(Ordering::SeqCst) {
            return Err(HandlerError::Rejected("breaks a rule of this release".into()));
        }
        let mut applied = self
            .applied
            .lock()
            .map_err(|_| HandlerError::Transient("poisoned".into()))?;
        *applied.entry(delivery.id.clone()).or_default() += 1;
        Ok(())
    }
}
