//! Security info and multi-factor sign-in through the gateway: a person adds an authenticator
//! app, then signs in with a code; sensitive changes need a fresh multi-factor sign-in.

use base64::Engine;
use myaccount_integration_tests::{Session, TestSystem, assert_problem};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The claims of an access token (the gateway's clients may read them; signature checked by
/// the services).
pub(crate) fn claims(access_token: &str) -> Value {
    let payload = access_token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

pub(crate) fn session(body: &Value) -> Session {
    Session {
        access_token: body["accessToken"].as_str().expect("accessToken").to_owned(),
        refresh_token: body["refreshToken"].as_str().expect("refreshToken").to_owned(),
    }
}

#[tokio::test]
async fn a_person_adds_an_authenticator_app_and_then_signs_in_with_a_code() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let first = system.sign_in_ok(&user).await;

    let empty: Value = system
        .get("/api/v1/me/security-info", &first.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(empty["methods"], json!([]));
    assert_eq!(empty["mfaRegistered"], false);

    // No second factor yet: a fresh password sign-in may add the first one.
    let (app, step, method_id) = system.add_authenticator_app(&first.access_token).await;
    let overview: Value = system
        .get("/api/v1/me", &first.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(overview["securityInfo"]["methodsCount"], 1, "{overview}");
    assert_eq!(overview["securityInfo"]["mfaRegistered"], true);
    assert_eq!(overview["securityInfo"]["defaultMethod"]["id"], method_id.as_str());
    assert_eq!(overview["securityInfo"]["defaultMethod"]["type"], "authenticatorApp");

    // The password alone no longer signs in; a wrong code is refused and recorded.
    let wrong = system.sign_in_with_code(&user, &app.code(step + 7)).await;
    let problem = assert_problem(wrong, StatusCode::UNAUTHORIZED).await;
    assert_eq!(problem["detail"], "the code or security key answer is not right");

    let signed_in = system.sign_in_with_code(&user, &app.code(step + 1)).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let tokens = session(&signed_in.json().await.expect("json"));
    let claims = claims(&tokens.access_token);
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert!(claims["auth_time"].as_i64().is_some());

    // The same code cannot sign in twice.
    let replayed = system.sign_in_with_code(&user, &app.code(step + 1)).await;
    let problem = assert_problem(replayed, StatusCode::UNAUTHORIZED).await;
    assert_eq!(problem["detail"], "this code was already used; wait for the next code");

    // Every attempt is in "My sign-ins", with the second factor's outcome.
    let items = system.wait_for_sign_ins(&tokens.access_token, 4).await;
    let reasons: Vec<&str> = items
        .iter()
        .map(|i| i["failureReason"].as_str().unwrap_or(""))
        .collect();
    assert!(reasons.contains(&"second_factor_failed"), "{items:?}");
    assert!(reasons.contains(&"second_factor_replayed"), "{items:?}");
    assert!(
        items
            .iter()
            .any(|i| i["status"] == "success" && i["authenticationMethods"] == json!(["pwd", "otp", "mfa"])),
        "{items:?}"
    );
}

#[tokio::test]
async fn changes_need_a_recent_multi_factor_sign_in_which_reauthenticate_gives() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let password_only = system.sign_in_ok(&user).await;
    let (app, step, method_id) = system.add_authenticator_app(&password_only.access_token).await;

    // Now that there is a second factor, the password-only token cannot change anything.
    let refused = system
        .request(
            Method::POST,
            "/api/v1/me/security-info/methods",
            Some(&password_only.access_token),
            Some(&json!({ "type": "recoveryCodes" })),
        )
        .await;
    let problem = assert_problem(refused, StatusCode::FORBIDDEN).await;
    assert_eq!(problem["type"], "urn:myaccount:problem:reauthentication-required");
    let refused = system
        .request(
            Method::DELETE,
            &format!("/api/v1/me/security-info/methods/{method_id}"),
            Some(&password_only.access_token),
            None,
        )
        .await;
    assert_problem(refused, StatusCode::FORBIDDEN).await;

    // Step up on the same session: the password, then a code.
    let challenge = system
        .request(
            Method::POST,
            "/api/v1/auth/reauthenticate",
            Some(&password_only.access_token),
            Some(&json!({ "password": user.password })),
        )
        .await;
    assert_eq!(challenge.status(), StatusCode::OK);
    let challenge: Value = challenge.json().await.expect("json");
    assert_eq!(challenge["mfaRequired"], true);
    let stepped_up = system
        .post_json(
            "/api/v1/auth/mfa",
            &json!({ "challengeId": challenge["challengeId"], "methodId": method_id, "code": app.code(step + 1) }),
        )
        .await;
    assert_eq!(stepped_up.status(), StatusCode::OK);
    let stepped_up = session(&stepped_up.json().await.expect("json"));
    assert_eq!(
        claims(&stepped_up.access_token)["sid"],
        claims(&password_only.access_token)["sid"],
        "the same session"
    );
    assert_eq!(claims(&stepped_up.access_token)["amr"], json!(["pwd", "otp", "mfa"]));

    let codes = system
        .request(
            Method::POST,
            "/api/v1/me/security-info/methods",
            Some(&stepped_up.access_token),
            Some(&json!({ "type": "recoveryCodes" })),
        )
        .await;
    assert_eq!(codes.status(), StatusCode::CREATED);
    let codes: Value = codes.json().await.expect("json");
    assert_eq!(codes["codes"].as_array().expect("codes").len(), 10);

    // A wrong password at step-up is refused.
    let wrong = system
        .request(
            Method::POST,
            "/api/v1/auth/reauthenticate",
            Some(&stepped_up.access_token),
            Some(&json!({ "password": "not the password at all" })),
        )
        .await;
    assert_problem(wrong, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn an_app_password_signs_in_without_a_second_step_and_a_recovery_code_works_once() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let first = system.sign_in_ok(&user).await;
    let (app, step, _) = system.add_authenticator_app(&first.access_token).await;
    let mfa = system.sign_in_with_code(&user, &app.code(step + 1)).await;
    let mfa = session(&mfa.json().await.expect("json"));

    let created: Value = system
        .request(
            Method::POST,
            "/api/v1/me/security-info/methods",
            Some(&mfa.access_token),
            Some(&json!({ "type": "appPassword", "name": "Old mail client" })),
        )
        .await
        .json()
        .await
        .expect("json");
    let app_password = created["password"].as_str().expect("shown once").to_owned();
    let signed_in = system.sign_in(&user.upn, &app_password).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let body: Value = signed_in.json().await.expect("json");
    assert!(body.get("mfaRequired").is_none(), "{body}");
    assert_eq!(
        claims(body["accessToken"].as_str().expect("token"))["amr"],
        json!(["app_pwd"])
    );

    let codes: Value = system
        .request(
            Method::POST,
            "/api/v1/me/security-info/methods",
            Some(&mfa.access_token),
            Some(&json!({ "type": "recoveryCodes" })),
        )
        .await
        .json()
        .await
        .expect("json");
    let code = codes["codes"][0].as_str().expect("a code").to_owned();
    let recovery_id = codes["methodId"].as_str().expect("id").to_owned();
    for (attempt, expected) in [(1, StatusCode::OK), (2, StatusCode::UNAUTHORIZED)] {
        let first: Value = system
            .sign_in(&user.upn, &user.password)
            .await
            .json()
            .await
            .expect("json");
        let offered: Vec<&str> = first["methods"]
            .as_array()
            .expect("methods")
            .iter()
            .map(|m| m["type"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(offered, ["authenticatorApp", "recoveryCodes"]);
        let answer = system
            .post_json(
                "/api/v1/auth/mfa",
                &json!({ "challengeId": first["challengeId"], "methodId": recovery_id, "code": code }),
            )
            .await;
        assert_eq!(answer.status(), expected, "attempt {attempt}");
    }

    // Another person's method id is not found, and nothing changes.
    let mallory = system.create_user().await;
    let mallory = system.sign_in_ok(&mallory).await;
    let stranger = system
        .request(
            Method::DELETE,
            &format!("/api/v1/me/security-info/methods/{recovery_id}"),
            Some(&mallory.access_token),
            None,
        )
        .await;
    assert_problem(stranger, StatusCode::NOT_FOUND).await;
    let mine: Value = system
        .get("/api/v1/me/security-info", &mfa.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine["methods"].as_array().expect("methods").len(), 3);
}

#[tokio::test]
async fn a_security_key_registers_and_answers_the_second_step_with_a_real_signature() {
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    use webauthn_authenticator_rs::softpasskey::SoftPasskey;

    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let first = system.sign_in_ok(&user).await;
    let origin = url::Url::parse(&system.web_origin).expect("origin");
    let mut key = WebauthnAuthenticator::new(SoftPasskey::new(true));

    // Registration: the browser's navigator.credentials.create() with the gateway's options.
    let started: Value = system
        .request(
            Method::POST,
            "/api/v1/me/security-info/methods",
            Some(&first.access_token),
            Some(&json!({ "type": "securityKey", "name": "YubiKey 5" })),
        )
        .await
        .json()
        .await
        .expect("json");
    let options = serde_json::from_value(json!({ "publicKey": started["publicKey"] })).expect("creation options");
    let credential = key.do_registration(origin.clone(), options).expect("the key registers");
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
    let method: Value = verified.json().await.expect("json");
    assert_eq!(method["type"], "securityKey");
    assert_eq!(method["name"], "YubiKey 5");

    // Sign-in: password, then the key signs the challenge the service chose.
    let challenge: Value = system
        .sign_in(&user.upn, &user.password)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(challenge["methods"][0]["type"], "securityKey");
    let prompt: Value = system
        .post_json(
            "/api/v1/auth/mfa/start",
            &json!({ "challengeId": challenge["challengeId"], "methodId": method_id }),
        )
        .await
        .json()
        .await
        .expect("json");
    let options = serde_json::from_value(json!({ "publicKey": prompt["publicKey"] })).expect("request options");
    let assertion = key.do_authentication(origin, options).expect("the key signs");
    let signed_in = system
        .post_json(
            "/api/v1/auth/mfa",
            &json!({ "challengeId": challenge["challengeId"], "methodId": method_id, "assertion": assertion }),
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let tokens = session(&signed_in.json().await.expect("json"));
    assert_eq!(claims(&tokens.access_token)["amr"], json!(["pwd", "hwk", "mfa"]));
}

#[tokio::test]
async fn a_challenge_takes_five_wrong_answers_and_expires() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let first = system.sign_in_ok(&user).await;
    let (app, step, method_id) = system.add_authenticator_app(&first.access_token).await;

    let challenge: Value = system
        .sign_in(&user.upn, &user.password)
        .await
        .json()
        .await
        .expect("json");
    let wrong = app.code(step + 9);
    for _ in 0..5 {
        let answer = system
            .post_json(
                "/api/v1/auth/mfa",
                &json!({ "challengeId": challenge["challengeId"], "methodId": method_id, "code": wrong }),
            )
            .await;
        assert_problem(answer, StatusCode::UNAUTHORIZED).await;
    }
    // Even the right code is refused now: the challenge is spent.
    let locked = system
        .post_json(
            "/api/v1/auth/mfa",
            &json!({ "challengeId": challenge["challengeId"], "methodId": method_id, "code": app.code(step + 1) }),
        )
        .await;
    let problem = assert_problem(locked, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(
        problem["detail"],
        "too many wrong answers to this sign-in challenge; sign in again"
    );

    // A challenge answered after its five minutes is refused, even with the right code. (The
    // account is throttled by now after the wrong answers; wait it out by clearing the counter,
    // as an hour would.)
    let identity_db = sqlx::PgPool::connect(&system.identity_db.settings.url)
        .await
        .expect("identity db");
    sqlx::query("DELETE FROM sign_in_throttle")
        .execute(&identity_db)
        .await
        .expect("forget failures");
    let challenge: Value = system
        .sign_in(&user.upn, &user.password)
        .await
        .json()
        .await
        .expect("json");
    let challenge_id = challenge["challengeId"].as_str().expect("challengeId");
    sqlx::query("UPDATE mfa_challenges SET expires_at = now() - interval '1 second' WHERE id = $1::uuid")
        .bind(challenge_id)
        .execute(&identity_db)
        .await
        .expect("age the challenge");
    let late = system
        .post_json(
            "/api/v1/auth/mfa",
            &json!({ "challengeId": challenge_id, "methodId": method_id, "code": app.code(step + 1) }),
        )
        .await;
    let problem = assert_problem(late, StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        problem["detail"],
        "the sign-in challenge has expired; sign in again with your password"
    );
    // The code was not spent by the refused answers: it still works on a fresh challenge.
    let fresh = system.sign_in_with_code(&user, &app.code(step + 1)).await;
    assert_eq!(fresh.status(), StatusCode::OK);

    let tokens = session(&fresh.json().await.expect("json"));
    let items = system.wait_for_sign_ins(&tokens.access_token, 9).await;
    let reasons: Vec<&str> = items.iter().filter_map(|i| i["failureReason"].as_str()).collect();
    assert!(reasons.contains(&"mfa_too_many_attempts"), "{reasons:?}");
    assert!(reasons.contains(&"mfa_challenge_expired"), "{reasons:?}");
}

#[tokio::test]
async fn without_a_phone_provider_phones_are_offered_as_unavailable() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;

    let info: Value = system
        .get("/api/v1/me/security-info", &session.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(info["phoneAvailable"], false, "{info}");

    let refused = system
        .request(
            Method::POST,
            "/api/v1/me/security-info/methods",
            Some(&session.access_token),
            Some(&json!({ "type": "phone", "phoneType": "mobile", "number": "+14255550109", "delivery": "sms" })),
        )
        .await;
    let problem = assert_problem(refused, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        problem["type"].as_str().map(|t| t.ends_with("failed-precondition")),
        Some(true),
        "{problem}"
    );
    let detail = problem["detail"].as_str().expect("detail");
    assert!(detail.contains("no SMS or voice provider"), "{detail}");
    let after: Value = system
        .get("/api/v1/me/security-info", &session.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(after["methods"], json!([]), "nothing added");
}
