//! The idempotent consumer: deduplication by event id, bounded retries, dead-lettering and
//! per-message isolation inside a batch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow};
use myaccount_proto::events::v1::SignInRecorded;
use platform::consumer::{Consumer, Delivery, Handler, HandlerError};
use platform::db::DatabaseSettings;
use platform::events::{Event, EventBus, Stream, headers};
use platform::testing::{TcpProxy, eventually};
use prost::Message;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::helpers::{
    DEADLINE, DURABLE, Harness, Running, TEST_MIGRATOR, consumer_info, consumer_settings, consumer_settled,
    event_headers, fetch_exactly, header, processed, publish_event, publish_raw, sign_in, stream_len, stream_messages,
};

/// Writes a row per event; what else it does depends on the user principal name:
/// `flaky:N` fails transiently on its first N attempts, `broken` always fails transiently,
/// `reject` rejects the event. Every failure comes after the write, which must be undone.
#[derive(Clone, Default)]
struct Recorder {
    attempts: Arc<Mutex<HashMap<String, u32>>>,
}

impl Recorder {
    fn attempts(&self, sign_in_id: &str) -> u32 {
        self.attempts
            .lock()
            .map(|a| a.get(sign_in_id).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Handler<SignInRecorded> for Recorder {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<SignInRecorded>) -> Result<(), HandlerError> {
        let event = &delivery.event;
        let attempt = {
            let mut attempts = self
                .attempts
                .lock()
                .map_err(|_| HandlerError::Transient("poisoned".into()))?;
            let n = attempts.entry(event.sign_in_id.clone()).or_default();
            *n += 1;
            *n
        };
        sqlx::query(
            "INSERT INTO applied_sign_ins (event_id, sign_in_id, user_principal_name, delivered)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&delivery.id)
        .bind(&event.sign_in_id)
        .bind(&event.user_principal_name)
        .bind(delivery.delivered)
        .execute(&mut *conn)
        .await?;
        let upn = event.user_principal_name.as_str();
        if let Some(failures) = upn.strip_prefix("flaky:") {
            let failures: u32 = failures.parse().unwrap_or(0);
            if attempt <= failures {
                return Err(HandlerError::Transient(format!("flaky attempt {attempt}")));
            }
        }
        match upn {
            "broken" => Err(HandlerError::Transient("still broken".into())),
            "reject" => Err(HandlerError::Rejected("contradicts itself".into())),
            _ => Ok(()),
        }
    }
}

fn spawn_consumer(pool: &PgPool, bus: &EventBus, handler: Recorder) -> Running {
    let consumer = Consumer::new(pool.clone(), bus.clone(), consumer_settings(), handler);
    Running::spawn(move |token| consumer.run(token))
}

/// `(delivered)` of every row the handler left for `event_id`.
async fn applied(pool: &PgPool, event_id: &str) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT delivered FROM applied_sign_ins WHERE event_id = $1 ORDER BY seq")
            .bind(event_id)
            .fetch_all(pool)
            .await?,
    )
}

async fn applied_count(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM applied_sign_ins")
        .fetch_one(pool)
        .await?)
}

async fn ensure_streams(bus: &EventBus) -> Result<()> {
    bus.ensure_streams(&[Stream::SignIn, Stream::DeadLetter])
        .await
        .map_err(|e| anyhow!(e))
}

fn new_id() -> String {
    Uuid::now_v7().to_string()
}

