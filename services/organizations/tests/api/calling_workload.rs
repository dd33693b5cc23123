//! organizations takes a person's calls from the gateway alone: an admin's valid token taken
//! straight to the service, without the gateway's workload token or with a forged or
//! misdirected one, is refused and changes nothing; health answers probes without any token.

use myaccount_organizations::SPEC;
use myaccount_proto::organizations::v1 as pb;
use myaccount_proto::organizations::v1::organizations_service_client::OrganizationsServiceClient;
use platform::testing::{assert_status, bearer, direct_calls, grpc_serving};

use crate::helpers::{settings, spawn_app};

#[tokio::test]
async fn an_admin_calling_organizations_directly_is_refused_and_the_gateway_is_not() {
    let app = spawn_app().await;
    let admin = app.admin_token();
    let before = app.row_counts().await;
    let mut direct = OrganizationsServiceClient::new(app.channel.clone());
    for call in direct_calls(&app.gateway, SPEC.name, "CreateOrganization") {
        let request = pb::CreateOrganizationRequest {
            organization_id: String::new(),
            settings: Some(settings("Contoso")),
        };
        let status = direct
            .create_organization(call.prepare(bearer(request, &admin)))
            .await
            .expect_err(call.case);
        assert_status(&status, call.code, &call.message);
    }
    assert_eq!(app.row_counts().await, before, "a refused call changes nothing");

    // The same admin through the gateway.
    app.create_organization(settings("Contoso"))
        .await
        .expect("the gateway's call creates it");
    assert!(grpc_serving(app.channel.clone()).await.expect("health needs no token"));
}
