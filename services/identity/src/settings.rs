//! What identity is (its spec and migrations) and what it is configured with beyond the
//! settings every service has: tokens and sessions, the bootstrap admin, where second factors
//! are checked, and what makes a sign-in place familiar.

use platform::config::{ConfigError, Env};
use platform::events::Stream;
use platform::service::{ServiceSettings, ServiceSpec};

use crate::bootstrap::BootstrapAdmin;
use crate::context;
use crate::security_info::SecondFactorSettings;
use crate::tokens::TokenSettings;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SPEC: ServiceSpec = ServiceSpec {
    name: "identity",
    env_prefix: "IDENTITY",
    default_grpc_port: 50051,
    default_database: "myaccount_identity",
    consumer_name: "identity",
    publishes: &[Stream::Identity, Stream::SignIn, Stream::Revocations],
    migrations: &MIGRATIONS,
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
}

/// How sign-in tells the owner's familiar places from others (docs/OPERATIONS.md, "Sign-in
/// throttling").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInSettings {
    /// Days an address a person signed in from successfully stays familiar
    /// (`SIGN_IN_FAMILIAR_DAYS`, 1 to 365).
    pub familiar_days: u32,
}

impl Default for SignInSettings {
    fn default() -> Self {
        Self {
            familiar_days: context::DEFAULT_FAMILIAR_DAYS,
        }
    }
}

impl SignInSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let familiar_days = env.or("SIGN_IN_FAMILIAR_DAYS", context::DEFAULT_FAMILIAR_DAYS)?;
        if !(1..=365).contains(&familiar_days) {
            return Err(ConfigError::new(
                "SIGN_IN_FAMILIAR_DAYS",
                "must be between 1 and 365 days",
            ));
        }
        Ok(Self { familiar_days })
    }
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceSettings::from_env(env, &SPEC)?,
            tokens: TokenSettings::from_env(env)?,
            bootstrap_admin: BootstrapAdmin::from_env(env)?,
            second_factors: Some(SecondFactorSettings::from_env(env)?),
            sign_in: SignInSettings::from_env(env)?,
        })
    }
}
