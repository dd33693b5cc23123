//! The set-wise consumer: a batch is applied with one handler call; duplicates, rejections and
//! a failing batch behave exactly as on the message by message path.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Result, anyhow};
use myaccount_proto::events::v1::SignInRecorded;
use platform::consumer::{BatchConsumer, BatchHandler, BatchOutcome, Delivery, Handler, HandlerError};
use platform::events::{Stream, headers};
use platform::testing::eventually;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::helpers::{
    DEADLINE, DURABLE, Harness, TEST_MIGRATOR, consumer_settings, consumer_settled, fetch_exactly, header, processed,
    publish_event, sign_in, stream_messages,
};

/// Writes a row per event. In a batch, `reject` is rejected by index and `spoils-batch` makes
/// the whole batch fail (after its writes, which must be undone); one at a time both apply
/// normally except `reject`, as a handler's two paths must agree.
#[derive(Clone, Default)]
struct SetWise {
    batches: Arc<AtomicUsize>,
    singles: Arc<AtomicUsize>,
}

async fn write(conn: &mut PgConnection, deliveries: &[&Delivery<SignInRecorded>]) -> Result<(), HandlerError> {
    let ids: Vec<&str> = deliveries.iter().map(|d| d.id.as_str()).collect();
    let sign_ins: Vec<&str> = deliveries.iter().map(|d| d.event.sign_in_id.as_str()).collect();
    let names: Vec<&str> = deliveries
        .iter()
        .map(|d| d.event.user_principal_name.as_str())
        .collect();
    let delivered: Vec<i64> = deliveries.iter().map(|d| d.delivered).collect();
    sqlx::query(
        "INSERT INTO applied_sign_ins (event_id, sign_in_id, user_principal_name, delivered) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[])",
    )
    .bind(&ids)
    .bind(&sign_ins)
    .bind(&names)
    .bind(&delivered)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Handler<SignInRecorded> for SetWise {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<SignInRecorded>) -> Result<(), HandlerError> {
        self.singles.fetch_add(1, Ordering::SeqCst);
        if delivery.event.user_principal_name == "reject" {
            return Err(HandlerError::Rejected("contradicts itself".into()));
        }
        write(conn, &[delivery]).await
    }
}

impl BatchHandler<SignInRecorded> for SetWise {
    async fn handle_batch(
        &self,
        conn: &mut PgConnection,
        deliveries: &[Delivery<SignInRecorded>],
    ) -> Result<BatchOutcome, HandlerError> {
        self.batches.fetch_add(1, Ordering::SeqCst);
        let mut outcome = BatchOutcome::new();
        let mut kept = Vec::new();
        for (i, delivery) in deliveries.iter().enumerate() {
            if delivery.event.user_principal_name == "reject" {
                outcome.reject(i, "contradicts itself");
            } else {
                kept.push(delivery);
            }
        }
        write(conn, &kept).await?;
        if kept.iter().any(|d| d.event.user_principal_name == "spoils-batch") {
            return Err(HandlerError::Transient("the batch as a whole failed".into()));
        }
        Ok(outcome)
    }
}

async fn applied(pool: &PgPool) -> Result<Vec<(String, String)>> {
    Ok(
        sqlx::query_as("SELECT event_id, user_principal_name FROM applied_sign_ins ORDER BY seq")
            .fetch_all(pool)
            .await?,
    )
}

/// Publishes `(name, ce-id)` events and hands exactly those messages to `consumer` as one batch.
async fn one_batch(
    h: &Harness,
    consumer: &BatchConsumer<SignInRecorded, SetWise>,
    events: &[(&str, &str)],
) -> Result<()> {
    let pull = consumer.setup().await.map_err(|e| anyhow!(e))?;
    for (name, ce_id) in events {
        // A distinct Nats-Msg-Id per publish: a repeated ce-id is a redelivered event, not one
        // that JetStream's duplicate window would drop.
        publish_event(&h.bus, &sign_in("u", name), ce_id, &id()).await?;
    }
    let batch = fetch_exactly(&pull, events.len()).await?;
    consumer.process(batch).await;
    Ok(())
}

