use std::time::Duration;

use platform::testing::eventually;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_check_reports_serving_for_the_server_and_the_identity_service() {
    let app = spawn_app().await;

    for service in ["", "myaccount.identity.v1.IdentityService"] {
        // The first database probe runs as the server starts; wait for it instead of sleeping.
        eventually(Duration::from_secs(10), || {
            let mut health = app.health();
            async move {
                health
                    .check(HealthCheckRequest {
                        service: service.into(),
                    })
                    .await
                    .is_ok_and(|r| r.into_inner().status == ServingStatus::Serving as i32)
            }
        })
        .await;
    }
}

#[tokio::test]
async fn health_check_needs_no_access_token_and_unknown_services_are_not_found() {
    let app = spawn_app().await;

    let status = app
        .health()
        .check(HealthCheckRequest {
            service: "myaccount.nothing.v1.Nope".into(),
        })
        .await
        .expect_err("an unknown service has no health");

    assert_eq!(status.code(), tonic::Code::NotFound, "{status:?}");
}