#[tokio::test]
async fn an_event_delivered_twice_is_applied_once() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    ensure_streams(&h.bus).await?;
    let event = sign_in("u", "twice");
    let ce_id = new_id();
    // Two publishes of one event (a retried publish after a lost ack, beyond the duplicate
    // window): same ce-id, different Nats-Msg-Id, so JetStream stores both.
    publish_event(&h.bus, &event, &ce_id, "first").await?;
    publish_event(&h.bus, &event, &ce_id, "second").await?;
    assert_eq!(stream_len(&h.bus, Stream::SignIn).await, 2);

    let recorder = Recorder::default();
    let consumer = spawn_consumer(&h.pool, &h.bus, recorder.clone());
    let bus = &h.bus;
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 2)).await;

    // Once more, in a later batch than the first application.
    publish_event(&h.bus, &event, &ce_id, "third").await?;
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 3)).await;

    assert_eq!(applied(&h.pool, &ce_id).await?, vec![1]);
    assert_eq!(applied_count(&h.pool).await?, 1);
    assert_eq!(
        recorder.attempts(&event.sign_in_id),
        1,
        "the duplicates never reach the handler"
    );
    assert_eq!(processed(&h.pool).await?, vec![ce_id]);
    assert_eq!(stream_len(&h.bus, Stream::DeadLetter).await, 0);
    consumer.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicated_consumers_apply_each_event_once() -> Result<()> {
    const EVENTS: usize = 40;
    let h = Harness::new(&TEST_MIGRATOR).await?;
    let (pool_b, bus_b) = h.replica(&TEST_MIGRATOR).await?;
    ensure_streams(&h.bus).await?;
    let recorder = Recorder::default();
    let a = spawn_consumer(&h.pool, &h.bus, recorder.clone());
    let b = spawn_consumer(&pool_b, &bus_b, recorder.clone());

    let mut ids = Vec::new();
    for i in 0..EVENTS {
        let event = sign_in("u", &format!("event-{i}"));
        let ce_id = new_id();
        publish_event(&h.bus, &event, &ce_id, &format!("{ce_id}-a")).await?;
        publish_event(&h.bus, &event, &ce_id, &format!("{ce_id}-b")).await?;
        ids.push(ce_id);
    }
    let bus = &h.bus;
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 2 * EVENTS as u64)).await;

    assert_eq!(applied_count(&h.pool).await?, EVENTS as i64);
    ids.sort();
    assert_eq!(processed(&h.pool).await?, ids);

    a.stop().await?;
    b.stop().await?;
    pool_b.close().await;
    Ok(())
}

#[tokio::test]
async fn a_transient_failure_is_retried_until_it_succeeds() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    let recorder = Recorder::default();
    let consumer = spawn_consumer(&h.pool, &h.bus, recorder.clone());
    let bus = &h.bus;
    eventually(DEADLINE, || async move { consumer_info(bus, DURABLE).await.is_some() }).await;

    let event = sign_in("u", "flaky:2");
    let ce_id = new_id();
    publish_event(&h.bus, &event, &ce_id, &ce_id).await?;
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 1)).await;

    // Two failed attempts left nothing behind; the third (the last allowed) applied it.
    assert_eq!(applied(&h.pool, &ce_id).await?, vec![3]);
    assert_eq!(recorder.attempts(&event.sign_in_id), 3);
    assert_eq!(processed(&h.pool).await?, vec![ce_id]);
    assert_eq!(stream_len(&h.bus, Stream::DeadLetter).await, 0);
    consumer.stop().await
}

#[tokio::test]
async fn an_event_that_keeps_failing_is_dead_lettered_and_the_stream_moves_on() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    let recorder = Recorder::default();
    let consumer = spawn_consumer(&h.pool, &h.bus, recorder.clone());
    let bus = &h.bus;
    eventually(DEADLINE, || async move { consumer_info(bus, DURABLE).await.is_some() }).await;

    let bad = sign_in("u", "broken");
    let bad_id = new_id();
    publish_event(&h.bus, &bad, &bad_id, &bad_id).await?;
    eventually(
        DEADLINE,
        || async move { stream_len(bus, Stream::DeadLetter).await == 1 },
    )
    .await;

    let dead = stream_messages(&h.bus, Stream::DeadLetter).await?;
    assert_eq!(dead.len(), 1);
    let d = &dead[0];
    assert_eq!(
        d.subject.as_str(),
        h.subject(&format!("myaccount.deadletter.v1.{DURABLE}"))
    );
    let reason = header(Some(&d.headers), "x-dead-letter-reason").context("a reason")?;
    assert!(
        reason.starts_with("gave up after 3 attempts") && reason.contains("still broken"),
        "{reason}"
    );
    assert_eq!(
        header(Some(&d.headers), "x-original-subject").as_deref(),
        Some("myaccount.signin.v1.recorded")
    );
    assert_eq!(header(Some(&d.headers), headers::ID).as_deref(), Some(bad_id.as_str()));
    assert_eq!(d.payload.as_ref(), bad.encode_to_vec().as_slice());
    assert_eq!(recorder.attempts(&bad.sign_in_id), 3);
    assert!(applied(&h.pool, &bad_id).await?.is_empty());

    // Later events are still applied.
    let good = sign_in("u", "good");
    let good_id = new_id();
    publish_event(&h.bus, &good, &good_id, &good_id).await?;
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 2)).await;
    assert_eq!(applied(&h.pool, &good_id).await?, vec![1]);
    assert_eq!(
        recorder.attempts(&bad.sign_in_id),
        3,
        "a dead-lettered event is not redelivered"
    );
    assert_eq!(processed(&h.pool).await?, vec![good_id]);
    assert_eq!(stream_len(&h.bus, Stream::DeadLetter).await, 1);
    consumer.stop().await
}

