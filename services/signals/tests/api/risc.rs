//! RISC events end to end: identity's account deletion and password reset, audit's "this wasn't
//! me" and security-info's recovery methods arrive as verified RISC SETs next to CAEP's.

use std::collections::BTreeMap;

use chrono::Utc;
use myaccount_proto::events::v1::{
    PasswordChanged, SecurityMethodAdded, SecurityMethodRemoved, SignInFlagged, UserDeleted, UserDisabled, UserEnabled,
    UserIdentifiersChanged,
};
use myaccount_proto::signals::v1 as pb;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

const RISC: &str = "https://schemas.openid.net/secevent/risc/event-type/";

async fn publish<E: platform::events::Event>(app: &TestApp, source: &str, event: &E) -> String {
    let event_id = Uuid::new_v4().to_string();
    platform::testing::publish_as(&app.bus, source, &event_id, event, Utc::now()).await;
    event_id
}

#[tokio::test]
async fn account_deletion_reports_reset_and_recovery_methods_are_risc_sets() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let risc = |name: &str| format!("{RISC}{name}");
    let stream = app
        .create_stream(
            &receiver,
            pb::CreateStreamRequest {
                delivery_method: pb::DeliveryMethod::Poll as i32,
                events_requested: vec![
                    CREDENTIAL_CHANGE.into(),
                    risc("account-purged"),
                    risc("credential-compromise"),
                    risc("recovery-activated"),
                    risc("recovery-information-changed"),
                ],
                all_subjects: true,
                ..Default::default()
            },
        )
        .await
        .expect("a stream");
    assert_eq!(
        stream.events_delivered.len(),
        5,
        "every RISC type requested is supported"
    );

    let (deleted, flagged, reset, methods) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let now = Some(myaccount_proto::timestamp(Utc::now()));
    let purge = publish(
        &app,
        "myaccount/identity",
        &UserDeleted {
            user_id: deleted.to_string(),
            time: now,
        },
    )
    .await;
    let flagged_session = Uuid::new_v4();
    let report = publish(
        &app,
        "myaccount/audit",
        &SignInFlagged {
            sign_in_id: Uuid::new_v4().to_string(),
            user_id: flagged.to_string(),
            time: now,
            session_id: flagged_session.to_string(),
            ..Default::default()
        },
    )
    .await;
    let reset_cause = publish(
        &app,
        "myaccount/identity",
        &PasswordChanged {
            user_id: reset.to_string(),
            reset: true,
            methods_proven: vec!["email".into()],
            time: now,
            ..Default::default()
        },
    )
    .await;
    let email_added = publish(
        &app,
        "myaccount/security-info",
        &SecurityMethodAdded {
            user_id: methods.to_string(),
            method_id: Uuid::new_v4().to_string(),
            method_type: "email".into(),
            label: "a***@example.com".into(),
            time: now,
            session_id: String::new(),
            fido2_aaguid: None,
            second_factors_after: None,
        },
    )
    .await;
    let phone_removed = publish(
        &app,
        "myaccount/security-info",
        &SecurityMethodRemoved {
            user_id: methods.to_string(),
            method_id: Uuid::new_v4().to_string(),
            method_type: "phone".into(),
            time: now,
            ..Default::default()
        },
    )
    .await;
    // A passkey is no way to recover the account: a credential-change alone.
    let key_added = app.security_key_added(methods, "YubiKey").await;

    // credential-change for the reset, the email, the phone and the key; one RISC SET each for
    // the deletion, the report, the reset, the email and the phone.
    let sets = app.poll_until(&receiver, &stream.stream_id, 9).await;
    let jwks = app.jwks().await;
    let mut by_cause: BTreeMap<String, Vec<(String, Value, Value)>> = BTreeMap::new();
    for (_, token) in &sets {
        let claims = verify_set(token, &jwks, &receiver.audience);
        let (uri, body) = event_of(&claims);
        by_cause
            .entry(claims["txn"].as_str().expect("txn").to_owned())
            .or_default()
            .push((uri, body, claims["sub_id"].clone()));
    }
    let types = |cause: &str| -> Vec<String> {
        let mut uris: Vec<String> = by_cause[cause].iter().map(|(uri, _, _)| uri.clone()).collect();
        uris.sort();
        uris
    };
    assert_eq!(types(&purge), vec![risc("account-purged")]);
    assert_eq!(by_cause[&purge][0].2["user"]["sub"], json!(deleted.to_string()));
    assert_eq!(types(&report), vec![risc("credential-compromise")]);
    let (_, body, sub_id) = &by_cause[&report][0];
    assert_eq!(body["credential_type"], "password");
    assert_eq!(body["initiating_entity"], "user");
    assert_eq!(sub_id["session"]["id"], json!(flagged_session.to_string()));
    assert_eq!(
        types(&reset_cause),
        vec![CREDENTIAL_CHANGE.to_owned(), risc("recovery-activated")]
    );
    for cause in [&email_added, &phone_removed] {
        assert_eq!(
            types(cause),
            vec![CREDENTIAL_CHANGE.to_owned(), risc("recovery-information-changed")]
        );
    }
    assert_eq!(types(&key_added), vec![CREDENTIAL_CHANGE.to_owned()]);
    assert_eq!(sets.len(), 9);
}

