//! The identity service: users, profiles, passwords, sessions, sign-in and token issuing.

pub mod account_status;
pub mod attempt;
pub mod bootstrap;
pub mod context;
pub mod domain;
pub mod error;
pub mod events;
pub mod grpc;
pub mod identifiers;
pub mod issuing;
pub mod known_devices;
pub mod memberships;
pub mod mfa_registration;
pub mod passkey_sign_in;
pub mod password_reset;
pub mod passwords;
pub mod privacy;
pub mod profile;
pub mod required_password;
pub mod second_step;
pub mod security_info;
pub mod service;
pub mod sessions;
pub mod settings;
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
use platform::config::ConfigError;
use platform::geoip::GeoLocator;
use platform::service::{Service, ServiceKit, ServiceSettings, ServiceSpec, StartError};
use platform::workload::GATEWAY;

use crate::security_info::SecurityInfoClient;
use crate::service::Identity;
use crate::tokens::{KeySchedule, KeyStore, LocalJwks};

pub use crate::bootstrap::BootstrapAdmin;
pub use crate::context::SignInSettings;
pub use crate::settings::{MIGRATIONS, SPEC, Settings};

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
            .with_sign_in_settings(settings.sign_in);
        if !settings.geoip_databases.is_empty() {
            let places =
                GeoLocator::open(&settings.geoip_databases).map_err(|e| StartError::service("geoip database", e))?;
            identity = identity.with_places(Arc::new(places));
        }
        if let Some(second_factors) = &settings.second_factors {
            let workload_key = settings.workload_key.clone().ok_or_else(|| {
                StartError::Config(ConfigError::new(
                    "IDENTITY_WORKLOAD_KEY_FILE",
                    "is not set: identity signs its calls to security-info with its own workload key; `myaccount workload-keys` writes it",
                ))
            })?;
            let client = SecurityInfoClient::new(second_factors, Arc::new(workload_key))
                .map_err(|e| StartError::service("security-info client", e))?;
            identity = identity.with_second_factors(client);
        }
        let identity = Arc::new(identity);
        if let Some(admin) = &settings.bootstrap_admin {
            admin.ensure(&identity).await?;
        }
        // Identity verifies the tokens it signs itself, and lets sign-in through anonymously,
        // from the gateway alone: the only workload whose client context it believes (the kit
        // fences every other method to the gateway too, SPEC.callers).
        let verifier = TokenVerifier::new(
            VerifierSettings::new(&settings.tokens.issuer, &settings.tokens.audience, "local"),
            LocalJwks(keys.clone()),
        );
        let auth = AuthLayer::new(Arc::new(verifier))
            .allow_anonymous(grpc::PUBLIC_METHODS)
            .allow_revoked(&[grpc::SIGN_OUT])
            .allow_mfa_registration(&[grpc::COMPLETE_MFA_REGISTRATION])
            .require_caller(grpc::GATEWAY_ONLY_METHODS, &[GATEWAY]);
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