#[tokio::test]
async fn undecodable_and_mistyped_messages_are_dead_lettered_at_once() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    ensure_streams(&h.bus).await?;
    let ce_type = SignInRecorded::subject();

    let garbage_id = new_id();
    publish_raw(
        &h.bus,
        event_headers(&garbage_id, &garbage_id, &ce_type),
        vec![0xff, 0xff, 0xff],
    )
    .await?;
    let mistyped = sign_in("u", "mistyped");
    let mistyped_id = new_id();
    publish_raw(
        &h.bus,
        event_headers(&mistyped_id, &mistyped_id, "myaccount.signin.v1.something_else"),
        mistyped.encode_to_vec(),
    )
    .await?;
    let good = sign_in("u", "good");
    let good_id = new_id();
    publish_event(&h.bus, &good, &good_id, &good_id).await?;

    let recorder = Recorder::default();
    let consumer = spawn_consumer(&h.pool, &h.bus, recorder.clone());
    let bus = &h.bus;
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 3)).await;

    let dead = stream_messages(&h.bus, Stream::DeadLetter).await?;
    let reasons: HashMap<String, String> = dead
        .iter()
        .map(|d| {
            (
                header(Some(&d.headers), headers::ID).unwrap_or_default(),
                header(Some(&d.headers), "x-dead-letter-reason").unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(dead.len(), 2, "{reasons:?}");
    assert!(reasons[&garbage_id].starts_with("undecodable payload"), "{reasons:?}");
    assert!(reasons[&mistyped_id].starts_with("unexpected ce-type"), "{reasons:?}");
    assert_eq!(
        recorder.attempts(&mistyped.sign_in_id),
        0,
        "never handed to the handler"
    );

    // At once: each of the three messages was delivered exactly once.
    let info = consumer_info(&h.bus, DURABLE).await.context("consumer info")?;
    assert_eq!(info.delivered.consumer_sequence, 3);
    assert_eq!(info.num_redelivered, 0);
    assert_eq!(applied(&h.pool, &good_id).await?, vec![1]);
    assert_eq!(processed(&h.pool).await?, vec![good_id]);
    consumer.stop().await
}

#[tokio::test]
async fn a_rejected_message_does_not_hold_back_the_rest_of_its_batch() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    let recorder = Recorder::default();
    let consumer = Consumer::new(h.pool.clone(), h.bus.clone(), consumer_settings(), recorder.clone());
    let pull = consumer.setup().await.map_err(|e| anyhow!(e))?;

    let events = [sign_in("u", "first"), sign_in("u", "reject"), sign_in("u", "third")];
    let mut ids = Vec::new();
    for event in &events {
        let id = new_id();
        publish_event(&h.bus, event, &id, &id).await?;
        ids.push(id);
    }

    // Exactly these three messages, applied as one batch.
    let batch = fetch_exactly(&pull, events.len()).await?;
    consumer.process(batch).await;

    assert_eq!(applied(&h.pool, &ids[0]).await?, vec![1]);
    assert!(
        applied(&h.pool, &ids[1]).await?.is_empty(),
        "the rejected event's write is undone"
    );
    assert_eq!(applied(&h.pool, &ids[2]).await?, vec![1]);
    let mut expected = vec![ids[0].clone(), ids[2].clone()];
    expected.sort();
    assert_eq!(processed(&h.pool).await?, expected);

    let dead = stream_messages(&h.bus, Stream::DeadLetter).await?;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        header(Some(&dead[0].headers), headers::ID).as_deref(),
        Some(ids[1].as_str())
    );
    assert_eq!(
        header(Some(&dead[0].headers), "x-dead-letter-reason").as_deref(),
        Some("contradicts itself")
    );
    let bus = &h.bus;
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 3)).await;
    Ok(())
}

