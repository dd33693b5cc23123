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
use std::time::Duration;

use myaccount_proto::events::v1::{NotificationRequested, OrganizationChanged, UserDeleted};
use myaccount_proto::securityinfo::v1::security_info_service_server::SecurityInfoServiceServer;
use platform::auth::{AuthLayer, TokenVerifier, VerifierSettings};
use platform::config::{ConfigError, Env};
use platform::consumer::{Consumer, ConsumerSettings};
use platform::crypto::Keyring;
use platform::db::DatabaseSettings;
use platform::events::{EventBus, NatsSettings, Stream};
use platform::grpc::{GrpcSettings, ServiceHost};
use platform::outbox::OutboxRelay;
use tokio_util::sync::CancellationToken;
use url::Url;
use webauthn_rs::WebauthnBuilder;

use crate::notifications::{NotificationSender, SenderSettings};
use crate::service::SecurityInfo;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const DEFAULT_GRPC_PORT: u16 = 50052;

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
    pub grpc: GrpcSettings,
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    pub auth: VerifierSettings,
    /// Seals TOTP secrets at rest.
    pub keyring: Keyring,
    pub webauthn: WebAuthnSettings,
    /// The step-up window: changes need a multi-factor sign-in at most this old.
    pub step_up_max_age: Duration,
    /// The issuer an authenticator app shows next to the code.
    pub totp_issuer: String,
    pub sender: SenderSettings,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            grpc: GrpcSettings::from_env(env, "SECURITYINFO", DEFAULT_GRPC_PORT)?,
            database: DatabaseSettings::from_env(env, "SECURITYINFO", "myaccount_securityinfo")?,
            nats: NatsSettings::from_env(env)?,
            auth: VerifierSettings::from_env(env)?,
            keyring: Keyring::from_env(env)?,
            webauthn: WebAuthnSettings::from_env(env)?,
            step_up_max_age: env.duration("STEP_UP_MAX_AGE", Duration::from_secs(600))?,
            totp_issuer: env.or("TOTP_ISSUER", "MyAccount".to_owned())?,
            sender: SenderSettings::from_env(env)?,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] platform::db::DbError),
    #[error(transparent)]
    Events(#[from] platform::events::EventsError),
    #[error(transparent)]
    Serve(#[from] platform::grpc::ServeError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("webauthn: {0}")]
    WebAuthn(String),
}

pub struct Application {
    host: ServiceHost,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let verifier = TokenVerifier::from_settings(settings.auth.clone());
        Self::build_with_verifier(settings, verifier).await
    }

    /// As `build`, with the token verifier given (tests use a static key set).
    pub async fn build_with_verifier(settings: Settings, verifier: TokenVerifier) -> Result<Self, StartError> {
        let webauthn = settings.webauthn.webauthn().map_err(StartError::WebAuthn)?;
        let sender = NotificationSender::new(&settings.sender)?;
        let pool = platform::db::connect(&settings.database, &MIGRATIONS).await?;
        let bus = EventBus::connect(&settings.nats, "security-info").await?;
        let service = Arc::new(SecurityInfo::new(
            pool.clone(),
            settings.keyring.clone(),
            webauthn,
            settings.step_up_max_age,
            settings.totp_issuer.clone(),
        ));
        let relay = OutboxRelay::new(
            pool.clone(),
            bus.clone(),
            "myaccount/security-info",
            vec![Stream::SecurityInfo, Stream::Notifications],
        );
        // Durable names `securityinfo_<event>`: `securityinfo_changed`, `securityinfo_user_deleted`.
        let consumer = ConsumerSettings::new("securityinfo");
        let organizations = Consumer::<OrganizationChanged, _>::new(
            pool.clone(),
            bus.clone(),
            consumer.clone(),
            events::OrganizationChangedHandler,
        );
        let users_deleted =
            Consumer::<UserDeleted, _>::new(pool.clone(), bus.clone(), consumer, events::UserDeletedHandler);
        let notifications = Consumer::<NotificationRequested, _>::new(
            pool.clone(),
            bus.clone(),
            ConsumerSettings::new("notifications"),
            sender,
        );
        let host = ServiceHost::bind(&settings.grpc, pool, AuthLayer::new(Arc::new(verifier)))
            .await?
            // Readiness follows NATS as well as Postgres.
            .event_bus(&bus)
            .add_service(SecurityInfoServiceServer::new(grpc::SecurityInfoApi::new(service)))
            .spawn_task(move |shutdown| relay.run(shutdown))
            .spawn_task(move |shutdown| organizations.run(shutdown))
            .spawn_task(move |shutdown| users_deleted.run(shutdown))
            .spawn_task(move |shutdown| notifications.run(shutdown));
        Ok(Self { host })
    }

    pub fn port(&self) -> u16 {
        self.host.port()
    }

    pub fn admin_port(&self) -> u16 {
        self.host.admin_port()
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.host.shutdown_token()
    }

    pub async fn run_until_stopped(self) -> Result<(), platform::grpc::ServeError> {
        self.host.run().await
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
