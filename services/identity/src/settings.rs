//! What identity is (its spec and migrations) and what it is configured with beyond the
//! settings every service has: tokens and sessions, the bootstrap admin, where second factors
//! are checked, and what makes a sign-in place familiar.

use std::path::PathBuf;

use platform::config::{ConfigError, Env};
use platform::events::Stream;
use platform::geoip::GeoLocator;
use platform::service::{ServiceSettings, ServiceSpec};
use platform::workload::{self, WorkloadKey};

use crate::bootstrap::BootstrapAdmin;
use crate::context::SignInSettings;
use crate::security_info::SecondFactorSettings;
use crate::tokens::TokenSettings;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SPEC: ServiceSpec = ServiceSpec {
    name: workload::IDENTITY,
    env_prefix: "IDENTITY",
    default_grpc_port: 50051,
    default_database: "myaccount_identity",
    consumer_name: "identity",
    publishes: &[Stream::Identity, Stream::SignIn, Stream::Revocations],
    migrations: &MIGRATIONS,
    // Only the gateway calls its public methods, for a person it has rate-limited.
    callers: &[workload::GATEWAY],
    // Keyed lookups and index walks only; see `ServiceSpec::generic_plans`.
    generic_plans: true,
};

#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    pub tokens: TokenSettings,
    pub bootstrap_admin: Option<BootstrapAdmin>,
    /// Where second factors are listed and checked (security-info). `None` signs in with a
    /// password alone: only for tests of identity by itself.
    pub second_factors: Option<SecondFactorSettings>,
    /// Smart lockout: what makes a place familiar.
    pub sign_in: SignInSettings,
    /// identity's own workload key, which its calls to security-info are signed with
    /// (`IDENTITY_WORKLOAD_KEY_FILE`); needed with `second_factors`.
    pub workload_key: Option<WorkloadKey>,
    /// City-level GeoIP databases (`.mmdb`) for the places of sessions
    /// (`IDENTITY_GEOIP_DATABASE`, else `GEOIP_DATABASE`); none: sessions show no place.
    pub geoip_databases: Vec<PathBuf>,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceSettings::from_env(env, &SPEC)?,
            tokens: TokenSettings::from_env(env)?,
            bootstrap_admin: BootstrapAdmin::from_env(env)?,
            second_factors: Some(SecondFactorSettings::from_env(env)?),
            sign_in: SignInSettings::from_env(env)?,
            workload_key: WorkloadKey::from_env(env, SPEC.env_prefix, SPEC.name)?,
            geoip_databases: GeoLocator::files_from_env(env, SPEC.env_prefix)?
                .map(|(_, files)| files)
                .unwrap_or_default(),
        })
    }
}
