use myaccount_proto::events::v1::UserCreated;
use myaccount_proto::organizations::v1 as pb;
use platform::auth::ADMIN_SCOPE;
use uuid::Uuid;

use crate::helpers::{TestApp, TestUser, spawn_app};

/// An admin whose account organizations knows (so its name shows as the inviter).
async fn known_admin(app: &TestApp, home: Uuid) -> (TestUser, String) {
    let admin = app.user_created("admin@contoso.example", Some(home)).await;
    let mut claims = app.issuer.claims_for(admin.id);
    claims.scope = Some(ADMIN_SCOPE.into());
    // The installation's operator (no organization in the token), signed in with a second factor.
    claims.amr = vec!["pwd".into(), "otp".into(), "mfa".into()];
    let token = app.issuer.sign(&claims);
    (admin, token)
}

#[tokio::test]
async fn my_export_holds_my_memberships_and_every_invitation_addressed_to_me() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let northwind = app.organization("Northwind").await;
    let tailspin = app.organization("Tailspin").await;
    let (admin, admin_token) = known_admin(&app, contoso).await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    let accepted = app
        .invite_as(&admin_token, &fabrikam.to_string(), &adele.upn)
        .await
        .expect("invited");
    app.accept(&adele.token, &accepted.id).await.expect("accepted");
    let declined = app.invite(tailspin, &adele.upn).await.expect("invited");
    app.decline(&adele.token, &declined.id).await.expect("declined");
    let pending = app.invite(northwind, &adele.upn).await.expect("invited");

    let export = app.export(&adele.token).await.expect("exported");

    assert_eq!(export.user_id, adele.id.to_string());
    assert_eq!(export.user_principal_name, adele.upn);
    assert!(export.exported_at.is_some());
    let memberships: Vec<(&str, i32)> = export
        .memberships
        .iter()
        .map(|m| (m.organization_id.as_str(), m.kind))
        .collect();
    assert_eq!(
        memberships,
        [
            (contoso.to_string().as_str(), pb::MembershipKind::Home as i32),
            (fabrikam.to_string().as_str(), pb::MembershipKind::Guest as i32)
        ]
    );
    assert_eq!(export.memberships[1].invited_by, admin.id.to_string());
    assert_eq!(
        export.memberships[1].invited_by_user_principal_name,
        "admin@contoso.example"
    );
    let invitations: Vec<(&str, i32)> = export.invitations.iter().map(|i| (i.id.as_str(), i.status)).collect();
    assert_eq!(
        invitations,
        [
            (accepted.id.as_str(), pb::InvitationStatus::Accepted as i32),
            (declined.id.as_str(), pb::InvitationStatus::Declined as i32),
            (pending.id.as_str(), pb::InvitationStatus::Pending as i32),
        ]
    );
    assert_eq!(
        export.memberships,
        app.my_organizations(&adele.token).await.expect("lists").organizations
    );

    let stranger = app
        .export(&app.issuer.token_for(Uuid::new_v4()))
        .await
        .expect("exported");
    assert!(stranger.memberships.is_empty() && stranger.invitations.is_empty());
    assert_eq!(stranger.user_principal_name, "");
}

#[tokio::test]
async fn a_deleted_account_is_erased_once_and_stays_erased() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let northwind = app.organization("Northwind").await;
    let (admin, admin_token) = known_admin(&app, contoso).await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    let megan = app.user_created("megan.bowen@contoso.example", Some(contoso)).await;
    for user in [&adele, &megan] {
        let invitation = app
            .invite_as(&admin_token, &fabrikam.to_string(), &user.upn)
            .await
            .expect("invited");
        app.accept(&user.token, &invitation.id).await.expect("accepted");
        app.invite(northwind, &user.upn).await.expect("invited");
    }
    let megan_before = app.export(&megan.token).await.expect("export");

    let deleted = app.user_deleted(adele.id).await;
    app.wait_until_processed("organizations_user_deleted", &deleted).await;

    let adele_now = app.export(&adele.token).await.expect("export");
    assert!(adele_now.memberships.is_empty(), "{adele_now:?}");
    assert!(adele_now.invitations.is_empty());
    assert_eq!(adele_now.user_principal_name, "", "the name is forgotten too");
    assert_eq!(
        app.export(&megan.token).await.expect("export").memberships,
        megan_before.memberships
    );

    // Erasing the admin who invited megan forgets who that was, not megan's membership.
    let admin_deleted = app.user_deleted(admin.id).await;
    app.wait_until_processed("organizations_user_deleted", &admin_deleted)
        .await;
    let megan_now = app.export(&megan.token).await.expect("export");
    assert_eq!(megan_now.memberships.len(), 2);
    assert_eq!(megan_now.memberships[1].invited_by, "");
    assert_eq!(megan_now.memberships[1].invited_by_user_principal_name, "");
    assert_eq!(megan_now.invitations.len(), 2, "megan's invitations are hers, and stay");

    // Delivered again, or a late user_created of the erased account: nothing comes back.
    let counts = app.row_counts().await;
    let again = app.user_deleted(adele.id).await;
    app.wait_until_processed("organizations_user_deleted", &again).await;
    let late = app
        .publish(&UserCreated {
            user_id: adele.id.to_string(),
            user_principal_name: adele.upn.clone(),
            home_organization_id: contoso.to_string(),
            time: None,
            preferred_language: String::new(),
            ..Default::default()
        })
        .await;
    app.wait_until_processed("organizations_user_created", &late).await;
    assert_eq!(app.row_counts().await, counts, "nothing changed");
    assert_eq!(app.known_user_principal_name(adele.id).await, None);
    assert!(app.export(&adele.token).await.expect("export").memberships.is_empty());
}
