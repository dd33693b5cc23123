use chrono::Utc;
use myaccount_proto::devices::v1 as pb;
use prost::Message;
use tonic::{Code, Request};
use uuid::Uuid;

use crate::helpers::{OTHER_RECOVERY_PASSWORD, RECOVERY_PASSWORD, TestApp, TestUser, assert_status, laptop, spawn_app};

/// An organization-joined device of `owner`, enrolled by an admin.
fn joined_device(owner: &TestUser, name: &str) -> pb::RegisterDeviceRequest {
    pb::RegisterDeviceRequest {
        join_type: pb::JoinType::OrganizationJoined as i32,
        owner_user_id: owner.id.to_string(),
        organization_id: Uuid::new_v4().to_string(),
        compliant: true,
        ..laptop(name)
    }
}

/// A personal laptop with a recovery key, and an organization-joined desktop with another.
async fn devices_with_keys(app: &TestApp, user: &TestUser) -> (pb::Device, pb::Device) {
    let personal = app.register_laptop(user, "Personal laptop").await;
    app.add_key(&user.token, &personal.id, RECOVERY_PASSWORD)
        .await
        .expect("the owner escrows a key");
    let joined = app
        .register(&app.admin_token(), joined_device(user, "CONTOSO-DT-007"))
        .await
        .expect("an admin enrols it");
    app.add_key(&app.admin_token(), &joined.id, OTHER_RECOVERY_PASSWORD)
        .await
        .expect("an admin escrows a key");
    (personal, joined)
}

/// No recovery password, in any of the forms it is typed in, is anywhere in `export`.
#[track_caller]
fn assert_no_key_material(export: &pb::DevicesExport) {
    let shown = format!("{export:?}");
    let bytes = export.encode_to_vec();
    for password in [RECOVERY_PASSWORD, OTHER_RECOVERY_PASSWORD] {
        let digits = password.replace('-', "");
        for needle in [password.to_owned(), digits] {
            assert!(!shown.contains(&needle), "{needle} in {shown}");
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} in the encoded export"
            );
        }
    }
}

