use myaccount_proto::devices::v1 as pb;
use myaccount_proto::events::v1::{DeviceDeleted, DeviceDisabled, DeviceEnabled, DeviceRegistered, DeviceRenamed};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{assert_status, laptop, spawn_app, violated_fields};

#[tokio::test]
async fn a_person_registers_renames_and_deletes_a_personal_device() {
    let app = spawn_app().await;
    let adele = app.new_user();

    let registered = app.register_laptop(&adele, "  Adele's laptop ").await;
    assert_eq!(registered.display_name, "Adele's laptop", "trimmed");
    assert_eq!(
        registered.owner_user_id,
        adele.id.to_string(),
        "the caller's, from the token"
    );
    assert_eq!(registered.join_type, pb::JoinType::Registered as i32);
    assert_eq!(registered.device_type, pb::DeviceType::Laptop as i32);
    assert_eq!(registered.operating_system, "Windows");
    assert!(registered.enabled && !registered.managed && !registered.compliant);
    assert!(registered.registered_at.is_some());
    assert!(registered.last_activity_at.is_none(), "no sign-in from it yet");
    let phone = app
        .register(
            &adele.token,
            pb::RegisterDeviceRequest {
                display_name: "Pixel".into(),
                device_type: pb::DeviceType::Phone as i32,
                ..Default::default()
            },
        )
        .await
        .expect("a phone with only the required fields");

    let mine = app.list(&adele.token).await.expect("lists");
    assert_eq!(
        mine.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        [&phone.id, &registered.id],
        "newest first"
    );

    let renamed = app
        .rename(&adele.token, &registered.id, "Work laptop")
        .await
        .expect("renames");
    assert_eq!(renamed.display_name, "Work laptop");
    assert_eq!(
        app.get(&adele.token, &registered.id).await.expect("gets").display_name,
        "Work laptop"
    );

    app.delete(&adele.token, &registered.id).await.expect("deletes");
    let status = app.get(&adele.token, &registered.id).await.expect_err("gone");
    assert_status(&status, Code::NotFound, &format!("device {} not found", registered.id));
    assert_eq!(app.list(&adele.token).await.expect("lists").len(), 1);

    let registrations = app.await_published::<DeviceRegistered>(2).await;
    assert_eq!(registrations[0].device_id, registered.id);
    assert_eq!(registrations[0].user_id, adele.id.to_string());
    assert_eq!(registrations[0].join_type, "registered");
    let renames = app.await_published::<DeviceRenamed>(1).await;
    assert_eq!(renames[0].display_name, "Work laptop");
    let deletions = app.await_published::<DeviceDeleted>(1).await;
    assert_eq!(deletions[0].device_id, registered.id);
}

#[tokio::test]
async fn another_persons_device_is_not_found_whatever_is_asked() {
    let app = spawn_app().await;
    let adele = app.new_user();
    let mallory = app.new_user();
    let device = app.register_laptop(&adele, "Adele's laptop").await;
    app.add_key(&adele.token, &device.id, crate::helpers::RECOVERY_PASSWORD)
        .await
        .expect("escrowed");
    let unknown = Uuid::new_v4().to_string();

    for id in [&device.id, &unknown] {
        let not_found = format!("device {id} not found");
        assert_status(
            &app.get(&mallory.token, id).await.expect_err("get"),
            Code::NotFound,
            &not_found,
        );
        assert_status(
            &app.rename(&mallory.token, id, "mine now").await.expect_err("rename"),
            Code::NotFound,
            &not_found,
        );
        assert_status(
            &app.delete(&mallory.token, id).await.expect_err("delete"),
            Code::NotFound,
            &not_found,
        );
        assert_status(
            &app.disable(&mallory.token, id).await.expect_err("disable"),
            Code::NotFound,
            &not_found,
        );
        assert_status(
            &app.list_keys(&mallory.token, id).await.expect_err("keys"),
            Code::NotFound,
            &not_found,
        );
        let key_id = Uuid::new_v4().to_string();
        assert_status(
            &app.reveal(&mallory.token, id, &key_id).await.expect_err("reveal"),
            Code::NotFound,
            &not_found,
        );
        let added = app
            .add_key(&mallory.token, id, crate::helpers::OTHER_RECOVERY_PASSWORD)
            .await;
        assert_status(&added.expect_err("add key"), Code::NotFound, &not_found);
    }
    assert!(app.list(&mallory.token).await.expect("lists").is_empty());

    // Adele's device is exactly as it was.
    let after = app.get(&adele.token, &device.id).await.expect("still hers");
    assert_eq!(after.display_name, "Adele's laptop");
    assert!(after.enabled);
    assert_eq!(after.recovery_key_count, 1);
}

