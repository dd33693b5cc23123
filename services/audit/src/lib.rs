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
use myaccount_proto::events::v1::{OrganizationChanged, SignInRecorded};
use platform::config::{ConfigError, Env};
use platform::consumer::StreamConsumer;
use platform::events::Stream;
use platform::service::{Service, ServiceKit, ServiceSettings, ServiceSpec, StartError};

use crate::enrich::GeoLocator;
use crate::retention::RetentionSettings;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SPEC: ServiceSpec = ServiceSpec {
    name: "audit",
    env_prefix: "AUDIT",
    default_grpc_port: 50055,
    default_database: "myaccount_audit",
    consumer_name: "audit",
    publishes: &[Stream::SignIn, Stream::Notifications],
    migrations: &MIGRATIONS,
};

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
    pub service: ServiceSettings,
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
            service: ServiceSettings::from_env(env, &SPEC)?,
            ingest_workers,
            geoip_database,
            retention: RetentionSettings {
                default_days,
                ..RetentionSettings::default()
            },
        })
    }
}

pub struct AuditService;

pub type Application = platform::service::Application<AuditService>;

impl Service for AuditService {
    const SPEC: ServiceSpec = SPEC;
    type Settings = Settings;

    fn common(settings: &Settings) -> &ServiceSettings {
        &settings.service
    }

    async fn assemble(mut kit: ServiceKit, settings: Settings) -> Result<ServiceKit, StartError> {
        let pool = kit.pool().clone();
        // Today's partition must exist before the first sign-in arrives.
        retention::maintain(&pool, &settings.retention, chrono::Utc::now().date_naive())
            .await
            .map_err(|e| StartError::service("sign-in partitions", e))?;
        let geo = settings
            .geoip_database
            .as_deref()
            .map(GeoLocator::open)
            .transpose()
            .map_err(|e| StartError::service("geoip database", e))?
            .map(Arc::new);
        for (stream, purpose, only) in ACTIVITY_STREAMS {
            let mut consumer = StreamConsumer::new(
                pool.clone(),
                kit.bus().clone(),
                kit.consumer_settings(),
                stream,
                purpose,
                events::ActivityRecorder,
            );
            if let Some(subject) = only {
                consumer = consumer.only(subject);
            }
            kit = kit.spawn_task(move |shutdown| consumer.run(shutdown));
        }
        let retention = settings.retention.clone();
        let retention_pool = pool.clone();
        Ok(kit
            .serve(AuditServiceServer::new(grpc::AuditApi::new(
                service::Audit::new(pool, settings.retention.default_days),
                settings.service.step_up_max_age,
            )))
            .consume_batches::<SignInRecorded, _>(settings.ingest_workers, || events::SignInRecordedHandler {
                geo: geo.clone(),
            })
            .consume::<OrganizationChanged, _>(events::OrganizationChangedHandler)
            .erase_users_with(store::Erasure)
            .spawn_task(move |shutdown| retention::run(retention_pool, retention, shutdown)))
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