/// Identity's `user_disabled` and `user_enabled` (an administrator's DisableUser / EnableUser,
/// or `myaccount user disable|enable`) are RISC account-disabled and account-enabled, by poll
/// and by push alike, in the act named by the event (shared with the sessions it ended).
#[tokio::test]
async fn a_disabled_then_enabled_account_is_risc_account_disabled_and_enabled_by_poll_and_push() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let (disabled, enabled) = (format!("{RISC}account-disabled"), format!("{RISC}account-enabled"));
    let events_requested = vec![disabled.clone(), enabled.clone()];
    let poll = app
        .create_stream(
            &receiver,
            pb::CreateStreamRequest {
                delivery_method: pb::DeliveryMethod::Poll as i32,
                events_requested: events_requested.clone(),
                all_subjects: true,
                ..Default::default()
            },
        )
        .await
        .expect("a poll stream");
    assert_eq!(poll.events_delivered, events_requested, "both are supported");
    let endpoint = PushReceiver::default();
    let url = endpoint.start().await;
    app.create_stream(
        &receiver,
        pb::CreateStreamRequest {
            delivery_method: pb::DeliveryMethod::Push as i32,
            endpoint_url: url,
            authorization_header: "Bearer rp-secret".into(),
            events_requested,
            all_subjects: true,
            ..Default::default()
        },
    )
    .await
    .expect("a push stream");

    let user = Uuid::new_v4();
    let act = Uuid::now_v7().to_string();
    let now = Some(myaccount_proto::timestamp(Utc::now()));
    let disabling = publish(
        &app,
        "myaccount/identity",
        &UserDisabled {
            user_id: user.to_string(),
            time: now,
            changed_by: "admin".into(),
            cause_id: act.clone(),
        },
    )
    .await;
    let enabling = publish(
        &app,
        "myaccount/identity",
        &UserEnabled {
            user_id: user.to_string(),
            time: now,
            changed_by: "operator".into(),
            cause_id: String::new(),
        },
    )
    .await;

    let jwks = app.jwks().await;
    let polled: Vec<String> = app
        .poll_until(&receiver, &poll.stream_id, 2)
        .await
        .into_iter()
        .map(|(_, token)| token)
        .collect();
    let pushed = endpoint.wait_for(2).await;
    for (delivery, tokens) in [("poll", polled), ("push", pushed)] {
        assert_eq!(tokens.len(), 2, "{delivery}: {tokens:?}");
        let mut by_type: BTreeMap<String, Value> = BTreeMap::new();
        for token in &tokens {
            let claims = verify_set(token, &jwks, &receiver.audience);
            assert_eq!(claims["sub_id"]["user"]["sub"], json!(user.to_string()), "{delivery}");
            let (uri, body) = event_of(&claims);
            assert_eq!(body["initiating_entity"], "admin", "{delivery}: {body}");
            by_type.insert(uri, claims);
        }
        // The disabling names its act; the enabling, which named none, is its own.
        assert_eq!(by_type[&disabled]["txn"], json!(act), "{delivery}");
        assert_eq!(by_type[&enabled]["txn"], json!(enabling), "{delivery}");
        assert_ne!(by_type[&disabled]["txn"], json!(disabling));
        assert!(
            by_type[&enabled]["events"][&enabled]["reason_admin"]["en"]
                .as_str()
                .is_some_and(|r| r.contains("operator")),
            "{delivery}"
        );
    }
}

