//! The audit service: the sign-in log (enriched with browser, OS and location, assessed for
//! risk, reviewable by its owner) and the account activity log, fed by events; exported on
//! request, and erased (sign-ins pseudonymised) when the account is deleted.

mod array_literal;
pub mod domain;
pub mod enrich;
pub mod events;
pub mod grpc;
pub mod retention;
pub mod service;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;

use myaccount_proto::audit::v1::audit_service_server::AuditServiceServer;
use myaccount_proto::events::v1::{OrganizationChanged, SignInRecorded, UserDeleted};
use platform::auth::{AuthLayer, TokenVerifier, VerifierSettings};
use platform::config::{ConfigError, Env};
use platform::consumer::{BatchConsumer, Consumer, ConsumerSettings, StreamConsumer};
use platform::db::DatabaseSettings;
use platform::events::{EventBus, NatsSettings, Stream};
use platform::grpc::{GrpcSettings, ServiceHost};
use platform::outbox::OutboxRelay;
use tokio_util::sync::CancellationToken;

use crate::enrich::GeoLocator;
use crate::retention::RetentionSettings;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const DEFAULT_GRPC_PORT: u16 = 50055;
/// Two ingest loops: on two cores, one batch's database work overlaps the other's round trips.
pub const DEFAULT_INGEST_WORKERS: usize = 2;

/// The streams whose events make up the account activity log (of the sign-in stream, only the
/// reviews: the sign-ins themselves are the sign-in log).
const ACTIVITY_STREAMS: [(Stream, &str, Option<&str>); 5] = [
    (Stream::Identity, "activity_identity", None),
    (Stream::SecurityInfo, "activity_securityinfo", None),
    (Stream::Devices, "activity_devices", None),
    (Stream::Organizations, "activity_organizations", None),
    (Stream::SignIn, "activity_signin", Some("myaccount.signin.v1.flagged")),
];

#[derive(Debug, Clone)]
pub struct Settings {
    pub grpc: GrpcSettings,
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    pub auth: VerifierSettings,
    pub consumer: ConsumerSettings,
    /// Sign-in ingest loops pulling from the one durable consumer, each applying its own batches
    /// (as replicas do): one batch's database work overlaps another's fetch and commit.
    pub ingest_workers: usize,
    /// A GeoIP2/GeoLite2-City database for sign-in locations; none means unknown locations.
    pub geoip_database: Option<PathBuf>,
    pub retention: RetentionSettings,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let geoip_database: Option<PathBuf> = env.optional("AUDIT_GEOIP_DATABASE")?;
        if let Some(path) = &geoip_database
            && !path.is_file()
        {
            return Err(ConfigError::new(
                "AUDIT_GEOIP_DATABASE",
                format!("{} is not a file", path.display()),
            ));
        }
        let default_days: i32 = env.or("AUDIT_DEFAULT_RETENTION_DAYS", domain::DEFAULT_RETENTION_DAYS)?;
        let ingest_workers: usize = env.or("AUDIT_INGEST_WORKERS", DEFAULT_INGEST_WORKERS)?;
        if !(1..=16).contains(&ingest_workers) {
            return Err(ConfigError::new("AUDIT_INGEST_WORKERS", "must be between 1 and 16"));
        }
        if !(1..=3650).contains(&default_days) {
            return Err(ConfigError::new(
                "AUDIT_DEFAULT_RETENTION_DAYS",
                "must be between 1 and 3650",
            ));
        }
        Ok(Self {
            grpc: GrpcSettings::from_env(env, "AUDIT", DEFAULT_GRPC_PORT)?,
            database: DatabaseSettings::from_env(env, "AUDIT", "myaccount_audit")?,
            nats: NatsSettings::from_env(env)?,
            auth: VerifierSettings::from_env(env)?,
            consumer: ConsumerSettings::new("audit"),
            ingest_workers,
            geoip_database,
            retention: RetentionSettings {
                default_days,
                ..RetentionSettings::default()
            },
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
    Geo(#[from] enrich::GeoError),
    #[error("sign-in partitions: {0}")]
    Partitions(#[from] sqlx::Error),
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
        // Today's partition must exist before the first sign-in arrives.
        retention::maintain(&pool, &settings.retention, chrono::Utc::now().date_naive()).await?;
        let geo = settings
            .geoip_database
            .as_deref()
            .map(GeoLocator::open)
            .transpose()?
            .map(Arc::new);
        let bus = EventBus::connect(&settings.nats, "audit").await?;

        let sign_in_workers: Vec<_> = (0..settings.ingest_workers.max(1))
            .map(|_| {
                BatchConsumer::<SignInRecorded, _>::new(
                    pool.clone(),
                    bus.clone(),
                    settings.consumer.clone(),
                    events::SignInRecordedHandler { geo: geo.clone() },
                )
            })
            .collect();
        let organizations = Consumer::<OrganizationChanged, _>::new(
            pool.clone(),
            bus.clone(),
            settings.consumer.clone(),
            events::OrganizationChangedHandler,
        );
        let users_deleted = Consumer::<UserDeleted, _>::new(
            pool.clone(),
            bus.clone(),
            settings.consumer.clone(),
            events::UserDeletedHandler,
        );
        let relay = OutboxRelay::new(
            pool.clone(),
            bus.clone(),
            "myaccount/audit",
            vec![Stream::SignIn, Stream::Notifications],
        );
        let mut host = ServiceHost::bind(&settings.grpc, pool.clone(), AuthLayer::new(Arc::new(verifier)))
            .await?
            // Readiness follows NATS as well as Postgres.
            .event_bus(&bus)
            .add_service(AuditServiceServer::new(grpc::AuditApi::new(service::Audit::new(
                pool.clone(),
                settings.retention.default_days,
            ))))
            .spawn_task(move |shutdown| organizations.run(shutdown))
            .spawn_task(move |shutdown| users_deleted.run(shutdown))
            .spawn_task(move |shutdown| relay.run(shutdown));
        for (stream, purpose, only) in ACTIVITY_STREAMS {
            let mut consumer = StreamConsumer::new(
                pool.clone(),
                bus.clone(),
                settings.consumer.clone(),
                stream,
                purpose,
                events::ActivityRecorder,
            );
            if let Some(subject) = only {
                consumer = consumer.only(subject);
            }
            host = host.spawn_task(move |shutdown| consumer.run(shutdown));
        }
        for worker in sign_in_workers {
            host = host.spawn_task(move |shutdown| worker.run(shutdown));
        }
        let retention_pool = pool.clone();
        let retention_settings = settings.retention.clone();
        host = host.spawn_task(move |shutdown| retention::run(retention_pool, retention_settings, shutdown));
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
    fn ingest_workers_default_to_two_and_are_bounded() {
        let defaults = Settings::from_env(&Env::default()).expect("defaults");
        assert_eq!(defaults.ingest_workers, DEFAULT_INGEST_WORKERS);
        let one = Settings::from_env(&Env::from_pairs([("AUDIT_INGEST_WORKERS", "1")])).expect("one");
        assert_eq!(one.ingest_workers, 1);
        for bad in ["0", "17", "two"] {
            let err = Settings::from_env(&Env::from_pairs([("AUDIT_INGEST_WORKERS", bad)])).expect_err(bad);
            assert_eq!(err.variable, "AUDIT_INGEST_WORKERS", "{bad}");
        }
    }
}
