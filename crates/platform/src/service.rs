//! The service kit: what every MyAccount service has in common, built once. A service names
//! itself ([`ServiceSpec`]), says what settings it adds to the common ones ([`ServiceSettings`]),
//! and registers only what is its own in [`Service::assemble`]: its gRPC service, its consumers,
//! its background jobs, its erasure. The kit connects Postgres (with migrations) and NATS, binds
//! the gRPC and admin ports, verifies tokens, runs the outbox relay for the streams the service
//! publishes to and drains on shutdown.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;

use crate::auth::{AuthLayer, TokenVerifier, VerifierSettings};
use crate::config::{ConfigError, Env};
use crate::consumer::{BatchConsumer, BatchHandler, Consumer, ConsumerSettings, Handler};
use crate::db::{DatabaseSettings, DbError};
use crate::erasure::{Erasure, UserDeletedHandler};
use crate::events::{Event, EventBus, EventsError, NatsSettings, Stream};
use crate::grpc::{GrpcSettings, ServeError, ServiceHost};
use crate::outbox::OutboxRelay;
use crate::revocation::RevocationSet;
use crate::workload::{TrustedCallers, WorkloadVerifier};

/// What a service is, fixed at compile time.
#[derive(Debug)]
pub struct ServiceSpec {
    /// `devices`, `security-info`: the NATS client name and the outbox's CloudEvents source
    /// (`myaccount/<name>`).
    pub name: &'static str,
    /// Prefix of the service's own variables: `DEVICES` -> `DEVICES_GRPC_PORT`, ...
    pub env_prefix: &'static str,
    pub default_grpc_port: u16,
    /// The database it owns by default: `myaccount_devices`.
    pub default_database: &'static str,
    /// Prefix of its durable consumers' names (`devices` -> `devices_user_deleted`).
    pub consumer_name: &'static str,
    /// The streams its outbox publishes to; none means no relay.
    pub publishes: &'static [Stream],
    /// Its embedded migrations (`sqlx::migrate!`), applied at start unless disabled.
    pub migrations: &'static Migrator,
    /// The workloads that call its methods on a person's behalf (the gateway): every method
    /// but health, reflection and its internal ones accepts calls only from them, and it does
    /// not start unless `<PREFIX>_TRUSTED_CALLERS` gives their public keys.
    pub callers: &'static [&'static str],
    /// Its statements always run their generic plan ([`crate::db::DatabaseSettings::generic_plans`]).
    pub generic_plans: bool,
}

/// The step-up rule's window when nothing is configured: ten minutes, as Entra's My Account.
pub const DEFAULT_STEP_UP_MAX_AGE: Duration = Duration::from_secs(600);
/// The variable every service reads the step-up window from.
pub const STEP_UP_MAX_AGE: &str = "STEP_UP_MAX_AGE";
/// Earlier names of `STEP_UP_MAX_AGE`, still read (with a warning) when it is unset.
const DEPRECATED_STEP_UP_NAMES: [&str; 2] = ["IDENTITY_STEP_UP_MAX_AGE", "ORGANIZATIONS_STEP_UP_MAX_AGE"];

/// The settings every service has.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    pub grpc: GrpcSettings,
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    /// How access tokens are verified (issuer, audience, JWKS).
    pub auth: VerifierSettings,
    /// Its durable consumers (names prefixed with [`ServiceSpec::consumer_name`]).
    pub consumer: ConsumerSettings,
    /// How recent a (multi-factor) sign-in must be for a sensitive change.
    pub step_up_max_age: Duration,
    /// How long the revocation feed may go unconfirmed before this process stops vouching for
    /// it (readiness, sensitive operations).
    pub revocation_max_lag: Duration,
    /// The public keys of the workloads whose calls it accepts (`<PREFIX>_TRUSTED_CALLERS`):
    /// at least those of [`ServiceSpec::callers`].
    pub trusted_callers: TrustedCallers,
}