fn id() -> String {
    Uuid::now_v7().to_string()
}

#[tokio::test]
async fn a_batch_is_applied_with_one_call_and_each_event_once() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    let handler = SetWise::default();
    let consumer = BatchConsumer::new(h.pool.clone(), h.bus.clone(), consumer_settings(), handler.clone());
    let (a, b, c) = (id(), id(), id());
    one_batch(&h, &consumer, &[("a", &a)]).await?;
    // `a` again (already applied), `b` twice in the same batch, and `c`.
    one_batch(&h, &consumer, &[("a", &a), ("b", &b), ("b", &b), ("c", &c)]).await?;

    let rows = applied(&h.pool).await?;
    assert_eq!(
        rows,
        vec![
            (a.clone(), "a".into()),
            (b.clone(), "b".into()),
            (c.clone(), "c".into())
        ]
    );
    assert_eq!(handler.batches.load(Ordering::SeqCst), 2, "one call per batch");
    assert_eq!(handler.singles.load(Ordering::SeqCst), 0, "no message went one by one");
    let mut expected = vec![a, b, c];
    expected.sort();
    assert_eq!(processed(&h.pool).await?, expected);
    let bus = &h.bus;
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 5)).await;
    assert!(stream_messages(&h.bus, Stream::DeadLetter).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_rejected_event_is_dead_lettered_and_its_id_stays_unused() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    let handler = SetWise::default();
    let consumer = BatchConsumer::new(h.pool.clone(), h.bus.clone(), consumer_settings(), handler.clone());
    let (first, bad, last) = (id(), id(), id());
    one_batch(&h, &consumer, &[("first", &first), ("reject", &bad), ("last", &last)]).await?;

    let names: Vec<String> = applied(&h.pool).await?.into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["first", "last"]);
    let mut expected = vec![first, last];
    expected.sort();
    assert_eq!(processed(&h.pool).await?, expected, "the rejected id is not recorded");
    let dead = stream_messages(&h.bus, Stream::DeadLetter).await?;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        header(Some(&dead[0].headers), headers::ID).as_deref(),
        Some(bad.as_str())
    );
    assert_eq!(
        header(Some(&dead[0].headers), "x-dead-letter-reason").as_deref(),
        Some("contradicts itself")
    );
    assert_eq!(handler.singles.load(Ordering::SeqCst), 0);
    let bus = &h.bus;
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 3)).await;
    Ok(())
}

#[tokio::test]
async fn a_failing_batch_is_undone_and_applied_message_by_message() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    let handler = SetWise::default();
    let consumer = BatchConsumer::new(h.pool.clone(), h.bus.clone(), consumer_settings(), handler.clone());
    let ids = [id(), id(), id(), id()];
    one_batch(
        &h,
        &consumer,
        &[
            ("one", &ids[0]),
            ("spoils-batch", &ids[1]),
            ("reject", &ids[2]),
            ("four", &ids[3]),
        ],
    )
    .await?;

    // The batch's writes were rolled back; the fallback wrote each good event once.
    let names: Vec<String> = applied(&h.pool).await?.into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["one", "spoils-batch", "four"]);
    assert_eq!(handler.batches.load(Ordering::SeqCst), 1);
    assert_eq!(handler.singles.load(Ordering::SeqCst), 4, "each message once, alone");
    let mut expected = vec![ids[0].clone(), ids[1].clone(), ids[3].clone()];
    expected.sort();
    assert_eq!(processed(&h.pool).await?, expected);
    let dead = stream_messages(&h.bus, Stream::DeadLetter).await?;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        header(Some(&dead[0].headers), headers::ID).as_deref(),
        Some(ids[2].as_str())
    );
    Ok(())
}
