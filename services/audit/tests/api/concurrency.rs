//! Every read path with more concurrent callers than pool connections: a request that held one
//! connection while it waited for another would stall until the acquire timeout and fail.

use myaccount_proto::audit::v1 as pb;
use myaccount_proto::events::v1::SignInRecorded;
use platform::testing::{all_succeed_concurrently, contended_pool};
use uuid::Uuid;

use crate::helpers::{at, bearer, spawn_app_with, success};

#[tokio::test]
async fn every_read_path_serves_more_callers_than_pool_connections() {
    let app = spawn_app_with(|settings| contended_pool(&mut settings.service.database)).await;
    let organization = Uuid::new_v4().to_string();
    let adele = Uuid::new_v4();
    let sign_in = SignInRecorded {
        organization_id: organization.clone(),
        ..success(adele, at(0))
    };
    app.publish(std::slice::from_ref(&sign_in)).await;
    let token = app.token_for(adele);
    let admin = app.admin_of(&organization);

    all_succeed_concurrently("ListMySignIns", || {
        app.list_my_sign_ins_with(&token, pb::ListMySignInsRequest::default())
    })
    .await;
    all_succeed_concurrently("GetMySignIn", || app.my_sign_in(&token, &sign_in.sign_in_id)).await;
    all_succeed_concurrently("ListMyActivity", || {
        let mut client = app.audit.clone();
        let request = bearer(pb::ListMyActivityRequest::default(), &token);
        async move { client.list_my_activity(request).await }
    })
    .await;
    all_succeed_concurrently("ListOrganizationSignIns", || {
        app.organization_sign_ins(
            &admin,
            pb::ListOrganizationSignInsRequest {
                organization_id: organization.clone(),
                ..Default::default()
            },
        )
    })
    .await;
    all_succeed_concurrently("GetMyDataRetention", || app.data_retention(&token)).await;
    all_succeed_concurrently("ExportMyData", || app.export(&token)).await;

    // Not a read, but it once read on a second connection inside its transaction.
    all_succeed_concurrently("ReviewMySignIn", || {
        let mut client = app.audit.clone();
        let review = pb::ReviewMySignInRequest {
            id: sign_in.sign_in_id.clone(),
            verdict: pb::ReviewVerdict::Me.into(),
        };
        let request = bearer(review, &token);
        async move { client.review_my_sign_in(request).await }
    })
    .await;

    // The answers are the person's, not empty ones.
    let export = app.export(&token).await.expect("export");
    assert_eq!(export.sign_ins.len(), 1, "{export:?}");
}
