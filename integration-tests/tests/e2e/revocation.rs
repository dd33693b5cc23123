//! When access ends, it ends everywhere: for each way access can end, the old access token is
//! refused by every section of My Account (each served by a different service), not only by
//! identity's profile; a service started after the revocation refuses it too; and sensitive
//! changes stop while a process cannot know its revocations are current.

use std::time::Duration;

use myaccount_integration_tests::{Session, TestSystem, TestUser};
use myaccount_proto::devices::v1 as devices_pb;
use platform::service::ServiceSettings;
use platform::testing::{NatsServer, TestNats};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::time::Instant;

/// How long a revocation may take to be refused everywhere in these tests: the bound is one
/// second (measured by `myaccount bench revocation`); a loaded test machine gets room.
const WITHIN: Duration = Duration::from_secs(10);

/// A request of one section of My Account, and which service answers it.
struct Section {
    method: Method,
    path: String,
}

/// Every section, with a device of the person for the recovery keys.
fn sections(device_id: &str) -> Vec<Section> {
    let get = |path: &str| Section {
        method: Method::GET,
        path: path.to_owned(),
    };
    vec![
        get("/api/v1/me/profile"),
        get("/api/v1/me/security-info"),
        get("/api/v1/me/devices"),
        get(&format!("/api/v1/me/devices/{device_id}/recovery-keys")),
        get("/api/v1/me/organizations"),
        get("/api/v1/me/sign-ins"),
        get("/api/v1/me/activity"),
        Section {
            method: Method::POST,
            path: "/api/v1/me/export".into(),
        },
    ]
}

