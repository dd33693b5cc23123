//! The identity service: users, profiles, passwords, sessions, sign-in and token issuing.

pub mod attempt;
pub mod context;
pub mod domain;
pub mod error;
pub mod events;
pub mod grpc;
pub mod issuing;
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
use myaccount_proto::events::v1::{MemberJoined, MemberLeft, MemberRemoved, OrganizationChanged};
use myaccount_proto::identity::v1::identity_service_server::IdentityServiceServer;
use platform::auth::{AuthLayer, DEFAULT_AUDIENCE, DEFAULT_ISSUER, TokenVerifier, VerifierSettings};
use platform::config::{ConfigError, Env};
use platform::consumer::{Consumer, ConsumerSettings};
use platform::db::DatabaseSettings;
use platform::events::{EventBus, NatsSettings, Stream};
use platform::grpc::{GrpcSettings, ServiceHost};
use platform::outbox::OutboxRelay;
use tokio_util::sync::CancellationToken;

use crate::domain::NewUserInput;
use crate::error::IdentityError;
use crate::security_info::{SecondFactorSettings, SecurityInfoClient};
use crate::service::Identity;
use crate::store::StoreError;
use crate::tokens::{KeyStore, LocalJwks, TokenSettings};

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const DEFAULT_GRPC_PORT: u16 = 50051;
pub const DEFAULT_STEP_UP_MAX_AGE: Duration = Duration::from_secs(600);

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
    pub grpc: GrpcSettings,
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    pub tokens: TokenSettings,
    pub bootstrap_admin: Option<BootstrapAdmin>,
    /// How recent a (multi-factor) sign-in must be to delete one's own account.
    pub step_up_max_age: Duration,
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
        let step_up_max_age = env.duration("IDENTITY_STEP_UP_MAX_AGE", DEFAULT_STEP_UP_MAX_AGE)?;
        if step_up_max_age.is_zero() || step_up_max_age > Duration::from_secs(24 * 3600) {
            return Err(ConfigError::new(
                "IDENTITY_STEP_UP_MAX_AGE",
                "must be between 1s and 24h",
            ));
        }
        Ok(Self {
            grpc: GrpcSettings::from_env(env, "IDENTITY", DEFAULT_GRPC_PORT)?,
            database: DatabaseSettings::from_env(env, "IDENTITY", "myaccount_identity")?,
            nats: NatsSettings::from_env(env)?,
            tokens: TokenSettings {
                issuer: env.or("TOKEN_ISSUER", DEFAULT_ISSUER.to_owned())?,
                audience: env.or("TOKEN_AUDIENCE", DEFAULT_AUDIENCE.to_owned())?,
                access_token_ttl,
                refresh_token_ttl: env.duration("REFRESH_TOKEN_TTL", Duration::from_secs(14 * 24 * 3600))?,
            },
            bootstrap_admin,
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
    #[error("signing keys: {0}")]
    Keys(#[from] StoreError),
    #[error("bootstrap admin: {0}")]
    Bootstrap(#[source] IdentityError),
    #[error("{0}")]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

pub struct Application {
    host: ServiceHost,
}

impl Application {
    /// Identity with password-only sign-in (no security-info to ask for second factors).
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        Self::build_with(settings, None).await
    }

    /// Identity with multi-factor sign-in: second factors are listed and checked by
    /// security-info. This is what the binary and `myaccount up` run.
    pub async fn build_with_second_factors(
        settings: Settings,
        second_factors: SecondFactorSettings,
    ) -> Result<Self, StartError> {
        Self::build_with(settings, Some(second_factors)).await
    }

    async fn build_with(settings: Settings, second_factors: Option<SecondFactorSettings>) -> Result<Self, StartError> {
        let pool = platform::db::connect(&settings.database, &MIGRATIONS).await?;
        let bus = EventBus::connect(&settings.nats, "identity").await?;
        let keys = KeyStore::load(pool.clone()).await?;
        let mut identity = Identity::new(pool.clone(), keys.clone(), settings.tokens.clone()).await?;
        if let Some(second_factors) = &second_factors {
            let client = SecurityInfoClient::new(second_factors, keys.clone(), settings.tokens.clone())?;
            identity = identity.with_second_factors(client);
        }
        let identity = Arc::new(identity);
        if let Some(admin) = &settings.bootstrap_admin {
            bootstrap_admin(&identity, admin).await?;
        }

        let verifier = TokenVerifier::new(
            VerifierSettings::new(&settings.tokens.issuer, &settings.tokens.audience, "local"),
            LocalJwks(keys.clone()),
        );
        let auth = AuthLayer::new(Arc::new(verifier)).allow_anonymous(grpc::PUBLIC_METHODS);
        let relay = OutboxRelay::new(
            pool.clone(),
            bus.clone(),
            "myaccount/identity",
            vec![Stream::Identity, Stream::SignIn],
        );
        // "This wasn't me" ends every session of the person.
        let flagged_sign_ins = platform::consumer::Consumer::<myaccount_proto::events::v1::SignInFlagged, _>::new(
            pool.clone(),
            bus.clone(),
            platform::consumer::ConsumerSettings::new("identity"),
            sessions::SignInFlaggedHandler,
        );
        // A disabled (lost) device ends its sessions.
        let disabled_devices = platform::consumer::Consumer::<myaccount_proto::events::v1::DeviceDisabled, _>::new(
            pool.clone(),
            bus.clone(),
            platform::consumer::ConsumerSettings::new("identity"),
            sessions::DeviceDisabledHandler,
        );
        // Guest memberships decide who may sign in to which organization; leaving one ends its
        // sessions. The organization policy decides who may delete their own account.
        let guests_joined = Consumer::<MemberJoined, _>::new(
            pool.clone(),
            bus.clone(),
            ConsumerSettings::new("identity"),
            memberships::GuestJoinedHandler,
        );
        let members_left = Consumer::<MemberLeft, _>::new(
            pool.clone(),
            bus.clone(),
            ConsumerSettings::new("identity"),
            memberships::MemberLeftHandler,
        );
        let members_removed = Consumer::<MemberRemoved, _>::new(
            pool.clone(),
            bus.clone(),
            ConsumerSettings::new("identity"),
            memberships::MemberRemovedHandler,
        );
        let organization_policies = Consumer::<OrganizationChanged, _>::new(
            pool.clone(),
            bus.clone(),
            ConsumerSettings::new("identity"),
            memberships::OrganizationPolicyHandler,
        );
        let jwks_keys = keys.clone();
        let jwks = axum::Router::new().route(
            "/.well-known/jwks.json",
            get(move || {
                let keys = jwks_keys.clone();
                async move {
                    (
                        [(header::CACHE_CONTROL, "public, max-age=300")],
                        Json(keys.jwks().await),
                    )
                        .into_response()
                }
            }),
        );
        let host = ServiceHost::bind(&settings.grpc, pool, auth)
            .await?
            // Readiness follows NATS as well as Postgres.
            .event_bus(&bus)
            .add_service(IdentityServiceServer::new(grpc::IdentityApi::new(
                identity,
                settings.step_up_max_age,
            )))
            .admin_routes(jwks)
            .spawn_task(move |shutdown| relay.run(shutdown))
            .spawn_task(move |shutdown| disabled_devices.run(shutdown))
            .spawn_task(move |shutdown| flagged_sign_ins.run(shutdown))
            .spawn_task(move |shutdown| guests_joined.run(shutdown))
            .spawn_task(move |shutdown| members_left.run(shutdown))
            .spawn_task(move |shutdown| members_removed.run(shutdown))
            .spawn_task(move |shutdown| organization_policies.run(shutdown))
            .spawn_task(move |shutdown| refresh_keys(keys, shutdown));
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
        Err(e) => Err(StartError::Bootstrap(e)),
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