impl ServiceSettings {
    /// `<PREFIX>_HOST`/`_GRPC_PORT`/`_ADMIN_PORT`/`_REQUEST_TIMEOUT`/`_DRAIN_TIMEOUT`,
    /// `<PREFIX>_DATABASE_*`, `NATS_*` (and `<PREFIX>_NATS_NKEY_SEED_FILE`), `TOKEN_*`/`JWKS_URL`, `STEP_UP_MAX_AGE`,
    /// `<PREFIX>_TRUSTED_CALLERS`.
    pub fn from_env(env: &Env, spec: &ServiceSpec) -> Result<Self, ConfigError> {
        Ok(Self {
            grpc: GrpcSettings::from_env(env, spec.env_prefix, spec.default_grpc_port)?,
            database: DatabaseSettings::from_env(env, spec.env_prefix, spec.default_database)?
                .with_generic_plans(spec.generic_plans),
            nats: NatsSettings::from_env_for(env, spec.env_prefix)?,
            auth: VerifierSettings::from_env(env)?,
            consumer: ConsumerSettings::new(spec.consumer_name),
            step_up_max_age: step_up_max_age(env)?,
            revocation_max_lag: revocation_max_lag(env)?,
            trusted_callers: TrustedCallers::from_env(env, spec.env_prefix)?,
        })
    }

    /// For tests: free ports on loopback, the given database and NATS, tokens of the default
    /// issuer and audience with keys from `jwks_url`, consumers that pull often. No workload is
    /// trusted yet: the test sets [`ServiceSettings::trusted_callers`] to the keys it signs with.
    pub fn for_tests(spec: &ServiceSpec, database: DatabaseSettings, nats: NatsSettings, jwks_url: &str) -> Self {
        let mut consumer = ConsumerSettings::new(spec.consumer_name);
        consumer.fetch_expiry = Duration::from_millis(500);
        Self {
            grpc: GrpcSettings::ephemeral(),
            database: database.with_generic_plans(spec.generic_plans),
            nats,
            auth: VerifierSettings::new(crate::auth::DEFAULT_ISSUER, crate::auth::DEFAULT_AUDIENCE, jwks_url),
            consumer,
            step_up_max_age: DEFAULT_STEP_UP_MAX_AGE,
            // Many systems share a loaded test machine: a longer wait before calling the feed
            // behind, so only a test that stops NATS sees it.
            revocation_max_lag: Duration::from_secs(10),
            trusted_callers: TrustedCallers::new(),
        }
    }

    /// These settings, accepting calls from the workloads `trusted` names (tests, the bench).
    pub fn trusting(mut self, trusted: TrustedCallers) -> Self {
        self.trusted_callers = trusted;
        self
    }

    /// `CONFIG` unless every workload of `spec.callers` is trusted: a service nobody may call
    /// would start, pass its probes and refuse every request.
    pub fn require_trusted_callers(&self, spec: &ServiceSpec) -> Result<(), ConfigError> {
        let missing: Vec<&str> = spec
            .callers
            .iter()
            .copied()
            .filter(|name| !self.trusted_callers.trusts(name))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let example: Vec<String> = missing.iter().map(|name| format!("{name}=<public key>")).collect();
        Err(ConfigError::new(
            format!("{}_TRUSTED_CALLERS", spec.env_prefix),
            format!(
                "must give the public key of {} ({}): {} accepts a person's calls only from them; `myaccount workload-keys` writes the keys",
                missing.join(" and "),
                example.join(","),
                spec.name
            ),
        ))
    }
}

/// `STEP_UP_MAX_AGE`, between one minute and one hour (default 10m). The service-specific names
/// it replaced are read, with a warning, while it is unset.
pub fn step_up_max_age(env: &Env) -> Result<Duration, ConfigError> {
    let variable = match DEPRECATED_STEP_UP_NAMES.iter().find(|name| env.raw(name).is_some()) {
        Some(old) if env.raw(STEP_UP_MAX_AGE).is_none() => {
            tracing::warn!(
                variable = old,
                replacement = STEP_UP_MAX_AGE,
                "deprecated variable, still read for now"
            );
            *old
        }
        _ => STEP_UP_MAX_AGE,
    };
    let max_age = env.duration(variable, DEFAULT_STEP_UP_MAX_AGE)?;
    if !(Duration::from_secs(60)..=Duration::from_secs(3600)).contains(&max_age) {
        return Err(ConfigError::new(variable, "must be between 1m and 1h"));
    }
    Ok(max_age)
}

