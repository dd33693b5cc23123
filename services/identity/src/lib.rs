//! The identity service: users, profiles, passwords, sessions, sign-in and token issuing.

pub mod attempt;
pub mod context;
pub mod domain;
pub mod error;
pub mod events;
pub mod grpc;
pub mod issuing;
pub mod known_devices;
pub mod memberships;
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
use std::time::Duration;

use axum::Json;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use myaccount_proto::events::v1::{
    DeviceDeleted, DeviceDisabled, DeviceEnabled, DeviceRegistered, MemberJoined, MemberLeft, MemberRemoved,
    OrganizationChanged, SignInFlagged,
};
use myaccount_proto::identity::v1::identity_service_server::IdentityServiceServer;
use platform::auth::{AuthLayer, DEFAULT_AUDIENCE, DEFAULT_ISSUER, TokenVerifier, VerifierSettings};
use platform::config::{ConfigError, Env};
use platform::events::Stream;
use platform::service::{Service, ServiceKit, ServiceSettings, ServiceSpec, StartError};
use tokio_util::sync::CancellationToken;

use crate::domain::NewUserInput;
use crate::error::IdentityError;
use crate::security_info::{SecondFactorSettings, SecurityInfoClient};
use crate::service::Identity;
use crate::store::StoreError;
use crate::tokens::{KeyStore, LocalJwks, TokenSettings};

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SPEC: ServiceSpec = ServiceSpec {
    name: "identity",
    env_prefix: "IDENTITY",
    default_grpc_port: 50051,
    default_database: "myaccount_identity",
    consumer_name: "identity",
    publishes: &[Stream::Identity, Stream::SignIn, Stream::Revocations],
};

/// An admin account created at start-up when it does not exist yet (the first admin of a new
/// installation; later admins are created by admins).
#[derive(Clone)]
pub struct BootstrapAdmin {
    pub user_principal_name: String,
    pub password: String,
}

/// Never shows the password (settings may be logged with `?`).
impl std::fmt::Debug for BootstrapAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapAdmin")
            .field("user_principal_name", &self.user_principal_name)
            .field("password", &"[redacted]")
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    pub tokens: TokenSettings,
    pub bootstrap_admin: Option<BootstrapAdmin>,
    /// Where second factors are listed and checked (security-info). `None` signs in with a
    /// password alone: only for tests of identity by itself.
    pub second_factors: Option<SecondFactorSettings>,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let upn: Option<String> = env.optional("IDENTITY_BOOTSTRAP_ADMIN_UPN")?;
        let password: Option<String> = env.optional("IDENTITY_BOOTSTRAP_ADMIN_PASSWORD")?;
        let bootstrap_admin = match (upn, password) {
            (Some(user_principal_name), Some(password)) => Some(BootstrapAdmin {
                user_principal_name,
                password,
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD",
                    "must be set with IDENTITY_BOOTSTRAP_ADMIN_UPN",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "IDENTITY_BOOTSTRAP_ADMIN_UPN",
                    "must be set with IDENTITY_BOOTSTRAP_ADMIN_PASSWORD",
                ));
            }
        };
        let access_token_ttl = env.duration("ACCESS_TOKEN_TTL", Duration::from_secs(600))?;
        if access_token_ttl < Duration::from_secs(30) || access_token_ttl > Duration::from_secs(3600) {
            return Err(ConfigError::new("ACCESS_TOKEN_TTL", "must be between 30s and 1h"));
        }
        Ok(Self {
            service: ServiceSettings::from_env(env, &SPEC)?,
            tokens: TokenSettings {
                issuer: env.or("TOKEN_ISSUER", DEFAULT_ISSUER.to_owned())?,
                audience: env.or("TOKEN_AUDIENCE", DEFAULT_AUDIENCE.to_owned())?,
                access_token_ttl,
                refresh_token_ttl: env.duration("REFRESH_TOKEN_TTL", Duration::from_secs(14 * 24 * 3600))?,
            },
            bootstrap_admin,
            second_factors: Some(SecondFactorSettings::from_env(env)?),
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

    fn migrations() -> &'static sqlx::migrate::Migrator {
        &MIGRATIONS
    }

    async fn assemble(kit: ServiceKit, settings: Settings) -> Result<ServiceKit, StartError> {
        let pool = kit.pool().clone();
        let keys = KeyStore::load(pool.clone())
            .await
            .map_err(|e| StartError::service("signing keys", e))?;
        let mut identity = Identity::new(pool, keys.clone(), settings.tokens.clone())
            .await
            .map_err(|e| StartError::service("identity", e))?;
        if let Some(second_factors) = &settings.second_factors {
            let client = SecurityInfoClient::new(second_factors, keys.clone(), settings.tokens.clone())
                .map_err(|e| StartError::service("security-info client", e))?;
            identity = identity.with_second_factors(client);
        }
        let identity = Arc::new(identity);
        if let Some(admin) = &settings.bootstrap_admin {
            bootstrap_admin(&identity, admin).await?;
        }
        // Identity verifies the tokens it signs itself, and lets sign-in through anonymously.
        let verifier = TokenVerifier::new(
            VerifierSettings::new(&settings.tokens.issuer, &settings.tokens.audience, "local"),
            LocalJwks(keys.clone()),
        );
        let auth = AuthLayer::new(Arc::new(verifier))
            .allow_anonymous(grpc::PUBLIC_METHODS)
            .allow_revoked(&[grpc::SIGN_OUT]);
        let api = grpc::IdentityApi::new(identity, settings.service.step_up_max_age);
        let refreshed_keys = keys.clone();
        Ok(kit
            .authenticate(auth)
            .serve(IdentityServiceServer::new(api))
            .admin_routes(jwks_route(keys))
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
            .spawn_task(move |shutdown| refresh_keys(refreshed_keys, shutdown)))
    }
}

/// `/.well-known/jwks.json` on the admin port: the keys other services verify tokens with.
fn jwks_route(keys: Arc<KeyStore>) -> axum::Router {
    axum::Router::new().route(
        "/.well-known/jwks.json",
        get(move || {
            let keys = keys.clone();
            async move {
                (
                    [(header::CACHE_CONTROL, "public, max-age=300")],
                    Json(keys.jwks().await),
                )
                    .into_response()
            }
        }),
    )
}

async fn bootstrap_admin(identity: &Identity, admin: &BootstrapAdmin) -> Result<(), StartError> {
    let input = NewUserInput {
        user_principal_name: admin.user_principal_name.clone(),
        password: admin.password.clone(),
        display_name: "Administrator".into(),
        roles: vec![domain::ADMIN_ROLE.into()],
        ..Default::default()
    };
    match identity.create_user(input).await {
        Ok(p) => {
            tracing::info!(user_principal_name = %p.user_principal_name, "bootstrap admin created");
            Ok(())
        }
        Err(IdentityError::Store(StoreError::DuplicateUser(_))) => Ok(()),
        Err(e) => Err(StartError::service("bootstrap admin", e)),
    }
}

/// Picks up keys rotated by another replica.
async fn refresh_keys(keys: Arc<KeyStore>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(60)) => {
                if let Err(e) = keys.reload().await {
                    tracing::warn!(error = %e, "reloading signing keys failed");
                }
            }
        }
    }
}
