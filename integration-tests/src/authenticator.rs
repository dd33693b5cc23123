//! The person's authenticators in the tests. The authenticator app: RFC 6238 codes (SHA-1, 6 digits, 30 s) from
//! totp-rs, independent of the service's implementation. `TestSystem` registers one through the
//! gateway.

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

/// A person's passkey in the tests: a software authenticator (webauthn-authenticator-rs's
/// `SoftPasskey`, user verification reported) that keeps its credential as a discoverable one
/// would: it remembers the user handle the registration named, and answers a sign-in whose
/// options carry no allow-list (as a platform authenticator offers its resident keys) with that
/// credential and its user handle. Every signature is real; only the resident-key storage is
/// played here, since `SoftPasskey` refuses resident keys.
pub struct DiscoverablePasskey {
    key: webauthn_authenticator_rs::WebauthnAuthenticator<webauthn_authenticator_rs::softpasskey::SoftPasskey>,
    origin: url::Url,
    /// (credential id, user handle), base64url as WebAuthn's JSON writes them.
    credential: Option<(String, String)>,
}

impl DiscoverablePasskey {
    pub fn new(origin: &str) -> Self {
        Self {
            key: webauthn_authenticator_rs::WebauthnAuthenticator::new(
                webauthn_authenticator_rs::softpasskey::SoftPasskey::new(true),
            ),
            origin: url::Url::parse(origin).expect("origin"),
            credential: None,
        }
    }

    /// `navigator.credentials.create()` with the gateway's `publicKey` options; the answer's
    /// `credProps` says a resident key was made, as a browser's does.
    pub fn register(&mut self, public_key: &serde_json::Value) -> serde_json::Value {
        let user_handle = public_key["user"]["id"]
            .as_str()
            .expect("the options name the user")
            .to_owned();
        let options = serde_json::from_value(serde_json::json!({ "publicKey": public_key })).expect("creation options");
        let registered = self
            .key
            .do_registration(self.origin.clone(), options)
            .expect("the key registers");
        let mut credential = serde_json::to_value(registered).expect("json");
        let id = credential["id"].as_str().expect("credential id").to_owned();
        credential["extensions"]["credProps"] = serde_json::json!({ "rk": true });
        self.credential = Some((id, user_handle));
        credential
    }

    /// `navigator.credentials.get()` with the gateway's `publicKey` options: with no allow-list,
    /// the discoverable credential answers with its user handle.
    pub fn sign(&mut self, public_key: &serde_json::Value) -> serde_json::Value {
        let (id, user_handle) = self.credential.clone().expect("a credential is registered");
        let mut public_key = public_key.clone();
        let open = public_key
            .get("allowCredentials")
            .and_then(serde_json::Value::as_array)
            .is_none_or(Vec::is_empty);
        if open {
            public_key["allowCredentials"] = serde_json::json!([{ "type": "public-key", "id": id }]);
        }
        let options = serde_json::from_value(serde_json::json!({ "publicKey": public_key })).expect("request options");
        let signed = self
            .key
            .do_authentication(self.origin.clone(), options)
            .expect("the key signs");
        let mut assertion = serde_json::to_value(signed).expect("json");
        if open {
            assertion["response"]["userHandle"] = serde_json::Value::String(user_handle);
        }
        assertion
    }

    /// The credential id (base64url) of the registered passkey.
    pub fn credential_id(&self) -> &str {
        self.credential
            .as_ref()
            .map(|(id, _)| id.as_str())
            .expect("a credential is registered")
    }
}
