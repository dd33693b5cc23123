//! Account moments become signed SETs: by poll (RFC 8936) and by push (RFC 8935), each verified
//! as a receiver would, none lost while the receiver is away, none twice.

use std::sync::atomic::Ordering;

use myaccount_proto::signals::v1 as pb;
use platform::testing::{eventually, row_count};
use serde_json::json;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn a_revoked_session_and_changed_credentials_are_polled_as_verified_sets() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let stream = app.poll_stream(&receiver).await;
    let (user, session) = (Uuid::new_v4(), Uuid::new_v4());

    let revoked = app.session_revoked(user, session, "revoked_by_user").await;
    let added = app.security_key_added(user, "YubiKey 5").await;
    let changed = app.password_changed(user).await;
    let sets = app.poll_until(&receiver, &stream.stream_id, 3).await;
    let jwks = app.jwks().await;

    let mut by_cause = std::collections::HashMap::new();
    for (jti, token) in &sets {
        let claims = verify_set(token, &jwks, &receiver.audience);
        assert_eq!(&claims["jti"], jti);
        assert_eq!(claims["sub_id"]["format"], "complex");
        assert_eq!(
            claims["sub_id"]["user"],
            json!({"format": "iss_sub", "iss": ISSUER, "sub": user.to_string()})
        );
        by_cause.insert(claims["txn"].as_str().expect("txn").to_owned(), claims);
    }
    let (uri, body) = event_of(&by_cause[&revoked]);
    assert_eq!(uri, SESSION_REVOKED);
    assert_eq!(by_cause[&revoked]["sub_id"]["session"]["id"], session.to_string());
    assert_eq!(body["initiating_entity"], "user");
    assert_eq!(body["reason_user"]["en"], "You ended this session");
    assert!(body["event_timestamp"].is_i64());

    let (uri, body) = event_of(&by_cause[&added]);
    assert_eq!(uri, CREDENTIAL_CHANGE);
    assert_eq!(body["credential_type"], "fido2-roaming");
    assert_eq!(body["change_type"], "create");
    assert_eq!(body["friendly_name"], "YubiKey 5");
    assert_eq!(body["fido2_aaguid"], TestApp::SECURITY_KEY_AAGUID);

    let (uri, body) = event_of(&by_cause[&changed]);
    assert_eq!(uri, CREDENTIAL_CHANGE);
    assert_eq!(body["credential_type"], "password");
    assert_eq!(body["change_type"], "update");

    // Acknowledged SETs are not answered again.
    let answer = app
        .poll(
            &receiver,
            &stream.stream_id,
            pb::PollSecurityEventsRequest {
                max_events: 10,
                return_immediately: true,
                ack: sets.iter().map(|(jti, _)| jti.clone()).collect(),
                ..Default::default()
            },
        )
        .await
        .expect("ack");
    assert!(answer.sets.is_empty());
    assert!(!answer.more_available);
}

#[tokio::test]
async fn a_poll_answers_at_most_max_events_in_order_and_says_more_are_available() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let stream = app.poll_stream(&receiver).await;
    let user = Uuid::new_v4();
    for _ in 0..3 {
        app.session_revoked(user, Uuid::new_v4(), "signed_out").await;
    }
    app.poll_until(&receiver, &stream.stream_id, 3).await;
    let first = app
        .poll(
            &receiver,
            &stream.stream_id,
            pb::PollSecurityEventsRequest {
                max_events: 2,
                return_immediately: true,
                ..Default::default()
            },
        )
        .await
        .expect("poll");
    assert_eq!(first.sets.len(), 2);
    assert!(first.more_available);
    // A refused SET leaves the queue with its error, as an acknowledged one does.
    let mut jtis = first.sets.keys().cloned();
    let acked = jtis.next().expect("one");
    let refused = jtis.next().expect("two");
    let rest = app
        .poll(
            &receiver,
            &stream.stream_id,
            pb::PollSecurityEventsRequest {
                max_events: 10,
                return_immediately: true,
                ack: vec![acked],
                set_errs: [(
                    refused.clone(),
                    pb::SetError {
                        err: "invalid_audience".into(),
                        description: "not ours".into(),
                    },
                )]
                .into(),
                ..Default::default()
            },
        )
        .await
        .expect("poll");
    assert_eq!(rest.sets.len(), 1);
    assert!(!rest.more_available);
    let err: Option<String> = sqlx::query_scalar("SELECT refused_err FROM security_event_tokens WHERE jti = $1")
        .bind(&refused)
        .fetch_one(&app.db)
        .await
        .expect("the refused SET");
    assert_eq!(err.as_deref(), Some("invalid_audience"));
}

