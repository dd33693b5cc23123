//! App passwords are for old apps only: a session opened with one says so (`amr ["app_pwd"]`,
//! scope `myaccount.read`), reads, and changes nothing anywhere; a password change ends them and
//! the sessions they opened.

use std::time::Duration;

use base64::Engine;
use myaccount_integration_tests::{TestSystem, TestUser, assert_problem};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

fn claims(access_token: &str) -> Value {
    let payload = access_token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

async fn create_app_password(system: &TestSystem, access_token: &str) -> String {
    let created: Value = system
        .request(
            Method::POST,
            "/api/v1/me/security-info/methods",
            Some(access_token),
            Some(&json!({ "type": "appPassword", "name": "Old mail client" })),
        )
        .await
        .json()
        .await
        .expect("json");
    created["password"].as_str().expect("shown once").to_owned()
}

async fn app_password_sign_in(system: &TestSystem, user: &TestUser, app_password: &str) -> Value {
    let response = system.sign_in(&user.upn, app_password).await;
    assert_eq!(response.status(), StatusCode::OK, "the app password signs in");
    response.json().await.expect("json")
}

#[tokio::test]
async fn an_app_password_session_reads_but_cannot_take_over_the_account() {
    let system = TestSystem::spawn().await;
    // A person without a second factor: a fresh sign-in is all a first factor needs.
    let user = system.create_user().await;
    let interactive = system.sign_in_ok(&user).await;
    let app_password = create_app_password(&system, &interactive.access_token).await;

    let legacy = app_password_sign_in(&system, &user, &app_password).await;
    let token = legacy["accessToken"].as_str().expect("token").to_owned();
    let claims = claims(&token);
    assert_eq!(claims["amr"], json!(["app_pwd"]));
    assert_eq!(claims["scope"], "myaccount.read");

    for path in [
        "/api/v1/me",
        "/api/v1/me/profile",
        "/api/v1/me/security-info",
        "/api/v1/me/sessions",
        "/api/v1/me/devices",
        "/api/v1/me/sign-ins",
    ] {
        assert_eq!(system.get(path, &token).await.status(), StatusCode::OK, "{path} reads");
    }

    let some_id = Uuid::new_v4();
    let changes: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            "/api/v1/me/security-info/methods".into(),
            json!({ "type": "authenticatorApp", "name": "Attacker's phone" }),
        ),
        (
            Method::POST,
            "/api/v1/me/security-info/methods".into(),
            json!({ "type": "appPassword", "name": "Another" }),
        ),
        (
            Method::POST,
            "/api/v1/me/security-info/methods".into(),
            json!({ "type": "recoveryCodes" }),
        ),
        (
            Method::POST,
            "/api/v1/me/password".into(),
            json!({ "currentPassword": app_password, "newPassword": "a brand new passphrase for mallory" }),
        ),
        (
            Method::PATCH,
            "/api/v1/me/profile".into(),
            json!({ "displayName": "Mallory" }),
        ),
        (Method::POST, "/api/v1/me/sessions/revoke-others".into(), json!({})),
        (Method::DELETE, format!("/api/v1/me/sessions/{some_id}"), json!({})),
        (Method::POST, format!("/api/v1/me/devices/{some_id}/disable"), json!({})),
        (
            Method::POST,
            format!("/api/v1/me/devices/{some_id}/recovery-keys/{some_id}/reveal"),
            json!({}),
        ),
        (Method::POST, "/api/v1/me/export".into(), json!({})),
        (
            Method::DELETE,
            "/api/v1/me".into(),
            json!({ "confirmUserPrincipalName": user.upn }),
        ),
        (
            Method::POST,
            "/api/v1/auth/reauthenticate".into(),
            json!({ "password": app_password }),
        ),
    ];
    for (method, path, body) in changes {
        let response = system.request(method.clone(), &path, Some(&token), Some(&body)).await;
        let problem = assert_problem(response, StatusCode::FORBIDDEN).await;
        assert_eq!(
            problem["type"], "urn:myaccount:problem:interactive-sign-in-required",
            "{method} {path}: {problem}"
        );
    }

    // Nothing changed: one method (the app password), one name, both sessions alive.
    let info: Value = system
        .get("/api/v1/me/security-info", &interactive.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(info["methods"].as_array().map(Vec::len), Some(1), "{info}");
    assert_eq!(
        system
            .get("/api/v1/me/profile", &interactive.access_token)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_password_change_ends_app_passwords_and_the_sessions_they_opened() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let interactive = system.sign_in_ok(&user).await;
    let app_password = create_app_password(&system, &interactive.access_token).await;
    let legacy = app_password_sign_in(&system, &user, &app_password).await;
    let legacy_token = legacy["accessToken"].as_str().expect("token").to_owned();

    let changed = system
        .request(
            Method::POST,
            "/api/v1/me/password",
            Some(&interactive.access_token),
            Some(&json!({
                "currentPassword": user.password,
                "newPassword": "an entirely new passphrase for adele",
                "endOtherSessions": false,
            })),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);

    // The app's session ends with the password, at once...
    let refused = system.get("/api/v1/me/profile", &legacy_token).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    // ...and the app password itself as soon as security-info hears of the change.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let status = system.sign_in(&user.upn, &app_password).await.status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(tokio::time::Instant::now() < deadline, "the app password still works");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The person's own session is untouched, and lists no app password any more.
    let info: Value = system
        .get("/api/v1/me/security-info", &interactive.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(info["methods"], json!([]), "{info}");
}
