//! The signals service: an OpenID Shared Signals (SSF 1.0) transmitter. It turns account
//! moments (identity's, security-info's, devices' and audit's events) into signed Security Event Tokens (CAEP,
//! RISC) for the receivers an operator registered, and delivers them by push (RFC 8935) or
//! poll (RFC 8936) without losing one. The gateway serves its HTTP surface.

pub mod domain;
pub mod events;
pub mod grpc;
pub mod keys;
pub mod push;
pub mod service;
pub mod store;
pub mod wakeups;

use std::sync::Arc;
use std::time::Duration;

use myaccount_proto::events::v1::{
    DeviceDisabled, DeviceEnabled, PasswordChanged, SecurityMethodAdded, SecurityMethodRemoved, SessionRevoked,
    SignInFlagged, SignInRiskDetected, UserDeleted, UserDisabled, UserEnabled, UserIdentifiersChanged,
};
use myaccount_proto::signals::v1::signals_service_server::SignalsServiceServer;
use platform::config::{ConfigError, Env};
use platform::crypto::Keyring;
use platform::service::{Service, ServiceKit, ServiceSettings, ServiceSpec, StartError};
use platform::workload;

use crate::keys::{KeySettings, SetSigner};
use crate::push::{PushSettings, Pusher};
use crate::service::{Signals, StreamPolicy, Transmitter};
use crate::wakeups::Wakeups;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SPEC: ServiceSpec = ServiceSpec {
    name: workload::SIGNALS,
    env_prefix: "SIGNALS",
    default_grpc_port: 50056,
    default_database: "myaccount_signals",
    consumer_name: "signals",
    // SETs leave through their own queue (push and poll), not through NATS.
    publishes: &[],
    migrations: &MIGRATIONS,
    // Receivers reach it through the gateway only (their own token is checked here too).
    callers: &[workload::GATEWAY],
    generic_plans: false,
};

/// A receiver's access token lives this long unless configured.
pub const DEFAULT_RECEIVER_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    /// Seals the SET signing key at rest.
    pub encryption: Keyring,
    /// The transmitter's issuer (`SIGNALS_ISSUER`): the gateway's public base URL, the `iss` of
    /// every SET and of the discovery document.
    pub issuer: String,
    /// How long a receiver's access token lives (`SIGNALS_RECEIVER_TOKEN_TTL`, 1m..1h).
    pub receiver_token_ttl: Duration,
    pub push: PushSettings,
    pub streams: StreamPolicy,
    pub keys: KeySettings,
}

impl Settings {
    /// The common service settings (`SIGNALS_*`, ...), `DATA_ENCRYPTION_KEYS`,
    /// `SIGNALS_ISSUER`, `SIGNALS_RECEIVER_TOKEN_TTL`, `SIGNALS_PUSH_TIMEOUT`,
    /// `SIGNALS_PUSH_MAX_BACKOFF`, `SIGNALS_ALL_SUBJECTS_ALLOWED`,
    /// `SIGNALS_MIN_VERIFICATION_INTERVAL`, `SIGNALS_PAUSED_STREAM_HOLD_LIMIT`,
    /// `SIGNALS_SIGNING_KEYS_RELOAD_INTERVAL` and `SIGNALS_JWKS_MAX_AGE`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let issuer: String = env.or("SIGNALS_ISSUER", "http://localhost:8080".to_owned())?;
        match url::Url::parse(&issuer) {
            Ok(url) if matches!(url.scheme(), "https" | "http") && url.query().is_none() => {}
            _ => {
                return Err(ConfigError::new(
                    "SIGNALS_ISSUER",
                    "must be the gateway's public http(s) base URL, such as https://myaccount.example.com",
                ));
            }
        }
        let receiver_token_ttl = env.duration("SIGNALS_RECEIVER_TOKEN_TTL", DEFAULT_RECEIVER_TOKEN_TTL)?;
        if !(Duration::from_secs(60)..=Duration::from_secs(3600)).contains(&receiver_token_ttl) {
            return Err(ConfigError::new(
                "SIGNALS_RECEIVER_TOKEN_TTL",
                "must be between 1m and 1h",
            ));
        }
        let defaults = PushSettings::default();
        let push = PushSettings {
            timeout: env.duration("SIGNALS_PUSH_TIMEOUT", defaults.timeout)?,
            initial_backoff: defaults.initial_backoff,
            max_backoff: env.duration("SIGNALS_PUSH_MAX_BACKOFF", defaults.max_backoff)?,
        };
        if !(Duration::from_secs(1)..=Duration::from_secs(60)).contains(&push.timeout) {
            return Err(ConfigError::new("SIGNALS_PUSH_TIMEOUT", "must be between 1s and 1m"));
        }
        if !(Duration::from_secs(1)..=Duration::from_secs(3600)).contains(&push.max_backoff) {
            return Err(ConfigError::new(
                "SIGNALS_PUSH_MAX_BACKOFF",
                "must be between 1s and 1h",
            ));
        }
        let stream_defaults = StreamPolicy::default();
        let streams = StreamPolicy {
            all_subjects_allowed: env.flag("SIGNALS_ALL_SUBJECTS_ALLOWED", stream_defaults.all_subjects_allowed)?,
            min_verification_interval: env.duration(
                "SIGNALS_MIN_VERIFICATION_INTERVAL",
                stream_defaults.min_verification_interval,
            )?,
            paused_hold_limit: env.or("SIGNALS_PAUSED_STREAM_HOLD_LIMIT", stream_defaults.paused_hold_limit)?,
        };
        // Whole seconds: the stream configuration advertises it as an integer.
        if !(Duration::from_secs(1)..=Duration::from_secs(86_400)).contains(&streams.min_verification_interval)
            || streams.min_verification_interval.subsec_nanos() != 0
        {
            return Err(ConfigError::new(
                "SIGNALS_MIN_VERIFICATION_INTERVAL",
                "must be whole seconds between 1s and 24h",
            ));
        }
        if !(1..=1_000_000).contains(&streams.paused_hold_limit) {
            return Err(ConfigError::new(
                "SIGNALS_PAUSED_STREAM_HOLD_LIMIT",
                "must be between 1 and 1000000 security event tokens",
            ));
        }
        let keys = KeySettings::from_env(env)?;
        Ok(Self {
            keys,
            streams,
            service: ServiceSettings::from_env(env, &SPEC)?,
            encryption: Keyring::from_env(env)?,
            issuer: issuer.trim_end_matches('/').to_owned(),
            receiver_token_ttl,
            push,
        })
    }
}

