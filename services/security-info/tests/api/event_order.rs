//! With two relays and two consumers, a person's events can be handled in another order than
//! they happened. The membership projection keeps the latest time of each side, so every order
//! ends in the same answer.

use chrono::{Duration, Utc};
use myaccount_proto::events::v1::{
    MemberJoined, MemberLeft, MemberRemoved, OrganizationChanged, OrganizationMembershipKind,
};
use myaccount_proto::timestamp;
use platform::consumer::durable_name;
use uuid::Uuid;

use crate::helpers::{SignedIn, spawn_app};

const CONSUMERS: &str = "securityinfo";

#[tokio::test]
async fn membership_events_end_in_the_same_answer_in_any_order() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let guest = Uuid::new_v4().to_string();
    let start = Utc::now() - Duration::minutes(10);
    let joined = |minutes: i64| MemberJoined {
        user_id: adele.id.to_string(),
        organization_id: guest.clone(),
        kind: OrganizationMembershipKind::Guest.into(),
        time: Some(timestamp(start + Duration::minutes(minutes))),
        ..Default::default()
    };
    let left = |minutes: i64| MemberLeft {
        user_id: adele.id.to_string(),
        organization_id: guest.clone(),
        time: Some(timestamp(start + Duration::minutes(minutes))),
        ..Default::default()
    };

    // She joined at minute 0 and left at minute 1; the leave is handled first.
    let leave = Uuid::now_v7().to_string();
    app.publish(&leave, &left(1)).await;
    app.wait_until_processed(&durable_name::<MemberLeft>(CONSUMERS), &leave)
        .await;
    let join = Uuid::now_v7().to_string();
    app.publish(&join, &joined(0)).await;
    app.wait_until_processed(&durable_name::<MemberJoined>(CONSUMERS), &join)
        .await;
    assert!(!app.is_member(adele.id, &guest).await, "the later leave stands");

    // She joined again at minute 2; a removal from before it, handled after it, changes nothing.
    let rejoin = Uuid::now_v7().to_string();
    app.publish(&rejoin, &joined(2)).await;
    app.wait_until_processed(&durable_name::<MemberJoined>(CONSUMERS), &rejoin)
        .await;
    let late_removal = Uuid::now_v7().to_string();
    let removed = MemberRemoved {
        user_id: adele.id.to_string(),
        organization_id: guest.clone(),
        time: Some(timestamp(start + Duration::minutes(1))),
        ..Default::default()
    };
    app.publish(&late_removal, &removed).await;
    app.wait_until_processed(&durable_name::<MemberRemoved>(CONSUMERS), &late_removal)
        .await;
    assert!(app.is_member(adele.id, &guest).await, "the later join stands");

    // In order, the same two events end where the reordered ones did.
    let in_order = Uuid::new_v4().to_string();
    let join = Uuid::now_v7().to_string();
    let joined_in_order = MemberJoined {
        organization_id: in_order.clone(),
        ..joined(0)
    };
    app.publish(&join, &joined_in_order).await;
    app.wait_until_processed(&durable_name::<MemberJoined>(CONSUMERS), &join)
        .await;
    let leave = Uuid::now_v7().to_string();
    let left_in_order = MemberLeft {
        organization_id: in_order.clone(),
        ..left(1)
    };
    app.publish(&leave, &left_in_order).await;
    app.wait_until_processed(&durable_name::<MemberLeft>(CONSUMERS), &leave)
        .await;
    assert!(!app.is_member(adele.id, &in_order).await);
}

#[tokio::test]
async fn an_older_mfa_requirement_handled_late_does_not_overwrite_a_newer_one() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::WithMfa);
    let (method, _, _) = app.register_app(&adele, "Phone").await;
    let changed = |required: bool, minutes_ago: i64| OrganizationChanged {
        organization_id: adele.organization_id.clone(),
        mfa_required: required,
        time: Some(timestamp(Utc::now() - Duration::minutes(minutes_ago))),
        ..Default::default()
    };
    let durable = durable_name::<OrganizationChanged>(CONSUMERS);
    let newer = Uuid::now_v7().to_string();
    app.publish(&newer, &changed(false, 1)).await;
    app.wait_until_processed(&durable, &newer).await;
    let older = Uuid::now_v7().to_string();
    app.publish(&older, &changed(true, 5)).await;
    app.wait_until_processed(&durable, &older).await;

    assert!(!app.security_info(&adele).await.mfa_required, "the newer change stands");
    app.remove(&adele, &method.id)
        .await
        .expect("no requirement holds the last factor");
}
