//! Stream management beyond create/read/delete (SSF 1.0 section 8.1): PATCH and PUT of the
//! configuration, the status with its stream-updated SET, subjects, and verification.

use std::time::Duration;

use myaccount_proto::signals::v1 as pb;
use platform::testing::row_count;
use serde_json::json;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

const STREAM_UPDATED: &str = "https://schemas.openid.net/secevent/ssf/event-type/stream-updated";
const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";

impl TestApp {
    async fn update(
        &self,
        receiver: &TestReceiver,
        request: pb::UpdateStreamRequest,
    ) -> Result<pb::Stream, tonic::Status> {
        self.client()
            .update_stream(as_receiver(request, &receiver.access_token))
            .await
            .map(tonic::Response::into_inner)
    }

    async fn set_status(
        &self,
        receiver: &TestReceiver,
        stream_id: &str,
        status: &str,
        reason: &str,
    ) -> Result<pb::StreamStatus, tonic::Status> {
        self.client()
            .update_stream_status(as_receiver(
                pb::UpdateStreamStatusRequest {
                    stream_id: stream_id.into(),
                    status: status.into(),
                    reason: reason.into(),
                },
                &receiver.access_token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    async fn status_of(&self, receiver: &TestReceiver, stream_id: &str) -> pb::StreamStatus {
        self.client()
            .get_stream_status(as_receiver(
                pb::GetStreamStatusRequest {
                    stream_id: stream_id.into(),
                },
                &receiver.access_token,
            ))
            .await
            .expect("the status")
            .into_inner()
    }

    async fn subject(
        &self,
        receiver: &TestReceiver,
        stream_id: &str,
        subject: serde_json::Value,
        add: bool,
    ) -> Result<(), tonic::Status> {
        let request = as_receiver(
            pb::StreamSubjectRequest {
                stream_id: stream_id.into(),
                subject_json: subject.to_string(),
                verified: None,
            },
            &receiver.access_token,
        );
        let mut client = self.client();
        if add {
            client.add_subject(request).await.map(|_| ())
        } else {
            client.remove_subject(request).await.map(|_| ())
        }
    }

    async fn verify(&self, receiver: &TestReceiver, stream_id: &str, state: &str) -> Result<(), tonic::Status> {
        self.client()
            .verify_stream(as_receiver(
                pb::VerifyStreamRequest {
                    stream_id: stream_id.into(),
                    state: state.into(),
                },
                &receiver.access_token,
            ))
            .await
            .map(|_| ())
    }

    /// A poll stream of session revocations for the subjects added to it only.
    async fn subjects_stream(&self, receiver: &TestReceiver) -> pb::Stream {
        self.create_stream(
            receiver,
            pb::CreateStreamRequest {
                delivery_method: pb::DeliveryMethod::Poll as i32,
                events_requested: vec![SESSION_REVOKED.into()],
                ..Default::default()
            },
        )
        .await
        .expect("a stream")
    }

    /// Polls without waiting and without acknowledging.
    async fn waiting(&self, receiver: &TestReceiver, stream_id: &str) -> Vec<(String, String)> {
        self.poll(
            receiver,
            stream_id,
            pb::PollSecurityEventsRequest {
                max_events: 100,
                return_immediately: true,
                ..Default::default()
            },
        )
        .await
        .expect("poll")
        .sets
        .into_iter()
        .collect()
    }
}

fn iss_sub(user: Uuid) -> serde_json::Value {
    json!({"format": "iss_sub", "iss": ISSUER, "sub": user.to_string()})
}

#[tokio::test]
async fn patch_changes_only_what_it_names_and_put_clears_what_it_leaves_out() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let stream = app
        .create_stream(
            &receiver,
            pb::CreateStreamRequest {
                delivery_method: pb::DeliveryMethod::Poll as i32,
                events_requested: vec![SESSION_REVOKED.into()],
                description: "payroll".into(),
                all_subjects: true,
                ..Default::default()
            },
        )
        .await
        .expect("a stream");
    assert_eq!(stream.min_verification_interval, 30);

    let patched = app
        .update(
            &receiver,
            pb::UpdateStreamRequest {
                stream_id: stream.stream_id.clone(),
                description: Some("payroll, sessions".into()),
                iss: Some(ISSUER.into()),
                events_delivered: Some(pb::EventTypes {
                    uris: vec![SESSION_REVOKED.into()],
                }),
                ..Default::default()
            },
        )
        .await
        .expect("a PATCH");
    assert_eq!(patched.description, "payroll, sessions");
    assert_eq!(patched.events_requested, vec![SESSION_REVOKED.to_owned()], "kept");
    assert!(patched.all_subjects, "kept");

    let replaced = app
        .update(
            &receiver,
            pb::UpdateStreamRequest {
                stream_id: stream.stream_id.clone(),
                replace: true,
                events_requested: Some(pb::EventTypes {
                    uris: vec![CREDENTIAL_CHANGE.into(), "urn:example:unknown".into()],
                }),
                ..Default::default()
            },
        )
        .await
        .expect("a PUT");
    assert_eq!(replaced.events_delivered, vec![CREDENTIAL_CHANGE.to_owned()]);
    assert_eq!(replaced.description, "", "left out of a PUT: cleared");
    assert!(!replaced.all_subjects, "left out of a PUT: back to its subjects only");
    assert_eq!(replaced.delivery_method, pb::DeliveryMethod::Poll as i32);

    // A transmitter-supplied property that does not match, or a push without an endpoint,
    // is refused and changes nothing.
    let wrong_iss = app
        .update(
            &receiver,
            pb::UpdateStreamRequest {
                stream_id: stream.stream_id.clone(),
                description: Some("changed".into()),
                iss: Some("https://elsewhere.example.com".into()),
                ..Default::default()
            },
        )
        .await
        .expect_err("refused");
    assert_eq!(wrong_iss.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&wrong_iss), vec!["iss"]);
    let no_endpoint = app
        .update(
            &receiver,
            pb::UpdateStreamRequest {
                stream_id: stream.stream_id.clone(),
                delivery: Some(pb::DeliveryUpdate {
                    delivery_method: pb::DeliveryMethod::Push as i32,
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .expect_err("refused");
    assert_eq!(violated_fields(&no_endpoint), vec!["delivery.endpoint_url"]);
    let unchanged = app
        .client()
        .get_stream(as_receiver(
            pb::GetStreamRequest {
                stream_id: stream.stream_id.clone(),
            },
            &receiver.access_token,
        ))
        .await
        .expect("the stream")
        .into_inner();
    assert_eq!(unchanged, replaced);

    // Another receiver's stream is as unknown as a missing one.
    let other = app.receiver().await;
    let foreign = app
        .update(
            &other,
            pb::UpdateStreamRequest {
                stream_id: stream.stream_id.clone(),
                description: Some("mine now".into()),
                ..Default::default()
            },
        )
        .await
        .expect_err("not found");
    assert_eq!(foreign.code(), Code::NotFound);
}

#[tokio::test]
async fn a_paused_stream_holds_its_sets_up_to_the_bound_and_a_disabled_one_drops_them() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let stream = app.poll_stream(&receiver).await;
    // A second stream that stays enabled shows when every event was consumed.
    let witness = app.poll_stream(&receiver).await;
    let paused = app
        .set_status(&receiver, &stream.stream_id, "paused", "maintenance")
        .await
        .expect("paused");
    assert_eq!(
        (paused.status.as_str(), paused.reason.as_str()),
        ("paused", "maintenance")
    );
    assert_eq!(app.status_of(&receiver, &stream.stream_id).await, paused);

    let user = Uuid::new_v4();
    for _ in 0..PAUSED_HOLD_LIMIT + 2 {
        app.session_revoked(user, Uuid::new_v4(), "signed_out").await;
    }
    app.poll_until(&receiver, &witness.stream_id, (PAUSED_HOLD_LIMIT + 2) as usize)
        .await;
    assert!(
        app.waiting(&receiver, &stream.stream_id).await.is_empty(),
        "a paused stream delivers nothing, and asked by the receiver, no stream-updated SET"
    );

    app.set_status(&receiver, &stream.stream_id, "enabled", "")
        .await
        .expect("enabled");
    let held = app
        .poll_until(&receiver, &stream.stream_id, PAUSED_HOLD_LIMIT as usize)
        .await;
    assert_eq!(
        held.len() as i64,
        PAUSED_HOLD_LIMIT,
        "held up to the bound, the rest dropped"
    );
    let jwks = app.jwks().await;
    for (_, token) in &held {
        let claims = verify_set(token, &jwks, &receiver.audience);
        assert_eq!(event_of(&claims).0, SESSION_REVOKED);
    }

    app.set_status(&receiver, &stream.stream_id, "disabled", "not needed")
        .await
        .expect("disabled");
    assert!(
        app.waiting(&receiver, &stream.stream_id).await.is_empty(),
        "held SETs dropped"
    );
    app.session_revoked(user, Uuid::new_v4(), "signed_out").await;
    app.poll_until(&receiver, &witness.stream_id, (PAUSED_HOLD_LIMIT + 3) as usize)
        .await;
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM security_event_tokens WHERE stream_id = $1::uuid")
        .bind(&stream.stream_id)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(queued, 0, "a disabled stream gets nothing");

    let bad = app
        .set_status(&receiver, &stream.stream_id, "stopped", "")
        .await
        .expect_err("refused");
    assert_eq!(violated_fields(&bad), vec!["status"]);
    assert_eq!(app.status_of(&receiver, &stream.stream_id).await.status, "disabled");
}

#[tokio::test]
async fn the_operator_changing_a_status_sends_a_stream_updated_set_even_to_a_paused_stream() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let stream = app.poll_stream(&receiver).await;
    let as_operator = |status: &str, token: String| {
        bearer(
            pb::UpdateStreamStatusRequest {
                stream_id: stream.stream_id.clone(),
                status: status.into(),
                reason: "receiver misbehaving".into(),
            },
            &token,
        )
    };
    let person = app
        .client()
        .set_stream_status_as_operator(as_operator("paused", app.issuer.token_for(Uuid::new_v4())))
        .await
        .expect_err("a person may not");
    assert_eq!(person.code(), Code::PermissionDenied);
    let org_admin = app
        .client()
        .set_stream_status_as_operator(as_operator(
            "paused",
            app.issuer.admin_token_in(&Uuid::new_v4().to_string()),
        ))
        .await
        .expect_err("an organization's admin may not");
    assert_eq!(org_admin.code(), Code::PermissionDenied);
    assert_eq!(row_count(&app.db, "security_event_tokens").await, 0);

    let paused = app
        .client()
        .set_stream_status_as_operator(as_operator("paused", app.issuer.admin_token()))
        .await
        .expect("the operator pauses it")
        .into_inner();
    assert_eq!(paused.status, "paused");
    let sets = app.waiting(&receiver, &stream.stream_id).await;
    assert_eq!(sets.len(), 1, "the stream-updated SET leaves a paused stream");
    let claims = verify_set(&sets[0].1, &app.jwks().await, &receiver.audience);
    let (uri, body) = event_of(&claims);
    assert_eq!(uri, STREAM_UPDATED);
    assert_eq!(body, json!({"status": "paused", "reason": "receiver misbehaving"}));
    assert_eq!(claims["sub_id"], json!({"format": "opaque", "id": stream.stream_id}));
}

#[tokio::test]
async fn a_stream_gets_only_its_subjects_events_unless_it_takes_all() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let mine = app.subjects_stream(&receiver).await;
    assert!(!mine.all_subjects, "by default a stream takes only its subjects");
    let all = app.poll_stream(&receiver).await;
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    app.subject(&receiver, &mine.stream_id, iss_sub(alice), true)
        .await
        .expect("alice added");
    app.subject(
        &receiver,
        &all.stream_id,
        json!({"format": "complex", "user": iss_sub(bob)}),
        false,
    )
    .await
    .expect("bob removed");

    let alice_event = app.session_revoked(alice, Uuid::new_v4(), "signed_out").await;
    let bob_event = app.session_revoked(bob, Uuid::new_v4(), "signed_out").await;
    // A third person's event reaches the all-subjects stream last: both earlier ones were seen.
    let carol = Uuid::new_v4();
    app.session_revoked(carol, Uuid::new_v4(), "signed_out").await;
    let jwks = app.jwks().await;
    let txns = |sets: Vec<(String, String)>| -> Vec<String> {
        sets.iter()
            .map(|(_, t)| {
                verify_set(t, &jwks, &receiver.audience)["txn"]
                    .as_str()
                    .expect("txn")
                    .to_owned()
            })
            .collect()
    };
    let all_txns = txns(app.poll_until(&receiver, &all.stream_id, 2).await);
    assert!(all_txns.contains(&alice_event) && !all_txns.contains(&bob_event));
    assert_eq!(all_txns.len(), 2);
    let mine_txns = txns(app.waiting(&receiver, &mine.stream_id).await);
    assert_eq!(mine_txns, vec![alice_event]);

    for bad in [
        json!({"format": "email", "email": "alice@example.com"}),
        json!({"format": "iss_sub", "iss": "https://other.example.com", "sub": alice.to_string()}),
        json!({"format": "iss_sub", "iss": ISSUER, "sub": "alice"}),
    ] {
        let refused = app
            .subject(&receiver, &mine.stream_id, bad, true)
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), Code::InvalidArgument);
    }
    assert_eq!(row_count(&app.db, "stream_subjects").await, 2);
    let unknown = app
        .subject(&receiver, &Uuid::new_v4().to_string(), iss_sub(alice), true)
        .await
        .expect_err("no such stream");
    assert_eq!(unknown.code(), Code::NotFound);
}

