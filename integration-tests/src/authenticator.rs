//! The person's authenticator app in the tests: RFC 6238 codes (SHA-1, 6 digits, 30 s) from
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
