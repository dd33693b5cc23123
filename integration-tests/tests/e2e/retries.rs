//! A call whose answer is lost with its connection (a replica killed between its commit and its
//! answer) is sent again by the gateway on a fresh connection, and a keyed write is still done
//! once: the service answers the second attempt with the first answer. A client's own
//! `Idempotency-Key` makes its repeated request answered once too.

use myaccount_integration_tests::{SystemOptions, TestSystem, assert_problem};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

async fn count(url: &str, query: &str, id: &str) -> i64 {
    let pool = PgPool::connect(url).await.expect("the database");
    let id = uuid::Uuid::parse_str(id).expect("an id");
    let n = sqlx::query_scalar(sqlx::AssertSqlSafe(query.to_owned()))
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("counted");
    pool.close().await;
    n
}

async fn with_droppers() -> TestSystem {
    TestSystem::spawn_with_options(SystemOptions {
        answer_droppers: true,
        ..SystemOptions::default()
    })
    .await
}

#[tokio::test]
async fn a_sign_in_whose_answer_died_with_its_connection_succeeds_once() {
    let system = with_droppers().await;
    let user = system.create_user().await;
    let droppers = system.answer_droppers.as_ref().expect("droppers");

    droppers.identity.drop_next_answer();
    let response = system.sign_in(&user.upn, &user.password).await;

    assert_eq!(droppers.identity.answers_dropped(), 1, "the first answer never came");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert!(body["accessToken"].is_string(), "{body}");
    let url = &system.identity_db.settings.url;
    assert_eq!(
        count(url, "SELECT count(*) FROM sessions WHERE user_id = $1", &user.id).await,
        1
    );
    assert_eq!(
        count(
            url,
            "SELECT count(*) FROM platform.outbox WHERE ce_type = 'myaccount.signin.v1.recorded' \
             AND ce_subject = $1::text",
            &user.id
        )
        .await,
        1,
        "one sign-in recorded"
    );
}

#[tokio::test]
async fn a_device_registration_whose_answer_died_with_its_connection_registers_one_device() {
    let system = with_droppers().await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    let droppers = system.answer_droppers.as_ref().expect("droppers");

    droppers.devices.drop_next_answer();
    let body = json!({ "displayName": "Laptop", "deviceType": "laptop", "operatingSystem": "Windows" });
    let response = system
        .request(
            Method::POST,
            "/api/v1/me/devices",
            Some(&session.access_token),
            Some(&body),
        )
        .await;

    assert_eq!(droppers.devices.answers_dropped(), 1);
    assert_eq!(response.status(), StatusCode::CREATED);
    let url = &system.devices_db.settings.url;
    assert_eq!(
        count(url, "SELECT count(*) FROM devices WHERE owner_id = $1", &user.id).await,
        1
    );
}

#[tokio::test]
async fn a_request_sent_again_with_its_idempotency_key_is_answered_once() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let other = system.create_user().await;
    let key = uuid::Uuid::new_v4().to_string();
    let sign_in = |upn: &str, password: &str, key: &str| {
        system
            .http
            .post(system.url("/api/v1/auth/sign-in"))
            .header("Idempotency-Key", key)
            .json(&json!({ "username": upn, "password": password }))
            .send()
    };

    let first: Value = sign_in(&user.upn, &user.password, &key)
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let again: Value = sign_in(&user.upn, &user.password, &key)
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(again["refreshToken"], first["refreshToken"], "the first answer again");
    let url = &system.identity_db.settings.url;
    assert_eq!(
        count(url, "SELECT count(*) FROM sessions WHERE user_id = $1", &user.id).await,
        1
    );

    let reused = sign_in(&other.upn, &other.password, &key).await.expect("answers");
    let problem = assert_problem(reused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["type"], "urn:myaccount:problem:idempotency-key-reused");
    assert_eq!(
        count(url, "SELECT count(*) FROM sessions WHERE user_id = $1", &other.id).await,
        0
    );

    let malformed = sign_in(&user.upn, &user.password, "short").await.expect("answers");
    let problem = assert_problem(malformed, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
}
