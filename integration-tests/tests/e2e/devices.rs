//! Devices and sessions, end to end: a lost device is cut off in one action, another person's
//! device is not found, recovery keys need a step-up (refusals and reveals are both published),
//! and the sessions page signs out elsewhere.

use std::time::Duration;

use myaccount_integration_tests::{TestSystem, assert_problem};
use myaccount_proto::events::v1::RecoveryKeyViewDenied;
use platform::events::{Event, EventBus};
use platform::testing::eventually;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

const EDGE_ON_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
     Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";
const SAFARI_ON_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
     (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
const RECOVERY_KEY: &str = "111111-222222-333333-444444-555555-666666-000000-010010";
const DEADLINE: Duration = Duration::from_secs(60);

/// The ids of my sessions, as the sessions page lists them.
async fn session_ids(system: &TestSystem, token: &str) -> Vec<String> {
    let response = system.get("/api/v1/me/sessions", token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The id of the session marked current on the sessions page of `token`.
pub(crate) async fn current_session(system: &TestSystem, token: &str) -> String {
    let body: Value = system
        .get("/api/v1/me/sessions", token)
        .await
        .json()
        .await
        .expect("json");
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["current"] == json!(true))
        .and_then(|s| s["id"].as_str())
        .expect("a current session")
        .to_owned()
}

/// Every `E` on the system's NATS, oldest first.
async fn published<E: Event>(system: &TestSystem) -> Vec<E> {
    let bus = EventBus::connect(system.nats_settings(), "e2e-reader")
        .await
        .expect("nats");
    let Ok(mut stream) = bus.jetstream().get_stream(bus.naming().stream(E::STREAM)).await else {
        return Vec::new();
    };
    let state = stream.info().await.expect("stream info").state.clone();
    let wire = bus.naming().subject(&E::subject());
    let mut events = Vec::new();
    if state.messages == 0 {
        return events;
    }
    for seq in state.first_sequence..=state.last_sequence {
        if let Ok(m) = stream.get_raw_message(seq).await
            && m.subject.as_str() == wire
        {
            events.push(E::decode(m.payload.clone()).expect("decodes"));
        }
    }
    events
}

#[tokio::test]
async fn disabling_a_lost_device_ends_its_sessions_and_leaves_the_others_working() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let desk = system.sign_in_ok(&user).await;
    let laptop = system
        .register_device(&desk.access_token, "Lost laptop", "laptop")
        .await;
    let on_laptop = system.sign_in_on_device(&user, &laptop, EDGE_ON_WINDOWS).await;
    let on_phone = system.sign_in_on_device(&user, "", SAFARI_ON_IPHONE).await;
    let laptop_session = current_session(&system, &on_laptop.access_token).await;

    // One view: the laptop with its session, the other sessions grouped by browser and system.
    let page = system.devices_page(&desk.access_token).await;
    let devices = page["items"].as_array().expect("items");
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["id"], laptop.as_str());
    assert_eq!(devices[0]["enabled"], true);
    let on_it: Vec<&str> = devices[0]["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["id"].as_str().expect("id"))
        .collect();
    assert_eq!(on_it, [laptop_session.as_str()]);
    assert_eq!(devices[0]["sessions"][0]["browser"], "Edge");
    let groups = page["unregisteredDevices"].as_array().expect("groups");
    assert!(
        groups
            .iter()
            .any(|g| g["browser"] == "Safari" && g["operatingSystem"] == "iOS"),
        "{page}"
    );
    let grouped: usize = groups
        .iter()
        .map(|g| g["sessions"].as_array().expect("sessions").len())
        .sum();
    assert_eq!(grouped, 2, "the desk session and the phone session");

    let response = system
        .request(
            Method::POST,
            &format!("/api/v1/me/devices/{laptop}/disable"),
            Some(&desk.access_token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let disabled: Value = response.json().await.expect("json");
    assert_eq!(disabled["enabled"], false);
    assert!(disabled["disabledAt"].is_string());

    // identity hears of it and ends the laptop's session (watched without touching its tokens).
    eventually(DEADLINE, || async {
        !session_ids(&system, &desk.access_token).await.contains(&laptop_session)
    })
    .await;
    assert_problem(system.refresh(&on_laptop.refresh_token).await, StatusCode::UNAUTHORIZED).await;
    let profile = system.get("/api/v1/me/profile", &on_laptop.access_token).await;
    assert_problem(profile, StatusCode::UNAUTHORIZED).await;

    // Everything else still works.
    assert_eq!(system.refresh(&on_phone.refresh_token).await.status(), StatusCode::OK);
    assert_eq!(system.refresh(&desk.refresh_token).await.status(), StatusCode::OK);
    let page = system.devices_page(&desk.access_token).await;
    assert_eq!(page["items"][0]["enabled"], false);
    assert_eq!(page["items"][0]["sessions"], json!([]));

    // The owner cannot undo it; an admin can (through the devices API only).
    let again = system
        .request(
            Method::POST,
            &format!("/api/v1/me/devices/{laptop}/disable"),
            Some(&desk.access_token),
            None,
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK, "disabling twice is harmless");
}

#[tokio::test]
async fn another_persons_device_is_not_found_and_stays_as_it_was() {
    let system = TestSystem::spawn().await;
    let alice = system.create_user().await;
    let bob = system.create_user().await;
    let alice_session = system.sign_in_ok(&alice).await;
    let bob_session = system.sign_in_ok(&bob).await;
    let bobs = system
        .register_device(&bob_session.access_token, "Bob's phone", "phone")
        .await;
    let unknown = Uuid::new_v4().to_string();
    let token = Some(alice_session.access_token.as_str());

    for id in [&bobs, &unknown] {
        let attempts = [
            system
                .request(Method::GET, &format!("/api/v1/me/devices/{id}"), token, None)
                .await,
            system
                .request(
                    Method::PATCH,
                    &format!("/api/v1/me/devices/{id}"),
                    token,
                    Some(&json!({ "displayName": "mine" })),
                )
                .await,
            system
                .request(Method::DELETE, &format!("/api/v1/me/devices/{id}"), token, None)
                .await,
            system
                .request(Method::POST, &format!("/api/v1/me/devices/{id}/disable"), token, None)
                .await,
            system
                .request(
                    Method::GET,
                    &format!("/api/v1/me/devices/{id}/recovery-keys"),
                    token,
                    None,
                )
                .await,
        ];
        for response in attempts {
            let problem = assert_problem(response, StatusCode::NOT_FOUND).await;
            assert_eq!(
                problem["detail"],
                format!("device {id} not found"),
                "the same answer as for no device at all"
            );
        }
    }
    let problem = assert_problem(
        system
            .get("/api/v1/me/devices/not-a-uuid", &alice_session.access_token)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "deviceId");

    let bob_view: Value = system
        .get(&format!("/api/v1/me/devices/{bobs}"), &bob_session.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(bob_view["displayName"], "Bob's phone");
    assert_eq!(bob_view["enabled"], true);
    assert_eq!(
        system.devices_page(&alice_session.access_token).await["items"],
        json!([])
    );
}

#[tokio::test]
async fn revealing_a_recovery_key_without_step_up_is_refused_and_the_attempt_is_audited() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    let device = system
        .register_device(&session.access_token, "Work laptop", "laptop")
        .await;
    let token = Some(session.access_token.as_str());

    let added = system
        .request(
            Method::POST,
            &format!("/api/v1/me/devices/{device}/recovery-keys"),
            token,
            Some(&json!({ "volumeType": "operating_system", "key": RECOVERY_KEY })),
        )
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let added: Value = added.json().await.expect("json");
    let key_id = added["id"].as_str().expect("id").to_owned();
    assert!(added.get("key").is_none(), "never echoed");

    let listed: Value = system
        .get(
            &format!("/api/v1/me/devices/{device}/recovery-keys"),
            &session.access_token,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["items"].as_array().expect("items").len(), 1);
    assert_eq!(listed["items"][0]["id"], key_id.as_str());
    assert_eq!(listed["items"][0]["volumeType"], "operating_system");
    assert!(listed["items"][0]["createdAt"].is_string());
    assert!(listed["items"][0].get("key").is_none(), "ids and dates only");

    // A password-only sign-in is not enough.
    let reveal = system
        .request(
            Method::POST,
            &format!("/api/v1/me/devices/{device}/recovery-keys/{key_id}/reveal"),
            token,
            None,
        )
        .await;
    let problem = assert_problem(reveal, StatusCode::FORBIDDEN).await;
    assert_eq!(problem["type"], "urn:myaccount:problem:reauthentication-required");
    assert!(
        problem["detail"].as_str().expect("detail").contains("second factor"),
        "{problem}"
    );
    assert!(!problem.to_string().contains("111111"), "nothing of the key");

    // The refused attempt is on the event bus for the activity log and admins.
    eventually(DEADLINE, || async {
        !published::<RecoveryKeyViewDenied>(&system).await.is_empty()
    })
    .await;
    let denied = published::<RecoveryKeyViewDenied>(&system).await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].user_id, user.id);
    assert_eq!(denied[0].recovery_key_id, key_id);
    assert_eq!(denied[0].reason, "reauthentication_required");
    assert_eq!(
        denied[0].session_id,
        current_session(&system, &session.access_token).await
    );

    let listed: Value = system
        .get(
            &format!("/api/v1/me/devices/{device}/recovery-keys"),
            &session.access_token,
        )
        .await
        .json()
        .await
        .expect("json");
    assert!(listed["items"][0]["lastRevealedAt"].is_null(), "nothing was revealed");
}

#[tokio::test]
async fn the_overview_counts_my_devices_and_shows_their_newest_activity() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    let laptop = system.register_device(&session.access_token, "Laptop", "laptop").await;
    system.register_device(&session.access_token, "Tablet", "tablet").await;

    // Each overview section has its own short deadline: ask until the devices section answers.
    eventually(DEADLINE, || async {
        let overview: Value = system
            .get("/api/v1/me", &session.access_token)
            .await
            .json()
            .await
            .expect("json");
        overview["devices"]["count"] == 2 && overview["devices"]["newestActivityAt"].is_null()
    })
    .await;

    // A sign-in from the laptop is its activity (through identity's event, not the client's word).
    system.sign_in_on_device(&user, &laptop, EDGE_ON_WINDOWS).await;
    let laptop_path = format!("/api/v1/me/devices/{laptop}");
    let device = || async {
        let device: Value = system
            .get(&laptop_path, &session.access_token)
            .await
            .json()
            .await
            .expect("json");
        device
    };
    eventually(Duration::from_secs(60), || async {
        device().await["lastActivityAt"].is_string()
    })
    .await;
    let last_activity = device().await["lastActivityAt"].clone();
    eventually(DEADLINE, || async {
        let overview: Value = system
            .get("/api/v1/me", &session.access_token)
            .await
            .json()
            .await
            .expect("json");
        overview["devices"]["newestActivityAt"] == last_activity && overview["devices"]["count"] == 2
    })
    .await;
}

