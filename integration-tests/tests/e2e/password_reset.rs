//! "Forgot my password?" end to end: a person proves a registered method (an emailed code, or
//! two methods when that is the setting), chooses a new password, and every session and app
//! password of theirs ends, every registered email address is told, and "My sign-ins" and the
//! activity log show it. The start answers alike for a name without an account, expired flows
//! and bad input change nothing, and wrong answers are throttled like sign-in.

use std::time::{Duration, Instant};

use myaccount_integration_tests::{SystemOptions, TestSystem, TestUser, assert_problem};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

const NEW_PASSWORD: &str = "marigold tundra copper whistle";

async fn start_reset(system: &TestSystem, username: &str) -> Value {
    let response = system
        .post_json("/api/v1/auth/password-reset", &json!({ "username": username }))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "a flow for {username}");
    response.json().await.expect("json")
}

async fn reset_step(system: &TestSystem, flow: &Value, step: &str, body: Value) -> reqwest::Response {
    let flow_id = flow["flowId"].as_str().expect("flowId");
    system
        .post_json(&format!("/api/v1/auth/password-reset/{flow_id}/{step}"), &body)
        .await
}

fn method_of<'a>(flow: &'a Value, kind: &str) -> &'a str {
    flow["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .find(|m| m["type"] == kind)
        .and_then(|m| m["id"].as_str())
        .unwrap_or_else(|| panic!("a {kind} method in {flow}"))
}

/// Adds an email address to the person's security info and verifies it with the code sent.
async fn add_verified_email(system: &TestSystem, access_token: &str, address: &str) {
    let added = system
        .request(
            Method::POST,
            "/api/v1/me/security-info/methods",
            Some(access_token),
            Some(&json!({ "type": "email", "address": address })),
        )
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let added: Value = added.json().await.expect("json");
    let method_id = added["methodId"].as_str().expect("methodId");
    let code = system.code_sent_to(address, 0).await;
    let verified = system
        .request(
            Method::POST,
            &format!("/api/v1/me/security-info/methods/{method_id}/verify"),
            Some(access_token),
            Some(&json!({ "code": code })),
        )
        .await;
    assert_eq!(verified.status(), StatusCode::OK, "the address is verified");
}

