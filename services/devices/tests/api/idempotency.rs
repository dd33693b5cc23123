//! Registering a device is a keyed call: sent again with the same idempotency key (its first
//! answer lost with the replica that served it), it answers the first registration and
//! registers nothing more.

use myaccount_proto::devices::v1 as pb;
use platform::idempotency::{IdempotencyKey, METADATA};
use platform::testing::row_count;
use tonic::Code;

use crate::helpers::*;

impl TestApp {
    async fn register_with_key(
        &self,
        token: &str,
        key: &str,
        request: pb::RegisterDeviceRequest,
    ) -> Result<pb::Device, tonic::Status> {
        let mut request = bearer(request, token);
        request
            .metadata_mut()
            .insert(METADATA, key.parse().expect("a metadata value"));
        Ok(self.devices.clone().register_device(request).await?.into_inner())
    }

    async fn devices_registered(&self) -> i64 {
        row_count(&self.db, "devices").await
    }

    async fn registered_events(&self) -> i64 {
        row_count(
            &self.db,
            "platform.outbox WHERE ce_type = 'myaccount.devices.v1.registered'",
        )
        .await
    }
}

#[tokio::test]
async fn the_same_key_twice_registers_one_device_and_answers_it_twice() {
    let app = spawn_app().await;
    let adele = app.new_user();
    let key = IdempotencyKey::generate();

    let first = app
        .register_with_key(&adele.token, key.as_str(), laptop("Work laptop"))
        .await
        .expect("registers");
    let again = app
        .register_with_key(&adele.token, key.as_str(), laptop("Work laptop"))
        .await
        .expect("answered again");

    assert_eq!(again, first, "the first answer, as it was");
    assert_eq!(app.devices_registered().await, 1);
    assert_eq!(app.registered_events().await, 1, "one event");
    // A new key is a new registration.
    let other = app
        .register_with_key(&adele.token, IdempotencyKey::generate().as_str(), laptop("Work laptop"))
        .await
        .expect("registers");
    assert_ne!(other.id, first.id);
    // The table holds neither the key nor the answer in clear.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT sealed_answer FROM platform.idempotent_calls LIMIT 1")
        .fetch_one(&app.db)
        .await
        .expect("a recorded call");
    assert!(
        !String::from_utf8_lossy(&stored).contains(&first.id),
        "the answer is sealed"
    );
}

#[tokio::test]
async fn attempts_of_one_call_at_the_same_moment_register_one_device() {
    let app = spawn_app().await;
    let adele = app.new_user();
    let key = IdempotencyKey::generate();

    let attempts = futures::future::join_all(
        (0..4).map(|_| app.register_with_key(&adele.token, key.as_str(), laptop("Work laptop"))),
    )
    .await;

    let ids: Vec<String> = attempts.into_iter().map(|a| a.expect("answered").id).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "one answer: {ids:?}");
    assert_eq!(app.devices_registered().await, 1);
    assert_eq!(app.registered_events().await, 1);
}

#[tokio::test]
async fn a_key_used_by_someone_else_or_for_another_request_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (adele, megan) = (app.new_user(), app.new_user());
    let key = IdempotencyKey::generate();
    app.register_with_key(&adele.token, key.as_str(), laptop("Work laptop"))
        .await
        .expect("registers");

    let someone_else = app
        .register_with_key(&megan.token, key.as_str(), laptop("Work laptop"))
        .await
        .expect_err("another caller");
    assert_eq!(someone_else.code(), Code::FailedPrecondition, "{someone_else:?}");
    assert!(platform::error::is_idempotency_key_reused(&someone_else));
    assert!(someone_else.message().contains("someone else"), "{someone_else:?}");

    let another_request = app
        .register_with_key(&adele.token, key.as_str(), laptop("Home laptop"))
        .await
        .expect_err("another request");
    assert!(platform::error::is_idempotency_key_reused(&another_request));
    assert!(
        another_request.message().contains("different request"),
        "{another_request:?}"
    );

    let malformed = app
        .register_with_key(&adele.token, "short", laptop("Work laptop"))
        .await
        .expect_err("a malformed key");
    assert_eq!(violated_fields(&malformed), vec![METADATA.to_owned()]);

    assert_eq!(app.devices_registered().await, 1, "nothing more registered");
    assert!(app.list(&megan.token).await.expect("megan's devices").is_empty());
}

#[tokio::test]
async fn an_answer_past_the_window_is_forgotten_and_the_key_registers_again() {
    let app = spawn_app().await;
    let adele = app.new_user();
    let key = IdempotencyKey::generate();
    let first = app
        .register_with_key(&adele.token, key.as_str(), laptop("Work laptop"))
        .await
        .expect("registers");
    let window = platform::idempotency::WINDOW.as_secs_f64();
    sqlx::query("UPDATE platform.idempotent_calls SET created_at = now() - make_interval(secs => $1 + 60)")
        .bind(window)
        .execute(&app.db)
        .await
        .expect("aged");

    let later = app
        .register_with_key(&adele.token, key.as_str(), laptop("Work laptop"))
        .await
        .expect("registers again");
    assert_ne!(later.id, first.id, "an expired answer is not given again");
    assert_eq!(app.devices_registered().await, 2);

    // The expired row was taken over by the new answer; age it again and it is deleted.
    sqlx::query("UPDATE platform.idempotent_calls SET created_at = now() - make_interval(secs => $1 + 60)")
        .bind(window)
        .execute(&app.db)
        .await
        .expect("aged");
    let mut conn = app.db.acquire().await.expect("a connection");
    let forgotten = platform::idempotency::forget_expired(&mut conn).await.expect("forgets");
    assert_eq!(forgotten, 1);
    assert_eq!(row_count(&app.db, "platform.idempotent_calls").await, 0);
}

#[tokio::test]
async fn erasing_a_person_forgets_the_answers_of_their_keyed_calls() {
    let app = spawn_app().await;
    let (adele, megan) = (app.new_user(), app.new_user());
    for user in [&adele, &megan] {
        app.register_with_key(&user.token, IdempotencyKey::generate().as_str(), laptop("Laptop"))
            .await
            .expect("registers");
    }

    let deleted = app.user_deleted(adele.id).await;
    app.wait_until_processed("devices_user_deleted", &deleted).await;

    let callers: Vec<String> = sqlx::query_scalar("SELECT caller FROM platform.idempotent_calls")
        .fetch_all(&app.db)
        .await
        .expect("recorded calls");
    assert_eq!(callers, vec![format!("user:{}", megan.id)], "only the other person's");
}