pub struct SignalsService;

pub type Application = platform::service::Application<SignalsService>;

impl Service for SignalsService {
    const SPEC: ServiceSpec = SPEC;
    type Settings = Settings;

    fn common(settings: &Settings) -> &ServiceSettings {
        &settings.service
    }

    async fn assemble(kit: ServiceKit, settings: Settings) -> Result<ServiceKit, StartError> {
        let pool = kit.pool().clone();
        let signer = SetSigner::load_or_create(pool.clone(), settings.encryption.clone(), settings.keys.clone())
            .await
            .map_err(|e| StartError::service("SET signing key", e))?;
        let transmitter = Arc::new(Transmitter::new(
            settings.issuer.clone(),
            signer.clone(),
            settings.streams.paused_hold_limit,
        ));
        let wakeups = Wakeups::new();
        let signals = Arc::new(Signals::new(
            pool.clone(),
            transmitter.clone(),
            wakeups.clone(),
            settings.receiver_token_ttl,
            settings.streams.clone(),
        ));
        let pusher = Pusher::new(pool.clone(), settings.push.clone(), wakeups.clone())
            .map_err(|e| StartError::service("push client", e))?;
        let listener_pool = pool.clone();
        Ok(kit
            .allow_anonymous(grpc::PUBLIC_METHODS)
            .serve(SignalsServiceServer::new(grpc::SignalsApi::new(
                signals,
                settings.service.step_up_max_age,
            )))
            // CAEP session-revoked: every end of a session.
            .consume::<SessionRevoked, _>(events::SessionRevokedHandler(transmitter.clone()))
            // CAEP credential-change: methods added and removed, the password changed (and
            // assurance-level-change when a method change moves the person's level).
            .consume::<SecurityMethodAdded, _>(events::MethodAddedHandler(transmitter.clone()))
            .consume::<SecurityMethodRemoved, _>(events::MethodRemovedHandler(transmitter.clone()))
            // ... and RISC recovery-activated for a reset.
            .consume::<PasswordChanged, _>(events::PasswordChangedHandler(transmitter.clone()))
            // RISC account-purged and credential-compromise ("this wasn't me").
            .consume::<UserDeleted, _>(events::UserDeletedHandler(transmitter.clone()))
            .consume::<SignInFlagged, _>(events::SignInFlaggedHandler(transmitter.clone()))
            // RISC account-disabled and account-enabled (an administrator or the operator).
            .consume::<UserDisabled, _>(events::UserDisabledHandler(transmitter.clone()))
            .consume::<UserEnabled, _>(events::UserEnabledHandler(transmitter.clone()))
            // RISC identifier-changed (a new user principal name or email address).
            .consume::<UserIdentifiersChanged, _>(events::IdentifiersChangedHandler(transmitter.clone()))
            // CAEP device-compliance-change: a device disabled or enabled again.
            .consume::<DeviceDisabled, _>(events::DeviceDisabledHandler(transmitter.clone()))
            .consume::<DeviceEnabled, _>(events::DeviceEnabledHandler(transmitter.clone()))
            // CAEP risk-level-change: a sign-in audit's risk rules found unusual.
            .consume::<SignInRiskDetected, _>(events::SignInRiskDetectedHandler(transmitter))
            .spawn_task(move |shutdown| wakeups.listen(listener_pool, shutdown))
            .spawn_task(move |shutdown| pusher.run(shutdown))
            // Keys rotated on any replica, and keys no queued SET needs any more.
            .spawn_task(move |shutdown| signer.refresh(shutdown)))
    }
}
