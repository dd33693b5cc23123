use platform::auth::SigningKey;
use platform::testing::TestIssuer;
use tonic::Code;

use crate::helpers::{INVALID_REFRESH_TOKEN, assert_revoked, assert_status, spawn_app, spawn_app_with, user_request};

#[tokio::test]
async fn refreshing_rotates_the_refresh_token_and_keeps_the_session() {
    let app = spawn_app().await;
    let (user, first) = app.signed_in_user("adele.vance@contoso.example").await;
    let verifier = app.jwks_verifier();
    let signed_in = verifier.verify(&first.access_token).await.expect("verifies");

    let second = app
        .refresh(&first.refresh_token)
        .await
        .expect("a fresh refresh token works");
    let third = app
        .refresh(&second.refresh_token)
        .await
        .expect("so does the rotated one");

    assert_ne!(second.refresh_token, first.refresh_token, "rotated");
    assert_ne!(third.refresh_token, second.refresh_token, "rotated again");
    assert_eq!(third.token_type, "Bearer");
    assert_eq!(third.expires_in, 600);
    let refreshed = verifier
        .verify(&third.access_token)
        .await
        .expect("the new access token verifies");
    assert_eq!(refreshed.user_id, user.id);
    assert_eq!(refreshed.session_id, signed_in.session_id, "same session");
    assert_eq!(
        refreshed.auth_time, signed_in.auth_time,
        "authentication time is that of the sign-in"
    );
    assert_eq!(refreshed.amr, ["pwd"]);
    assert_eq!(refreshed.organization_id, Some(user.organization_id.to_string()));
    app.get_my_profile(&third.access_token)
        .await
        .expect("the new access token works");
}

#[tokio::test]
async fn a_used_refresh_token_fails_and_its_reuse_ends_the_whole_session() {
    // No grace: a repeat is reuse at once (the grace has its own tests, in session_lifetime).
    let app = spawn_app_with(|s| s.tokens.refresh_reuse_grace = std::time::Duration::ZERO).await;
    let (_, first) = app.signed_in_user("adele.vance@contoso.example").await;
    let second = app.refresh(&first.refresh_token).await.expect("first rotation");
    let newest = app.refresh(&second.refresh_token).await.expect("second rotation");

    // Someone presents an old token again: the client or a thief holds a copy.
    let reused = app
        .refresh(&first.refresh_token)
        .await
        .expect_err("a used token is spent");
    assert_status(&reused, Code::Unauthenticated, INVALID_REFRESH_TOKEN);

    // So the whole token family is dead, the newest refresh token included...
    let newest_refresh = app
        .refresh(&newest.refresh_token)
        .await
        .expect_err("the session was revoked");
    assert_status(&newest_refresh, Code::Unauthenticated, INVALID_REFRESH_TOKEN);
    // ...and the session's access tokens stop working at identity at once.
    let profile = app
        .get_my_profile(&newest.access_token)
        .await
        .expect_err("the session has ended");
    assert_revoked(&profile, "refresh_token_reuse");
    // Other services hear of it.
    assert_eq!(revocation_reasons(&app).await, ["refresh_token_reuse"]);
}

/// The reasons of the `session_revoked` events in the outbox, oldest first.
async fn revocation_reasons(app: &crate::helpers::TestApp) -> Vec<String> {
    use prost::Message;
    app.outbox_payloads("myaccount.identity.v1.session_revoked")
        .await
        .iter()
        .map(|p| {
            myaccount_proto::events::v1::SessionRevoked::decode(p.as_slice())
                .expect("a SessionRevoked")
                .reason
        })
        .collect()
}

#[tokio::test]
async fn an_unknown_or_empty_refresh_token_is_refused() {
    let app = spawn_app().await;

    let status = app
        .refresh("mart_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await
        .expect_err("never issued");
    assert_status(&status, Code::Unauthenticated, INVALID_REFRESH_TOKEN);

    let status = app.refresh("").await.expect_err("nothing to refresh");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(crate::helpers::violated_fields(&status), ["refresh_token"]);
}

#[tokio::test]
async fn signing_out_ends_the_session_for_refresh_and_profile() {
    let app = spawn_app().await;
    let (user, tokens) = app.signed_in_user("adele.vance@contoso.example").await;
    let other_session = app.sign_in(&user.upn, &user.password).await.expect("a second device");

    app.sign_out(&tokens.access_token).await.expect("signs out");

    let refresh = app
        .refresh(&tokens.refresh_token)
        .await
        .expect_err("the session has ended");
    assert_status(&refresh, Code::Unauthenticated, INVALID_REFRESH_TOKEN);
    let profile = app
        .get_my_profile(&tokens.access_token)
        .await
        .expect_err("the session has ended");
    assert_revoked(&profile, "signed_out");
    app.sign_out(&tokens.access_token)
        .await
        .expect("signing out twice is harmless");
    assert_eq!(
        revocation_reasons(&app).await,
        ["signed_out"],
        "one event, however often"
    );

    // Only that session: the user's other device is still signed in.
    app.get_my_profile(&other_session.access_token)
        .await
        .expect("the other session is untouched");
    app.refresh(&other_session.refresh_token)
        .await
        .expect("and can still refresh");
}

#[tokio::test]
async fn a_token_signed_by_anyone_else_is_unauthenticated() {
    let app = spawn_app().await;
    let (user, tokens) = app.signed_in_user("adele.vance@contoso.example").await;

    // A well-formed token for the real user, signed by a key identity never published.
    let forger = TestIssuer::new();
    let status = app
        .get_my_profile(&forger.token_for(user.id))
        .await
        .expect_err("an unknown key");
    assert_status(
        &status,
        Code::Unauthenticated,
        "the access token was signed by an unknown key",
    );

    // The same, claiming the admin scope.
    let status = app
        .create_user_as(Some(&forger.admin_token()), user_request("mallory@contoso.example"))
        .await
        .expect_err("a forged admin token");
    assert_status(
        &status,
        Code::Unauthenticated,
        "the access token was signed by an unknown key",
    );

    // A forgery that names identity's real key id but is signed with another key.
    let kid = jsonwebtoken::decode_header(&tokens.access_token)
        .expect("a JWT")
        .kid
        .expect("a kid");
    let impostor = SigningKey::from_secret(kid, &[7u8; 32]).expect("a key");
    let mut claims = forger.claims_for(user.id);
    claims.scope = Some(platform::auth::ADMIN_SCOPE.into());
    let status = app
        .create_user_as(
            Some(&impostor.sign(&claims).expect("signs")),
            user_request("mallory@contoso.example"),
        )
        .await
        .expect_err("a bad signature");
    assert_status(
        &status,
        Code::Unauthenticated,
        "the access token is invalid: bad signature",
    );

    assert_eq!(app.user_count().await, 2, "the forgeries created nobody");
}
