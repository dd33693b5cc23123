//! The devices service: registered devices, disabling a lost device, recovery keys. A deleted
//! account's data is erased.

pub mod domain;
pub mod events;
pub mod grpc;
pub mod service;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use myaccount_proto::devices::v1::devices_service_server::DevicesServiceServer;
use myaccount_proto::events::v1::{SignInRecorded, UserDeleted};
use platform::auth::{AuthLayer, TokenVerifier, VerifierSettings};
use platform::config::{ConfigError, Env};
use platform::consumer::{Consumer, ConsumerSettings};
use platform::crypto::Keyring;
use platform::db::DatabaseSettings;
use platform::events::{EventBus, NatsSettings, Stream};
use platform::grpc::{GrpcSettings, ServiceHost};
use platform::outbox::OutboxRelay;
use tokio_util::sync::CancellationToken;

use crate::service::Devices;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const DEFAULT_GRPC_PORT: u16 = 50053;

#[derive(Debug, Clone)]
pub struct Settings {
    pub grpc: GrpcSettings,
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    pub auth: VerifierSettings,
    pub consumer: ConsumerSettings,
    /// Seals recovery keys at rest.
    pub encryption: Keyring,
    /// How recent a multi-factor sign-in must be to reveal a recovery key.
    pub step_up_max_age: Duration,
}

impl Settings {
    /// `DEVICES_*` (gRPC, database), `NATS_*`, `TOKEN_*`/`JWKS_URL`, `DATA_ENCRYPTION_KEYS`,
    /// `STEP_UP_MAX_AGE` (default 10m).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let step_up_max_age = env.duration("STEP_UP_MAX_AGE", Duration::from_secs(600))?;
        if step_up_max_age < Duration::from_secs(60) || step_up_max_age > Duration::from_secs(3600) {
            return Err(ConfigError::new("STEP_UP_MAX_AGE", "must be between 1m and 1h"));
        }
        Ok(Self {
            grpc: GrpcSettings::from_env(env, "DEVICES", DEFAULT_GRPC_PORT)?,
            database: DatabaseSettings::from_env(env, "DEVICES", "myaccount_devices")?,
            nats: NatsSettings::from_env(env)?,
            auth: VerifierSettings::from_env(env)?,
            consumer: ConsumerSettings::new("devices"),
            encryption: Keyring::from_env(env)?,
            step_up_max_age,
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
        let pool = platform::db::connect(&settings.database, &MIGRATIONS).await?;
        let bus = EventBus::connect(&settings.nats, "devices").await?;
        let relay = OutboxRelay::new(pool.clone(), bus.clone(), "myaccount/devices", vec![Stream::Devices]);
        // Last activity comes from sign-ins, never from the client's word.
        let sign_ins = Consumer::<SignInRecorded, _>::new(
            pool.clone(),
            bus.clone(),
            settings.consumer.clone(),
            events::SignInRecordedHandler,
        );
        let users_deleted = Consumer::<UserDeleted, _>::new(
            pool.clone(),
            bus.clone(),
            settings.consumer.clone(),
            events::UserDeletedHandler,
        );
        let devices = Arc::new(Devices::new(
            pool.clone(),
            settings.encryption.clone(),
            settings.step_up_max_age,
        ));
        let host = ServiceHost::bind(&settings.grpc, pool, AuthLayer::new(Arc::new(verifier)))
            .await?
            // Readiness follows NATS as well as Postgres.
            .event_bus(&bus)
            .add_service(DevicesServiceServer::new(grpc::DevicesApi::new(devices)))
            .spawn_task(move |shutdown| relay.run(shutdown))
            .spawn_task(move |shutdown| sign_ins.run(shutdown))
            .spawn_task(move |shutdown| users_deleted.run(shutdown));
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
