//! The transactional outbox and its relay, against real Postgres and JetStream.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use myaccount_proto::events::v1::SignInRecorded;
use platform::consumer::Consumer;
use platform::events::{EventBus, Stream, headers};
use platform::outbox::{
    OutboxRelay, OutgoingEvent, RelaySettings, backlog, publish_in_tx, replay_sent_since, retry_stuck, stuck_events,
};
use platform::testing::{NatsServer, TestNats, eventually};
use prost::Message;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{
    Counting, DEADLINE, Harness, Running, commit_event, empty_migrator, header, sign_in, stream_len, stream_messages,
};

const SOURCE: &str = "myaccount/platform-tests";

fn spawn_relay(pool: &PgPool, bus: &EventBus, settings: RelaySettings) -> Running {
    let relay = OutboxRelay::new(pool.clone(), bus.clone(), SOURCE, vec![Stream::SignIn]).with_settings(settings);
    Running::spawn(move |token| relay.run(token))
}

fn quick() -> RelaySettings {
    RelaySettings {
        poll_interval: Duration::from_millis(200),
        max_backoff: Duration::from_secs(1),
        ..RelaySettings::default()
    }
}

async fn outbox_rows(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM platform.outbox")
        .fetch_one(pool)
        .await?)
}

/// Outbox ids in order of creation.
async fn outbox_ids(pool: &PgPool) -> Result<Vec<Uuid>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM platform.outbox ORDER BY created_at, id")
            .fetch_all(pool)
            .await?,
    )
}

/// The `Nats-Msg-Id` of every message, in stream order.
fn msg_ids(messages: &[async_nats::jetstream::message::StreamMessage]) -> Result<Vec<Uuid>> {
    messages
        .iter()
        .map(|m| {
            let id = header(Some(&m.headers), "Nats-Msg-Id").context("a message without Nats-Msg-Id")?;
            Ok(Uuid::parse_str(&id)?)
        })
        .collect()
}

fn assert_no_repeats(ids: &[Uuid]) {
    let distinct: HashSet<&Uuid> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "a Nats-Msg-Id was published twice: {ids:?}");
}

#[tokio::test]
async fn a_rolled_back_transaction_writes_and_publishes_nothing() -> Result<()> {
    let h = Harness::new(&empty_migrator()).await?;
    let relay = spawn_relay(&h.pool, &h.bus, quick());

    let mut tx = h.pool.begin().await?;
    let rolled_back = Uuid::now_v7();
    publish_in_tx(&mut tx, &OutgoingEvent::new(rolled_back, &sign_in("u", "rolled-back"))).await?;
    tx.rollback().await?;
    assert_eq!(outbox_rows(&h.pool).await?, 0);
    assert_eq!(backlog(&h.pool).await?, 0);

    // A later committed event is published; the rolled-back one, written earlier, never is.
    let committed = commit_event(&h.pool, &sign_in("u", "committed")).await?;
    let (pool, bus) = (&h.pool, &h.bus);
    eventually(DEADLINE, || async move {
        backlog(pool).await.is_ok_and(|n| n == 0) && stream_len(bus, Stream::SignIn).await >= 1
    })
    .await;
    let messages = stream_messages(&h.bus, Stream::SignIn).await?;
    assert_eq!(msg_ids(&messages)?, vec![committed]);
    assert_eq!(outbox_ids(&h.pool).await?, vec![committed]);

    relay.stop().await
}

