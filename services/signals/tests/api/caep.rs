//! CAEP's change events end to end through NATS: devices' `disabled` / `enabled` arrive as
//! device-compliance-change, audit's `signin.v1.risk_detected` as risk-level-change, and
//! security-info's method changes that move the person's level as assurance-level-change,
//! verified SETs by poll and by push.

use chrono::Utc;
use myaccount_proto::events::v1::{
    DeviceDisabled, DeviceEnabled, SecondFactors, SecurityMethodAdded, SecurityMethodRemoved, SignInRiskDetected,
};
use myaccount_proto::signals::v1 as pb;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

const CAEP: &str = "https://schemas.openid.net/secevent/caep/event-type/";

async fn publish<E: platform::events::Event>(app: &TestApp, source: &str, event: &E) -> String {
    let event_id = Uuid::new_v4().to_string();
    platform::testing::publish_as(&app.bus, source, &event_id, event, Utc::now()).await;
    event_id
}

fn second_factors(types: &[&str]) -> Option<SecondFactors> {
    Some(SecondFactors {
        method_types: types.iter().map(|t| (*t).to_owned()).collect(),
    })
}

#[tokio::test]
async fn device_risk_and_assurance_changes_are_caep_sets_by_poll_and_push() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let caep = |name: &str| format!("{CAEP}{name}");
    let events_requested = vec![
        caep("device-compliance-change"),
        caep("risk-level-change"),
        caep("assurance-level-change"),
    ];
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
    assert_eq!(poll.events_delivered, events_requested, "all three are supported");
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

    let (user, admin, device) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let now = Some(myaccount_proto::timestamp(Utc::now()));
    let disabling = publish(
        &app,
        "myaccount/devices",
        &DeviceDisabled {
            user_id: user.to_string(),
            device_id: device.to_string(),
            actor_user_id: user.to_string(),
            actor_session_id: Uuid::new_v4().to_string(),
            time: now,
        },
    )
    .await;
    let enabling = publish(
        &app,
        "myaccount/devices",
        &DeviceEnabled {
            user_id: user.to_string(),
            device_id: device.to_string(),
            actor_user_id: admin.to_string(),
            time: now,
        },
    )
    .await;
    let risk = publish(
        &app,
        "myaccount/audit",
        &SignInRiskDetected {
            sign_in_id: Uuid::new_v4().to_string(),
            user_id: user.to_string(),
            time: now,
            risk_level: "medium".into(),
            risk_reasons: vec!["new_country".into()],
            ip_address: "198.51.100.20".into(),
            country: "FR".into(),
        },
    )
    .await;
    // A risk of a sign-in that matched no account names no one: nothing is sent.
    publish(
        &app,
        "myaccount/audit",
        &SignInRiskDetected {
            sign_in_id: Uuid::new_v4().to_string(),
            risk_level: "medium".into(),
            risk_reasons: vec!["ip_failures_across_accounts".into()],
            time: now,
            ..Default::default()
        },
    )
    .await;
    let method = |method_type: &str| SecurityMethodAdded {
        user_id: user.to_string(),
        method_id: Uuid::new_v4().to_string(),
        method_type: method_type.into(),
        label: "Phone".into(),
        time: now,
        session_id: Uuid::new_v4().to_string(),
        ..Default::default()
    };
    let first_factor = publish(
        &app,
        "myaccount/security-info",
        &SecurityMethodAdded {
            second_factors_after: second_factors(&["authenticator_app"]),
            ..method("authenticator_app")
        },
    )
    .await;
    // A second one, and an app password: the level stays.
    publish(
        &app,
        "myaccount/security-info",
        &SecurityMethodAdded {
            second_factors_after: second_factors(&["authenticator_app", "security_key"]),
            ..method("security_key")
        },
    )
    .await;
    publish(
        &app,
        "myaccount/security-info",
        &SecurityMethodAdded {
            second_factors_after: second_factors(&["authenticator_app", "security_key"]),
            ..method("app_password")
        },
    )
    .await;
    let last_factor_removed = publish(
        &app,
        "myaccount/security-info",
        &SecurityMethodRemoved {
            user_id: user.to_string(),
            method_id: Uuid::new_v4().to_string(),
            method_type: "security_key".into(),
            time: now,
            second_factors_after: second_factors(&[]),
            ..Default::default()
        },
    )
    .await;

    let jwks = app.jwks().await;
    let polled: Vec<String> = app
        .poll_until(&receiver, &poll.stream_id, 5)
        .await
        .into_iter()
        .map(|(_, token)| token)
        .collect();
    let pushed = endpoint.wait_for(5).await;
    for (delivery, tokens) in [("poll", polled), ("push", pushed)] {
        assert_eq!(tokens.len(), 5, "{delivery}: {tokens:?}");
        let mut by_cause: std::collections::BTreeMap<String, (String, Value, Value)> = Default::default();
        for token in &tokens {
            let claims = verify_set(token, &jwks, &receiver.audience);
            assert_eq!(claims["sub_id"]["user"]["sub"], json!(user.to_string()), "{delivery}");
            let (uri, body) = event_of(&claims);
            let txn = claims["txn"].as_str().expect("txn").to_owned();
            by_cause.insert(txn, (uri, body, claims["sub_id"].clone()));
        }
        let device_subject = json!({"format": "iss_sub", "iss": ISSUER, "sub": device.to_string()});
        let (uri, body, sub_id) = &by_cause[&disabling];
        assert_eq!(uri, &caep("device-compliance-change"), "{delivery}");
        assert_eq!(
            (
                &body["previous_status"],
                &body["current_status"],
                &body["initiating_entity"]
            ),
            (&json!("compliant"), &json!("not-compliant"), &json!("user")),
            "{delivery}: {body}"
        );
        assert_eq!(sub_id["device"], device_subject, "{delivery}");
        let (uri, body, sub_id) = &by_cause[&enabling];
        assert_eq!(uri, &caep("device-compliance-change"), "{delivery}");
        assert_eq!(
            (
                &body["previous_status"],
                &body["current_status"],
                &body["initiating_entity"]
            ),
            (&json!("not-compliant"), &json!("compliant"), &json!("admin")),
            "{delivery}: {body}"
        );
        assert_eq!(sub_id["device"], device_subject, "{delivery}");
        let (uri, body, _) = &by_cause[&risk];
        assert_eq!(uri, &caep("risk-level-change"), "{delivery}");
        assert_eq!(body["principal"], "USER");
        assert_eq!(body["current_level"], "MEDIUM");
        assert_eq!(body["risk_reason"], "new_country");
        assert!(body.get("previous_level").is_none(), "{body}");
        for (cause, previous, current, direction) in [
            (&first_factor, "nist-aal1", "nist-aal2", "increase"),
            (&last_factor_removed, "nist-aal2", "nist-aal1", "decrease"),
        ] {
            let (uri, body, sub_id) = &by_cause[cause];
            assert_eq!(uri, &caep("assurance-level-change"), "{delivery}");
            assert_eq!(body["namespace"], "NIST-AAL");
            assert_eq!(
                (
                    &body["previous_level"],
                    &body["current_level"],
                    &body["change_direction"]
                ),
                (&json!(previous), &json!(current), &json!(direction)),
                "{delivery}: {body}"
            );
            assert!(sub_id.get("session").is_none(), "the person's level: {sub_id}");
        }
    }
}
