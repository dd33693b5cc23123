//! Every read path with more concurrent callers than pool connections: a request that held one
//! connection while it waited for another would stall until the acquire timeout and fail.

use myaccount_proto::securityinfo::v1 as pb;
use platform::testing::{all_succeed_concurrently, contended_pool};

use crate::helpers::{SignedIn, bearer, spawn_app_with};

#[tokio::test]
async fn every_read_path_serves_more_callers_than_pool_connections() {
    let app = spawn_app_with(|settings| contended_pool(&mut settings.service.database)).await;
    let person = app.person(SignedIn::WithMfa);
    app.register_app(&person, "Phone").await;
    app.recovery_codes(&person).await.expect("recovery codes");
    app.organization_changed(&person.organization_id, true).await;
    let identity_token = app.identity_token();

    all_succeed_concurrently("GetMySecurityInfo", || {
        let mut client = app.c();
        let request = bearer(pb::GetMySecurityInfoRequest {}, &person.token);
        async move { client.get_my_security_info(request).await }
    })
    .await;
    all_succeed_concurrently("ListSecondFactors", || app.second_factors(person.id, &identity_token)).await;
    all_succeed_concurrently("ExportMyData", || app.export(&person)).await;

    // The answers are the person's, not empty ones.
    let info = app.security_info(&person).await;
    assert!(info.mfa_registered && info.mfa_required, "{info:?}");
    let factors = app.second_factors(person.id, &identity_token).await.expect("factors");
    assert_eq!(
        factors.factors.len(),
        2,
        "the app, then the recovery codes: {factors:?}"
    );
}
