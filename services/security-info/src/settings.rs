//! What security-info is (its spec and migrations) and what it is configured with beyond the
//! settings every service has: the keyring that seals secrets, the WebAuthn relying party, the
//! authenticator-app issuer, the notification sender and its phone provider.

use platform::config::{ConfigError, Env};
use platform::crypto::Keyring;
use platform::events::Stream;
use platform::service::{ServiceSettings, ServiceSpec};
use platform::workload;
use url::Url;
use webauthn_rs::WebauthnBuilder;

use crate::notifications::SenderSettings;
use crate::phone::PhoneSettings;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SPEC: ServiceSpec = ServiceSpec {
    name: workload::SECURITY_INFO,
    env_prefix: "SECURITYINFO",
    default_grpc_port: 50052,
    default_database: "myaccount_securityinfo",
    consumer_name: "securityinfo",
    publishes: &[Stream::SecurityInfo, Stream::Notifications],
    migrations: &MIGRATIONS,
    // Only the gateway calls its public methods, for a person it has rate-limited.
    callers: &[workload::GATEWAY],
    generic_plans: false,
};

/// The WebAuthn relying party: the site security keys are bound to.
#[derive(Debug, Clone)]
pub struct WebAuthnSettings {
    /// A registrable domain: `contoso.example` (or `localhost`).
    pub rp_id: String,
    /// Where the browser runs the ceremonies: `https://myaccount.contoso.example`.
    pub rp_origin: Url,
    pub rp_name: String,
}

impl WebAuthnSettings {
    /// `WEBAUTHN_RP_ID` (default `localhost`), `WEBAUTHN_RP_ORIGIN` (default
    /// `http://localhost:8080`), `WEBAUTHN_RP_NAME` (default `MyAccount`).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let origin: String = env.or("WEBAUTHN_RP_ORIGIN", "http://localhost:8080".to_owned())?;
        let rp_origin =
            Url::parse(&origin).map_err(|e| ConfigError::new("WEBAUTHN_RP_ORIGIN", format!("not a URL: {e}")))?;
        let settings = Self {
            rp_id: env.or("WEBAUTHN_RP_ID", "localhost".to_owned())?,
            rp_origin,
            rp_name: env.or("WEBAUTHN_RP_NAME", "MyAccount".to_owned())?,
        };
        settings.webauthn().map_err(|e| ConfigError::new("WEBAUTHN_RP_ID", e))?;
        Ok(settings)
    }

    pub fn webauthn(&self) -> Result<webauthn_rs::Webauthn, String> {
        WebauthnBuilder::new(&self.rp_id, &self.rp_origin)
            .map_err(|e| {
                format!(
                    "{:?} is not a valid relying party for origin {}: {e}",
                    self.rp_id, self.rp_origin
                )
            })?
            .rp_name(&self.rp_name)
            .build()
            .map_err(|e| format!("webauthn set-up failed: {e}"))
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    /// Seals TOTP secrets at rest.
    pub keyring: Keyring,
    pub webauthn: WebAuthnSettings,
    /// The issuer an authenticator app shows next to the code.
    pub totp_issuer: String,
    pub sender: SenderSettings,
    /// The SMS and voice provider; `None`: phone methods are unavailable.
    pub phone: Option<PhoneSettings>,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceSettings::from_env(env, &SPEC)?,
            keyring: Keyring::from_env(env)?,
            webauthn: WebAuthnSettings::from_env(env)?,
            totp_issuer: env.or("TOTP_ISSUER", "MyAccount".to_owned())?,
            sender: SenderSettings::from_env(env)?,
            phone: PhoneSettings::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_up_refuses_to_run_without_encryption_keys() {
        let err = Settings::from_env(&Env::default()).unwrap_err();
        assert_eq!(err.variable, "DATA_ENCRYPTION_KEYS");
    }
}