#[tokio::test]
async fn ids_of_events_the_stream_can_no_longer_deliver_are_forgotten() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    ensure_streams(&h.bus).await?;
    // The streams keep events 7 days (the default): an id recorded 9 days ago can never come
    // back; one from 6 days ago still can; another consumer's ids are its own business.
    let max_age = chrono::Duration::from_std(h.bus.stream_max_age())?;
    for (consumer, event_id, age) in [
        (DURABLE, "gone", max_age + chrono::Duration::days(2)),
        (DURABLE, "deliverable", max_age - chrono::Duration::days(1)),
        ("another_consumer", "theirs", max_age + chrono::Duration::days(2)),
    ] {
        sqlx::query("INSERT INTO platform.processed_events (consumer, event_id, processed_at) VALUES ($1, $2, $3)")
            .bind(consumer)
            .bind(event_id)
            .bind(chrono::Utc::now() - age)
            .execute(&h.pool)
            .await?;
    }

    let consumer = spawn_consumer(&h.pool, &h.bus, Recorder::default());
    let pool = &h.pool;
    eventually(DEADLINE, || async move {
        processed(pool).await.is_ok_and(|ids| ids == ["deliverable"])
    })
    .await;
    let theirs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM platform.processed_events WHERE consumer = 'another_consumer'")
            .fetch_one(&h.pool)
            .await?;
    assert_eq!(theirs, 1, "only the consumer's own ids");
    consumer.stop().await
}

#[tokio::test]
async fn a_durable_consumer_leaves_room_for_two_loops_of_large_batches() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    // A durable made by an earlier release (JetStream gave up after 6 deliveries) is updated.
    ensure_streams(&h.bus).await?;
    h.bus
        .jetstream()
        .get_stream(h.bus.naming().stream(Stream::SignIn))
        .await?
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some(DURABLE.into()),
            filter_subject: h.subject(&SignInRecorded::subject()),
            ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
            max_deliver: 6,
            ..Default::default()
        })
        .await?;
    // At JetStream's default of 1,000 unacknowledged messages, a second pull for a batch this
    // size would wait out its whole expiry before getting anything.
    let settings = platform::consumer::ConsumerSettings {
        batch_size: 1500,
        ..consumer_settings()
    };
    let consumer = Consumer::new(h.pool.clone(), h.bus.clone(), settings, Recorder::default());
    let mut durable = consumer.setup().await.map_err(|e| anyhow!(e))?;
    let config = durable.info().await?.config.clone();
    assert_eq!(config.max_ack_pending, 3000);
    assert_eq!(
        config.max_deliver, -1,
        "JetStream never gives up on a message: only the handler's failures count"
    );

    let small = Consumer::new(h.pool.clone(), h.bus.clone(), consumer_settings(), Recorder::default());
    let mut durable = small.setup().await.map_err(|e| anyhow!(e))?;
    assert_eq!(
        durable.info().await?.config.max_ack_pending,
        1000,
        "JetStream's default stays for ordinary batches"
    );
    Ok(())
}

