//! The audit service: the sign-in log, fed by events, and "my sign-ins".

pub mod domain;
pub mod events;
pub mod grpc;
pub mod store;

use std::sync::Arc;

use myaccount_proto::audit::v1::audit_service_server::AuditServiceServer;
use myaccount_proto::events::v1::SignInRecorded;
use platform::auth::{AuthLayer, TokenVerifier, VerifierSettings};
use platform::config::{ConfigError, Env};
use platform::consumer::{Consumer, ConsumerSettings};
use platform::db::DatabaseSettings;
use platform::events::{EventBus, NatsSettings};
use platform::grpc::{GrpcSettings, ServiceHost};
use tokio_util::sync::CancellationToken;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const DEFAULT_GRPC_PORT: u16 = 50055;

#[derive(Debug, Clone)]
pub struct Settings {
    pub grpc: GrpcSettings,
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    pub auth: VerifierSettings,
    pub consumer: ConsumerSettings,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            grpc: GrpcSettings::from_env(env, "AUDIT", DEFAULT_GRPC_PORT)?,
            database: DatabaseSettings::from_env(env, "AUDIT", "myaccount_audit")?,
            nats: NatsSettings::from_env(env)?,
            auth: VerifierSettings::from_env(env)?,
            consumer: ConsumerSettings::new("audit"),
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
        let bus = EventBus::connect(&settings.nats, "audit").await?;
        let sign_ins = Consumer::<SignInRecorded, _>::new(pool.clone(), bus, settings.consumer.clone(), events::SignInRecordedHandler);
        let host = ServiceHost::bind(&settings.grpc, pool.clone(), AuthLayer::new(Arc::new(verifier)))
            .await?
            .add_service(AuditServiceServer::new(grpc::AuditApi::new(pool)))
            .spawn_task(move |shutdown| sign_ins.run(shutdown));
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