#[tokio::test]
async fn all_subjects_needs_the_transmitters_consent() {
    let app = spawn_app_with(myaccount_signals::service::StreamPolicy {
        all_subjects_allowed: false,
        ..test_policy()
    })
    .await;
    let receiver = app.receiver().await;
    let refused = app
        .create_stream(
            &receiver,
            pb::CreateStreamRequest {
                delivery_method: pb::DeliveryMethod::Poll as i32,
                all_subjects: true,
                ..Default::default()
            },
        )
        .await
        .expect_err("not allowed");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(row_count(&app.db, "streams").await, 0);
}

#[tokio::test]
async fn verification_echoes_state_once_per_interval() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let stream = app.subjects_stream(&receiver).await;
    app.verify(&receiver, &stream.stream_id, "c3RhdGU")
        .await
        .expect("accepted");
    let too_soon = app
        .verify(&receiver, &stream.stream_id, "again")
        .await
        .expect_err("too soon");
    assert_eq!(too_soon.code(), Code::ResourceExhausted);
    let retry_after = platform::error::retry_after(&too_soon).expect("retry info");
    assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(30));

    let sets = app.poll_until(&receiver, &stream.stream_id, 1).await;
    assert_eq!(sets.len(), 1, "the refused request queued nothing");
    let claims = verify_set(&sets[0].1, &app.jwks().await, &receiver.audience);
    let (uri, body) = event_of(&claims);
    assert_eq!(uri, VERIFICATION);
    assert_eq!(body, json!({"state": "c3RhdGU"}));
    assert_eq!(claims["sub_id"], json!({"format": "opaque", "id": stream.stream_id}));

    let other = app.receiver().await;
    let foreign = app.verify(&other, &stream.stream_id, "").await.expect_err("not found");
    assert_eq!(foreign.code(), Code::NotFound);
}
