//! Sign-in is a keyed call: the gateway sends it again with the same idempotency key when the
//! replica serving it went away, and the second attempt gets the first answer (the same tokens,
//! the same refusal) with one session, one record and one count on the throttle.

use myaccount_proto::identity::v1 as pb;
use platform::idempotency::{IdempotencyKey, METADATA};
use platform::testing::row_count;
use tonic::{Code, Request, Status};

use crate::helpers::*;

impl TestApp {
    async fn sign_in_keyed(
        &self,
        key: &IdempotencyKey,
        upn: &str,
        password: &str,
    ) -> Result<pb::SignInResponse, Status> {
        let mut request = Request::new(pb::SignInRequest {
            username: upn.into(),
            password: password.into(),
            client: Some(pb::ClientContext {
                ip_address: "127.0.0.1".into(),
                ..Default::default()
            }),
            ..Default::default()
        });
        request
            .metadata_mut()
            .insert(METADATA, key.as_str().parse().expect("a metadata value"));
        Ok(self.client().sign_in(request).await?.into_inner())
    }

    async fn sessions_of(&self, user: &TestUser) -> i64 {
        row_count(&self.db, &format!("sessions WHERE user_id = '{}'", user.id)).await
    }

    async fn sign_ins_recorded_for(&self, user: &TestUser) -> i64 {
        row_count(
            &self.db,
            &format!(
                "platform.outbox WHERE ce_type = '{SIGN_IN_RECORDED}' AND ce_subject = '{}'",
                user.id
            ),
        )
        .await
    }
}

#[tokio::test]
async fn a_sign_in_sent_twice_with_one_key_opens_one_session_and_answers_the_same_tokens() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let key = IdempotencyKey::generate();

    let first = app
        .sign_in_keyed(&key, &user.upn, &user.password)
        .await
        .expect("signs in");
    let again = app
        .sign_in_keyed(&key, &user.upn, &user.password)
        .await
        .expect("answered again");

    assert_eq!(again, first, "the very tokens of the first answer");
    assert_eq!(app.sessions_of(&user).await, 1);
    assert_eq!(app.sign_ins_recorded_for(&user).await, 1, "one sign-in in the log");
    // The stored answer holds the tokens sealed, never in clear.
    let Some(pb::sign_in_response::Result::Tokens(tokens)) = first.result else {
        panic!("tokens: {first:?}")
    };
    let stored: Vec<u8> = sqlx::query_scalar("SELECT sealed_answer FROM platform.idempotent_calls")
        .fetch_one(&app.db)
        .await
        .expect("one recorded call");
    let stored = String::from_utf8_lossy(&stored);
    assert!(!stored.contains(&tokens.refresh_token) && !stored.contains(&tokens.access_token));
}

#[tokio::test]
async fn attempts_of_one_sign_in_at_the_same_moment_open_one_session() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let key = IdempotencyKey::generate();

    let attempts = futures::future::join_all((0..3).map(|_| app.sign_in_keyed(&key, &user.upn, &user.password))).await;

    let answers: Vec<pb::SignInResponse> = attempts.into_iter().map(|a| a.expect("answered")).collect();
    assert!(answers.iter().all(|a| *a == answers[0]), "one answer");
    assert_eq!(app.sessions_of(&user).await, 1);
    assert_eq!(app.sign_ins_recorded_for(&user).await, 1);
}

#[tokio::test]
async fn a_wrong_password_sent_twice_with_one_key_is_counted_and_recorded_once() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let key = IdempotencyKey::generate();

    for _ in 0..2 {
        let refused = app
            .sign_in_keyed(&key, &user.upn, "not the password at all")
            .await
            .expect_err("a wrong password");
        assert_status(&refused, Code::Unauthenticated, INVALID_CREDENTIALS);
    }
    assert_eq!(
        app.sign_ins_recorded_for(&user).await,
        1,
        "one failed attempt in the log"
    );
    let failures: i32 = sqlx::query_scalar("SELECT coalesce(max(failures), 0) FROM sign_in_throttle")
        .fetch_one(&app.db)
        .await
        .expect("the throttle");
    assert_eq!(failures, 1, "one failure counted");
}

#[tokio::test]
async fn one_key_for_another_sign_in_is_refused_and_signs_nobody_in() {
    let app = spawn_app().await;
    let adele = app.create_test_user("adele.vance@contoso.example").await;
    let megan = app.create_test_user("megan.bowen@contoso.example").await;
    let key = IdempotencyKey::generate();
    app.sign_in_keyed(&key, &adele.upn, &adele.password)
        .await
        .expect("signs in");

    let reused = app
        .sign_in_keyed(&key, &megan.upn, &megan.password)
        .await
        .expect_err("the key of another sign-in");
    assert_eq!(reused.code(), Code::FailedPrecondition);
    assert!(platform::error::is_idempotency_key_reused(&reused), "{reused:?}");
    assert_eq!(app.sessions_of(&megan).await, 0);
    assert_eq!(app.sign_ins_recorded_for(&megan).await, 0);
}