#[tokio::test]
async fn bad_poll_requests_are_refused_and_settle_nothing() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let stream = app.poll_stream(&receiver).await;
    app.session_revoked(Uuid::new_v4(), Uuid::new_v4(), "signed_out").await;
    let sets = app.poll_until(&receiver, &stream.stream_id, 1).await;
    let refused = app
        .poll(
            &receiver,
            &stream.stream_id,
            pb::PollSecurityEventsRequest {
                max_events: -1,
                ack: vec![sets[0].0.clone()],
                set_errs: [(
                    "x".to_owned(),
                    pb::SetError {
                        err: "bored".into(),
                        description: String::new(),
                    },
                )]
                .into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("invalid");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&refused), vec!["maxEvents", "setErrs.x.err"]);
    assert_eq!(
        app.poll_until(&receiver, &stream.stream_id, 1).await.len(),
        1,
        "nothing acknowledged"
    );
}

#[tokio::test]
async fn an_event_applied_twice_is_one_set_and_streams_get_only_what_they_requested() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let sessions_only = app
        .create_stream(
            &receiver,
            pb::CreateStreamRequest {
                delivery_method: pb::DeliveryMethod::Poll as i32,
                events_requested: vec![SESSION_REVOKED.into()],
                all_subjects: true,
                ..Default::default()
            },
        )
        .await
        .expect("a stream");
    let user = Uuid::new_v4();
    app.password_changed(user).await;
    let event_id = app.session_revoked(user, Uuid::new_v4(), "password_changed").await;
    // The same event again, as a redelivery would bring it.
    let event = myaccount_proto::events::v1::SessionRevoked {
        user_id: user.to_string(),
        reason: "password_changed".into(),
        ..Default::default()
    };
    platform::testing::publish_as(&app.bus, "myaccount/identity", &event_id, &event, chrono::Utc::now()).await;
    // Events of one subject are consumed in order: once the next one is in, the copy was seen.
    let next = app.session_revoked(user, Uuid::new_v4(), "signed_out").await;
    let sets = app.poll_until(&receiver, &sessions_only.stream_id, 2).await;
    let jwks = app.jwks().await;
    let mut causes: Vec<String> = sets
        .iter()
        .map(|(_, token)| {
            let claims = verify_set(token, &jwks, &receiver.audience);
            assert_eq!(event_of(&claims).0, SESSION_REVOKED, "only what the stream requested");
            claims["txn"].as_str().expect("txn").to_owned()
        })
        .collect();
    causes.sort();
    let mut expected = vec![event_id, next];
    expected.sort();
    assert_eq!(causes, expected);
    assert_eq!(row_count(&app.db, "security_event_tokens").await, 2);
}

#[tokio::test]
async fn pushed_sets_reach_a_receiver_that_was_down_in_order_and_once() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let endpoint = PushReceiver::default();
    endpoint.down.store(true, Ordering::SeqCst);
    let url = endpoint.start().await;
    let stream = app
        .create_stream(
            &receiver,
            pb::CreateStreamRequest {
                delivery_method: pb::DeliveryMethod::Push as i32,
                endpoint_url: url,
                authorization_header: "Bearer rp-secret".into(),
                events_requested: vec![SESSION_REVOKED.into(), CREDENTIAL_CHANGE.into()],
                all_subjects: true,
                ..Default::default()
            },
        )
        .await
        .expect("a push stream");
    assert_eq!(stream.delivery_method, pb::DeliveryMethod::Push as i32);

    let user = Uuid::new_v4();
    let first = app.session_revoked(user, Uuid::new_v4(), "signed_out").await;
    let second = app.security_key_added(user, "Backup key").await;
    let third = app.password_changed(user).await;
    // The receiver is down: the transmitter keeps trying, and keeps every SET.
    eventually(DEADLINE, || async {
        endpoint.refused_while_down.load(Ordering::SeqCst) >= 2
    })
    .await;
    eventually(DEADLINE, || async {
        row_count(&app.db, "security_event_tokens").await == 3
    })
    .await;
    assert!(endpoint.received().is_empty());

    endpoint.down.store(false, Ordering::SeqCst);
    let received = endpoint.wait_for(3).await;
    let jwks = app.jwks().await;
    let mut causes: Vec<String> = received
        .iter()
        .map(|token| {
            verify_set(token, &jwks, &receiver.audience)["txn"]
                .as_str()
                .expect("txn")
                .to_owned()
        })
        .collect();
    // In the order they were queued (causes from different streams have no order between them).
    let queued: Vec<String> = sqlx::query_scalar("SELECT token FROM security_event_tokens ORDER BY seq")
        .fetch_all(&app.db)
        .await
        .expect("the queue");
    assert_eq!(received, queued, "pushed in the order queued");
    causes.sort();
    let mut expected = vec![first, second, third];
    expected.sort();
    assert_eq!(causes, expected);
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM security_event_tokens WHERE settled_at IS NULL")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(pending, 0);
    // Nothing more comes.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(endpoint.received().len(), 3);
}
