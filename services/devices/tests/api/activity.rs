use chrono::{Duration as Span, DurationRound, TimeDelta, Utc};
use myaccount_proto::events::v1::SignInStatus;

use crate::helpers::{TestApp, sign_in_event, spawn_app};

async fn last_activity(app: &TestApp, token: &str, device_id: &str) -> Option<i64> {
    app.get(token, device_id)
        .await
        .expect("gets")
        .last_activity_at
        .map(|t| t.seconds)
}

#[tokio::test]
async fn a_sign_in_from_a_device_is_its_last_activity() {
    let app = spawn_app().await;
    let adele = app.new_user();
    let device = app.register_laptop(&adele, "Adele's laptop").await;
    let at = Utc::now().duration_trunc(TimeDelta::seconds(1)).expect("truncates");

    let id = app.sign_in_from(adele.id, &device.id, at).await;
    app.await_processed(&[&id]).await;

    assert_eq!(
        last_activity(&app, &adele.token, &device.id).await,
        Some(at.timestamp())
    );
    let listed = app.list(&adele.token).await.expect("lists");
    assert_eq!(
        listed[0].last_activity_at.as_ref().map(|t| t.seconds),
        Some(at.timestamp())
    );
}

#[tokio::test]
async fn sign_ins_that_are_not_this_owners_successes_change_nothing() {
    let app = spawn_app().await;
    let adele = app.new_user();
    let mallory = app.new_user();
    let device = app.register_laptop(&adele, "Adele's laptop").await;
    let now = Utc::now();

    // Mallory claims Adele's device; a failed attempt names it; an unknown device; no device.
    let claimed = app.sign_in_from(mallory.id, &device.id, now).await;
    let failed = sign_in_event(adele.id, &device.id, now, SignInStatus::Failure);
    app.publish(&failed.sign_in_id, &failed).await;
    let unknown = app.sign_in_from(adele.id, &uuid::Uuid::new_v4().to_string(), now).await;
    app.sign_in_from(adele.id, "my phone", now).await;
    // The failed attempt and the name that is no device id concern no device: they are
    // acknowledged without a transaction, so only the stream being drained tells they were seen.
    app.await_processed(&[&claimed, &unknown]).await;
    app.await_sign_ins_drained().await;

    assert_eq!(last_activity(&app, &adele.token, &device.id).await, None);
}

#[tokio::test]
async fn redelivered_and_late_sign_ins_never_move_activity_backwards() {
    let app = spawn_app().await;
    let adele = app.new_user();
    let device = app.register_laptop(&adele, "Adele's laptop").await;
    let newest = Utc::now().duration_trunc(TimeDelta::seconds(1)).expect("truncates");

    let event = sign_in_event(adele.id, &device.id, newest, SignInStatus::Success);
    app.publish(&event.sign_in_id, &event).await;
    app.publish(&event.sign_in_id, &event).await;
    let late = app.sign_in_from(adele.id, &device.id, newest - Span::hours(2)).await;
    app.await_processed(&[&event.sign_in_id, &late]).await;

    assert_eq!(
        last_activity(&app, &adele.token, &device.id).await,
        Some(newest.timestamp())
    );
    // Both copies were acknowledged (the duplicate skipped, not stuck), and the stream is drained.
    app.await_sign_ins_drained().await;
}
