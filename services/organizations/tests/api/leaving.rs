use std::time::Duration;

use myaccount_proto::events::v1::{MemberLeft, MemberRemoved};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{assert_status, spawn_app, violated_fields};

const HOME_REFUSAL: &str = "this is your home organization: your account belongs to it, so you cannot leave it";

#[tokio::test]
async fn a_guest_leaves_an_organization_for_good_after_a_recent_multi_factor_sign_in() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    let joined = app.guest_of(&adele, fabrikam).await;
    let invitation_id = app.export(&adele.token).await.expect("export").invitations[0]
        .id
        .clone();

    app.leave(&adele.mfa_token, &fabrikam.to_string()).await.expect("left");

    assert_eq!(app.my_organization_ids(&adele).await, [contoso.to_string()]);
    let left = app.outbox_events::<MemberLeft>().await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].user_id, adele.id.to_string());
    assert_eq!(left[0].organization_id, fabrikam.to_string());
    let caller = app.issuer.verifier().verify(&adele.mfa_token).await.expect("verifies");
    assert_eq!(
        left[0].session_id,
        caller.session_id.expect("sid").to_string(),
        "the session it was done from"
    );
    assert!(left[0].time.is_some());
    assert!(joined.can_leave);

    // Not reversible: leaving again finds nothing, the old invitation is spent.
    let again = app
        .leave(&adele.mfa_token, &fabrikam.to_string())
        .await
        .expect_err("gone");
    assert_status(
        &again,
        Code::NotFound,
        &format!("you are not a member of organization {fabrikam}"),
    );
    let rejoin = app.accept(&adele.token, &invitation_id).await.expect_err("spent");
    assert_eq!(rejoin.code(), Code::FailedPrecondition);
    assert_eq!(app.my_organization_ids(&adele).await, [contoso.to_string()]);
    assert_eq!(app.outbox_events::<MemberLeft>().await.len(), 1);
}

#[tokio::test]
async fn leaving_the_home_organization_is_refused_with_the_reason() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    let before = app.row_counts().await;

    let with_mfa = app
        .leave(&adele.mfa_token, &contoso.to_string())
        .await
        .expect_err("home");
    // No step-up could change that answer, so it comes before asking for one.
    let without_mfa = app.leave(&adele.token, &contoso.to_string()).await.expect_err("home");

    let expected = format!("cannot leave organization {contoso}: {HOME_REFUSAL}");
    assert_status(&with_mfa, Code::FailedPrecondition, &expected);
    assert_status(&without_mfa, Code::FailedPrecondition, &expected);
    assert_eq!(app.my_organization_ids(&adele).await, [contoso.to_string()]);
    assert_eq!(app.row_counts().await, before, "nothing changed");
    assert!(app.outbox_events::<MemberLeft>().await.is_empty());
}

#[tokio::test]
async fn leaving_without_a_recent_multi_factor_sign_in_asks_for_one_and_changes_nothing() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    app.guest_of(&adele, fabrikam).await;
    let before = app.row_counts().await;
    let stale_mfa = app.mfa_token_for(adele.id, Duration::from_secs(20 * 60));

    for (case, token) in [
        ("password only", &adele.token),
        ("second factor 20 minutes ago", &stale_mfa),
    ] {
        let status = app.leave(token, &fabrikam.to_string()).await.expect_err(case);
        assert_eq!(status.code(), Code::PermissionDenied, "{case}: {status:?}");
        assert!(
            platform::error::is_reauthentication_required(&status),
            "{case}: {status:?}"
        );
        assert_eq!(
            status.message(),
            "this change needs a recent sign-in with a second factor (within 10 minutes); \
             sign in again with your password and a second factor",
            "{case}"
        );
    }

    assert_eq!(
        app.my_organization_ids(&adele).await,
        [contoso.to_string(), fabrikam.to_string()]
    );
    assert_eq!(app.row_counts().await, before, "nothing changed");
    assert!(app.outbox_events::<MemberLeft>().await.is_empty());
}

#[tokio::test]
async fn leaving_an_organization_one_is_not_in_is_not_found() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    let megan = app.user_created("megan.bowen@contoso.example", Some(contoso)).await;
    app.guest_of(&megan, fabrikam).await;
    let before = app.row_counts().await;

    let status = app
        .leave(&adele.mfa_token, &fabrikam.to_string())
        .await
        .expect_err("not a member");
    assert_status(
        &status,
        Code::NotFound,
        &format!("you are not a member of organization {fabrikam}"),
    );
    let malformed = app.leave(&adele.mfa_token, "fabrikam").await.expect_err("not an id");
    assert_eq!(violated_fields(&malformed), ["organization_id"]);

    assert_eq!(
        app.row_counts().await,
        before,
        "megan is still a guest; nothing changed"
    );
}

#[tokio::test]
async fn an_admin_removes_a_guest_but_never_a_home_membership() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    app.guest_of(&adele, fabrikam).await;
    let admin = app.admin_token();
    let admin_id = app.issuer.verifier().verify(&admin).await.expect("verifies").user_id;

    let home = app
        .remove_member(&admin, &contoso.to_string(), &adele.id.to_string())
        .await
        .expect_err("a home membership");
    assert_status(
        &home,
        Code::FailedPrecondition,
        &format!(
            "organization {contoso} is the home organization of user {}; a home membership cannot be removed",
            adele.id
        ),
    );
    let stranger = Uuid::new_v4();
    let missing = app
        .remove_member(&admin, &fabrikam.to_string(), &stranger.to_string())
        .await
        .expect_err("not a member");
    assert_status(
        &missing,
        Code::NotFound,
        &format!("user {stranger} is not a member of organization {fabrikam}"),
    );
    assert_eq!(
        app.my_organization_ids(&adele).await,
        [contoso.to_string(), fabrikam.to_string()]
    );

    app.remove_member(&admin, &fabrikam.to_string(), &adele.id.to_string())
        .await
        .expect("removed");

    assert_eq!(app.my_organization_ids(&adele).await, [contoso.to_string()]);
    let removed = app.outbox_events::<MemberRemoved>().await;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].user_id, adele.id.to_string());
    assert_eq!(removed[0].organization_id, fabrikam.to_string());
    assert_eq!(removed[0].removed_by, admin_id.to_string());
}