#[tokio::test]
async fn sessions_page_ends_one_session_or_all_others_and_a_password_change_can_end_them_too() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let here = system.sign_in_ok(&user).await;
    let second = system.sign_in_on_device(&user, "", SAFARI_ON_IPHONE).await;
    let third = system.sign_in_ok(&user).await;
    let second_id = current_session(&system, &second.access_token).await;

    let listed: Value = system
        .get("/api/v1/me/sessions", &here.access_token)
        .await
        .json()
        .await
        .expect("json");
    let items = listed["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    assert_eq!(items.iter().filter(|s| s["current"] == json!(true)).count(), 1);
    assert!(
        items
            .iter()
            .any(|s| s["browser"] == "Safari" && s["operatingSystem"] == "iOS")
    );
    assert!(
        items.iter().all(|s| s["location"].is_null()),
        "no geolocation source yet"
    );

    let ended = system
        .request(
            Method::DELETE,
            &format!("/api/v1/me/sessions/{second_id}"),
            Some(&here.access_token),
            None,
        )
        .await;
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert_problem(system.refresh(&second.refresh_token).await, StatusCode::UNAUTHORIZED).await;
    let again = system
        .request(
            Method::DELETE,
            &format!("/api/v1/me/sessions/{second_id}"),
            Some(&here.access_token),
            None,
        )
        .await;
    assert_problem(again, StatusCode::NOT_FOUND).await;

    let others = system
        .request(
            Method::POST,
            "/api/v1/me/sessions/revoke-others",
            Some(&here.access_token),
            None,
        )
        .await;
    assert_eq!(others.status(), StatusCode::OK);
    assert_eq!(others.json::<Value>().await.expect("json")["revokedCount"], 1);
    assert_problem(system.refresh(&third.refresh_token).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        session_ids(&system, &here.access_token).await.len(),
        1,
        "only this one is left"
    );

    // Change the password and end the other sessions at the same time.
    let elsewhere = system.sign_in_ok(&user).await;
    let bad = system
        .request(
            Method::POST,
            "/api/v1/me/password",
            Some(&here.access_token),
            Some(&json!({ "currentPassword": "not it", "newPassword": "password" })),
        )
        .await;
    let problem = assert_problem(bad, StatusCode::BAD_REQUEST).await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(
        fields,
        ["newPassword"],
        "a weak new password is refused before the current one is checked"
    );
    let changed = system
        .request(
            Method::POST,
            "/api/v1/me/password",
            Some(&here.access_token),
            Some(&json!({ "currentPassword": user.password, "newPassword": "amber quokka lighthouse sonata", "endOtherSessions": true })),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(changed.json::<Value>().await.expect("json")["otherSessionsEnded"], 1);
    assert_problem(system.refresh(&elsewhere.refresh_token).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(system.refresh(&here.refresh_token).await.status(), StatusCode::OK);
    assert_eq!(
        system
            .sign_in(&user.upn, "amber quokka lighthouse sonata")
            .await
            .status(),
        StatusCode::OK
    );

    // Sign out everywhere: this session too.
    let all = system
        .request(
            Method::POST,
            "/api/v1/me/sessions/revoke-all",
            Some(&here.access_token),
            None,
        )
        .await;
    assert_eq!(all.status(), StatusCode::OK);
    assert_problem(
        system.get("/api/v1/me/sessions", &here.access_token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn after_a_multi_factor_sign_in_the_owner_reveals_the_key_and_the_view_is_published() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let first = system.sign_in_ok(&user).await;
    let device = system
        .register_device(&first.access_token, "Work laptop", "laptop")
        .await;
    let added: Value = system
        .request(
            Method::POST,
            &format!("/api/v1/me/devices/{device}/recovery-keys"),
            Some(&first.access_token),
            Some(&json!({ "volumeType": "operating_system", "key": RECOVERY_KEY })),
        )
        .await
        .json()
        .await
        .expect("json");
    let key_id = added["id"].as_str().expect("id").to_owned();

    // Add an authenticator app, then sign in with the password and a code from it.
    let (app, step, _) = system.add_authenticator_app(&first.access_token).await;
    let signed_in = system.sign_in_with_code(&user, &app.code(step + 1)).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let signed_in: Value = signed_in.json().await.expect("json");
    let mfa_token = signed_in["accessToken"].as_str().expect("accessToken").to_owned();

    let revealed = system
        .request(
            Method::POST,
            &format!("/api/v1/me/devices/{device}/recovery-keys/{key_id}/reveal"),
            Some(&mfa_token),
            None,
        )
        .await;
    assert_eq!(revealed.status(), StatusCode::OK);
    let revealed: Value = revealed.json().await.expect("json");
    assert_eq!(revealed["key"], RECOVERY_KEY);
    assert_eq!(revealed["id"], key_id.as_str());
    assert!(revealed["lastRevealedAt"].is_string());

    eventually(DEADLINE, || async {
        !published::<myaccount_proto::events::v1::RecoveryKeyViewed>(&system)
            .await
            .is_empty()
    })
    .await;
    let viewed = published::<myaccount_proto::events::v1::RecoveryKeyViewed>(&system).await;
    assert_eq!(viewed.len(), 1);
    assert_eq!(viewed[0].user_id, user.id);
    assert_eq!(viewed[0].recovery_key_id, key_id);
    assert_eq!(viewed[0].session_id, current_session(&system, &mfa_token).await);
    assert!(published::<RecoveryKeyViewDenied>(&system).await.is_empty());
}
