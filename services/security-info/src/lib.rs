//! The security-info service: a person's sign-in methods (authenticator apps, phones, email,
//! security keys, app passwords, recovery codes), the default method, the step-up rule for
//! changing them, and the second-factor checks identity asks for during sign-in. It also hosts
//! the notification sender (see [`notifications`]). A deleted account's data is erased.

pub mod domain;
pub mod events;
pub mod grpc;
pub mod notifications;
pub mod service;
pub mod store;

use std::sync::Arc;

use myaccount_proto::events::v1::{
    MemberJoined, MemberLeft, MemberRemoved, NotificationRequested, OrganizationChanged,
};
use myaccount_proto::securityinfo::v1::security_info_service_server::SecurityInfoServiceServer;
use platform::config::{ConfigError, Env};
use platform::consumer::ConsumerSettings;
use platform::crypto::Keyring;
use platform::events::Stream;
use platform::service::{Service, ServiceKit, ServiceSettings, ServiceSpec, StartError};
use url::Url;
use webauthn_rs::WebauthnBuilder;

use crate::notifications::{NotificationSender, SenderSettings};
use crate::service::SecurityInfo;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SPEC: ServiceSpec = ServiceSpec {
    name: "security-info",
    env_prefix: "SECURITYINFO",
    default_grpc_port: 50052,
    default_database: "myaccount_securityinfo",
    consumer_name: "securityinfo",
    publishes: &[Stream::SecurityInfo, Stream::Notifications],
    migrations: &MIGRATIONS,
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
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceSettings::from_env(env, &SPEC)?,
            keyring: Keyring::from_env(env)?,
            webauthn: WebAuthnSettings::from_env(env)?,
            totp_issuer: env.or("TOTP_ISSUER", "MyAccount".to_owned())?,
            sender: SenderSettings::from_env(env)?,
        })
    }
}

pub struct SecurityInfoService;

pub type Application = platform::service::Application<SecurityInfoService>;

impl Service for SecurityInfoService {
    const SPEC: ServiceSpec = SPEC;
    type Settings = Settings;

    fn common(settings: &Settings) -> &ServiceSettings {
        &settings.service
    }

    async fn assemble(kit: ServiceKit, settings: Settings) -> Result<ServiceKit, StartError> {
        let webauthn = settings
            .webauthn
            .webauthn()
            .map_err(|e| StartError::Config(ConfigError::new("WEBAUTHN_RP_ID", e)))?;
        let sender = NotificationSender::new(&settings.sender, settings.keyring.clone())?;
        let service = Arc::new(SecurityInfo::new(
            kit.pool().clone(),
            settings.keyring,
            webauthn,
            settings.service.step_up_max_age,
            settings.totp_issuer,
        ));
        Ok(kit
            .serve(SecurityInfoServiceServer::new(grpc::SecurityInfoApi::new(service)))
            // A sign-in interrupted for a missing second factor registers its first one here.
            .allow_mfa_registration(grpc::MFA_REGISTRATION_METHODS)
            // The last-factor rule follows the MFA requirement of every organization a person
            // belongs to.
            .consume::<OrganizationChanged, _>(events::OrganizationChangedHandler)
            .consume::<MemberJoined, _>(events::MemberJoinedHandler)
            .consume::<MemberLeft, _>(events::MemberLeftHandler)
            .consume::<MemberRemoved, _>(events::MemberRemovedHandler)
            .erase_users_with(store::Erasure)
            // The notification sender: a consumer of its own (durable `notifications`) that
            // could move to a process of its own without touching a publisher.
            .consume_as::<NotificationRequested, _>(ConsumerSettings::new("notifications"), sender))
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
