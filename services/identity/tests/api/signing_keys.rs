//! Key rotation without a gap: a new key is in the JWKS before it signs, and a retired key stays
//! there until the tokens it signed have expired.

use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::jwk::JwkSet;
use myaccount_identity::tokens::{TokenSettings, rotate_signing_key};
use platform::auth::{DEFAULT_AUDIENCE, DEFAULT_ISSUER};
use platform::testing::eventually;

use crate::helpers::{TestApp, spawn_app_with};

fn kid_of(access_token: &str) -> String {
    jsonwebtoken::decode_header(access_token)
        .expect("a JWT")
        .kid
        .expect("a kid")
}

async fn published_kids(app: &TestApp) -> Vec<String> {
    let set: JwkSet = reqwest::get(app.jwks_url())
        .await
        .expect("identity answers")
        .json()
        .await
        .expect("a JWK set");
    set.keys.iter().filter_map(|k| k.common.key_id.clone()).collect()
}

#[tokio::test]
async fn a_new_key_is_published_before_it_signs_and_an_old_one_until_its_tokens_expired() {
    // Replicas reload every second here, so the test sees each step at once.
    let app = spawn_app_with(|s| s.tokens.signing_keys_reload = Duration::from_secs(1)).await;
    let (user, signed_in) = app.signed_in_user("adele.vance@contoso.example").await;
    let old_kid = kid_of(&signed_in.access_token);

    // Rotated as an installation reloading every half hour would: the new key signs in an hour.
    let slow = TokenSettings {
        signing_keys_reload: Duration::from_secs(1800),
        ..TokenSettings::new(DEFAULT_ISSUER, DEFAULT_AUDIENCE)
    };
    let rotation = rotate_signing_key(&app.db, &slow, Utc::now()).await.expect("rotates");
    assert!(rotation.activates_at > Utc::now() + chrono::Duration::minutes(59));
    eventually(Duration::from_secs(10), || async {
        published_kids(&app).await.contains(&rotation.kid)
    })
    .await;
    let meanwhile = app.sign_in(&user.upn, &user.password).await.expect("signs in");
    assert_eq!(
        kid_of(&meanwhile.access_token),
        old_kid,
        "published, not signing yet: verifiers everywhere learn the key first"
    );

    // The hour passes.
    sqlx::query(
        "UPDATE signing_keys SET activates_at = activates_at - interval '61 minutes', \
         retired_at = retired_at - interval '61 minutes'",
    )
    .execute(&app.db)
    .await
    .expect("move the schedule");
    // Each replica picks the new schedule up at its next reload.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut refresh_token = meanwhile.refresh_token.clone();
    loop {
        let tokens = app.refresh(&refresh_token).await.expect("refreshes");
        refresh_token = tokens.refresh_token;
        if kid_of(&tokens.access_token) == rotation.kid {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the new key never signed");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    // The old key's last tokens are still valid for a while: it stays published.
    assert!(published_kids(&app).await.contains(&old_kid));
    app.jwks_verifier()
        .verify(&signed_in.access_token)
        .await
        .expect("a token of the old key still verifies");

    // Once the last of them has expired, it leaves the JWKS.
    sqlx::query("UPDATE signing_keys SET retired_at = now() - interval '1 day' WHERE kid = $1")
        .bind(&old_kid)
        .execute(&app.db)
        .await
        .expect("long retired");
    eventually(Duration::from_secs(10), || async {
        !published_kids(&app).await.contains(&old_kid)
    })
    .await;
    assert!(published_kids(&app).await.contains(&rotation.kid));
}