#[tokio::test]
async fn bad_input_names_every_field_and_registers_nothing() {
    let app = spawn_app().await;
    let adele = app.new_user();

    let request = pb::RegisterDeviceRequest {
        display_name: " ".into(),
        manufacturer: "m".repeat(200),
        operating_system: "Windows\u{7}".into(),
        device_type: 42,
        owner_user_id: Uuid::new_v4().to_string(),
        compliant: true,
        ..Default::default()
    };
    let status = app.register(&adele.token, request).await.expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&status),
        [
            "display_name",
            "manufacturer",
            "operating_system",
            "device_type",
            "owner_user_id",
            "compliant"
        ]
    );
    assert_eq!(app.device_count().await, 0);

    let device = app.register_laptop(&adele, "Adele's laptop").await;
    let status = app
        .rename(&adele.token, &device.id, &"x".repeat(300))
        .await
        .expect_err("too long");
    assert_eq!(violated_fields(&status), ["display_name"]);
    let status = app.get(&adele.token, "not-a-device").await.expect_err("malformed id");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["device_id"]);
    let status = app.reveal(&adele.token, "x", "y").await.expect_err("both malformed");
    assert_eq!(violated_fields(&status), ["device_id", "recovery_key_id"]);
    assert_eq!(
        app.get(&adele.token, &device.id).await.expect("unchanged").display_name,
        "Adele's laptop"
    );
}

#[tokio::test]
async fn organization_devices_are_registered_by_admins_and_stay_when_the_owner_tries_to_delete_them() {
    let app = spawn_app().await;
    let adele = app.new_user();
    let organization_device = pb::RegisterDeviceRequest {
        join_type: pb::JoinType::OrganizationJoined as i32,
        owner_user_id: adele.id.to_string(),
        organization_id: Uuid::new_v4().to_string(),
        compliant: true,
        ..laptop("CONTOSO-LT-042")
    };

    let status = app
        .register(&adele.token, organization_device.clone())
        .await
        .expect_err("not an admin");
    assert_status(
        &status,
        Code::PermissionDenied,
        "registering an organization-joined device needs the myaccount.admin scope",
    );
    assert_eq!(app.device_count().await, 0);

    let device = app
        .register(&app.admin_token(), organization_device)
        .await
        .expect("an admin joins it");
    assert_eq!(device.owner_user_id, adele.id.to_string());
    assert_eq!(device.join_type, pb::JoinType::OrganizationJoined as i32);
    assert!(device.managed && device.compliant);
    assert_eq!(
        app.list(&adele.token).await.expect("lists").len(),
        1,
        "Adele sees it as hers"
    );

    let status = app.delete(&adele.token, &device.id).await.expect_err("managed");
    assert_status(
        &status,
        Code::FailedPrecondition,
        &format!(
            "device {} is managed by your organization; only the organization can remove it",
            device.id
        ),
    );
    app.get(&adele.token, &device.id).await.expect("still there");
}

#[tokio::test]
async fn a_lost_device_is_disabled_once_and_only_an_admin_enables_it_again() {
    let app = spawn_app().await;
    let adele = app.new_user();
    let lost = app.register_laptop(&adele, "Lost laptop").await;
    let kept = app.register_laptop(&adele, "Desktop").await;

    let disabled = app.disable(&adele.token, &lost.id).await.expect("disables");
    assert!(!disabled.enabled);
    assert!(disabled.disabled_at.is_some());
    let again = app
        .disable(&adele.token, &lost.id)
        .await
        .expect("disabling twice is harmless");
    assert_eq!(again.disabled_at, disabled.disabled_at, "nothing changed");
    assert!(
        app.get(&adele.token, &kept.id).await.expect("gets").enabled,
        "only that device"
    );

    let events = app.await_published::<DeviceDisabled>(1).await;
    assert_eq!(events[0].device_id, lost.id);
    assert_eq!(events[0].user_id, adele.id.to_string());
    assert_eq!(events[0].actor_user_id, adele.id.to_string());
    assert_eq!(events[0].actor_session_id, adele.session_id.to_string());

    // Not reversible by the owner.
    let status = app.enable(&adele.token, &lost.id).await.expect_err("owners cannot");
    assert_status(
        &status,
        Code::PermissionDenied,
        "enabling a device needs the myaccount.admin scope",
    );
    assert!(!app.get(&adele.token, &lost.id).await.expect("gets").enabled);

    let admin = app.admin_token();
    let enabled = app.enable(&admin, &lost.id).await.expect("an admin can");
    assert!(enabled.enabled);
    assert!(enabled.disabled_at.is_none());
    app.enable(&admin, &lost.id).await.expect("enabling twice is harmless");
    let status = app
        .enable(&admin, &Uuid::new_v4().to_string())
        .await
        .expect_err("unknown");
    assert_eq!(status.code(), Code::NotFound);
    let events = app.await_published::<DeviceEnabled>(1).await;
    assert_eq!(events[0].device_id, lost.id);
}
