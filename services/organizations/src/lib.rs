//! The organizations service: organizations (tenants), home and guest memberships, invitations,
//! and leaving an organization.

pub mod domain;
pub mod events;
pub mod grpc;
pub mod service;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use myaccount_proto::events::v1::{UserCreated, UserDeleted};
use myaccount_proto::organizations::v1::organizations_service_server::OrganizationsServiceServer;
use platform::auth::{AuthLayer, TokenVerifier, VerifierSettings};
use platform::config::{ConfigError, Env};
use platform::consumer::{Consumer, ConsumerSettings};
use platform::db::DatabaseSettings;
use platform::events::{EventBus, NatsSettings, Stream};
use platform::grpc::{GrpcSettings, ServiceHost};
use platform::outbox::OutboxRelay;
use tokio_util::sync::CancellationToken;

use crate::domain::{DEFAULT_MAX_SIGN_IN_RETENTION_DAYS, RetentionLimit};
use crate::service::Organizations;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const DEFAULT_GRPC_PORT: u16 = 50054;

#[derive(Debug, Clone)]
pub struct Settings {
    pub grpc: GrpcSettings,
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    pub auth: VerifierSettings,
    /// Durable consumer name prefix (`organizations`).
    pub consumer: ConsumerSettings,
    /// The platform's maximum sign-in log retention an organization may choose, in days.
    pub max_sign_in_retention_days: i32,
    /// How recent a multi-factor sign-in must be to leave an organization.
    pub step_up_max_age: Duration,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let max_sign_in_retention_days = env.or(
            "ORGANIZATIONS_MAX_SIGN_IN_RETENTION_DAYS",
            DEFAULT_MAX_SIGN_IN_RETENTION_DAYS,
        )?;
        if !(1..=3650).contains(&max_sign_in_retention_days) {
            return Err(ConfigError::new(
                "ORGANIZATIONS_MAX_SIGN_IN_RETENTION_DAYS",
                "must be between 1 and 3650",
            ));
        }
        let step_up_max_age = env.duration("ORGANIZATIONS_STEP_UP_MAX_AGE", Duration::from_secs(600))?;
        if step_up_max_age.is_zero() || step_up_max_age > Duration::from_secs(24 * 3600) {
            return Err(ConfigError::new(
                "ORGANIZATIONS_STEP_UP_MAX_AGE",
                "must be between 1s and 1d",
            ));
        }
        Ok(Self {
            grpc: GrpcSettings::from_env(env, "ORGANIZATIONS", DEFAULT_GRPC_PORT)?,
            database: DatabaseSettings::from_env(env, "ORGANIZATIONS", "myaccount_organizations")?,
            nats: NatsSettings::from_env(env)?,
            auth: VerifierSettings::from_env(env)?,
            consumer: ConsumerSettings::new("organizations"),
            max_sign_in_retention_days,
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
        let bus = EventBus::connect(&settings.nats, "organizations").await?;
        let relay = OutboxRelay::new(
            pool.clone(),
            bus.clone(),
            "myaccount/organizations",
            vec![Stream::Organizations],
        );
        let users_created = Consumer::<UserCreated, _>::new(
            pool.clone(),
            bus.clone(),
            settings.consumer.clone(),
            events::UserCreatedHandler,
        );
        let users_deleted = Consumer::<UserDeleted, _>::new(
            pool.clone(),
            bus.clone(),
            settings.consumer.clone(),
            events::UserDeletedHandler,
        );
        let retention = RetentionLimit {
            max_days: settings.max_sign_in_retention_days,
        };
        let organizations = Arc::new(Organizations::new(pool.clone(), retention));
        let api = grpc::OrganizationsApi::new(organizations, settings.step_up_max_age);
        let host = ServiceHost::bind(&settings.grpc, pool, AuthLayer::new(Arc::new(verifier)))
            .await?
            // Readiness follows NATS as well as Postgres.
            .event_bus(&bus)
            .add_service(OrganizationsServiceServer::new(api))
            .spawn_task(move |shutdown| relay.run(shutdown))
            .spawn_task(move |shutdown| users_created.run(shutdown))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values_are_named() {
        let settings = Settings::from_env(&Env::default()).expect("defaults are valid");
        assert_eq!(settings.grpc.port, DEFAULT_GRPC_PORT);
        assert_eq!(settings.max_sign_in_retention_days, 365);
        assert_eq!(settings.step_up_max_age, Duration::from_secs(600));
        assert!(settings.database.url.ends_with("/myaccount_organizations"));

        for (variable, value) in [
            ("ORGANIZATIONS_MAX_SIGN_IN_RETENTION_DAYS", "0"),
            ("ORGANIZATIONS_MAX_SIGN_IN_RETENTION_DAYS", "a year"),
            ("ORGANIZATIONS_STEP_UP_MAX_AGE", "2d"),
            ("ORGANIZATIONS_GRPC_PORT", "eighty"),
        ] {
            let err = Settings::from_env(&Env::from_pairs([(variable, value)])).expect_err(value);
            assert_eq!(err.variable, variable, "{value}");
        }
    }
}
