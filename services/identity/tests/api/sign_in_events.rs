use std::collections::BTreeSet;
use std::time::Duration;

use myaccount_proto::events::v1::{SignInFailureReason, SignInRecorded, SignInStatus};
use myaccount_proto::identity::v1 as pb;
use platform::events::{Stream, headers};
use platform::testing::eventually;
use prost::Message;
use uuid::Uuid;

use crate::helpers::{SIGN_IN_RECORDED, TestApp, spawn_app};

/// Runs `attempt` and returns the one sign-in record it wrote (failing unless it wrote exactly one).
async fn only_record_of<F: Future>(app: &TestApp, attempt: F) -> SignInRecorded {
    let before = app.sign_in_records().await;
    let _ = attempt.await;
    let after = app.sign_in_records().await;
    assert_eq!(
        after.len(),
        before.len() + 1,
        "one attempt, one record: {:?}",
        &after[before.len()..]
    );
    assert_eq!(after[..before.len()], before[..], "earlier records are left alone");
    after[before.len()].clone()
}

#[tokio::test]
async fn every_sign_in_attempt_writes_exactly_one_record() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let client = pb::ClientContext {
        ip_address: "203.0.113.7".into(),
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64)".into(),
        device_id: "device-1".into(),
        app_id: "myaccount-web".into(),
        correlation_id: "corr-1".into(),
        location: Some(pb::ClientLocation {
            country: "FR".into(),
            region: "Ile-de-France".into(),
            city: "Paris".into(),
            latitude: Some(48.8566),
            longitude: Some(2.3522),
        }),
    };

    // Success.
    let success = only_record_of(
        &app,
        app.sign_in_with(pb::SignInRequest {
            username: "Adele.Vance@contoso.example".into(),
            password: user.password.clone(),
            client: Some(client.clone()),
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(success.status, SignInStatus::Success as i32);
    assert_eq!(success.failure_reason, SignInFailureReason::Unspecified as i32);
    assert_eq!(success.user_id, user.id.to_string());
    assert_eq!(success.organization_id, user.organization_id.to_string());
    assert_eq!(success.user_principal_name, "Adele.Vance@contoso.example", "as typed");
    assert_eq!(success.authentication_methods, ["pwd"]);
    Uuid::parse_str(&success.session_id).expect("a session was created");
    assert_eq!(success.ip_address, client.ip_address);
    assert_eq!(success.user_agent, client.user_agent);
    // "device-1" is no registered device of hers: never recorded as the session's device.
    assert_eq!(success.device_id, "");
    assert_eq!(success.app_id, client.app_id);
    assert_eq!(success.correlation_id, client.correlation_id);
    let reported = success
        .reported_location
        .as_ref()
        .expect("the proxy's report travels on");
    assert_eq!((reported.city.as_str(), reported.country.as_str()), ("Paris", "FR"));
    assert_eq!((reported.latitude, reported.longitude), (Some(48.8566), Some(2.3522)));
    assert!(success.time.is_some());
    Uuid::parse_str(&success.sign_in_id).expect("the attempt has an id");

    // Invalid password.
    let invalid_password = only_record_of(&app, app.sign_in(&user.upn, "not the password at all")).await;
    assert_eq!(invalid_password.status, SignInStatus::Failure as i32);
    assert_eq!(
        invalid_password.failure_reason,
        SignInFailureReason::InvalidPassword as i32
    );
    assert_eq!(invalid_password.user_id, user.id.to_string());
    assert_eq!(invalid_password.session_id, "", "no session for a failure");
    assert!(invalid_password.authentication_methods.is_empty());
    assert_eq!(
        invalid_password.ip_address, "127.0.0.1",
        "the address the gateway reported"
    );
    assert_eq!(invalid_password.reported_location, None, "no report, no location");

    // Unknown user.
    let unknown_user = only_record_of(&app, app.sign_in("nobody@contoso.example", &user.password)).await;
    assert_eq!(unknown_user.status, SignInStatus::Failure as i32);
    assert_eq!(unknown_user.failure_reason, SignInFailureReason::UnknownUser as i32);
    assert_eq!(unknown_user.user_id, "");
    assert_eq!(unknown_user.organization_id, "");
    assert_eq!(unknown_user.session_id, "");
    assert_eq!(unknown_user.user_principal_name, "nobody@contoso.example");

    // Throttled (the fifth failure in a row blocks the account name).
    for _ in 0..4 {
        let _ = only_record_of(&app, app.sign_in(&user.upn, "still not the password")).await;
    }
    let throttled = only_record_of(&app, app.sign_in(&user.upn, &user.password)).await;
    assert_eq!(throttled.status, SignInStatus::Failure as i32);
    assert_eq!(throttled.failure_reason, SignInFailureReason::Throttled as i32);
    assert_eq!(throttled.user_id, user.id.to_string());
    assert_eq!(throttled.session_id, "");

    let ids: BTreeSet<String> = app.sign_in_records().await.into_iter().map(|r| r.sign_in_id).collect();
    assert_eq!(
        ids.len(),
        app.sign_in_records().await.len(),
        "every record has an id of its own"
    );
}

#[tokio::test]
async fn the_relay_publishes_every_sign_in_record_to_jetstream() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    app.sign_in(&user.upn, &user.password).await.expect("signs in");
    app.sign_in(&user.upn, "not the password at all")
        .await
        .expect_err("wrong password");
    app.sign_in("nobody@contoso.example", "whatever it is")
        .await
        .expect_err("unknown user");

    let written = app.sign_in_records().await;
    assert_eq!(
        written.len(),
        4,
        "the admin's sign-in (to create the user) and three attempts"
    );

    // Published after commit, asynchronously: wait for all of them, then for the rows to be marked sent.
    eventually(Duration::from_secs(10), || async {
        app.stream_messages(Stream::SignIn).await.len() == written.len()
    })
    .await;
    eventually(Duration::from_secs(10), || async {
        app.unpublished_outbox_rows().await == 0
    })
    .await;

    let wire_subject = app.naming.subject(SIGN_IN_RECORDED);
    assert!(
        wire_subject.ends_with(".myaccount.signin.v1.recorded"),
        "namespaced: {wire_subject}"
    );
    let published = app.stream_messages(Stream::SignIn).await;
    let mut seen = Vec::new();
    for message in &published {
        assert_eq!(message.subject.as_str(), wire_subject);
        let header = |name: &str| message.headers.get(name).map(|v| v.as_str().to_owned());
        assert_eq!(
            header(headers::TYPE).as_deref(),
            Some(SIGN_IN_RECORDED),
            "ce-type is the logical subject"
        );
        assert_eq!(header(headers::CONTENT_TYPE).as_deref(), Some(headers::PROTOBUF));
        assert_eq!(header(headers::SPEC_VERSION).as_deref(), Some("1.0"));
        assert_eq!(header(headers::SOURCE).as_deref(), Some("myaccount/identity"));
        let event = SignInRecorded::decode(message.payload.clone()).expect("a SignInRecorded payload");
        assert_eq!(
            header(headers::ID),
            Some(event.sign_in_id.clone()),
            "ce-id is the sign-in id"
        );
        assert_eq!(
            header("Nats-Msg-Id"),
            Some(event.sign_in_id.clone()),
            "deduplicated by event id"
        );
        assert_eq!(
            header(headers::SUBJECT).unwrap_or_default(),
            event.user_id,
            "ce-subject is the user"
        );
        seen.push(event);
    }
    assert_eq!(seen, written, "exactly what was written, in order");
}
