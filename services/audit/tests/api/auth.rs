use myaccount_proto::audit::v1 as pb;
use platform::testing::TestIssuer;
use tonic::{Code, Request};
use uuid::Uuid;

use crate::helpers::{assert_status, spawn_app};

#[tokio::test]
async fn listing_sign_ins_without_a_token_is_unauthenticated() {
    let app = spawn_app().await;

    let status = app
        .audit
        .clone()
        .list_my_sign_ins(Request::new(pb::ListMySignInsRequest::default()))
        .await
        .expect_err("anonymous");
    assert_status(&status, Code::Unauthenticated, "an access token is required");

    let mut request = Request::new(pb::ListMySignInsRequest::default());
    request.metadata_mut().insert(
        "authorization",
        "Basic YWRlbGU6cGFzc3dvcmQ=".parse().expect("a header value"),
    );
    let status = app
        .audit
        .clone()
        .list_my_sign_ins(request)
        .await
        .expect_err("not a bearer token");
    assert_status(
        &status,
        Code::Unauthenticated,
        "the authorization header must be \"Bearer <token>\"",
    );
}

#[tokio::test]
async fn a_forged_token_is_unauthenticated() {
    let app = spawn_app().await;
    let forger = TestIssuer::new();

    let status = app
        .list_my_sign_ins_with(&forger.token_for(Uuid::new_v4()), pb::ListMySignInsRequest::default())
        .await
        .expect_err("signed by a key nobody published");

    assert_status(
        &status,
        Code::Unauthenticated,
        "the access token was signed by an unknown key",
    );
}

#[tokio::test]
async fn expired_tokens_and_tokens_for_another_audience_are_unauthenticated() {
    let app = spawn_app().await;
    let user = Uuid::new_v4();

    let mut expired = app.issuer.claims_for(user);
    expired.iat -= 3600;
    expired.exp -= 3600;
    let status = app
        .list_my_sign_ins_with(&app.issuer.sign(&expired), pb::ListMySignInsRequest::default())
        .await
        .expect_err("expired");
    assert_status(&status, Code::Unauthenticated, "the access token has expired");

    let mut elsewhere = app.issuer.claims_for(user);
    elsewhere.aud = "another-api".into();
    let status = app
        .list_my_sign_ins_with(&app.issuer.sign(&elsewhere), pb::ListMySignInsRequest::default())
        .await
        .expect_err("not meant for us");
    assert_status(
        &status,
        Code::Unauthenticated,
        "the access token is invalid: wrong audience",
    );

    // The same user with a proper token gets in.
    app.list_my_sign_ins(user, pb::ListMySignInsRequest::default())
        .await
        .expect("a valid token works");
}