/// `REVOCATION_MAX_LAG`, between 1 s and 1 min (default 3 s).
pub fn revocation_max_lag(env: &Env) -> Result<Duration, ConfigError> {
    let lag = env.duration("REVOCATION_MAX_LAG", crate::revocation::DEFAULT_MAX_LAG)?;
    if !(Duration::from_secs(1)..=Duration::from_secs(60)).contains(&lag) {
        return Err(ConfigError::new("REVOCATION_MAX_LAG", "must be between 1s and 1m"));
    }
    Ok(lag)
}

/// Why a service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Events(#[from] EventsError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// Something of the service's own (signing keys, a GeoIP file, WebAuthn settings).
    #[error("{what}: {source}")]
    Service {
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StartError {
    pub fn service(what: &'static str, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Service {
            what,
            source: Box::new(source),
        }
    }
}

/// One MyAccount service: what it adds to the kit.
pub trait Service: Send + 'static {
    const SPEC: ServiceSpec;
    type Settings: Send + 'static;

    /// The common part of its settings.
    fn common(settings: &Self::Settings) -> &ServiceSettings;

    /// Registers what is its own: gRPC service, consumers, erasure, background jobs.
    fn assemble(
        kit: ServiceKit,
        settings: Self::Settings,
    ) -> impl Future<Output = Result<ServiceKit, StartError>> + Send;
}

/// A service being put together: the connected pool and bus, the bound host.
pub struct ServiceKit {
    spec: &'static ServiceSpec,
    settings: ServiceSettings,
    pool: PgPool,
    bus: EventBus,
    host: ServiceHost,
    revocations: Arc<RevocationSet>,
}

impl ServiceKit {
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// Consumers with the service's durable name prefix.
    pub fn consumer_settings(&self) -> ConsumerSettings {
        self.settings.consumer.clone()
    }

