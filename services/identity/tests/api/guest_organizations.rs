//! Signing in to a guest organization, and the end of those sessions when the person leaves it
//! or is removed (`member_left` / `member_removed` from the organizations service).

use chrono::{Duration as Age, Utc};
use myaccount_proto::events::v1::{
    MemberJoined, MemberLeft, MemberRemoved, OrganizationMembershipKind, SignInFailureReason, SignInStatus,
};
use myaccount_proto::identity::v1 as pb;
use tonic::{Code, Status};
use uuid::Uuid;

use crate::helpers::{INVALID_CREDENTIALS, INVALID_REFRESH_TOKEN, TestApp, TestUser, assert_status, spawn_app};

impl TestApp {
    async fn sign_in_to(&self, user: &TestUser, organization_id: &str, password: &str) -> Result<pb::TokenSet, Status> {
        self.sign_in_with(pb::SignInRequest {
            username: user.upn.clone(),
            password: password.into(),
            organization_id: organization_id.into(),
            ..Default::default()
        })
        .await
    }

    /// The `org` claim of an access token.
    async fn organization_of(&self, tokens: &pb::TokenSet) -> String {
        let caller = self
            .jwks_verifier()
            .verify(&tokens.access_token)
            .await
            .expect("verifies");
        caller.organization_id.expect("an org claim")
    }

    async fn guest_joined(&self, user: &TestUser, organization_id: Uuid) {
        let joined = MemberJoined {
            user_id: user.id.to_string(),
            organization_id: organization_id.to_string(),
            kind: OrganizationMembershipKind::Guest.into(),
            invitation_id: Uuid::new_v4().to_string(),
            ..Default::default()
        };
        self.deliver(&joined, Some(Utc::now())).await;
    }
}

#[tokio::test]
async fn a_guest_signs_in_to_the_guest_organization_and_leaving_it_ends_only_those_sessions() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let fabrikam = Uuid::new_v4();

    // Not a member yet: refused once the password is right, and recorded as such.
    let status = app
        .sign_in_to(&user, &fabrikam.to_string(), &user.password)
        .await
        .expect_err("not a member");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("not a member of organization"), "{status:?}");
    let record = app.sign_in_records_for(&user.upn).await.pop().expect("recorded");
    assert_eq!(record.status(), SignInStatus::Failure);
    assert_eq!(record.failure_reason(), SignInFailureReason::NotAMember);
    assert_eq!(record.organization_id, fabrikam.to_string());
    // A wrong password says nothing about membership.
    assert_status(
        &app.sign_in_to(&user, &fabrikam.to_string(), "wrong password entirely")
            .await
            .expect_err("wrong password"),
        Code::Unauthenticated,
        INVALID_CREDENTIALS,
    );

    app.guest_joined(&user, fabrikam).await;
    let at_fabrikam = app
        .sign_in_to(&user, &fabrikam.to_string(), &user.password)
        .await
        .expect("a member signs in to the guest organization");
    let at_home = app.sign_in(&user.upn, &user.password).await.expect("home sign-in");
    assert_eq!(app.organization_of(&at_fabrikam).await, fabrikam.to_string());
    assert_eq!(app.organization_of(&at_home).await, user.organization_id.to_string());
    let refreshed = app.refresh(&at_fabrikam.refresh_token).await.expect("refreshes");
    assert_eq!(
        app.organization_of(&refreshed).await,
        fabrikam.to_string(),
        "a refreshed token stays in the organization of its session"
    );
    let record = app.sign_in_records_for(&user.upn).await.pop().expect("recorded");
    assert_eq!(record.status(), SignInStatus::Success);

    let left = MemberLeft {
        user_id: user.id.to_string(),
        organization_id: fabrikam.to_string(),
        ..Default::default()
    };
    let event_id = app.deliver(&left, Some(Utc::now())).await;

    assert_status(
        &app.refresh(&refreshed.refresh_token).await.expect_err("left"),
        Code::Unauthenticated,
        INVALID_REFRESH_TOKEN,
    );
    app.refresh(&at_home.refresh_token)
        .await
        .expect("the home session is untouched");
    let revocations = app.revocations().await;
    assert_eq!(revocations.len(), 1, "{revocations:?}");
    assert_eq!(revocations[0].reason, "left_organization");
    let status = app
        .sign_in_to(&user, &fabrikam.to_string(), &user.password)
        .await
        .expect_err("no longer a member");
    assert_eq!(status.code(), Code::PermissionDenied);

    // A redelivery changes nothing.
    app.publish(&event_id, &left).await;
    app.deliver(&left, Some(Utc::now())).await;
    assert_eq!(app.revocations().await.len(), 1);
}

#[tokio::test]
async fn removal_by_an_admin_ends_the_guest_sessions_too() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let fabrikam = Uuid::new_v4();
    app.guest_joined(&user, fabrikam).await;
    let at_fabrikam = app
        .sign_in_to(&user, &fabrikam.to_string(), &user.password)
        .await
        .expect("signs in");

    let removed = MemberRemoved {
        user_id: user.id.to_string(),
        organization_id: fabrikam.to_string(),
        removed_by: Uuid::new_v4().to_string(),
        ..Default::default()
    };
    app.deliver(&removed, Some(Utc::now())).await;

    assert_status(
        &app.refresh(&at_fabrikam.refresh_token).await.expect_err("removed"),
        Code::Unauthenticated,
        INVALID_REFRESH_TOKEN,
    );
    assert_eq!(app.revocations().await[0].reason, "removed_from_organization");
}

#[tokio::test]
async fn a_join_delivered_after_a_later_leave_does_not_bring_the_membership_back() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let fabrikam = Uuid::new_v4();
    let joined_at = Utc::now() - Age::minutes(5);

    let left = MemberLeft {
        user_id: user.id.to_string(),
        organization_id: fabrikam.to_string(),
        ..Default::default()
    };
    app.deliver(&left, Some(Utc::now())).await;
    let joined = MemberJoined {
        user_id: user.id.to_string(),
        organization_id: fabrikam.to_string(),
        kind: OrganizationMembershipKind::Guest.into(),
        ..Default::default()
    };
    app.deliver(&joined, Some(joined_at)).await;

    let status = app
        .sign_in_to(&user, &fabrikam.to_string(), &user.password)
        .await
        .expect_err("the later leave wins");
    assert_eq!(status.code(), Code::PermissionDenied);

    // A home membership event is not a guest membership.
    let home = MemberJoined {
        user_id: user.id.to_string(),
        organization_id: Uuid::new_v4().to_string(),
        kind: OrganizationMembershipKind::Home.into(),
        ..Default::default()
    };
    app.deliver(&home, Some(Utc::now())).await;
    let status = app
        .sign_in_to(&user, &home.organization_id, &user.password)
        .await
        .expect_err("not the user's home organization");
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_malformed_organization_id_is_a_field_violation() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let status = app
        .sign_in_to(&user, "contoso", &user.password)
        .await
        .expect_err("not an id");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(crate::helpers::violated_fields(&status), ["organization_id"]);
    assert!(
        app.sign_in_records_for(&user.upn).await.is_empty(),
        "bad input is not a sign-in attempt"
    );
    // Naming the home organization explicitly is the same as naming none.
    let tokens = app
        .sign_in_to(&user, &user.organization_id.to_string(), &user.password)
        .await
        .expect("home");
    assert_eq!(app.organization_of(&tokens).await, user.organization_id.to_string());
}
