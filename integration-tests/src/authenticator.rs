//! The person's authenticator app in the tests: RFC 6238 codes (SHA-1, 6 digits, 30 s) from
//! totp-rs, independent of the service's implementation, and its registration through the
//! gateway.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{TestSystem, TestUser};

pub struct AuthenticatorApp {
    secret: String,
    totp: totp_rs::TOTP,
}

impl AuthenticatorApp {
    pub fn new(secret: &str) -> Self {
        let bytes = totp_rs::Secret::Encoded(secret.to_owned())
            .to_bytes()
            .expect("base32 secret");
        Self {
            secret: secret.to_owned(),
            totp: totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes),
        }
    }

    /// The base32 secret the person typed or scanned.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The current 30-second time step.
    pub fn step_now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
            / 30
    }

    /// The code of `step`; the service accepts each step once.
    pub fn code(&self, step: u64) -> String {
        self.totp.generate(step * 30)
    }
}

impl TestSystem {
    /// Registers an authenticator app ("Phone") for the person signed in with `token` and
    /// verifies it with the current code; returns the app, the time step that code used, and
    /// the method id.
    pub async fn add_authenticator_app(&self, token: &str) -> (AuthenticatorApp, u64, String) {
        let started = self
            .request(
                Method::POST,
                "/api/v1/me/security-info/methods",
                Some(token),
                Some(&json!({ "type": "authenticatorApp", "name": "Phone" })),
            )
            .await;
        assert_eq!(started.status(), StatusCode::CREATED);
        let started: Value = started.json().await.expect("json");
        assert_eq!(started["status"], "pending");
        assert!(
            started["otpauthUri"]
                .as_str()
                .expect("uri")
                .starts_with("otpauth://totp/MyAccount:Phone?secret=")
        );
        assert!(
            started["qrCode"]
                .as_str()
                .expect("qrCode")
                .starts_with("data:image/svg+xml;base64,")
        );
        let app = AuthenticatorApp::new(started["secret"].as_str().expect("secret"));
        let method_id = started["methodId"].as_str().expect("methodId").to_owned();
        let step = AuthenticatorApp::step_now();
        let verified = self
            .request(
                Method::POST,
                &format!("/api/v1/me/security-info/methods/{method_id}/verify"),
                Some(token),
                Some(&json!({ "code": app.code(step) })),
            )
            .await;
        assert_eq!(verified.status(), StatusCode::OK, "the app is verified");
        (app, step, method_id)
    }

    /// Signs in with the password (which must ask for the authenticator app) and answers the
    /// second step with `code`.
    pub async fn sign_in_with_code(&self, user: &TestUser, code: &str) -> reqwest::Response {
        let first: Value = self
            .sign_in(&user.upn, &user.password)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(first["mfaRequired"], true, "{first}");
        let method = &first["methods"][0];
        assert_eq!(method["type"], "authenticatorApp");
        self.post_json(
            "/api/v1/auth/mfa",
            &json!({ "challengeId": first["challengeId"], "methodId": method["id"], "code": code }),
        )
        .await
    }
}
