//! The identity service: users, profiles, passwords, sessions, sign-in and token issuing.

pub mod attempt;
pub mod bootstrap;
pub mod context;
pub mod domain;
pub mod error;
pub mod events;
pub mod grpc;
pub mod issuing;
pub mod known_devices;
pub mod memberships;
pub mod mfa_registration;
pub mod passwords;
pub mod privacy;
pub mod profile;
pub mod required_password;
pub mod second_step;
pub mod security_info;
pub mod service;
pub mod sessions;
pub mod sign_in;
pub mod step_up;
pub mod store;
pub mod tokens;

use std::sync::Arc;

use myaccount_proto::events::v1::{
    DeviceDeleted, DeviceDisabled, DeviceEnabled, DeviceRegistered, MemberJoined, MemberLeft, MemberRemoved,
    OrganizationChanged, SignInFlagged,
};
use myaccount_proto::identity::v1::identity_service_server::IdentityServiceServer;
use platform::auth::{AuthLayer, TokenVerifier, VerifierSettings};
use platform::config::{ConfigError, Env};
use platform::events::Stream;
use platform::service::{Service, ServiceKit, ServiceSettings, ServiceSpec, StartError};

use crate::security_info::{SecondFactorSettings, SecurityInfoClient};
use crate::service::Identity;
use crate::tokens::{KeySchedule, KeyStore, LocalJwks, TokenSettings};

pub use crate::bootstrap::BootstrapAdmin;

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

pub struct IdentityService;

pub type Application = platform::service::Application<IdentityService>;

impl Service for IdentityService {
    const SPEC: ServiceSpec = SPEC;
    type Settings = Settings;

    fn common(settings: &Settings) -> &ServiceSettings {
        &settings.service
    }

    async fn assemble(kit: ServiceKit, settings: Settings) -> Result<ServiceKit, StartError> {
        let pool = kit.pool().clone();
        let keys = KeyStore::load(pool.clone(), KeySchedule::of(&settings.tokens))
            .await
            .map_err(|e| StartError::service("signing keys", e))?;
        let mut identity = Identity::new(pool, keys.clone(), settings.tokens.clone())
            .await
            .map_err(|e| StartError::service("identity", e))?
            .with_familiar_days(settings.sign_in.familiar_days);
        if let Some(second_factors) = &settings.second_factors {
            let client = SecurityInfoClient::new(second_factors, keys.clone(), settings.tokens.clone())
                .map_err(|e| StartError::service("security-info client", e))?;
            identity = identity.with_second_factors(client);
        }
        let identity = Arc::new(identity);
        if let Some(admin) = &settings.bootstrap_admin {
            admin.ensure(&identity).await?;
        }
        // Identity verifies the tokens it signs itself, and lets sign-in through anonymously.
        let verifier = TokenVerifier::new(
            VerifierSettings::new(&settings.tokens.issuer, &settings.tokens.audience, "local"),
            LocalJwks(keys.clone()),
        );
        let auth = AuthLayer::new(Arc::new(verifier))
            .allow_anonymous(grpc::PUBLIC_METHODS)
            .allow_revoked(&[grpc::SIGN_OUT])
            .allow_mfa_registration(&[grpc::COMPLETE_MFA_REGISTRATION]);
        let api = grpc::IdentityApi::new(identity, settings.service.step_up_max_age);
        let refreshed_keys = keys.clone();
        Ok(kit
            .authenticate(auth)
            .serve(IdentityServiceServer::new(api))
            .admin_routes(tokens::jwks_route(keys))
            // "This wasn't me" ends every session of the person.
            .consume::<SignInFlagged, _>(sessions::SignInFlaggedHandler)
            // A disabled (lost) device ends its sessions.
            .consume::<DeviceDisabled, _>(sessions::DeviceDisabledHandler)
            // Which devices are whose, and which are disabled: a sign-in binds only to its own.
            .consume::<DeviceRegistered, _>(known_devices::DeviceRegisteredHandler)
            .consume::<DeviceEnabled, _>(known_devices::DeviceEnabledHandler)
            .consume::<DeviceDeleted, _>(known_devices::DeviceDeletedHandler)
            // Guest memberships decide who may sign in to which organization; leaving one ends
            // its sessions. The organization policy decides who may delete their own account.
            .consume::<MemberJoined, _>(memberships::GuestJoinedHandler)
            .consume::<MemberLeft, _>(memberships::MemberLeftHandler)
            .consume::<MemberRemoved, _>(memberships::MemberRemovedHandler)
            .consume::<OrganizationChanged, _>(memberships::OrganizationPolicyHandler)
            .spawn_task(move |shutdown| tokens::refresh_keys(refreshed_keys, shutdown)))
    }
}