/// Signs in with the password and the emailed code (the `nth` code sent to `address`).
async fn sign_in_with_email(system: &TestSystem, user: &TestUser, address: &str, nth: usize) -> String {
    let first: Value = system
        .sign_in(&user.upn, &user.password)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(first["mfaRequired"], true, "{first}");
    let method = first["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .find(|m| m["type"] == "email")
        .expect("the email method")["id"]
        .clone();
    let started = system
        .post_json(
            "/api/v1/auth/mfa/start",
            &json!({ "challengeId": first["challengeId"], "methodId": method }),
        )
        .await;
    assert_eq!(started.status(), StatusCode::OK);
    let code = system.code_sent_to(address, nth).await;
    let tokens: Value = system
        .post_json(
            "/api/v1/auth/mfa",
            &json!({ "challengeId": first["challengeId"], "methodId": method, "code": code }),
        )
        .await
        .json()
        .await
        .expect("json");
    tokens["accessToken"].as_str().expect("tokens").to_owned()
}

fn unique_address() -> String {
    format!("reset-{}@example.org", &Uuid::new_v4().simple().to_string()[..12])
}

#[tokio::test]
async fn an_emailed_code_resets_the_password_and_ends_everything_the_old_one_opened() {
    let system = TestSystem::spawn().await;
    let mut user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    let app_password: Value = system
        .request(
            Method::POST,
            "/api/v1/me/security-info/methods",
            Some(&session.access_token),
            Some(&json!({ "type": "appPassword", "name": "Old mail client" })),
        )
        .await
        .json()
        .await
        .expect("json");
    let app_password = app_password["password"].as_str().expect("shown once").to_owned();
    let address = unique_address();
    add_verified_email(&system, &session.access_token, &address).await;

    let flow = start_reset(&system, &user.upn).await;
    assert_eq!(flow["methodsRequired"], 1, "{flow}");
    let email = method_of(&flow, "email");
    let started = reset_step(&system, &flow, "start", json!({ "methodId": email })).await;
    assert_eq!(started.status(), StatusCode::OK);
    let started: Value = started.json().await.expect("json");
    assert!(
        started["sentTo"].as_str().expect("sentTo").ends_with("@example.org"),
        "{started}"
    );
    let code = system.code_sent_to(&address, 1).await;

    // A wrong code and a weak password are refused and change nothing.
    let wrong = reset_step(&system, &flow, "verify", json!({ "methodId": email, "code": "000000" })).await;
    let problem = assert_problem(wrong, StatusCode::UNAUTHORIZED).await;
    assert_eq!(problem["type"], "urn:myaccount:problem:unauthenticated");
    let early = reset_step(&system, &flow, "password", json!({ "newPassword": NEW_PASSWORD })).await;
    let problem = assert_problem(early, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["type"], "urn:myaccount:problem:failed-precondition");

    let proven = reset_step(&system, &flow, "verify", json!({ "methodId": email, "code": code })).await;
    assert_eq!(proven.status(), StatusCode::OK);
    let proven: Value = proven.json().await.expect("json");
    assert_eq!(proven, json!({ "methodsRequired": 0, "provenMethodIds": [email] }));
    let weak = reset_step(&system, &flow, "password", json!({ "newPassword": "password1" })).await;
    let problem = assert_problem(weak, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["type"], "urn:myaccount:problem:validation-error");
    assert_eq!(problem["errors"][0]["field"], "newPassword");
    assert_eq!(system.sign_in(&user.upn, &user.password).await.status(), StatusCode::OK);

    let done = reset_step(&system, &flow, "password", json!({ "newPassword": NEW_PASSWORD })).await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);

    // Every session ended, the old password and the app password with them.
    let refused = system.get("/api/v1/me/profile", &session.access_token).await;
    let problem = assert_problem(refused, StatusCode::UNAUTHORIZED).await;
    assert_eq!(problem["type"], "urn:myaccount:problem:session-revoked");
    assert_eq!(problem["reason"], "password_reset");
    assert_eq!(
        system.refresh(&session.refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        system.sign_in(&user.upn, &user.password).await.status(),
        StatusCode::UNAUTHORIZED
    );
    platform::testing::eventually(Duration::from_secs(20), || async {
        system.sign_in(&user.upn, &app_password).await.status() == StatusCode::UNAUTHORIZED
    })
    .await;
    // The flow is spent.
    let again = reset_step(
        &system,
        &flow,
        "password",
        json!({ "newPassword": "another quite fine password" }),
    )
    .await;
    assert_problem(again, StatusCode::NOT_FOUND).await;

    // Every registered address is told.
    platform::testing::eventually(Duration::from_secs(20), || async {
        system
            .notifications()
            .await
            .iter()
            .any(|n| n.recipient == address && n.template == "password_reset")
    })
    .await;

    // The new password signs in; "My sign-ins" and the activity log show the reset.
    user.password = NEW_PASSWORD.to_owned();
    let token = sign_in_with_email(&system, &user, &address, 2).await;
    platform::testing::eventually(Duration::from_secs(20), || async {
        system
            .all_sign_ins(&token, 50)
            .await
            .iter()
            .any(|s| s["status"] == "success" && s["sessionId"] == "" && s["authenticationMethods"] == json!(["otp"]))
    })
    .await;
    let failures = system.all_sign_ins(&token, 50).await;
    assert!(
        failures
            .iter()
            .any(|s| s["status"] == "failure" && s["failureReason"] == "second_factor_failed"),
        "the wrong code is in the log too: {failures:?}"
    );
    platform::testing::eventually(Duration::from_secs(20), || async {
        let activity: Value = system
            .get("/api/v1/me/activity", &token)
            .await
            .json()
            .await
            .expect("json");
        activity["items"].as_array().is_some_and(|items| {
            items.iter().any(|a| {
                a["category"] == "password"
                    && a["summary"]
                        .as_str()
                        .is_some_and(|s| s.starts_with("Password reset with \"Forgot my password?\" (email)"))
            })
        })
    })
    .await;
}

#[tokio::test]
async fn with_two_methods_required_one_proof_is_not_enough() {
    let defaults = SystemOptions::default();
    let system = TestSystem::spawn_with_options(SystemOptions {
        sign_in: myaccount_identity::SignInSettings {
            reset_methods_required: 2,
            ..defaults.sign_in
        },
        ..defaults
    })
    .await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    let address = unique_address();
    add_verified_email(&system, &session.access_token, &address).await;
    // A second method needs a multi-factor session.
    let mfa_token = sign_in_with_email(&system, &user, &address, 1).await;
    let (app, step, _) = system.add_authenticator_app(&mfa_token).await;

    let flow = start_reset(&system, &user.upn).await;
    assert_eq!(flow["methodsRequired"], 2, "{flow}");
    assert_eq!(flow["methods"].as_array().expect("methods").len(), 2, "{flow}");
    let email = method_of(&flow, "email");
    let totp = method_of(&flow, "authenticatorApp");

    assert_eq!(
        reset_step(&system, &flow, "start", json!({ "methodId": email }))
            .await
            .status(),
        StatusCode::OK
    );
    let code = system.code_sent_to(&address, 2).await;
    let progress: Value = reset_step(&system, &flow, "verify", json!({ "methodId": email, "code": code }))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(progress["methodsRequired"], 1, "{progress}");
    let early = reset_step(&system, &flow, "password", json!({ "newPassword": NEW_PASSWORD })).await;
    let problem = assert_problem(early, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["type"], "urn:myaccount:problem:failed-precondition");
    assert!(
        problem["detail"].as_str().expect("detail").contains("1 more"),
        "{problem}"
    );

    // An authenticator app needs nothing sent: its start answers `{}`.
    let started: Value = reset_step(&system, &flow, "start", json!({ "methodId": totp }))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(started, json!({}));
    let progress: Value = reset_step(
        &system,
        &flow,
        "verify",
        // Each time step is accepted once: the next one after the app's verification.
        json!({ "methodId": totp, "code": app.code(step + 1) }),
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(progress["methodsRequired"], 0, "{progress}");
    let done = reset_step(&system, &flow, "password", json!({ "newPassword": NEW_PASSWORD })).await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    let refused = system.get("/api/v1/me/profile", &mfa_token).await;
    assert_problem(refused, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_name_without_an_account_gets_the_same_answer_and_a_flow_that_never_completes() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    add_verified_email(&system, &session.access_token, &unique_address()).await;
    let stranger = format!("nobody-{}@test.example", Uuid::new_v4().simple());

    let known = start_reset(&system, &user.upn).await;
    let unknown = start_reset(&system, &stranger).await;
    let shape = |flow: &Value| {
        let mut keys: Vec<String> = flow.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        let methods: Vec<(String, Vec<String>)> = flow["methods"]
            .as_array()
            .expect("methods")
            .iter()
            .map(|m| {
                let mut keys: Vec<String> = m.as_object().expect("object").keys().cloned().collect();
                keys.sort();
                (m["type"].as_str().expect("type").to_owned(), keys)
            })
            .collect();
        (keys, methods, flow["methodsRequired"].clone())
    };
    assert_eq!(shape(&known), shape(&unknown));

    // About as long, too: the medians of a few starts each.
    let mut medians = Vec::new();
    for name in [user.upn.as_str(), stranger.as_str()] {
        let mut times = Vec::new();
        for _ in 0..7 {
            let started = Instant::now();
            start_reset(&system, name).await;
            times.push(started.elapsed());
        }
        times.sort();
        medians.push(times[3]);
    }
    let gap = medians[0].abs_diff(medians[1]);
    assert!(gap < Duration::from_millis(150), "medians {medians:?}");

    // The stand-in answers like a real method and is never right.
    let method = method_of(&unknown, "email");
    let started = reset_step(&system, &unknown, "start", json!({ "methodId": method })).await;
    assert_eq!(started.status(), StatusCode::OK);
    let started: Value = started.json().await.expect("json");
    assert!(started["sentTo"].as_str().is_some(), "{started}");
    let wrong = reset_step(
        &system,
        &unknown,
        "verify",
        json!({ "methodId": method, "code": "123456" }),
    )
    .await;
    assert_problem(wrong, StatusCode::UNAUTHORIZED).await;
    let never = reset_step(&system, &unknown, "password", json!({ "newPassword": NEW_PASSWORD })).await;
    assert_problem(never, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn expired_unknown_and_malformed_requests_change_nothing() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    let address = unique_address();
    add_verified_email(&system, &session.access_token, &address).await;
    let flow = start_reset(&system, &user.upn).await;
    let email = method_of(&flow, "email");

    let malformed = system
        .http
        .post(system.url("/api/v1/auth/password-reset"))
        .header("content-type", "application/json")
        .body("{\"username\":")
        .send()
        .await
        .expect("answers");
    assert_problem(malformed, StatusCode::BAD_REQUEST).await;
    let unknown_field = system
        .post_json(
            "/api/v1/auth/password-reset",
            &json!({ "username": user.upn, "admin": true }),
        )
        .await;
    assert_problem(unknown_field, StatusCode::BAD_REQUEST).await;
    let unknown_flow = system
        .post_json(
            &format!("/api/v1/auth/password-reset/{}/verify", Uuid::new_v4()),
            &json!({ "methodId": email, "code": "123456" }),
        )
        .await;
    let problem = assert_problem(unknown_flow, StatusCode::NOT_FOUND).await;
    assert_eq!(problem["type"], "urn:myaccount:problem:not-found");
    let other_method = reset_step(
        &system,
        &flow,
        "verify",
        json!({ "methodId": Uuid::new_v4(), "code": "123456" }),
    )
    .await;
    let problem = assert_problem(other_method, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["errors"][0]["field"], "methodId");
    let not_a_flow = system
        .post_json("/api/v1/auth/password-reset/nope/start", &json!({ "methodId": email }))
        .await;
    let problem = assert_problem(not_a_flow, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["errors"][0]["field"], "flowId");

    // The code is right, but the flow has expired.
    reset_step(&system, &flow, "start", json!({ "methodId": email })).await;
    let code = system.code_sent_to(&address, 1).await;
    let pool = sqlx::PgPool::connect(&system.identity_db.settings.url)
        .await
        .expect("identity's database");
    sqlx::query("UPDATE password_resets SET expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .expect("expire the flow");
    let late = reset_step(&system, &flow, "verify", json!({ "methodId": email, "code": code })).await;
    let problem = assert_problem(late, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["type"], "urn:myaccount:problem:failed-precondition");
    let late = reset_step(&system, &flow, "password", json!({ "newPassword": NEW_PASSWORD })).await;
    assert_problem(late, StatusCode::BAD_REQUEST).await;

    assert_eq!(
        system.get("/api/v1/me/profile", &session.access_token).await.status(),
        StatusCode::OK
    );
    assert_eq!(system.sign_in(&user.upn, &user.password).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_answers_are_throttled_like_sign_in() {
    let defaults = SystemOptions::default();
    // A first lock-out far longer than the test, so whether a call lands inside it never
    // depends on how loaded the machine is.
    let system = TestSystem::spawn_with_options(SystemOptions {
        sign_in: myaccount_identity::SignInSettings {
            lockout_base: Duration::from_secs(60),
            ..defaults.sign_in
        },
        ..defaults
    })
    .await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    add_verified_email(&system, &session.access_token, &unique_address()).await;

    let flow = start_reset(&system, &user.upn).await;
    let email = method_of(&flow, "email");
    for _ in 0..5 {
        let wrong = reset_step(&system, &flow, "verify", json!({ "methodId": email, "code": "000000" })).await;
        assert_problem(wrong, StatusCode::UNAUTHORIZED).await;
    }
    // A new flow does not start the count again: the name is locked out from this address.
    let fresh = start_reset(&system, &user.upn).await;
    let throttled = reset_step(
        &system,
        &fresh,
        "verify",
        json!({ "methodId": method_of(&fresh, "email"), "code": "000000" }),
    )
    .await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry_after > 1, "{retry_after}");
    let problem: Value = throttled.json().await.expect("json");
    assert_eq!(problem["type"], "urn:myaccount:problem:too-many-requests");
}