/// Identity's `identifiers_changed` (an administrator's ChangeUserIdentifiers, or `myaccount
/// user rename`) is one RISC identifier-changed per identifier that changed, by poll and by
/// push alike: the old value as an `email` subject, the new one as `new-value`, one `txn`.
#[tokio::test]
async fn a_new_name_and_email_are_two_risc_identifier_changed_by_poll_and_push() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let changed = format!("{RISC}identifier-changed");
    let poll = app
        .create_stream(
            &receiver,
            pb::CreateStreamRequest {
                delivery_method: pb::DeliveryMethod::Poll as i32,
                events_requested: vec![changed.clone()],
                all_subjects: true,
                ..Default::default()
            },
        )
        .await
        .expect("a poll stream");
    assert_eq!(poll.events_delivered, vec![changed.clone()], "supported");
    let endpoint = PushReceiver::default();
    let url = endpoint.start().await;
    app.create_stream(
        &receiver,
        pb::CreateStreamRequest {
            delivery_method: pb::DeliveryMethod::Push as i32,
            endpoint_url: url,
            authorization_header: "Bearer rp-secret".into(),
            events_requested: vec![changed.clone()],
            all_subjects: true,
            ..Default::default()
        },
    )
    .await
    .expect("a push stream");

    let act = Uuid::now_v7().to_string();
    publish(
        &app,
        "myaccount/identity",
        &UserIdentifiersChanged {
            user_id: Uuid::new_v4().to_string(),
            old_user_principal_name: "adele@contoso.example".into(),
            new_user_principal_name: "adele.vance@contoso.example".into(),
            old_email: "adele@mail.contoso.example".into(),
            new_email: "adele.vance@mail.contoso.example".into(),
            changed_by: "admin".into(),
            time: Some(myaccount_proto::timestamp(Utc::now())),
            cause_id: act.clone(),
        },
    )
    .await;

    let jwks = app.jwks().await;
    let polled: Vec<String> = app
        .poll_until(&receiver, &poll.stream_id, 2)
        .await
        .into_iter()
        .map(|(_, token)| token)
        .collect();
    let pushed = endpoint.wait_for(2).await;
    for (delivery, tokens) in [("poll", polled), ("push", pushed)] {
        assert_eq!(tokens.len(), 2, "{delivery}: {tokens:?}");
        let mut told: BTreeMap<String, Value> = BTreeMap::new();
        for token in &tokens {
            let claims = verify_set(token, &jwks, &receiver.audience);
            assert_eq!(claims["txn"], json!(act), "{delivery}: one act");
            assert_eq!(claims["sub_id"]["format"], "email", "{delivery}: RISC 1.0 section 2.6");
            let (uri, body) = event_of(&claims);
            assert_eq!(uri, changed, "{delivery}");
            assert_eq!(body["initiating_entity"], "admin", "{delivery}: {body}");
            told.insert(
                claims["sub_id"]["email"].as_str().expect("the old value").to_owned(),
                body["new-value"].clone(),
            );
        }
        assert_eq!(
            told,
            BTreeMap::from([
                ("adele@contoso.example".to_owned(), json!("adele.vance@contoso.example")),
                (
                    "adele@mail.contoso.example".to_owned(),
                    json!("adele.vance@mail.contoso.example")
                ),
            ]),
            "{delivery}"
        );
    }
}
