//! The organizations service: organizations (tenants), home and guest memberships, invitations,
//! and leaving an organization.

pub mod domain;
pub mod events;
pub mod grpc;
pub mod service;
pub mod store;

use std::sync::Arc;

use myaccount_proto::organizations::v1::organizations_service_server::OrganizationsServiceServer;
use platform::config::{ConfigError, Env};
use platform::events::Stream;
use platform::service::{Service, ServiceKit, ServiceSettings, ServiceSpec, StartError};
use platform::workload;

use crate::domain::{DEFAULT_MAX_SIGN_IN_RETENTION_DAYS, RetentionLimit};
use crate::service::Organizations;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SPEC: ServiceSpec = ServiceSpec {
    name: workload::ORGANIZATIONS,
    env_prefix: "ORGANIZATIONS",
    default_grpc_port: 50054,
    default_database: "myaccount_organizations",
    consumer_name: "organizations",
    publishes: &[Stream::Organizations],
    migrations: &MIGRATIONS,
    // Only the gateway calls its public methods, for a person it has rate-limited.
    callers: &[workload::GATEWAY],
    generic_plans: false,
};

#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    /// The platform's maximum sign-in log retention an organization may choose, in days.
    pub max_sign_in_retention_days: i32,
}

impl Settings {
    /// The common service settings (`ORGANIZATIONS_*`, ...) and
    /// `ORGANIZATIONS_MAX_SIGN_IN_RETENTION_DAYS`.
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
        Ok(Self {
            service: ServiceSettings::from_env(env, &SPEC)?,
            max_sign_in_retention_days,
        })
    }
}

pub struct OrganizationsService;

pub type Application = platform::service::Application<OrganizationsService>;

impl Service for OrganizationsService {
    const SPEC: ServiceSpec = SPEC;
    type Settings = Settings;

    fn common(settings: &Settings) -> &ServiceSettings {
        &settings.service
    }

    async fn assemble(kit: ServiceKit, settings: Settings) -> Result<ServiceKit, StartError> {
        let retention = RetentionLimit {
            max_days: settings.max_sign_in_retention_days,
        };
        let organizations = Arc::new(Organizations::new(kit.pool().clone(), retention));
        let api = grpc::OrganizationsApi::new(organizations, settings.service.step_up_max_age);
        Ok(kit
            .serve(OrganizationsServiceServer::new(api))
            // Who is who (invitations are addressed by principal name) and home memberships.
            .consume(events::UserCreatedHandler)
            // A new name: the projection and pending invitations follow the person.
            .consume(events::IdentifiersChangedHandler)
            .erase_users_with(store::Erasure))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values_are_named() {
        let settings = Settings::from_env(&Env::default()).expect("defaults are valid");
        assert_eq!(settings.service.grpc.port, SPEC.default_grpc_port);
        assert_eq!(settings.max_sign_in_retention_days, 365);
        assert_eq!(settings.service.step_up_max_age, std::time::Duration::from_secs(600));
        assert!(settings.service.database.url.ends_with("/myaccount_organizations"));

        for (variable, value) in [
            ("ORGANIZATIONS_MAX_SIGN_IN_RETENTION_DAYS", "0"),
            ("ORGANIZATIONS_MAX_SIGN_IN_RETENTION_DAYS", "a year"),
            ("STEP_UP_MAX_AGE", "2d"),
            ("ORGANIZATIONS_GRPC_PORT", "eighty"),
        ] {
            let err = Settings::from_env(&Env::from_pairs([(variable, value)])).expect_err(value);
            assert_eq!(err.variable, variable, "{value}");
        }
    }
}