#[tokio::test]
async fn my_export_holds_my_devices_and_recovery_key_dates_never_a_key() {
    let app = spawn_app().await;
    let adele = app.new_user();
    let bob = app.new_user();
    let (personal, joined) = devices_with_keys(&app, &adele).await;
    let (bobs, _) = devices_with_keys(&app, &bob).await;
    let keys = app.list_keys(&adele.token, &personal.id).await.expect("lists");
    let revealed = app
        .reveal(&adele.mfa_token, &personal.id, &keys[0].id)
        .await
        .expect("revealed with a fresh second factor");
    assert_eq!(revealed.key, RECOVERY_PASSWORD, "the key is really stored");

    let export = app.export(&adele.token).await.expect("exported");

    assert_eq!(export.user_id, adele.id.to_string());
    assert!(export.exported_at.is_some());
    assert_eq!(
        export.devices,
        app.list(&adele.token).await.expect("lists"),
        "every device, as listed"
    );
    let mut ids: Vec<&str> = export.devices.iter().map(|d| d.id.as_str()).collect();
    ids.sort_unstable();
    let mut expected = [personal.id.as_str(), joined.id.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    let key_devices: Vec<&str> = export.recovery_keys.iter().map(|k| k.device_id.as_str()).collect();
    assert_eq!(key_devices, [joined.id.as_str(), personal.id.as_str()], "newest first");
    let personal_key = &export.recovery_keys[1];
    assert_eq!(personal_key.id, keys[0].id);
    assert!(personal_key.created_at.is_some());
    assert!(personal_key.last_revealed_at.is_some(), "when it was revealed");
    assert!(export.recovery_keys[0].last_revealed_at.is_none());
    assert_no_key_material(&export);
    let shown = format!("{export:?}");
    assert!(
        !shown.contains(&bob.id.to_string()) && !shown.contains(&bobs.id),
        "nothing of bob's"
    );

    let stranger = app.export(&app.new_user().token).await.expect("exported");
    assert!(stranger.devices.is_empty() && stranger.recovery_keys.is_empty());
}

#[tokio::test]
async fn an_export_without_a_token_is_unauthenticated() {
    let app = spawn_app().await;
    let adele = app.new_user();
    app.register_laptop(&adele, "Adele's laptop").await;

    let status = app
        .devices
        .clone()
        .export_my_data(Request::new(pb::ExportMyDataRequest {}))
        .await
        .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn a_deleted_account_is_erased_once_and_stays_erased() {
    let app = spawn_app().await;
    let adele = app.new_user();
    let bob = app.new_user();
    let (personal, joined) = devices_with_keys(&app, &adele).await;
    let personal_key = app.list_keys(&adele.token, &personal.id).await.expect("lists")[0].clone();
    devices_with_keys(&app, &bob).await;
    let bob_before = app.export(&bob.token).await.expect("exported");

    let deleted = app.user_deleted(adele.id).await;
    app.wait_until_processed("devices_user_deleted", &deleted).await;

    assert!(app.list(&adele.token).await.expect("lists").is_empty());
    let export = app.export(&adele.token).await.expect("exported");
    assert!(
        export.devices.is_empty() && export.recovery_keys.is_empty(),
        "{export:?}"
    );
    for device in [&personal, &joined] {
        let not_found = format!("device {} not found", device.id);
        let status = app.get(&adele.token, &device.id).await.expect_err("gone");
        assert_status(&status, Code::NotFound, &not_found);
        let status = app.list_keys(&adele.token, &device.id).await.expect_err("gone");
        assert_status(&status, Code::NotFound, &not_found);
        let status = app.rename(&adele.token, &device.id, "Mine").await.expect_err("gone");
        assert_status(&status, Code::NotFound, &not_found);
        let status = app.disable(&adele.token, &device.id).await.expect_err("gone");
        assert_status(&status, Code::NotFound, &not_found);
        let status = app.delete(&adele.token, &device.id).await.expect_err("gone");
        assert_status(&status, Code::NotFound, &not_found);
        let status = app.enable(&app.admin_token(), &device.id).await.expect_err("gone");
        assert_status(&status, Code::NotFound, &not_found);
        let status = app
            .add_key(&app.admin_token(), &device.id, RECOVERY_PASSWORD)
            .await
            .expect_err("gone");
        assert_status(&status, Code::NotFound, &not_found);
    }
    let status = app
        .reveal(&adele.mfa_token, &personal.id, &personal_key.id)
        .await
        .expect_err("gone");
    assert_status(&status, Code::NotFound, &format!("device {} not found", personal.id));
    let mut bob_now = app.export(&bob.token).await.expect("exported");
    bob_now.exported_at = bob_before.exported_at;
    assert_eq!(bob_now, bob_before, "bob's devices and keys are untouched");
    let counts = app.row_counts().await;
    assert_eq!((counts.devices, counts.recovery_keys, counts.erased_users), (2, 2, 1));

    // Delivered again (the same event, then another one), a late sign-in from adele's laptop, or
    // a late enrolment: nothing comes back.
    app.publish(
        &deleted,
        &myaccount_proto::events::v1::UserDeleted {
            user_id: adele.id.to_string(),
            time: None,
        },
    )
    .await;
    let again = app.user_deleted(adele.id).await;
    app.wait_until_processed("devices_user_deleted", &again).await;
    let sign_in = app.sign_in_from(adele.id, &personal.id, Utc::now()).await;
    app.wait_until_processed("devices_recorded", &sign_in).await;
    let gone = format!("user {} has been deleted", adele.id);
    let status = app
        .register(&adele.token, laptop("New laptop"))
        .await
        .expect_err("the account is gone");
    assert_status(&status, Code::FailedPrecondition, &gone);
    let status = app
        .register(&app.admin_token(), joined_device(&adele, "CONTOSO-LT-099"))
        .await
        .expect_err("the account is gone");
    assert_status(&status, Code::FailedPrecondition, &gone);
    assert_eq!(app.row_counts().await, counts, "nothing changed");
    assert!(app.list(&adele.token).await.expect("lists").is_empty());
}
