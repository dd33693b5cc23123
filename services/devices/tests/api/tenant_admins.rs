//! Tenant-bound administrators: an organization's admin acts only on the devices of that
//! organization (organization-joined ones, and its people's personal ones); another
//! organization's device or person answers NOT_FOUND, as an unknown one does, and nothing
//! changes. Every admin action needs a recent multi-factor sign-in.

use myaccount_proto::devices::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{RECOVERY_PASSWORD, TestApp, TestUser, laptop, spawn_app};

/// An organization-joined laptop of `owner` in `organization_id` (empty: the admin's own).
fn joined_laptop(owner: &TestUser, organization_id: &str) -> pb::RegisterDeviceRequest {
    pb::RegisterDeviceRequest {
        join_type: pb::JoinType::OrganizationJoined as i32,
        owner_user_id: owner.id.to_string(),
        organization_id: organization_id.into(),
        compliant: true,
        ..laptop("Work laptop")
    }
}

/// Two organizations, a person at home in each, each with a disabled personal laptop.
struct Tenants {
    contoso: Uuid,
    /// Lee's home.
    fabrikam: Uuid,
    ada: TestUser,
    lee: TestUser,
    adas_laptop: pb::Device,
    lees_laptop: pb::Device,
}

async fn tenants(app: &TestApp) -> Tenants {
    let (contoso, fabrikam) = (Uuid::new_v4(), Uuid::new_v4());
    let (ada, lee) = (app.new_user(), app.new_user());
    app.user_created(&ada, contoso).await;
    app.user_created(&lee, fabrikam).await;
    let adas_laptop = app.register_laptop(&ada, "Ada's laptop").await;
    let lees_laptop = app.register_laptop(&lee, "Lee's laptop").await;
    app.disable(&ada.token, &adas_laptop.id)
        .await
        .expect("Ada disables hers");
    app.disable(&lee.token, &lees_laptop.id)
        .await
        .expect("Lee disables his");
    Tenants {
        contoso,
        fabrikam,
        ada,
        lee,
        adas_laptop,
        lees_laptop,
    }
}

#[tokio::test]
async fn an_admin_of_one_organization_finds_no_device_or_person_of_another() {
    let app = spawn_app().await;
    let t = tenants(&app).await;
    let contoso_admin = app.issuer.admin_token_in(&t.contoso.to_string());
    let lees_joined = app
        .register(
            &app.issuer.admin_token_in(&t.fabrikam.to_string()),
            joined_laptop(&t.lee, ""),
        )
        .await
        .expect("Fabrikam's admin joins Lee's work laptop to Fabrikam");
    assert_eq!(
        lees_joined.organization_id,
        t.fabrikam.to_string(),
        "naming none means the admin's own"
    );
    let before = app.row_counts().await;

    for device in [&t.lees_laptop.id, &lees_joined.id] {
        let refusal = app.enable(&contoso_admin, device).await.expect_err("not Contoso's");
        assert_eq!(refusal.code(), Code::NotFound, "{refusal:?}");
        assert_eq!(refusal.message(), format!("device {device} not found"));
        let refusal = app
            .add_key(&contoso_admin, device, RECOVERY_PASSWORD)
            .await
            .expect_err("not Contoso's");
        assert_eq!(refusal.code(), Code::NotFound, "{refusal:?}");
    }
    let refusal = app
        .register(&contoso_admin, joined_laptop(&t.lee, &t.fabrikam.to_string()))
        .await
        .expect_err("Fabrikam is not Contoso's");
    assert_eq!(refusal.code(), Code::NotFound);
    assert_eq!(refusal.message(), format!("organization {} not found", t.fabrikam));
    let refusal = app
        .register(&contoso_admin, joined_laptop(&t.lee, ""))
        .await
        .expect_err("Lee is not Contoso's");
    assert_eq!(refusal.code(), Code::NotFound);
    assert_eq!(
        refusal.message(),
        format!("user {} not found in your organization", t.lee.id)
    );
    let stranger = app.new_user();
    let refusal = app
        .register(&contoso_admin, joined_laptop(&stranger, ""))
        .await
        .expect_err("a person identity never told devices about is nobody's in Contoso");
    assert_eq!(refusal.code(), Code::NotFound);

    assert_eq!(app.row_counts().await, before, "nothing changed");
    let lees = app.get(&t.lee.token, &t.lees_laptop.id).await.expect("Lee's");
    assert!(!lees.enabled, "still disabled");
    assert_eq!(lees.recovery_key_count, 0);

    // Inside Contoso the same admin does all of it.
    let enabled = app
        .enable(&contoso_admin, &t.adas_laptop.id)
        .await
        .expect("Ada is Contoso's");
    assert!(enabled.enabled);
    app.add_key(&contoso_admin, &t.adas_laptop.id, RECOVERY_PASSWORD)
        .await
        .expect("an admin escrows a key for a device of Contoso");
    let joined = app
        .register(
            &contoso_admin,
            joined_laptop(&t.ada, &t.contoso.to_string().to_uppercase()),
        )
        .await
        .expect("Ada's work laptop joins Contoso");
    assert_eq!(joined.owner_user_id, t.ada.id.to_string());
}

#[tokio::test]
async fn every_admin_action_on_devices_needs_a_recent_multi_factor_sign_in() {
    let app = spawn_app().await;
    let t = tenants(&app).await;
    let password_only = app.issuer.admin_token_without_mfa_in(&t.contoso.to_string());
    let mut stale_claims = app.issuer.claims_for(Uuid::new_v4());
    stale_claims.scope = Some(platform::auth::ADMIN_SCOPE.into());
    stale_claims.org = Some(t.contoso.to_string());
    stale_claims.amr = vec!["pwd".into(), "otp".into(), "mfa".into()];
    stale_claims.auth_time -= 3600;
    let stale = app.issuer.sign(&stale_claims);
    let before = app.row_counts().await;

    for token in [&password_only, &stale] {
        let refusals = [
            app.enable(token, &t.adas_laptop.id).await.expect_err("enable"),
            app.add_key(token, &t.adas_laptop.id, RECOVERY_PASSWORD)
                .await
                .expect_err("add a key"),
            app.register(token, joined_laptop(&t.ada, ""))
                .await
                .expect_err("register"),
        ];
        for refusal in refusals {
            assert_eq!(refusal.code(), Code::PermissionDenied, "{refusal:?}");
            assert!(platform::error::is_reauthentication_required(&refusal), "{refusal:?}");
        }
    }
    // Another organization's device is NOT_FOUND before any step-up is asked for.
    let refusal = app
        .enable(&password_only, &t.lees_laptop.id)
        .await
        .expect_err("not Contoso's");
    assert_eq!(refusal.code(), Code::NotFound);
    assert_eq!(app.row_counts().await, before, "nothing changed");
    assert!(!app.get(&t.ada.token, &t.adas_laptop.id).await.expect("Ada's").enabled);
}
