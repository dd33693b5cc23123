//! Passwordless sign-in with a passkey through the gateway: a discoverable credential signs in
//! without a user name or password, through the same throttle, sign-in log and sessions as a
//! password; every wrong answer is refused precisely and opens no session. And the passkey list:
//! provider, dates, whether it signs in alone, and renaming.

use base64::Engine;
use myaccount_integration_tests::{DiscoverablePasskey, TestSystem, TestUser, assert_problem, header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::security_info::{claims, session};

/// Registers a passkey for `user` (signed in with the password; the first second factor needs
/// no step-up): the method's JSON.
async fn register_passkey(system: &TestSystem, user: &TestUser, key: &mut DiscoverablePasskey, name: &str) -> Value {
    let first = system.sign_in_ok(user).await;
    let started: Value = system
        .request(
            Method::POST,
            "/api/v1/me/security-info/methods",
            Some(&first.access_token),
            Some(&json!({ "type": "securityKey", "name": name })),
        )
        .await
        .json()
        .await
        .expect("json");
    // A discoverable credential is asked for (preferred: a key without room still registers).
    assert_eq!(
        started["publicKey"]["authenticatorSelection"]["residentKey"],
        "preferred"
    );
    assert_eq!(
        started["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );
    let credential = key.register(&started["publicKey"]);
    let method_id = started["methodId"].as_str().expect("methodId");
    let verified = system
        .request(
            Method::POST,
            &format!("/api/v1/me/security-info/methods/{method_id}/verify"),
            Some(&first.access_token),
            Some(&json!({ "credential": credential })),
        )
        .await;
    assert_eq!(verified.status(), StatusCode::OK);
    verified.json().await.expect("json")
}

async fn start(system: &TestSystem) -> Value {
    let started = system.post_json("/api/v1/auth/passkey/start", &json!({})).await;
    assert_eq!(started.status(), StatusCode::OK);
    started.json().await.expect("json")
}

async fn answer(system: &TestSystem, challenge_id: &Value, assertion: &Value) -> reqwest::Response {
    system
        .post_json(
            "/api/v1/auth/passkey",
            &json!({ "challengeId": challenge_id, "assertion": assertion }),
        )
        .await
}

/// How many sessions `user` has, read in identity's database (a refused sign-in must add none).
async fn sessions_of(system: &TestSystem, user: &TestUser) -> i64 {
    let pool = sqlx::PgPool::connect(&system.identity_db.settings.url)
        .await
        .expect("identity's database");
    let count = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1::uuid")
        .bind(&user.id)
        .fetch_one(&pool)
        .await
        .expect("count sessions");
    pool.close().await;
    count
}

#[tokio::test]
async fn a_passkey_signs_in_without_a_user_name_or_password() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let mut key = DiscoverablePasskey::new(&system.web_origin);
    let method = register_passkey(&system, &user, &mut key, "Laptop passkey").await;
    assert_eq!(method["discoverable"], true, "{method}");
    assert!(method["lastUsedAt"].is_null(), "not used yet");

    // The options name no credential: the authenticator offers what it holds.
    let challenge = start(&system).await;
    assert!(challenge["challengeId"].as_str().is_some_and(|c| !c.is_empty()));
    let options = &challenge["publicKey"];
    assert!(
        options
            .get("allowCredentials")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty),
        "no allow-list: {options}"
    );
    assert_eq!(options["userVerification"], "required");
    assert!(options["challenge"].as_str().is_some_and(|c| !c.is_empty()));

    let assertion = key.sign(options);
    let signed_in = answer(&system, &challenge["challengeId"], &assertion).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let tokens = session(&signed_in.json().await.expect("json"));
    let token_claims = claims(&tokens.access_token);
    // RFC 8176: proof of possession of a hardware-protected key, and user verification makes
    // it multi-factor; no password was used.
    assert_eq!(token_claims["amr"], json!(["hwk", "mfa"]));
    assert_eq!(token_claims["sub"], user.id);

    // The same assertion again: the challenge is spent, nothing opens.
    let before = sessions_of(&system, &user).await;
    let replayed = answer(&system, &challenge["challengeId"], &assertion).await;
    let problem = assert_problem(replayed, StatusCode::UNAUTHORIZED).await;
    assert!(
        problem["detail"].as_str().expect("detail").contains("already answered"),
        "{problem}"
    );
    assert_eq!(sessions_of(&system, &user).await, before);

    // A browser gets the cookie session instead, as with a password.
    let challenge = start(&system).await;
    let assertion = key.sign(&challenge["publicKey"]);
    let browser = system
        .http
        .post(system.url("/api/v1/auth/passkey"))
        .header("x-myaccount-session", "cookie")
        .json(&json!({ "challengeId": challenge["challengeId"], "assertion": assertion }))
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(browser.status(), StatusCode::OK);
    assert!(header(&browser, "set-cookie").contains("myaccount_session="));
    let body: Value = browser.json().await.expect("json");
    assert_eq!(body["signedIn"], true);
    assert!(body.get("accessToken").is_none(), "no tokens in a cookie answer");

    // "My sign-ins": the password sign-in of the registration, then both passkey sign-ins
    // (multi-factor, no password). The replay named nobody (a spent challenge is refused before
    // any passkey is looked at), so it is not among them.
    let sign_ins = system.wait_for_sign_ins(&tokens.access_token, 3).await;
    let passkey: Vec<&Value> = sign_ins
        .iter()
        .filter(|s| s["authenticationMethods"] == json!(["hwk", "mfa"]))
        .collect();
    assert_eq!(
        passkey.iter().filter(|s| s["status"] == "success").count(),
        2,
        "{sign_ins:#?}"
    );
    assert_eq!(sign_ins.len(), 3, "{sign_ins:#?}");
    for s in &passkey {
        assert_eq!(s["authenticationRequirement"], "multi_factor");
        assert_eq!(s["userPrincipalName"], user.upn);
    }

    // The list says when it was last used, and which provider made it (a software key names
    // none).
    let info: Value = system
        .get("/api/v1/me/security-info", &tokens.access_token)
        .await
        .json()
        .await
        .expect("json");
    let listed = info["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .find(|m| m["id"] == method["id"])
        .expect("the passkey is listed");
    assert!(listed["lastUsedAt"].is_string(), "{listed}");
    assert!(listed["createdAt"].is_string());
    assert!(listed.get("providerName").is_none(), "{listed}");
}

#[tokio::test]
async fn wrong_passkey_answers_are_refused_precisely_and_open_no_session() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let mut key = DiscoverablePasskey::new(&system.web_origin);
    let method = register_passkey(&system, &user, &mut key, "Phone passkey").await;
    let sessions = sessions_of(&system, &user).await;

    // Bad input changes nothing: the challenge stays answerable.
    let challenge = start(&system).await;
    let not_an_id = answer(&system, &json!("nope"), &key.sign(&challenge["publicKey"])).await;
    let problem = assert_problem(not_an_id, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["errors"][0]["field"], "challengeId");
    let not_an_assertion = answer(&system, &challenge["challengeId"], &json!({ "id": 7 })).await;
    let problem = assert_problem(not_an_assertion, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["errors"][0]["field"], "assertion");

    // A signature that does not verify.
    let mut forged = key.sign(&challenge["publicKey"]);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut signature = b64
        .decode(forged["response"]["signature"].as_str().expect("signature"))
        .expect("base64url");
    let last = signature.len() - 1;
    signature[last] ^= 0x01;
    forged["response"]["signature"] = json!(b64.encode(signature));
    let refused = answer(&system, &challenge["challengeId"], &forged).await;
    let problem = assert_problem(refused, StatusCode::UNAUTHORIZED).await;
    assert_eq!(problem["detail"], "the passkey's answer did not verify; try again");

    // An expired challenge.
    let challenge = start(&system).await;
    let security_info = sqlx::PgPool::connect(&system.security_info_db.settings.url)
        .await
        .expect("security-info's database");
    sqlx::query("UPDATE passkey_sign_ins SET expires_at = now() - interval '1 second' WHERE id = $1::uuid")
        .bind(challenge["challengeId"].as_str().expect("id"))
        .execute(&security_info)
        .await
        .expect("expire the challenge");
    let late = answer(&system, &challenge["challengeId"], &key.sign(&challenge["publicKey"])).await;
    let problem = assert_problem(late, StatusCode::UNAUTHORIZED).await;
    assert!(
        problem["detail"].as_str().expect("detail").contains("expired"),
        "{problem}"
    );

    // A disabled account.
    let identity = sqlx::PgPool::connect(&system.identity_db.settings.url)
        .await
        .expect("identity's database");
    sqlx::query("UPDATE users SET enabled = false WHERE id = $1::uuid")
        .bind(&user.id)
        .execute(&identity)
        .await
        .expect("disable the account");
    let challenge = start(&system).await;
    let disabled = answer(&system, &challenge["challengeId"], &key.sign(&challenge["publicKey"])).await;
    let problem = assert_problem(disabled, StatusCode::FORBIDDEN).await;
    assert!(
        problem["detail"].as_str().expect("detail").contains("disabled"),
        "{problem}"
    );
    sqlx::query("UPDATE users SET enabled = true WHERE id = $1::uuid")
        .bind(&user.id)
        .execute(&identity)
        .await
        .expect("enable the account");

    // The passkey removed: it names nobody any more.
    let challenge = start(&system).await;
    let signed_in = answer(&system, &challenge["challengeId"], &key.sign(&challenge["publicKey"])).await;
    assert_eq!(
        signed_in.status(),
        StatusCode::OK,
        "the passkey still works before removal"
    );
    let tokens = session(&signed_in.json().await.expect("json"));
    let removed = system
        .request(
            Method::DELETE,
            &format!(
                "/api/v1/me/security-info/methods/{}",
                method["id"].as_str().expect("id")
            ),
            Some(&tokens.access_token),
            None,
        )
        .await;
    assert_eq!(
        removed.status(),
        StatusCode::NO_CONTENT,
        "a passkey sign-in is a fresh multi-factor one"
    );
    let with_sessions = sessions_of(&system, &user).await;
    let challenge = start(&system).await;
    let unknown = answer(&system, &challenge["challengeId"], &key.sign(&challenge["publicKey"])).await;
    let problem = assert_problem(unknown, StatusCode::UNAUTHORIZED).await;
    assert!(
        problem["detail"].as_str().expect("detail").contains("not registered"),
        "{problem}"
    );
    assert_eq!(
        sessions_of(&system, &user).await,
        with_sessions,
        "no session for a refused passkey"
    );
    assert_eq!(with_sessions, sessions + 1, "only the right answer opened a session");

    // The refusals of this person's passkey are in "My sign-ins" with their reasons; an expired
    // challenge and an unknown passkey name nobody.
    let sign_ins = system.wait_for_sign_ins(&tokens.access_token, 4).await;
    let reasons: Vec<&str> = sign_ins.iter().filter_map(|s| s["failureReason"].as_str()).collect();
    assert_eq!(reasons.len(), 2, "{sign_ins:#?}");
    for reason in ["passkey_failed", "account_disabled"] {
        assert!(reasons.contains(&reason), "{reason} in {reasons:?}");
    }
}

#[tokio::test]
async fn a_method_is_renamed_and_bad_names_change_nothing() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let mut key = DiscoverablePasskey::new(&system.web_origin);
    let method = register_passkey(&system, &user, &mut key, "Old name").await;
    let id = method["id"].as_str().expect("id");
    // With a second factor now, the password alone opens no session: the passkey signs in.
    let challenge = start(&system).await;
    let signed_in = answer(&system, &challenge["challengeId"], &key.sign(&challenge["publicKey"])).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let token = session(&signed_in.json().await.expect("json")).access_token;
    let rename = |name: Value, id: String| {
        let system = &system;
        let token = token.clone();
        async move {
            system
                .request(
                    Method::PATCH,
                    &format!("/api/v1/me/security-info/methods/{id}"),
                    Some(&token),
                    Some(&json!({ "name": name })),
                )
                .await
        }
    };
    let listed_name = || async {
        let info: Value = system
            .get("/api/v1/me/security-info", &token)
            .await
            .json()
            .await
            .expect("json");
        info["methods"][0]["name"].as_str().expect("name").to_owned()
    };

    // A bad name is refused with the field's error and changes nothing.
    for bad in [json!(""), json!("   "), json!("x".repeat(65))] {
        let problem = assert_problem(rename(bad.clone(), id.to_owned()).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["errors"][0]["field"], "name", "{bad}: {problem}");
        assert_eq!(listed_name().await, "Old name", "{bad} changed nothing");
    }
    let problem = assert_problem(rename(json!("New"), "nope".into()).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["errors"][0]["field"], "methodId");
    let unknown = rename(json!("New"), uuid::Uuid::new_v4().to_string()).await;
    assert_problem(unknown, StatusCode::NOT_FOUND).await;

    let renamed = rename(json!("  Work laptop  "), id.to_owned()).await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed: Value = renamed.json().await.expect("json");
    assert_eq!(renamed["name"], "Work laptop");
    assert_eq!(renamed["discoverable"], true);
    assert_eq!(listed_name().await, "Work laptop");
    let exactly_64 = "y".repeat(64);
    assert_eq!(rename(json!(exactly_64), id.to_owned()).await.status(), StatusCode::OK);
}
