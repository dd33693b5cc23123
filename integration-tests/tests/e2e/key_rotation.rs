//! Rotating the token-signing key under load refuses nobody: with two identity replicas (one
//! signing, the other serving the JWKS the other services fetch), the new key is in every JWKS
//! before any token carries it.

use std::time::Duration;

use chrono::Utc;
use myaccount_identity::tokens::{TokenSettings, rotate_signing_key};
use myaccount_integration_tests::{SystemOptions, TestSystem};
use reqwest::StatusCode;
use serde_json::Value;

fn kid_of(access_token: &str) -> String {
    jsonwebtoken::decode_header(access_token)
        .expect("a JWT")
        .kid
        .expect("a kid")
}

#[tokio::test]
async fn rotating_the_signing_key_under_load_refuses_no_call() {
    let defaults = SystemOptions::default();
    // Replicas reload every second, so a rotation takes seven (two reloads and the verifiers'
    // five seconds between fetches) instead of two minutes.
    let tokens = TokenSettings {
        signing_keys_reload: Duration::from_secs(1),
        ..defaults.tokens.clone()
    };
    let system = TestSystem::spawn_with_options(SystemOptions {
        tokens: tokens.clone(),
        identity_replica_serves_jwks: true,
        ..defaults
    })
    .await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    let old_kid = kid_of(&session.access_token);
    let identity_db = sqlx::PgPool::connect(&system.identity_db.settings.url)
        .await
        .expect("identity's database");

    let mut refresh_token = session.refresh_token;
    let mut calls = 0;
    let mut with_new_key = 0;
    let mut rotation = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    // A person's app keeps working: fresh tokens, each used with two other services at once.
    while with_new_key < 10 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new key never signed ({calls} calls)"
        );
        let refreshed = system.refresh(&refresh_token).await;
        assert_eq!(refreshed.status(), StatusCode::OK, "refresh after {calls} calls");
        let body: Value = refreshed.json().await.expect("json");
        refresh_token = body["refreshToken"].as_str().expect("refreshToken").to_owned();
        let access_token = body["accessToken"].as_str().expect("accessToken").to_owned();
        let kid = kid_of(&access_token);
        let (devices, security_info) = tokio::join!(
            system.get("/api/v1/me/devices", &access_token),
            system.get("/api/v1/me/security-info", &access_token)
        );
        for (service, response) in [("devices", devices), ("security-info", security_info)] {
            assert_eq!(
                response.status(),
                StatusCode::OK,
                "{service} refused a token of key {kid} after {calls} calls (rotated: {rotation:?})"
            );
        }
        calls += 1;
        if calls == 5 {
            rotation = Some(
                rotate_signing_key(&identity_db, &tokens, Utc::now())
                    .await
                    .expect("rotates"),
            );
        }
        if let Some(rotated) = &rotation
            && kid == rotated.kid
        {
            with_new_key += 1;
        }
    }
    assert_ne!(rotation.map(|r| r.kid), Some(old_kid));
}
