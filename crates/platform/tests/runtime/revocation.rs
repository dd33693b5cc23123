//! The revocation feed end to end: a revocation committed through the outbox reaches a set
//! that follows the stream, a set started later loads it, and a set whose NATS goes away stops
//! vouching for itself.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use platform::auth::Caller;
use platform::events::Stream;
use platform::outbox::OutboxRelay;
use platform::revocation::{Revocation, RevocationReason, RevocationSet, revoke_in_tx};
use platform::testing::{NatsServer, TestNats, eventually};
use uuid::Uuid;

use crate::helpers::{DEADLINE, Harness, Running, empty_migrator};

fn caller(user_id: Uuid, session_id: Uuid) -> Caller {
    let issued_at = Utc::now() - chrono::Duration::seconds(30);
    Caller {
        user_id,
        session_id: Some(session_id),
        organization_id: None,
        auth_time: issued_at,
        issued_at,
        amr: vec!["pwd".into()],
        scopes: Vec::new(),
        revocations_current: true,
    }
}

async fn revoke(h: &Harness, revocation: &Revocation) -> anyhow::Result<()> {
    let mut tx = h.pool.begin().await?;
    revoke_in_tx(&mut tx, revocation).await?;
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn a_committed_revocation_reaches_a_running_set_and_a_set_started_later() -> anyhow::Result<()> {
    let h = Harness::new(&empty_migrator()).await?;
    let relay = OutboxRelay::new(
        h.pool.clone(),
        h.bus.clone(),
        "myaccount/tests",
        vec![Stream::Revocations],
    );
    let _relay = Running::spawn(move |t| relay.run(t));
    let running = Arc::new(RevocationSet::default());
    let _feed = Running::spawn({
        let (set, bus) = (running.clone(), h.bus.clone());
        move |t| set.follow(bus, t)
    });
    eventually(DEADLINE, || async { running.is_current() }).await;

    let (person, session, other_session) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let everyone = Uuid::new_v4();
    revoke(
        &h,
        &Revocation {
            user_id: person,
            sessions: vec![session],
            reason: RevocationReason::DeviceDisabled,
            device_id: Some(Uuid::new_v4().to_string()),
            at: Utc::now(),
        },
    )
    .await?;
    revoke(
        &h,
        &Revocation {
            user_id: everyone,
            sessions: Vec::new(),
            reason: RevocationReason::SignedOutEverywhere,
            device_id: None,
            at: Utc::now(),
        },
    )
    .await?;
    eventually(DEADLINE, || async {
        caller(person, session).refused_by(&running) == Some(RevocationReason::DeviceDisabled)
            && caller(everyone, Uuid::new_v4()).refused_by(&running) == Some(RevocationReason::SignedOutEverywhere)
    })
    .await;
    assert_eq!(caller(person, other_session).refused_by(&running), None);
    assert!(running.is_current());

    // A process that starts now loads what is in force before it calls itself current.
    let late = Arc::new(RevocationSet::default());
    assert!(!late.is_current());
    let _late_feed = Running::spawn({
        let (set, bus) = (late.clone(), h.bus.clone());
        move |t| set.follow(bus, t)
    });
    eventually(DEADLINE, || async { late.is_current() }).await;
    assert_eq!(
        caller(person, session).refused_by(&late),
        Some(RevocationReason::DeviceDisabled)
    );
    assert!(caller(everyone, Uuid::new_v4()).refused_by(&late).is_some());
    Ok(())
}

#[tokio::test]
async fn a_set_whose_nats_is_gone_stops_being_current_and_recovers() -> anyhow::Result<()> {
    let mut server = NatsServer::start().await;
    let nats = TestNats::at(&server.url());
    let h = Harness::with_nats(&empty_migrator(), nats).await?;
    let set = Arc::new(RevocationSet::new(Duration::from_secs(2)));
    let _feed = Running::spawn({
        let (set, bus) = (set.clone(), h.bus.clone());
        move |t| set.follow(bus, t)
    });
    eventually(DEADLINE, || async { set.is_current() }).await;

    server.stop();
    eventually(DEADLINE, || async { !set.is_current() }).await;
    let status = set.require_current().expect_err("unknown while NATS is away");
    assert_eq!(status.code(), tonic::Code::Unavailable);

    server.resume().await;
    eventually(DEADLINE, || async { set.is_current() }).await;
    Ok(())
}
