//! audit takes a person's calls from the gateway alone: a person's valid token taken straight to
//! the service, without the gateway's workload token or with a forged or misdirected one, is
//! refused and reveals nothing; health answers probes without any token.

use myaccount_audit::SPEC;
use myaccount_proto::audit::v1 as pb;
use myaccount_proto::audit::v1::audit_service_client::AuditServiceClient;
use platform::testing::{assert_status, bearer, direct_calls, grpc_serving};
use uuid::Uuid;

use crate::helpers::{at, spawn_app, success};

#[tokio::test]
async fn a_person_calling_audit_directly_is_refused_and_the_gateway_is_not() {
    let app = spawn_app().await;
    let user = Uuid::new_v4();
    app.publish(&[success(user, at(0))]).await;
    let token = app.token_for(user);
    let mut direct = AuditServiceClient::new(app.channel.clone());
    for call in direct_calls(&app.gateway, SPEC.name, "ListMySignIns") {
        let request = call.prepare(bearer(pb::ListMySignInsRequest::default(), &token));
        let status = direct.list_my_sign_ins(request).await.expect_err(call.case);
        assert_status(&status, call.code, &call.message);
    }

    // The same person through the gateway sees their sign-in.
    assert_eq!(app.all_sign_ins_of(user).await.len(), 1);
    assert!(grpc_serving(app.channel.clone()).await.expect("health needs no token"));
}
