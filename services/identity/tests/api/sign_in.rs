use myaccount_proto::identity::v1 as pb;
use tonic::Code;

use crate::helpers::{ADMIN_PASSWORD, ADMIN_UPN, INVALID_CREDENTIALS, assert_status, spawn_app, violated_fields};

#[tokio::test]
async fn signing_in_returns_tokens_that_verify_against_the_published_jwks() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;

    let tokens = app
        .sign_in("adele.vance@contoso.example", &user.password)
        .await
        .expect("the right password signs in");

    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 600);
    assert!(tokens.refresh_token.starts_with("mart_"), "{}", tokens.refresh_token);

    // The key set every other service verifies with.
    let response = reqwest::get(app.jwks_url()).await.expect("GET the JWKS");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .map(|v| v.to_str().ok()),
        // A cache keeps it no longer than a replica does: a new key is published two such
        // periods before it signs.
        Some(Some("public, max-age=60"))
    );
    let jwks: serde_json::Value = response.json().await.expect("a JSON key set");
    let keys = jwks["keys"].as_array().expect("a keys array");
    assert!(!keys.is_empty(), "{jwks}");
    for key in keys {
        assert_eq!(key["kty"], "OKP", "{key}");
        assert_eq!(key["crv"], "Ed25519", "{key}");
        assert_eq!(key["alg"], "EdDSA", "{key}");
        assert_eq!(key["use"], "sig", "{key}");
        assert!(key.get("d").is_none(), "no private key material is published: {key}");
    }

    let header = jsonwebtoken::decode_header(&tokens.access_token).expect("a JWT");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let kid = header.kid.expect("the token names its key");
    assert!(keys.iter().any(|k| k["kid"] == kid.as_str()), "kid {kid} is published");

    let caller = app
        .jwks_verifier()
        .verify(&tokens.access_token)
        .await
        .expect("the access token verifies against the published keys");
    assert_eq!(caller.user_id, user.id, "sub");
    assert_eq!(caller.amr, ["pwd"], "amr");
    assert_eq!(caller.organization_id, Some(user.organization_id.to_string()), "org");
    assert!(!caller.is_admin(), "a regular user has no admin scope");
    let session_id = caller.session_id.expect("sid");

    // The session in the token is the one the sign-in created and reported.
    let records = app.sign_in_records_for("adele.vance@contoso.example").await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].session_id, session_id.to_string());

    // And the token opens the user's own profile.
    let profile = app.get_my_profile(&tokens.access_token).await.expect("the token works");
    assert_eq!(profile.id, user.id.to_string());
}

#[tokio::test]
async fn an_admins_token_carries_the_admin_scope() {
    let app = spawn_app().await;

    let tokens = app
        .sign_in(ADMIN_UPN, ADMIN_PASSWORD)
        .await
        .expect("the admin signs in");

    let caller = app
        .jwks_verifier()
        .verify(&tokens.access_token)
        .await
        .expect("verifies");
    assert!(caller.is_admin(), "{caller:?}");
    assert_eq!(
        caller.organization_id, None,
        "the bootstrap admin has no home organization"
    );
}

#[tokio::test]
async fn the_user_name_is_not_case_sensitive() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;

    let tokens = app
        .sign_in("  Adele.Vance@CONTOSO.example ", &user.password)
        .await
        .expect("the name matches in any case");

    let caller = app
        .jwks_verifier()
        .verify(&tokens.access_token)
        .await
        .expect("verifies");
    assert_eq!(caller.user_id, user.id);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;

    let wrong_password = app
        .sign_in(&user.upn, "not the password at all")
        .await
        .expect_err("a wrong password does not sign in");
    let unknown_user = app
        .sign_in("nobody@contoso.example", &user.password)
        .await
        .expect_err("an unknown user does not sign in");

    assert_status(&wrong_password, Code::Unauthenticated, INVALID_CREDENTIALS);
    assert_status(&unknown_user, Code::Unauthenticated, INVALID_CREDENTIALS);
    // Not even the details differ.
    assert!(violated_fields(&wrong_password).is_empty());
    assert!(violated_fields(&unknown_user).is_empty());
    assert_eq!(
        platform::error::retry_after(&wrong_password),
        platform::error::retry_after(&unknown_user)
    );
}

#[tokio::test]
async fn a_sign_in_request_without_credentials_is_invalid_and_not_an_attempt() {
    let app = spawn_app().await;

    let status = app.sign_in("", "").await.expect_err("nothing to check");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(violated_fields(&status), ["username", "password"]);

    let status = app
        .sign_in_with(pb::SignInRequest {
            username: "adele.vance@contoso.example".into(),
            password: "whatever it is".into(),
            client: Some(pb::ClientContext {
                ip_address: "not-an-ip".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect_err("the client context is checked");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(violated_fields(&status), ["client.ip_address"]);

    assert!(
        app.sign_in_records().await.is_empty(),
        "invalid requests are not sign-in attempts"
    );
}