#[tokio::test]
async fn committed_events_are_published_as_cloudevents() -> Result<()> {
    let h = Harness::new(&empty_migrator()).await?;
    let relay = spawn_relay(&h.pool, &h.bus, quick());

    let user = Uuid::new_v4().to_string();
    let event = sign_in(&user, "ada@example.com");
    let id = commit_event(&h.pool, &event).await?;

    let (pool, bus) = (&h.pool, &h.bus);
    eventually(DEADLINE, || async move {
        backlog(pool).await.is_ok_and(|n| n == 0) && stream_len(bus, Stream::SignIn).await == 1
    })
    .await;

    let (created_at, published_at, attempts): (DateTime<Utc>, Option<DateTime<Utc>>, i32) =
        sqlx::query_as("SELECT created_at, published_at, attempts FROM platform.outbox WHERE id = $1")
            .bind(id)
            .fetch_one(&h.pool)
            .await?;
    let published_at = published_at.context("published_at is set once JetStream acked")?;
    assert!(published_at >= created_at);
    assert_eq!(attempts, 1);

    let messages = stream_messages(&h.bus, Stream::SignIn).await?;
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.subject.as_str(), h.subject("myaccount.signin.v1.recorded"));
    let get = |name: &str| header(Some(&m.headers), name);
    let id = id.to_string();
    assert_eq!(get("Nats-Msg-Id").as_deref(), Some(id.as_str()));
    assert_eq!(get(headers::ID).as_deref(), Some(id.as_str()));
    assert_eq!(get(headers::SPEC_VERSION).as_deref(), Some("1.0"));
    assert_eq!(get(headers::TYPE).as_deref(), Some("myaccount.signin.v1.recorded"));
    assert_eq!(get(headers::SOURCE).as_deref(), Some(SOURCE));
    assert_eq!(get(headers::SUBJECT).as_deref(), Some(user.as_str()));
    assert_eq!(get(headers::CONTENT_TYPE).as_deref(), Some("application/protobuf"));
    let time = get(headers::TIME).context("ce-time header")?;
    let time = DateTime::parse_from_rfc3339(&time).with_context(|| format!("ce-time {time:?}"))?;
    assert_eq!(
        time.with_timezone(&Utc),
        created_at,
        "ce-time is the time the event was written"
    );

    assert_eq!(m.payload.as_ref(), event.encode_to_vec().as_slice());
    assert_eq!(SignInRecorded::decode(m.payload.clone())?, event);

    relay.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicated_relays_publish_every_event_exactly_once() -> Result<()> {
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 50;
    const TOTAL: usize = WRITERS * PER_WRITER;

    let h = Harness::new(&empty_migrator()).await?;
    let (pool_b, bus_b) = h.replica(&empty_migrator()).await?;
    // Small batches, so both replicas keep competing for rows.
    let settings = RelaySettings {
        batch_size: 8,
        ..quick()
    };
    let relay_a = spawn_relay(&h.pool, &h.bus, settings.clone());
    let relay_b = spawn_relay(&pool_b, &bus_b, settings);

    // Writers commit concurrently with the relays running: some events one per transaction,
    // some several to a transaction.
    let writers = (0..WRITERS).map(|w| {
        let pool = h.pool.clone();
        tokio::spawn(async move {
            let mut written = 0;
            while written < PER_WRITER {
                let in_this_tx = if written % 10 == 0 { 5 } else { 1 };
                let mut tx = pool.begin().await?;
                for _ in 0..in_this_tx {
                    let event = sign_in(&Uuid::new_v4().to_string(), &format!("writer-{w}"));
                    publish_in_tx(&mut tx, &OutgoingEvent::new(Uuid::now_v7(), &event)).await?;
                }
                tx.commit().await?;
                written += in_this_tx;
            }
            anyhow::Ok(())
        })
    });
    for writer in futures::future::join_all(writers).await {
        writer??;
    }
    assert_eq!(outbox_rows(&h.pool).await?, TOTAL as i64);

    let pool = &h.pool;
    eventually(Duration::from_secs(60), || async move {
        backlog(pool).await.is_ok_and(|n| n == 0)
    })
    .await;

    // Every row was acked (so it is in the stream) and marked by exactly one relay, once.
    assert_eq!(stream_len(&h.bus, Stream::SignIn).await, TOTAL as u64);
    let messages = stream_messages(&h.bus, Stream::SignIn).await?;
    let published = msg_ids(&messages)?;
    assert_eq!(published.len(), TOTAL);
    assert_no_repeats(&published);
    let written: BTreeSet<Uuid> = outbox_ids(&h.pool).await?.into_iter().collect();
    assert_eq!(published.into_iter().collect::<BTreeSet<_>>(), written);
    let attempts: Vec<i32> = sqlx::query_scalar("SELECT DISTINCT attempts FROM platform.outbox")
        .fetch_all(&h.pool)
        .await?;
    assert_eq!(attempts, vec![1], "every row is published by one relay, once");

    relay_a.stop().await?;
    relay_b.stop().await?;
    pool_b.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_written_during_a_nats_outage_are_published_once_it_is_back() -> Result<()> {
    let mut server = NatsServer::start().await;
    let h = Harness::with_nats(&empty_migrator(), TestNats::at(&server.url())).await?;
    let relay = spawn_relay(&h.pool, &h.bus, quick());

    let before = commit_event(&h.pool, &sign_in("u", "before")).await?;
    let (pool, bus) = (&h.pool, &h.bus);
    eventually(DEADLINE, || async move { backlog(pool).await.is_ok_and(|n| n == 0) }).await;

    server.stop();
    eventually(DEADLINE, || async move { !bus.is_connected() }).await;

    let mut during = Vec::new();
    for i in 0..5 {
        during.push(commit_event(&h.pool, &sign_in("u", &format!("during-{i}"))).await?);
    }
    // Asserting that nothing happens needs a stretch of time: a few of the relay's retries.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(backlog(&h.pool).await?, 5, "nothing can be acked while NATS is down");
    let unsent: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM platform.outbox WHERE published_at IS NULL ORDER BY created_at, id")
            .fetch_all(&h.pool)
            .await?;
    assert_eq!(unsent, during);

    server.resume().await;
    eventually(Duration::from_secs(60), || async move {
        backlog(pool).await.is_ok_and(|n| n == 0)
    })
    .await;

    let messages = stream_messages(&h.bus, Stream::SignIn).await?;
    let published = msg_ids(&messages)?;
    assert_no_repeats(&published);
    let mut expected = vec![before];
    expected.extend(&during);
    assert_eq!(published, expected, "published exactly once, in order of creation");

    relay.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_started_while_nats_is_down_publishes_once_it_is_up() -> Result<()> {
    let mut server = NatsServer::start().await;
    server.stop();
    // The service starts (and writes events) without NATS; the relay cannot even create its
    // streams yet.
    let h = Harness::with_nats(&empty_migrator(), TestNats::at(&server.url())).await?;
    assert!(!h.bus.is_connected());
    let relay = spawn_relay(&h.pool, &h.bus, quick());
    let mut written = Vec::new();
    for i in 0..3 {
        written.push(commit_event(&h.pool, &sign_in("u", &format!("early-{i}"))).await?);
    }
    assert_eq!(backlog(&h.pool).await?, 3);

    server.resume().await;
    let pool = &h.pool;
    eventually(Duration::from_secs(60), || async move {
        backlog(pool).await.is_ok_and(|n| n == 0)
    })
    .await;
    let messages = stream_messages(&h.bus, Stream::SignIn).await?;
    assert_eq!(msg_ids(&messages)?, written);

    relay.stop().await
}

/// An event far beyond NATS's maximum message size: the client refuses it every time.
fn oversized(upn: &str) -> SignInRecorded {
    SignInRecorded {
        user_agent: "x".repeat(2 * 1024 * 1024),
        ..sign_in("u", upn)
    }
}

#[tokio::test]
async fn a_row_that_can_never_be_sent_is_quarantined_without_holding_up_the_others() -> Result<()> {
    let h = Harness::new(&empty_migrator()).await?;
    let before = commit_event(&h.pool, &sign_in("u", "before")).await?;
    let too_large = commit_event(&h.pool, &oversized("too large")).await?;
    let after = commit_event(&h.pool, &sign_in("u", "after")).await?;
    let settings = RelaySettings {
        quarantine_after: 3,
        ..quick()
    };
    let relay = spawn_relay(&h.pool, &h.bus, settings.clone());
    let pool = &h.pool;
    eventually(DEADLINE, || async move {
        stuck_events(pool)
            .await
            .is_ok_and(|stuck| stuck.iter().any(|e| e.quarantined_at.is_some()))
    })
    .await;

    let bus = &h.bus;
    eventually(DEADLINE, || async move { stream_len(bus, Stream::SignIn).await == 2 }).await;
    let published = msg_ids(&stream_messages(&h.bus, Stream::SignIn).await?)?;
    assert_eq!(published, vec![before, after], "the rows around it went out, in order");
    let stuck = stuck_events(&h.pool).await?;
    assert_eq!(stuck.len(), 1);
    let row = &stuck[0];
    assert_eq!(row.id, too_large);
    assert_eq!((row.attempts, row.failures), (3, 3), "every attempt counted on the row");
    assert!(
        row.last_error.as_deref().is_some_and(|e| e.contains("max payload")),
        "{:?}",
        row.last_error
    );
    assert!(row.payload_bytes > 2 * 1024 * 1024);
    let sent_attempts: Vec<i32> =
        sqlx::query_scalar("SELECT attempts FROM platform.outbox WHERE published_at IS NOT NULL ORDER BY created_at")
            .fetch_all(&h.pool)
            .await?;
    assert_eq!(sent_attempts, vec![1, 1]);

    // Released, it is tried again (and, still too large, quarantined again).
    assert_eq!(retry_stuck(&h.pool, Some(too_large)).await?, 1);
    eventually(DEADLINE, || async move {
        stuck_events(pool)
            .await
            .is_ok_and(|stuck| stuck.iter().any(|e| e.attempts == 6 && e.quarantined_at.is_some()))
    })
    .await;
    assert_eq!(retry_stuck(&h.pool, None).await?, 1);
    relay.stop().await
}

/// A relay that dies after JetStream acknowledged its publish but before its transaction marked
/// the row sent: the row is published again by the next relay, and JetStream drops the copy.
#[tokio::test]
async fn a_relay_killed_between_publishing_and_marking_sent_publishes_nothing_twice() -> Result<()> {
    let h = Harness::new(&empty_migrator()).await?;
    // Marking a row sent fails, as if the relay died there: its transaction never commits.
    sqlx::raw_sql(
        "CREATE FUNCTION die_before_marking_sent() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'relay killed'; END $$; \
         CREATE TRIGGER die_before_marking_sent BEFORE UPDATE OF published_at ON platform.outbox \
         FOR EACH ROW WHEN (NEW.published_at IS NOT NULL) EXECUTE FUNCTION die_before_marking_sent();",
    )
    .execute(&h.pool)
    .await?;
    let id = commit_event(&h.pool, &sign_in("u", "published, never marked")).await?;
    let dying = spawn_relay(&h.pool, &h.bus, quick());
    let bus = &h.bus;
    eventually(DEADLINE, || async move { stream_len(bus, Stream::SignIn).await == 1 }).await;
    dying.stop().await?;
    assert_eq!(backlog(&h.pool).await?, 1, "the row was never marked sent");

    sqlx::raw_sql("DROP TRIGGER die_before_marking_sent ON platform.outbox")
        .execute(&h.pool)
        .await?;
    let next = spawn_relay(&h.pool, &h.bus, quick());
    let pool = &h.pool;
    eventually(DEADLINE, || async move { backlog(pool).await.is_ok_and(|n| n == 0) }).await;
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM platform.outbox WHERE id = $1")
        .bind(id)
        .fetch_one(&h.pool)
        .await?;
    assert_eq!(attempts, 1, "the dead relay's attempts died with its transaction");
    assert_eq!(
        msg_ids(&stream_messages(&h.bus, Stream::SignIn).await?)?,
        vec![id],
        "JetStream kept one copy"
    );
    next.stop().await
}

/// JetStream lost everything (a cluster that lost its disks: the stream and its consumers are
/// gone); the outboxes still have the events within the replay horizon and send them again. A
/// consumer applies each event once: those it had applied are skipped by their ids.
#[tokio::test]
async fn a_replay_after_jetstream_lost_its_writes_changes_nothing_already_applied() -> Result<()> {
    let h = Harness::new(&crate::helpers::TEST_MIGRATOR).await?;
    let relay = spawn_relay(&h.pool, &h.bus, quick());
    let counting = Counting::default();
    let consumer = Consumer::new(
        h.pool.clone(),
        h.bus.clone(),
        crate::helpers::consumer_settings(),
        counting.clone(),
    );
    let consumer = Running::spawn(move |token| consumer.run(token));
    let since = Utc::now();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(commit_event(&h.pool, &sign_in("u", &format!("before the loss {i}"))).await?);
    }
    let bus = &h.bus;
    eventually(DEADLINE, || {
        crate::helpers::consumer_settled(bus, crate::helpers::DURABLE, 5)
    })
    .await;
    assert_eq!(counting.total(), 5);

    h.bus
        .jetstream()
        .delete_stream(h.bus.naming().stream(Stream::SignIn))
        .await?;
    ids.push(commit_event(&h.pool, &sign_in("u", "after the loss")).await?);
    let pool = &h.pool;
    eventually(DEADLINE, || async move { backlog(pool).await.is_ok_and(|n| n == 0) }).await;

    assert_eq!(replay_sent_since(&h.pool, since).await?, 6);
    eventually(DEADLINE, || async move { backlog(pool).await.is_ok_and(|n| n == 0) }).await;
    eventually(DEADLINE, || async move { stream_len(bus, Stream::SignIn).await == 6 }).await;
    eventually(DEADLINE, || {
        crate::helpers::consumer_settled(bus, crate::helpers::DURABLE, 6)
    })
    .await;
    for id in &ids {
        assert_eq!(counting.applied(&id.to_string()), 1, "event {id}");
    }
    assert_eq!(counting.total(), 6);
    assert_eq!(
        msg_ids(&stream_messages(&h.bus, Stream::SignIn).await?)?.len(),
        6,
        "the event sent after the loss was not stored twice"
    );
    consumer.stop().await?;
    relay.stop().await
}
