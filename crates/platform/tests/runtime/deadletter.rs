//! Dead letters end to end: a consumer gives up on an event, the operator replays it into its
//! original subject with its original event id once the cause is fixed, and every consumer
//! applies it exactly once; or discards it.

use std::sync::atomic::Ordering;

use anyhow::{Context, Result, anyhow};
use myaccount_proto::events::v1::SignInRecorded;
use platform::consumer::{Consumer, ConsumerSettings};
use platform::deadletter::DeadLetters;
use platform::events::{Event, Stream, headers};
use platform::testing::eventually;
use prost::Message;
use uuid::Uuid;

use crate::helpers::{
    Counting, DEADLINE, DURABLE, Harness, Running, TEST_MIGRATOR, consumer_info, consumer_settings, consumer_settled,
    publish_event, sign_in, stream_len,
};

/// The test service's consumer (`tests_recorded`, refusing at first) and another service's
/// consumer of the same subject (`others_recorded`), which applies everything.
struct TwoConsumers {
    ours: Counting,
    theirs: Counting,
    running: Vec<Running>,
}

async fn two_consumers(h: &Harness) -> Result<TwoConsumers> {
    let ours = Counting::default();
    ours.refusing.store(true, Ordering::SeqCst);
    let theirs = Counting::default();
    let mut running = Vec::new();
    for (settings, handler) in [
        (consumer_settings(), ours.clone()),
        (
            ConsumerSettings {
                durable_name: "others".into(),
                ..consumer_settings()
            },
            theirs.clone(),
        ),
    ] {
        let consumer = Consumer::new(h.pool.clone(), h.bus.clone(), settings, handler);
        consumer.setup().await.map_err(|e| anyhow!(e))?;
        running.push(Running::spawn(move |token| consumer.run(token)));
    }
    Ok(TwoConsumers { ours, theirs, running })
}

#[tokio::test]
async fn a_replayed_dead_letter_is_applied_once_by_every_consumer() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    let consumers = two_consumers(&h).await?;
    let event = sign_in("u", "refused-at-first");
    let id = Uuid::now_v7().to_string();
    publish_event(&h.bus, &event, &id, &id).await?;
    let bus = &h.bus;
    eventually(
        DEADLINE,
        || async move { stream_len(bus, Stream::DeadLetter).await == 1 },
    )
    .await;
    eventually(DEADLINE, || consumer_settled(bus, "others_recorded", 1)).await;
    assert_eq!(consumers.theirs.applied(&id), 1);
    assert_eq!(consumers.ours.applied(&id), 0);

    let letters = DeadLetters::new(h.bus.clone());
    assert!(letters.list("others").await?.is_empty(), "only the service's own");
    let listed = letters.list("tests").await?;
    assert_eq!(listed.len(), 1);
    let letter = letters.get("tests", listed[0].sequence).await?;
    assert_eq!(letter.consumer, DURABLE);
    assert_eq!(letter.event_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        letter.original_subject.as_deref(),
        Some(SignInRecorded::subject().as_str())
    );
    assert_eq!(letter.reason.as_deref(), Some("breaks a rule of this release"));
    assert_eq!(letter.payload.as_ref(), event.encode_to_vec().as_slice());
    assert!(letter.dead_lettered_at.is_some());

    // The fixed release is out; the replay follows at once, well within the duplicate window
    // of the original publish.
    consumers.ours.refusing.store(false, Ordering::SeqCst);
    letters.replay(&letter).await?;
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 2)).await;
    eventually(DEADLINE, || consumer_settled(bus, "others_recorded", 2)).await;
    assert_eq!(consumers.ours.applied(&id), 1, "applied by the consumer that gave up");
    assert_eq!(
        consumers.theirs.applied(&id),
        1,
        "skipped by the one that had applied it"
    );
    assert!(
        letters.list("tests").await?.is_empty(),
        "a replayed dead letter is gone"
    );

    // The replay carried the original event's attributes.
    let replayed = h
        .bus
        .jetstream()
        .get_stream(h.bus.naming().stream(Stream::SignIn))
        .await?
        .get_raw_message(2)
        .await?;
    let ce_id = replayed.headers.get(headers::ID).map(|v| v.as_str().to_owned());
    assert_eq!(ce_id.as_deref(), Some(id.as_str()));
    assert!(replayed.headers.get("x-dead-letter-reason").is_none());
    for running in consumers.running {
        running.stop().await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_discarded_dead_letter_is_gone_and_never_applied() -> Result<()> {
    let h = Harness::new(&TEST_MIGRATOR).await?;
    let consumers = two_consumers(&h).await?;
    let bus = &h.bus;
    eventually(DEADLINE, || async move { consumer_info(bus, DURABLE).await.is_some() }).await;
    let id = Uuid::now_v7().to_string();
    publish_event(&h.bus, &sign_in("u", "never wanted"), &id, &id).await?;
    eventually(
        DEADLINE,
        || async move { stream_len(bus, Stream::DeadLetter).await == 1 },
    )
    .await;

    let letters = DeadLetters::new(h.bus.clone());
    let letter = letters.list("tests").await?.pop().context("one dead letter")?;
    letters.discard(letter.sequence).await?;
    assert!(letters.list("tests").await?.is_empty());
    assert!(letters.get("tests", letter.sequence).await.is_err());
    consumers.ours.refusing.store(false, Ordering::SeqCst);
    eventually(DEADLINE, || consumer_settled(bus, DURABLE, 1)).await;
    assert_eq!(consumers.ours.applied(&id), 0);
    for running in consumers.running {
        running.stop().await?;
    }
    Ok(())
}
