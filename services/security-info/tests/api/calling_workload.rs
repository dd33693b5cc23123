//! security-info takes a person's calls from the gateway alone (and its second-factor checks
//! from identity alone): a person's valid token taken straight to the service, without the
//! gateway's workload token, with a forged or misdirected one, or with identity's, is refused
//! and changes nothing; health answers probes without any token.

use myaccount_proto::securityinfo::v1 as pb;
use myaccount_security_info::SPEC;
use platform::testing::{assert_status, bearer, direct_calls, grpc_serving, with_workload_token};
use tonic::Code;

use crate::helpers::{SignedIn, spawn_app};

#[tokio::test]
async fn a_person_calling_security_info_directly_is_refused_and_the_gateway_is_not() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::WithMfa);
    let registration = || pb::StartAuthenticatorAppRegistrationRequest { name: "Phone".into() };
    let before = app.row_counts().await;
    for call in direct_calls(&app.gateway, SPEC.name, "StartAuthenticatorAppRegistration") {
        let status = app
            .direct()
            .start_authenticator_app_registration(call.prepare(bearer(registration(), &adele.token)))
            .await
            .expect_err(call.case);
        assert_status(&status, call.code, &call.message);
    }
    // identity is trusted, for the second-factor checks only.
    let as_identity = with_workload_token(bearer(registration(), &adele.token), &app.identity_token());
    let status = app
        .direct()
        .start_authenticator_app_registration(as_identity)
        .await
        .expect_err("identity is not the gateway");
    assert_status(
        &status,
        Code::PermissionDenied,
        "StartAuthenticatorAppRegistration accepts calls only from the gateway workload, not from identity",
    );
    assert_eq!(app.row_counts().await, before, "a refused call changes nothing");

    // The same person through the gateway.
    app.start_app(&adele, "Phone")
        .await
        .expect("the gateway's call starts it");
    assert!(grpc_serving(app.channel.clone()).await.expect("health needs no token"));
}