    /// Serves `service` on the gRPC port, behind the kit's tracing and auth layers.
    pub fn serve<S>(mut self, service: S) -> Self
    where
        S: tower::Service<http::Request<tonic::body::Body>, Error = std::convert::Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.host = self.host.add_service(service);
        self
    }

    /// Verifies calls with `auth` instead of the kit's default (identity verifies its own tokens
    /// and lets some methods through anonymously).
    pub fn authenticate(mut self, auth: AuthLayer) -> Self {
        self.host = self.host.authenticate(auth.with_revocations(self.revocations.clone()));
        self
    }

    /// The methods an MFA registration token may call here (registering a first method); it is
    /// refused on every other.
    pub fn allow_mfa_registration(mut self, paths: &[&str]) -> Self {
        self.host = self.host.allow_mfa_registration(paths);
        self
    }

    /// Internal methods: `paths` are called by one of `callers` alone, on no person's token,
    /// each call proven by a workload token ([`AuthLayer::internal`]).
    pub fn internal_methods(mut self, paths: &[&str], callers: &[&str]) -> Self {
        self.host = self.host.map_auth(|auth| auth.internal(paths, callers));
        self
    }

    /// Methods called without a person's token (`/pkg.Service/Method` paths), which prove
    /// their caller some other way (signals' receivers, by their own access token).
    pub fn allow_anonymous(mut self, paths: &[&str]) -> Self {
        self.host = self.host.map_auth(|auth| auth.allow_anonymous(paths));
        self
    }

    /// Consumes `E` with `handler` under the service's durable name.
    pub fn consume<E: Event, H: Handler<E>>(self, handler: H) -> Self {
        let settings = self.consumer_settings();
        self.consume_as(settings, handler)
    }

    /// Consumes `E` with `handler` under a durable name of its own.
    pub fn consume_as<E: Event, H: Handler<E>>(self, settings: ConsumerSettings, handler: H) -> Self {
        let consumer = Consumer::<E, H>::new(self.pool.clone(), self.bus.clone(), settings, handler);
        self.spawn_task(move |shutdown| consumer.run(shutdown))
    }

    /// Consumes `E` set-wise with `workers` loops sharing the one durable consumer.
    pub fn consume_batches<E, H>(mut self, workers: usize, handler: impl Fn() -> H) -> Self
    where
        E: Event,
        H: BatchHandler<E>,
    {
        for _ in 0..workers.max(1) {
            let consumer =
                BatchConsumer::<E, H>::new(self.pool.clone(), self.bus.clone(), self.consumer_settings(), handler());
            self = self.spawn_task(move |shutdown| consumer.run(shutdown));
        }
        self
    }

    /// Erases a deleted account's data with `erasure` (on `identity.v1.user_deleted`), leaving
    /// the platform's tombstone.
    pub fn erase_users_with<T: Erasure>(self, erasure: T) -> Self {
        self.consume(UserDeletedHandler(erasure))
    }

    /// Extra routes on the admin HTTP port (identity's JWKS).
    pub fn admin_routes(mut self, routes: axum::Router) -> Self {
        self.host = self.host.admin_routes(routes);
        self
    }

    /// A background job that runs until the service stops.
    pub fn spawn_task<F, Fut>(mut self, task: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.host = self.host.spawn_task(task);
        self
    }

    fn finish(mut self) -> ServiceHost {
        // Last, so a service's own auth layer ([`ServiceKit::authenticate`]) is fenced too.
        let workloads = Arc::new(WorkloadVerifier::new(
            self.spec.name,
            self.settings.trusted_callers.clone(),
        ));
        let callers = self.spec.callers;
        self.host = self.host.map_auth(|auth| {
            let auth = auth.with_workloads(workloads);
            if callers.is_empty() {
                auth
            } else {
                auth.require_caller_everywhere(callers)
            }
        });
        if self.spec.publishes.is_empty() {
            return self.host;
        }
        let relay = OutboxRelay::new(
            self.pool,
            self.bus,
            format!("myaccount/{}", self.spec.name),
            self.spec.publishes.to_vec(),
        );
        self.host.spawn_task(move |shutdown| relay.run(shutdown))
    }
}

/// A running (or ready to run) service process.
pub struct Application<S> {
    host: ServiceHost,
    _service: PhantomData<fn() -> S>,
}

impl<S: Service> Application<S> {
    /// Builds the service; tokens are verified against `JWKS_URL`.
    pub async fn build(settings: S::Settings) -> Result<Self, StartError> {
        let verifier = TokenVerifier::from_settings(S::common(&settings).auth.clone());
        Self::build_with_verifier(settings, verifier).await
    }

    /// As `build`, with the token verifier given (tests use a static key set).
    pub async fn build_with_verifier(settings: S::Settings, verifier: TokenVerifier) -> Result<Self, StartError> {
        let common = S::common(&settings).clone();
        // Before connecting anything: a service no workload may call is a configuration error.
        common.require_trusted_callers(&S::SPEC)?;
        let pool = crate::db::connect(&common.database, S::SPEC.migrations).await?;
        let bus = EventBus::connect(&common.nats, S::SPEC.name).await?;
        // Every token is checked against the revocations this process follows.
        let revocations = Arc::new(RevocationSet::new(common.revocation_max_lag));
        let auth = AuthLayer::new(Arc::new(verifier)).with_revocations(revocations.clone());
        let feed = {
            let (revocations, bus) = (revocations.clone(), bus.clone());
            move |shutdown| revocations.follow(bus, shutdown)
        };
        let host = ServiceHost::bind(&common.grpc, pool.clone(), auth)
            .await?
            // Readiness follows NATS and the revocation feed as well as Postgres.
            .event_bus(&bus)
            .revocations(revocations.clone())
            .spawn_task(feed)
            .spawn_task({
                let pool = pool.clone();
                move |shutdown| crate::idempotency::forget_expired_hourly(pool, shutdown)
            });
        let kit = ServiceKit {
            spec: &S::SPEC,
            settings: common,
            pool,
            bus,
            host,
            revocations,
        };
        let host = S::assemble(kit, settings).await?.finish();
        Ok(Self {
            host,
            _service: PhantomData,
        })
    }

