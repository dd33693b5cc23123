//! Receivers: registered by the operator alone, client credentials for a short-lived token, and
//! each receiver sees and manages only its own streams.

use myaccount_proto::signals::v1 as pb;
use platform::testing::row_count;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn the_operator_registers_a_receiver_whose_credentials_get_a_short_lived_token() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    assert!(receiver.client_id.starts_with("ssf-"));
    let token = app
        .token(&receiver.client_id, &receiver.client_secret)
        .await
        .expect("a token");
    assert_eq!(token.scope, "ssf.manage ssf.read");
    assert_eq!(token.expires_in, 600);
    assert_ne!(token.access_token, receiver.access_token, "each grant is a new token");

    let secret: Vec<u8> = sqlx::query_scalar("SELECT client_secret_sha256 FROM receivers")
        .fetch_one(&app.db)
        .await
        .expect("the stored secret");
    assert_ne!(secret, receiver.client_secret.as_bytes(), "the secret is stored hashed");
}

#[tokio::test]
async fn wrong_or_unknown_credentials_get_no_token_and_do_not_say_which() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let wrong = app.token(&receiver.client_id, "guess").await.expect_err("refused");
    let unknown = app
        .token("ssf-nobody", &receiver.client_secret)
        .await
        .expect_err("refused");
    assert_status(&wrong, Code::Unauthenticated, "client authentication failed");
    assert_eq!(wrong.message(), unknown.message());
}

#[tokio::test]
async fn only_the_operator_registers_receivers() {
    let app = spawn_app().await;
    let request = || pb::AddReceiverRequest {
        name: "Payroll".into(),
        audience: "https://payroll.example.com".into(),
    };
    let org_admin = app
        .client()
        .add_receiver(bearer(
            request(),
            &app.issuer.admin_token_in(&Uuid::new_v4().to_string()),
        ))
        .await
        .expect_err("an organization's admin may not");
    assert_eq!(org_admin.code(), Code::PermissionDenied);
    let person = app
        .client()
        .add_receiver(bearer(request(), &app.issuer.token_for(Uuid::new_v4())))
        .await
        .expect_err("a person may not");
    assert_eq!(person.code(), Code::PermissionDenied);
    let anonymous = app.client().add_receiver(request()).await.expect_err("nobody may not");
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    assert_eq!(row_count(&app.db, "receivers").await, 0);
}

#[tokio::test]
async fn a_receiver_with_a_bad_audience_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let refused = app
        .client()
        .add_receiver(bearer(
            pb::AddReceiverRequest {
                name: " ".into(),
                audience: "payroll".into(),
            },
            &app.issuer.admin_token(),
        ))
        .await
        .expect_err("invalid");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&refused), vec!["name", "audience"]);
    assert_eq!(row_count(&app.db, "receivers").await, 0);
}

#[tokio::test]
async fn a_receiver_manages_its_own_streams_and_no_one_elses() {
    let app = spawn_app().await;
    let payroll = app.receiver().await;
    let crm = app.receiver().await;
    let stream = app.poll_stream(&payroll).await;
    assert_eq!(stream.issuer, ISSUER);
    assert_eq!(stream.audience, payroll.audience);
    assert_eq!(stream.status, "enabled");
    assert_eq!(stream.events_delivered, vec![SESSION_REVOKED, CREDENTIAL_CHANGE]);

    let read = app
        .client()
        .get_stream(as_receiver(
            pb::GetStreamRequest {
                stream_id: stream.stream_id.clone(),
            },
            &payroll.access_token,
        ))
        .await
        .expect("its own stream")
        .into_inner();
    assert_eq!(read, stream);

    let foreign = app
        .client()
        .get_stream(as_receiver(
            pb::GetStreamRequest {
                stream_id: stream.stream_id.clone(),
            },
            &crm.access_token,
        ))
        .await
        .expect_err("another receiver's stream is unknown to it");
    assert_eq!(foreign.code(), Code::NotFound);
    let foreign_delete = app
        .client()
        .delete_stream(as_receiver(
            pb::DeleteStreamRequest {
                stream_id: stream.stream_id.clone(),
            },
            &crm.access_token,
        ))
        .await
        .expect_err("nor can it delete it");
    assert_eq!(foreign_delete.code(), Code::NotFound);
    let listed = app
        .client()
        .list_streams(as_receiver(pb::ListStreamsRequest {}, &crm.access_token))
        .await
        .expect("its list")
        .into_inner();
    assert!(listed.streams.is_empty());

    app.client()
        .delete_stream(as_receiver(
            pb::DeleteStreamRequest {
                stream_id: stream.stream_id.clone(),
            },
            &payroll.access_token,
        ))
        .await
        .expect("deleted by its receiver");
    assert_eq!(row_count(&app.db, "streams").await, 0);
}

#[tokio::test]
async fn stream_calls_need_a_valid_access_token() {
    let app = spawn_app().await;
    let missing = app
        .client()
        .list_streams(pb::ListStreamsRequest {})
        .await
        .expect_err("no token");
    assert_eq!(missing.code(), Code::Unauthenticated);
    let forged = app
        .client()
        .list_streams(as_receiver(pb::ListStreamsRequest {}, "not-a-token"))
        .await
        .expect_err("unknown token");
    assert_eq!(forged.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn a_push_stream_without_an_endpoint_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let receiver = app.receiver().await;
    let refused = app
        .create_stream(
            &receiver,
            pb::CreateStreamRequest {
                delivery_method: pb::DeliveryMethod::Push as i32,
                endpoint_url: "mailto:security@example.com".into(),
                events_requested: vec![SESSION_REVOKED.into()],
                ..Default::default()
            },
        )
        .await
        .expect_err("invalid");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&refused), vec!["delivery.endpoint_url"]);
    assert_eq!(row_count(&app.db, "streams").await, 0);
}
