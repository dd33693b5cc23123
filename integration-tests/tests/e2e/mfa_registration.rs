//! "More information required" through the gateway: a person without a second factor signing
//! in to an organization that requires one registers it with the registration token, and only
//! then gets a session.

use std::time::Duration;

use myaccount_integration_tests::{TestSystem, assert_problem};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::organizations::Admin;

/// Signs in until identity knows the organization requires MFA (the setting travels as an event).
async fn interrupted_sign_in(system: &TestSystem, upn: &str, password: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let response = system.sign_in(upn, password).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        if body["mfaRegistrationRequired"] == true {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "identity did not learn of the requirement within 20 s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_person_without_a_second_factor_registers_one_before_signing_in() {
    let system = TestSystem::spawn().await;
    let admin = Admin::of(&system).await;
    let contoso = admin.create_organization("Contoso", None).await;
    let adele = system.create_user_in(&contoso).await;
    admin.require_mfa(&contoso, true).await;

    let interrupt = interrupted_sign_in(&system, &adele.upn, &adele.password).await;
    let mut fields: Vec<&str> = interrupt
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    // The contract is the set of fields; their order depends on serde_json's map.
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["expiresAt", "mfaRegistrationRequired", "registrationToken"],
        "{interrupt}"
    );
    assert!(interrupt.get("accessToken").is_none());
    let token = interrupt["registrationToken"].as_str().expect("a token").to_owned();

    // The token is good for nothing but registering a first method.
    for (method, path, body) in [
        (Method::GET, "/api/v1/me", None),
        (Method::GET, "/api/v1/me/profile", None),
        (Method::GET, "/api/v1/me/security-info", None),
        (Method::GET, "/api/v1/me/sessions", None),
        (Method::GET, "/api/v1/me/devices", None),
        (Method::GET, "/api/v1/me/organizations", None),
        (Method::GET, "/api/v1/me/sign-ins", None),
        (Method::POST, "/api/v1/me/export", None),
        (Method::POST, "/api/v1/auth/sign-out", None),
        (
            Method::POST,
            "/api/v1/me/security-info/methods",
            Some(json!({ "type": "appPassword", "name": "Mail" })),
        ),
        (
            Method::POST,
            "/api/v1/me/security-info/methods",
            Some(json!({ "type": "recoveryCodes" })),
        ),
        (
            Method::POST,
            "/api/v1/auth/reauthenticate",
            Some(json!({ "password": adele.password })),
        ),
    ] {
        let response = system.request(method.clone(), path, Some(&token), body.as_ref()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
    }

    // Finishing before a method is verified is a clear problem, not a session.
    let early = system
        .post_json(
            "/api/v1/auth/mfa-registration/complete",
            &json!({ "registrationToken": token }),
        )
        .await;
    let problem = assert_problem(early, StatusCode::BAD_REQUEST).await;
    assert!(
        problem["detail"].as_str().unwrap_or_default().contains("verify it"),
        "{problem}"
    );

    // An authenticator app, registered and verified with the token...
    let (_, _, method_id) = system.add_authenticator_app(&token).await;
    // ...finishes the sign-in, with amr naming the new factor.
    let done = system
        .post_json(
            "/api/v1/auth/mfa-registration/complete",
            &json!({ "registrationToken": token }),
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    let tokens: Value = done.json().await.expect("json");
    let access_token = tokens["accessToken"].as_str().expect("tokens").to_owned();
    let claims = crate::security_info::claims(&access_token);
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["org"], contoso.as_str());
    let me = system.get("/api/v1/me/security-info", &access_token).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.expect("json");
    assert_eq!(me["methods"][0]["id"], method_id.as_str(), "{me}");

    // The token is spent.
    let again = system
        .post_json(
            "/api/v1/auth/mfa-registration/complete",
            &json!({ "registrationToken": token }),
        )
        .await;
    assert_problem(again, StatusCode::UNAUTHORIZED).await;

    // From now on, the sign-in asks for the new factor.
    let next = system.sign_in(&adele.upn, &adele.password).await;
    let next: Value = next.json().await.expect("json");
    assert_eq!(next["mfaRequired"], true, "{next}");

    // The log shows the interrupted attempt, then the finished one.
    let sign_ins = system.wait_for_sign_ins(&access_token, 2).await;
    let interrupted = sign_ins
        .iter()
        .find(|s| s["failureReason"] == "mfa_registration_required")
        .expect("the interrupted sign-in is in the log");
    assert_eq!(interrupted["status"], "failure", "{interrupted}");
    assert!(
        sign_ins
            .iter()
            .any(|s| s["status"] == "success" && s["authenticationMethods"] == json!(["pwd", "otp", "mfa"])),
        "{sign_ins:?}"
    );
}
