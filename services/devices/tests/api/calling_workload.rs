//! devices takes a person's calls from the gateway alone: a person's valid token taken straight
//! to the service, without the gateway's workload token or with a forged or misdirected one, is
//! refused and changes nothing; health answers probes without any token.

use myaccount_devices::SPEC;
use myaccount_proto::devices::v1 as pb;
use myaccount_proto::devices::v1::devices_service_client::DevicesServiceClient;
use platform::testing::{assert_status, bearer, direct_calls, grpc_serving, row_count};

use crate::helpers::{laptop, spawn_app};

#[tokio::test]
async fn a_person_calling_devices_directly_is_refused_and_the_gateway_is_not() {
    let app = spawn_app().await;
    let user = app.new_user();
    let mut direct = DevicesServiceClient::new(app.channel.clone());
    for call in direct_calls(&app.gateway, SPEC.name, "RegisterDevice") {
        let request = call.prepare(bearer(laptop("Stolen token laptop"), &user.token));
        let status = direct.register_device(request).await.expect_err(call.case);
        assert_status(&status, call.code, &call.message);
    }
    assert_eq!(row_count(&app.db, "devices").await, 0, "a refused call changes nothing");
    for call in direct_calls(&app.gateway, SPEC.name, "ListMyDevices") {
        let request = call.prepare(bearer(pb::ListMyDevicesRequest {}, &user.token));
        let status = direct.list_my_devices(request).await.expect_err(call.case);
        assert_status(&status, call.code, &call.message);
    }

    // The same person through the gateway.
    app.register_laptop(&user, "Work laptop").await;
    assert_eq!(app.list(&user.token).await.expect("listed").len(), 1);
    assert!(grpc_serving(app.channel.clone()).await.expect("health needs no token"));
}
