//! What audit is (its spec and migrations) and what it is configured with beyond the settings
//! every service has: its ingest loops, the GeoIP database and the sign-in log's retention.

use std::path::PathBuf;

use platform::config::{ConfigError, Env};
use platform::events::Stream;
use platform::geoip::GeoLocator;
use platform::service::{ServiceSettings, ServiceSpec};
use platform::workload;

use crate::domain;
use crate::retention::RetentionSettings;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SPEC: ServiceSpec = ServiceSpec {
    name: workload::AUDIT,
    env_prefix: "AUDIT",
    default_grpc_port: 50055,
    default_database: "myaccount_audit",
    consumer_name: "audit",
    publishes: &[Stream::SignIn, Stream::Notifications],
    migrations: &MIGRATIONS,
    // Only the gateway calls its public methods, for a person it has rate-limited.
    callers: &[workload::GATEWAY],
    generic_plans: false,
};

/// Two ingest loops: on two cores, one batch's database work overlaps the other's round trips.
pub const DEFAULT_INGEST_WORKERS: usize = 2;

#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    /// Sign-in ingest loops pulling from the one durable consumer, each applying its own batches
    /// (as replicas do): one batch's database work overlaps another's fetch and commit.
    pub ingest_workers: usize,
    /// City-level GeoIP databases (`.mmdb`) for sign-in locations; none: locations unknown.
    pub geoip_databases: Vec<PathBuf>,
    pub retention: RetentionSettings,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let geoip_databases = GeoLocator::files_from_env(env, "AUDIT")?
            .map(|(_, files)| files)
            .unwrap_or_default();
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
            geoip_databases,
            retention: RetentionSettings {
                default_days,
                ..RetentionSettings::default()
            },
        })
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
