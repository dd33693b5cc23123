//! Every read path, and signing in to a guest organization, with more concurrent callers than
//! pool connections: a request that held one connection while it waited for another would stall
//! until the acquire timeout and fail.

use chrono::Utc;
use myaccount_proto::events::v1::{MemberJoined, OrganizationMembershipKind};
use myaccount_proto::identity::v1 as pb;
use platform::testing::{all_succeed_concurrently, contended_pool};
use uuid::Uuid;

use crate::helpers::{bearer, spawn_app_with};

#[tokio::test]
async fn every_read_path_serves_more_callers_than_pool_connections() {
    let app = spawn_app_with(|settings| contended_pool(&mut settings.service.database)).await;
    let (adele, tokens) = app.signed_in_user("adele.vance@contoso.example").await;
    let token = tokens.access_token;
    let fabrikam = Uuid::new_v4();
    let joined = MemberJoined {
        user_id: adele.id.to_string(),
        organization_id: fabrikam.to_string(),
        kind: OrganizationMembershipKind::Guest.into(),
        invitation_id: Uuid::new_v4().to_string(),
        ..Default::default()
    };
    app.deliver(&joined, Some(Utc::now())).await;

    all_succeed_concurrently("GetMyProfile", || app.get_my_profile(&token)).await;
    all_succeed_concurrently("ListMySessions", || {
        let mut client = app.client();
        let request = bearer(pb::ListMySessionsRequest::default(), &token);
        async move { client.list_my_sessions(request).await }
    })
    .await;
    all_succeed_concurrently("ExportMyData", || {
        let mut client = app.client();
        let request = bearer(pb::ExportMyDataRequest {}, &token);
        async move { client.export_my_data(request).await }
    })
    .await;
    // Sign-in asks about the guest membership inside its transaction.
    all_succeed_concurrently("SignIn to a guest organization", || {
        app.sign_in_with(pb::SignInRequest {
            username: adele.upn.clone(),
            password: adele.password.clone(),
            organization_id: fabrikam.to_string(),
            ..Default::default()
        })
    })
    .await;

    // The answers are the person's, not empty ones.
    let profile = app.get_my_profile(&token).await.expect("profile");
    assert_eq!(profile.user_principal_name, adele.upn);
}