    pub fn port(&self) -> u16 {
        self.host.port()
    }

    pub fn admin_port(&self) -> u16 {
        self.host.admin_port()
    }

    /// Cancelling it stops the service as SIGTERM would.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.host.shutdown_token()
    }

    /// Serves until SIGTERM, Ctrl-C or the shutdown token, then drains.
    pub async fn run_until_stopped(self) -> Result<(), ServeError> {
        self.host.run().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_up_window_has_one_name_and_one_bound() {
        assert_eq!(step_up_max_age(&Env::default()), Ok(DEFAULT_STEP_UP_MAX_AGE));
        let five = Env::from_pairs([("STEP_UP_MAX_AGE", "5m")]);
        assert_eq!(step_up_max_age(&five), Ok(Duration::from_secs(300)));
        for bad in ["30s", "2h", "soon"] {
            let err = step_up_max_age(&Env::from_pairs([("STEP_UP_MAX_AGE", bad)])).expect_err(bad);
            assert_eq!(err.variable, "STEP_UP_MAX_AGE", "{bad}");
        }
    }

    static NO_MIGRATIONS: Migrator = Migrator::DEFAULT;

    const FENCED: ServiceSpec = ServiceSpec {
        name: "devices",
        env_prefix: "DEVICES",
        default_grpc_port: 50053,
        default_database: "myaccount_devices",
        consumer_name: "devices",
        publishes: &[],
        migrations: &NO_MIGRATIONS,
        callers: &[crate::workload::GATEWAY],
        generic_plans: false,
    };

    #[test]
    fn a_service_does_not_start_without_the_keys_of_its_callers() {
        let settings = |env: &Env| ServiceSettings::from_env(env, &FENCED).expect("settings");
        let refused = settings(&Env::default())
            .require_trusted_callers(&FENCED)
            .expect_err("nobody trusted");
        assert_eq!(refused.variable, "DEVICES_TRUSTED_CALLERS");
        assert!(refused.reason.contains("gateway=<public key>"), "{}", refused.reason);
        assert!(refused.reason.contains("myaccount workload-keys"), "{}", refused.reason);

        let identity = crate::workload::WorkloadKey::generate(crate::workload::IDENTITY);
        let only_identity =
            Env::from_pairs([("DEVICES_TRUSTED_CALLERS", format!("identity={}", identity.public_key()))]);
        assert!(settings(&only_identity).require_trusted_callers(&FENCED).is_err());

        let gateway = crate::workload::WorkloadKey::generate(crate::workload::GATEWAY);
        let trusted = Env::from_pairs([("DEVICES_TRUSTED_CALLERS", format!("gateway={}", gateway.public_key()))]);
        assert_eq!(settings(&trusted).require_trusted_callers(&FENCED), Ok(()));
    }

    #[test]
    fn deprecated_step_up_names_are_read_while_the_new_one_is_unset() {
        let old = Env::from_pairs([("ORGANIZATIONS_STEP_UP_MAX_AGE", "15m")]);
        assert_eq!(step_up_max_age(&old), Ok(Duration::from_secs(900)));
        let both = Env::from_pairs([("IDENTITY_STEP_UP_MAX_AGE", "15m"), ("STEP_UP_MAX_AGE", "5m")]);
        assert_eq!(step_up_max_age(&both), Ok(Duration::from_secs(300)));
        let bad_old = Env::from_pairs([("IDENTITY_STEP_UP_MAX_AGE", "3h")]);
        assert_eq!(
            step_up_max_age(&bad_old).expect_err("out of bounds").variable,
            "IDENTITY_STEP_UP_MAX_AGE"
        );
    }
}