/// Waits until every section refuses `token` as revoked for `reason`.
pub(crate) async fn refused_everywhere(system: &TestSystem, token: &str, device_id: &str, reason: &str) {
    let start = Instant::now();
    for section in sections(device_id) {
        loop {
            let response = system
                .request(section.method.clone(), &section.path, Some(token), None)
                .await;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if status == StatusCode::UNAUTHORIZED {
                assert_eq!(
                    body["type"], "urn:myaccount:problem:session-revoked",
                    "{}",
                    section.path
                );
                assert_eq!(body["reason"], reason, "{}", section.path);
                break;
            }
            assert!(
                start.elapsed() < WITHIN,
                "{} {} still answers {status} after {WITHIN:?}: {body}",
                section.method,
                section.path
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn answers(system: &TestSystem, token: &str, path: &str) -> StatusCode {
    system.get(path, token).await.status()
}

/// A person signed in twice (two sessions), with a registered device.
async fn person_with_two_sessions(system: &TestSystem) -> (TestUser, Session, Session, String) {
    let user = system.create_user().await;
    let first = system.sign_in_ok(&user).await;
    let second = system.sign_in_ok(&user).await;
    let device = system.register_device(&first.access_token, "Laptop", "laptop").await;
    (user, first, second, device)
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_token_at_every_service() {
    let system = TestSystem::spawn().await;
    let (user, first, second, device) = person_with_two_sessions(&system).await;
    let ended = system
        .request(
            Method::POST,
            "/api/v1/me/sessions/revoke-all",
            Some(&first.access_token),
            None,
        )
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    refused_everywhere(&system, &first.access_token, &device, "signed_out_everywhere").await;
    refused_everywhere(&system, &second.access_token, &device, "signed_out_everywhere").await;

    // A new sign-in afterwards works everywhere.
    let again = system.sign_in_ok(&user).await;
    for section in sections(&device) {
        let response = system
            .request(section.method.clone(), &section.path, Some(&again.access_token), None)
            .await;
        assert!(
            response.status().is_success(),
            "{} answers {}",
            section.path,
            response.status()
        );
    }
}

#[tokio::test]
async fn ending_one_session_or_the_others_ends_exactly_those() {
    let system = TestSystem::spawn().await;
    let (user, first, second, device) = person_with_two_sessions(&system).await;
    let third = system.sign_in_ok(&user).await;

    // The sessions page ends the second session.
    let sessions: Value = system
        .get("/api/v1/me/sessions", &first.access_token)
        .await
        .json()
        .await
        .expect("json");
    let second_id = crate::devices::current_session(&system, &second.access_token).await;
    assert!(sessions["items"].as_array().expect("items").len() >= 3);
    let ended = system
        .request(
            Method::DELETE,
            &format!("/api/v1/me/sessions/{second_id}"),
            Some(&first.access_token),
            None,
        )
        .await;
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    refused_everywhere(&system, &second.access_token, &device, "revoked_by_user").await;
    assert_eq!(
        answers(&system, &third.access_token, "/api/v1/me/devices").await,
        StatusCode::OK
    );

    // "Sign out everywhere else" ends the third and keeps the first.
    let ended = system
        .request(
            Method::POST,
            "/api/v1/me/sessions/revoke-others",
            Some(&first.access_token),
            None,
        )
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    refused_everywhere(&system, &third.access_token, &device, "other_sessions_revoked").await;
    assert_eq!(
        answers(&system, &first.access_token, "/api/v1/me/security-info").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_disabled_device_loses_its_sessions_everywhere_and_cannot_sign_in_again() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let owner = system.sign_in_ok(&user).await;
    let laptop = system
        .register_device(&owner.access_token, "Lost laptop", "laptop")
        .await;
    let thief = system
        .sign_in_on_device(&user, &laptop, "Mozilla/5.0 (Windows NT 10.0; Win64; x64)")
        .await;
    let disabled = system
        .request(
            Method::POST,
            &format!("/api/v1/me/devices/{laptop}/disable"),
            Some(&owner.access_token),
            None,
        )
        .await;
    assert_eq!(disabled.status(), StatusCode::OK);
    refused_everywhere(&system, &thief.access_token, &laptop, "device_disabled").await;
    assert_eq!(
        answers(&system, &owner.access_token, "/api/v1/me/devices").await,
        StatusCode::OK
    );

    // Naming the disabled device at sign-in is refused, and "My sign-ins" says why.
    let again = system
        .http
        .post(system.url("/api/v1/auth/sign-in"))
        .header("x-device-id", &laptop)
        .json(&json!({ "username": user.upn, "password": user.password }))
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    let sign_ins = system.wait_for_sign_ins(&owner.access_token, 3).await;
    assert!(
        sign_ins.iter().any(|s| s["failureReason"] == "device_disabled"),
        "a failure of its own: {sign_ins:?}"
    );
}

#[tokio::test]
async fn reporting_a_sign_in_as_not_me_and_changing_the_password_end_access_everywhere() {
    let system = TestSystem::spawn().await;
    let (user, first, second, device) = person_with_two_sessions(&system).await;

    // A password change that ends the other sessions.
    let changed = system
        .request(
            Method::POST,
            "/api/v1/me/password",
            Some(&first.access_token),
            Some(&json!({
                "currentPassword": user.password,
                "newPassword": "a brand new harbour lantern password",
                "endOtherSessions": true
            })),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    refused_everywhere(&system, &second.access_token, &device, "password_changed").await;

    // "This wasn't me" ends every session, this one too.
    let sign_ins = system.wait_for_sign_ins(&first.access_token, 2).await;
    let suspicious = sign_ins[0]["id"].as_str().expect("id").to_owned();
    let review = system
        .request(
            Method::POST,
            &format!("/api/v1/me/sign-ins/{suspicious}/review"),
            Some(&first.access_token),
            Some(&json!({ "verdict": "not_me" })),
        )
        .await;
    assert_eq!(review.status(), StatusCode::OK);
    refused_everywhere(&system, &first.access_token, &device, "reported_not_me").await;
}

#[tokio::test]
async fn a_service_started_after_the_revocation_refuses_the_token() {
    let system = TestSystem::spawn().await;
    let (_user, first, _second, device) = person_with_two_sessions(&system).await;
    let ended = system
        .request(
            Method::POST,
            "/api/v1/me/sessions/revoke-all",
            Some(&first.access_token),
            None,
        )
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    refused_everywhere(&system, &first.access_token, &device, "signed_out_everywhere").await;

    // Another devices replica, started now: it loads the revocations before it serves.
    let jwks_url = format!("http://127.0.0.1:{}/.well-known/jwks.json", system.identity_admin_port);
    let replica = myaccount_devices::Application::build(myaccount_devices::Settings {
        service: ServiceSettings::for_tests(
            &myaccount_devices::SPEC,
            system.devices_db.settings.clone(),
            system.nats_settings().clone(),
            &jwks_url,
        )
        .trusting(platform::workload::TrustedCallers::new().with_key(&system.gateway_key)),
        encryption: platform::crypto::Keyring::generate("e2e"),
    })
    .await
    .expect("a second devices replica starts");
    let port = replica.port();
    let admin_port = replica.admin_port();
    let stop = replica.shutdown_token();
    tokio::spawn(replica.run_until_stopped());
    let ready = format!("http://127.0.0.1:{admin_port}/readyz");
    platform::testing::eventually(WITHIN, || {
        let (http, ready) = (system.http.clone(), ready.clone());
        async move { http.get(&ready).send().await.is_ok_and(|r| r.status().is_success()) }
    })
    .await;
    let mut client = devices_pb::devices_service_client::DevicesServiceClient::new(
        system.as_gateway(port, platform::workload::DEVICES),
    );
    let request = platform::auth::bearer_request(devices_pb::ListMyDevicesRequest::default(), &first.access_token)
        .expect("a request");
    let status = client.list_my_devices(request).await.expect_err("refused");
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert_eq!(
        platform::revocation::revoked_reason(&status).as_deref(),
        Some("signed_out_everywhere")
    );
    stop.cancel();
}

#[tokio::test]
async fn sensitive_changes_wait_while_the_revocation_feed_is_unknown_and_reads_go_on() {
    let mut server = NatsServer::start().await;
    let system = TestSystem::spawn_with_nats(TestNats::at(&server.url())).await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    let add_email = json!({ "type": "email", "address": "adele@example.org" });

    server.stop();
    let start = Instant::now();
    loop {
        let response = system
            .request(
                Method::POST,
                "/api/v1/me/security-info/methods",
                Some(&session.access_token),
                Some(&add_email),
            )
            .await;
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            let body: Value = response.json().await.expect("json");
            assert_eq!(body["type"], "urn:myaccount:problem:revocation-status-unknown");
            break;
        }
        // The test systems wait 10 s (REVOCATION_MAX_LAG) before they call the feed behind.
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "still {} without NATS",
            response.status()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Reading goes on.
    assert_eq!(
        answers(&system, &session.access_token, "/api/v1/me/security-info").await,
        StatusCode::OK
    );

    // Once NATS is back and the feed has caught up, the change goes through.
    server.resume().await;
    let start = Instant::now();
    loop {
        let response = system
            .request(
                Method::POST,
                "/api/v1/me/security-info/methods",
                Some(&session.access_token),
                Some(&add_email),
            )
            .await;
        if response.status() == StatusCode::CREATED {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "still {} after NATS returned",
            response.status()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_step_up_finished_after_its_session_was_revoked_issues_nothing() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let first = system.sign_in_ok(&user).await;
    let (app, step, method_id) = system.add_authenticator_app(&first.access_token).await;
    // A second session that steps up: the password, then (after its revocation) a code.
    let password_only: Value = system
        .sign_in(&user.upn, &user.password)
        .await
        .json()
        .await
        .expect("json");
    let challenge: Value = system
        .post_json(
            "/api/v1/auth/mfa",
            &json!({ "challengeId": password_only["challengeId"], "methodId": method_id, "code": app.code(step + 1) }),
        )
        .await
        .json()
        .await
        .expect("json");
    let second = challenge["accessToken"].as_str().expect("a session").to_owned();
    let stepping_up: Value = system
        .request(
            Method::POST,
            "/api/v1/auth/reauthenticate",
            Some(&second),
            Some(&json!({ "password": user.password })),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(stepping_up["mfaRequired"], true, "{stepping_up}");

    let ended = system
        .request(
            Method::POST,
            "/api/v1/me/sessions/revoke-others",
            Some(&first.access_token),
            None,
        )
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    let finished = system
        .post_json(
            "/api/v1/auth/mfa",
            &json!({ "challengeId": stepping_up["challengeId"], "methodId": method_id, "code": app.code(step + 2) }),
        )
        .await;
    // Refused for the session, before the code is even looked at.
    let problem = myaccount_integration_tests::assert_problem(finished, StatusCode::UNAUTHORIZED).await;
    assert_eq!(problem["detail"], "this session has ended; sign in again", "{problem}");
}