/// The handler's Postgres behind a proxy the test cuts: unreachable for longer than the retry
/// budget of old (5 deliveries 500 ms apart) and than the ack wait, then back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unreachable_for_longer_than_any_retry_budget_loses_no_event() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    ensure_streams(&h.bus).await?;
    let mut proxy = TcpProxy::start("127.0.0.1:5432".parse()?).await;
    let mut through_proxy = DatabaseSettings::new(format!(
        "postgres://postgres@127.0.0.1:{}/{}",
        proxy.port(),
        h.db.name()
    ));
    through_proxy.max_connections = 2;
    through_proxy.acquire_timeout = std::time::Duration::from_secs(1);
    through_proxy.run_migrations = false;
    let pool = platform::db::connect(&through_proxy, &crate::helpers::empty_migrator()).await?;
    let settings = platform::consumer::ConsumerSettings {
        // Held messages are kept by progress acks across several ack waits.
        ack_wait: std::time::Duration::from_secs(2),
        ..consumer_settings()
    };
    let recorder = Recorder::default();
    let consumer = Consumer::new(pool.clone(), h.bus.clone(), settings, recorder.clone());
    let consumer = Running::spawn(move |token| consumer.run(token));

    let mut ids = Vec::new();
    for i in 0..5 {
        let id = new_id();
        publish_event(&h.bus, &sign_in("u", &format!("before-{i}")), &id, &id).await?;
        ids.push(id);
    }
    let bus = &h.bus;
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 5)).await;

    proxy.cut();
    for i in 0..20 {
        let id = new_id();
        publish_event(&h.bus, &sign_in("u", &format!("during-{i}")), &id, &id).await?;
        ids.push(id);
    }
    eventually(DEADLINE, || async move {
        bus.consumer_stalls().current().contains_key(DURABLE)
    })
    .await;
    // The outage itself: its length is what is tested, so it is waited out.
    tokio::time::sleep(std::time::Duration::from_secs(8)).await;
    assert!(
        bus.consumer_stalls().current().contains_key(DURABLE),
        "still stalled, and says so"
    );
    assert_eq!(applied_count(&h.pool).await?, 5);

    proxy.restore().await;
    let back = std::time::Instant::now();
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 25)).await;
    let resumed_in = back.elapsed();
    assert!(
        resumed_in < std::time::Duration::from_secs(5),
        "resumed {resumed_in:?} after Postgres came back"
    );
    assert!(bus.consumer_stalls().current().is_empty());

    assert_eq!(applied_count(&h.pool).await?, 25, "every event applied, and once");
    ids.sort();
    assert_eq!(processed(&h.pool).await?, ids);
    assert_eq!(stream_len(&h.bus, Stream::DeadLetter).await, 0);
    let failures: i64 = sqlx::query_scalar("SELECT count(*) FROM platform.consumer_failures")
        .fetch_one(&h.pool)
        .await?;
    assert_eq!(failures, 0, "an outage is no failure of the events");
    consumer.stop().await?;
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn only_the_handlers_own_failures_count_and_they_are_spaced_out() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    let recorder = Recorder::default();
    let consumer = spawn_consumer(&h.pool, &h.bus, recorder.clone());
    let bus = &h.bus;
    eventually(DEADLINE, || async move { consumer_info(bus, DURABLE).await.is_some() }).await;

    let event = sign_in("u", "flaky:2");
    let id = new_id();
    let start = std::time::Instant::now();
    publish_event(&h.bus, &event, &id, &id).await?;
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 1)).await;
    // 50 ms after the first failure, 100 ms after the second.
    assert!(
        start.elapsed() >= std::time::Duration::from_millis(150),
        "{:?}",
        start.elapsed()
    );
    let (failures, last_error): (i32, String) =
        sqlx::query_as("SELECT failures, last_error FROM platform.consumer_failures WHERE event_id = $1")
            .bind(&id)
            .fetch_one(&h.pool)
            .await?;
    assert_eq!((failures, last_error.as_str()), (2, "flaky attempt 2"));
    consumer.stop().await
}

/// A [`Recorder`] that says only sign-ins of "mine:" names concern it.
#[derive(Clone, Default)]
struct Choosy(Recorder);

impl Handler<SignInRecorded> for Choosy {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<SignInRecorded>) -> Result<(), HandlerError> {
        self.0.handle(conn, delivery).await
    }

    fn concerns(&self, event: &SignInRecorded) -> bool {
        event.user_principal_name.starts_with("mine:")
    }
}

#[tokio::test]
async fn events_that_do_not_concern_the_handler_are_acked_without_a_trace() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    ensure_streams(&h.bus).await?;
    let (theirs, mine, also_theirs) = (
        sign_in("u", "theirs:a"),
        sign_in("u", "mine:b"),
        sign_in("u", "theirs:c"),
    );
    let ids = [new_id(), new_id(), new_id()];
    for (event, id) in [(&theirs, &ids[0]), (&mine, &ids[1]), (&also_theirs, &ids[2])] {
        publish_event(&h.bus, event, id, id).await?;
    }
    let recorder = Choosy::default();
    let consumer = Consumer::new(h.pool.clone(), h.bus.clone(), consumer_settings(), recorder.clone());
    let consumer = Running::spawn(move |token| consumer.run(token));
    let bus = &h.bus;
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 3)).await;

    // Only the one that concerns it is applied and remembered; the others are acknowledged
    // (the consumer has nothing pending) and leave no row behind.
    assert_eq!(applied_count(&h.pool).await?, 1);
    assert_eq!(recorder.0.attempts(&mine.sign_in_id), 1);
    assert_eq!(recorder.0.attempts(&theirs.sign_in_id), 0);
    assert_eq!(processed(&h.pool).await?, vec![ids[1].clone()]);
    assert_eq!(stream_len(&h.bus, Stream::DeadLetter).await, 0);
    consumer.stop().await
}
