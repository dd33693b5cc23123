use myaccount_proto::devices::v1 as pb;
use myaccount_proto::events::v1::{RecoveryKeyAdded, RecoveryKeyViewDenied, RecoveryKeyViewed};
use tonic::Code;

use crate::helpers::{OTHER_RECOVERY_PASSWORD, RECOVERY_PASSWORD, spawn_app, violated_fields};

#[tokio::test]
async fn recovery_keys_are_sealed_at_rest_and_listed_without_the_key() {
    let app = spawn_app().await;
    let adele = app.new_user();
    let device = app.register_laptop(&adele, "Adele's laptop").await;

    let first = app
        .add_key(
            &adele.token,
            &device.id,
            "111111 222222 333333 444444 555555 666666 000000 010010",
        )
        .await
        .expect("the owner escrows a key");
    let second = app
        .add_key(&app.admin_token(), &device.id, OTHER_RECOVERY_PASSWORD)
        .await
        .expect("an admin too");
    assert_eq!(first.volume_type, pb::VolumeType::OperatingSystem as i32);
    assert!(first.last_revealed_at.is_none());

    let listed = app.list_keys(&adele.token, &device.id).await.expect("lists");
    assert_eq!(
        listed.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
        [&second.id, &first.id],
        "newest first"
    );
    assert_eq!(
        app.get(&adele.token, &device.id)
            .await
            .expect("gets")
            .recovery_key_count,
        2
    );

    let sealed = app.stored_ciphertext(&first.id).await;
    let digits = RECOVERY_PASSWORD.replace('-', "");
    let as_text = String::from_utf8_lossy(&sealed);
    assert!(
        !as_text.contains("111111") && !as_text.contains(&digits),
        "not stored in the clear"
    );
    assert_eq!(
        platform::crypto::key_id_of(&sealed),
        Ok("test1"),
        "names the key that sealed it"
    );

    let added = app.await_published::<RecoveryKeyAdded>(2).await;
    assert_eq!(added[0].recovery_key_id, first.id);
    assert!(!added[1].actor_user_id.is_empty(), "who escrowed it");
}

#[tokio::test]
async fn a_bad_key_or_a_disabled_device_adds_nothing() {
    let app = spawn_app().await;
    let adele = app.new_user();
    let device = app.register_laptop(&adele, "Adele's laptop").await;

    let status = app
        .add_key(
            &adele.token,
            &device.id,
            "123456-222222-333333-444444-555555-666666-000000-010010",
        )
        .await
        .expect_err("a typo");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["key"]);
    let status = app
        .devices
        .clone()
        .add_recovery_key(crate::helpers::bearer(
            pb::AddRecoveryKeyRequest {
                device_id: device.id.clone(),
                volume_type: 0,
                key: "short".into(),
            },
            &adele.token,
        ))
        .await
        .expect_err("two bad fields");
    assert_eq!(violated_fields(&status), ["volume_type", "key"]);

    app.disable(&adele.token, &device.id).await.expect("disabled");
    let status = app
        .add_key(&adele.token, &device.id, RECOVERY_PASSWORD)
        .await
        .expect_err("disabled");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(status.message(), format!("device {} is disabled", device.id));
    assert!(app.list_keys(&adele.token, &device.id).await.expect("lists").is_empty());
}

#[tokio::test]
async fn revealing_a_key_needs_a_recent_multi_factor_sign_in_and_every_attempt_is_published() {
    let app = spawn_app().await;
    let adele = app.new_user();
    let device = app.register_laptop(&adele, "Adele's laptop").await;
    let key = app
        .add_key(&adele.token, &device.id, RECOVERY_PASSWORD)
        .await
        .expect("escrowed");

    // A password-only sign-in, and a multi-factor one from an hour ago, are both refused.
    for token in [&adele.token, &adele.stale_mfa_token] {
        let status = app
            .reveal(token, &device.id, &key.id)
            .await
            .expect_err("step-up needed");
        assert_eq!(status.code(), Code::PermissionDenied);
        assert!(platform::error::is_reauthentication_required(&status), "{status:?}");
        assert!(status.message().contains("second factor"), "{}", status.message());
    }
    let listed = app.list_keys(&adele.token, &device.id).await.expect("lists");
    assert!(listed[0].last_revealed_at.is_none(), "refusals reveal nothing");

    let revealed = app
        .reveal(&adele.mfa_token, &device.id, &key.id)
        .await
        .expect("a fresh MFA sign-in may");
    assert_eq!(revealed.key, RECOVERY_PASSWORD);
    assert!(
        revealed
            .recovery_key
            .expect("the key's metadata")
            .last_revealed_at
            .is_some()
    );

    let denied = app.await_published::<RecoveryKeyViewDenied>(2).await;
    assert!(
        denied
            .iter()
            .all(|e| e.recovery_key_id == key.id && e.user_id == adele.id.to_string())
    );
    assert!(denied.iter().all(|e| e.reason == "reauthentication_required"));
    assert_eq!(denied[0].session_id, adele.session_id.to_string());
    let viewed = app.await_published::<RecoveryKeyViewed>(1).await;
    assert_eq!(viewed[0].device_id, device.id);
    assert_eq!(viewed[0].session_id, adele.session_id.to_string());

    // An unknown key of her own device is not found, and nothing is published for it.
    let missing = uuid::Uuid::new_v4().to_string();
    let status = app
        .reveal(&adele.mfa_token, &device.id, &missing)
        .await
        .expect_err("unknown key");
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(status.message(), format!("recovery key {missing} not found"));
    assert_eq!(app.published::<RecoveryKeyViewed>().await.len(), 1);
}
