//! The gRPC server every service runs: its own listener plus an admin HTTP listener (probes,
//! `/metrics`, service routes such as JWKS), `grpc.health.v1` that follows Postgres (and NATS)
//! reachability, reflection, request tracing and metrics, per-request timeouts, token verification, background tasks (outbox relay,
//! consumers) and a graceful shutdown that drains in-flight calls.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use futures::future::BoxFuture;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::ServiceBuilder;

use crate::auth::AuthLayer;
use crate::config::{ConfigError, Env};
use crate::events::EventBus;
use crate::instrument::GrpcServerLayer;
use crate::revocation::RevocationSet;
use crate::tls::{ServerTls, TlsLoadError};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("gRPC reflection: {0}")]
    Reflection(String),
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("admin server failed: {0}")]
    Admin(std::io::Error),
    #[error(transparent)]
    Tls(#[from] TlsLoadError),
}

#[derive(Debug, Clone)]
pub struct GrpcSettings {
    pub host: IpAddr,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// Probes and admin routes; by convention gRPC port + 1000.
    pub admin_port: u16,
    pub request_timeout: Duration,
    /// How long in-flight work may take to finish after a stop signal.
    pub drain_timeout: Duration,
    /// The certificate of the gRPC port; `None` serves plain text.
    pub tls: Option<ServerTls>,
}

impl GrpcSettings {
    /// Listens on 127.0.0.1 with free ports: for tests.
    pub fn ephemeral() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            admin_port: 0,
            request_timeout: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(20),
            tls: None,
        }
    }

    /// `<PREFIX>_HOST` (default 0.0.0.0), `<PREFIX>_GRPC_PORT`, `<PREFIX>_ADMIN_PORT` (default
    /// gRPC port + 1000), `<PREFIX>_REQUEST_TIMEOUT`, `<PREFIX>_DRAIN_TIMEOUT`,
    /// `<PREFIX>_GRPC_TLS_CERT_FILE` with `<PREFIX>_GRPC_TLS_KEY_FILE`.
    pub fn from_env(env: &Env, prefix: &str, default_port: u16) -> Result<Self, ConfigError> {
        let port: u16 = env.or(&format!("{prefix}_GRPC_PORT"), default_port)?;
        let admin_default = port.checked_add(1000).ok_or_else(|| {
            ConfigError::new(
                format!("{prefix}_GRPC_PORT"),
                "too high to derive the admin port (+1000)",
            )
        })?;
        Ok(Self {
            host: env.or(&format!("{prefix}_HOST"), IpAddr::V4(Ipv4Addr::UNSPECIFIED))?,
            port,
            admin_port: env.or(&format!("{prefix}_ADMIN_PORT"), admin_default)?,
            request_timeout: env.duration(&format!("{prefix}_REQUEST_TIMEOUT"), Duration::from_secs(10))?,
            drain_timeout: env.duration(&format!("{prefix}_DRAIN_TIMEOUT"), Duration::from_secs(20))?,
            tls: ServerTls::from_env(env, prefix)?,
        })
    }
}

type Task = Box<dyn FnOnce(CancellationToken) -> BoxFuture<'static, ()> + Send>;

/// Assembles and runs one service process.
pub struct ServiceHost {
    settings: GrpcSettings,
    grpc_listener: TcpListener,
    /// Loaded at bind, so a bad certificate stops the start rather than the first call.
    grpc_tls: Option<tonic::transport::ServerTlsConfig>,
    admin_listener: TcpListener,
    /// The gRPC certificate again, for the admin port (loaded at bind too).
    admin_tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    routes: Routes,
    service_names: Vec<&'static str>,
    auth: AuthLayer,
    pool: PgPool,
    admin_routes: Router,
    tasks: Vec<Task>,
    shutdown: CancellationToken,
    bus: Option<EventBus>,
    revocations: Option<Arc<RevocationSet>>,
}

impl ServiceHost {
    /// Binds both listeners now, so the ports are known before `run`.
    pub async fn bind(settings: &GrpcSettings, pool: PgPool, auth: AuthLayer) -> Result<Self, ServeError> {
        crate::metrics::install();
        let grpc_tls = settings.tls.as_ref().map(ServerTls::server_config).transpose()?;
        let admin_tls = settings.tls.as_ref().map(ServerTls::admin_config).transpose()?;
        if let Some(tls) = &grpc_tls {
            // Parses the certificate and key now: a bad pair stops the start, not the serving.
            tonic::transport::Server::builder().tls_config(tls.clone())?;
        }
        let grpc_listener = bind(SocketAddr::new(settings.host, settings.port)).await?;
        let admin_listener = bind(SocketAddr::new(settings.host, settings.admin_port)).await?;
        Ok(Self {
            settings: settings.clone(),
            grpc_listener,
            grpc_tls,
            admin_listener,
            admin_tls,
            routes: Routes::default(),
            service_names: Vec::new(),
            auth,
            pool,
            admin_routes: Router::new(),
            tasks: Vec::new(),
            shutdown: CancellationToken::new(),
            bus: None,
            revocations: None,
        })
    }

    /// Readiness (gRPC health and `/readyz`) also follows this NATS connection.
    pub fn event_bus(mut self, bus: &EventBus) -> Self {
        self.bus = Some(bus.clone());
        self
    }

    pub fn add_service<S>(mut self, service: S) -> Self
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
        self.service_names.push(S::NAME);
        self.routes = self.routes.add_service(service);
        self
    }

    /// Readiness also follows the revocation feed: a process that cannot know which tokens are
    /// revoked takes no traffic.
    pub fn revocations(mut self, revocations: Arc<RevocationSet>) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// Lets MFA registration tokens call `paths` (see [`AuthLayer::allow_mfa_registration`]).
    pub fn allow_mfa_registration(mut self, paths: &[&str]) -> Self {
        self.auth = self.auth.allow_mfa_registration(paths);
        self
    }

    /// Adjusts the auth layer given to `bind` (which workloads may call which methods).
    pub fn map_auth(mut self, adjust: impl FnOnce(AuthLayer) -> AuthLayer) -> Self {
        self.auth = adjust(self.auth);
        self
    }

    /// Verifies calls with `auth` instead of the layer given to `bind`.
    pub fn authenticate(mut self, auth: AuthLayer) -> Self {
        self.auth = auth;
        self
    }

    /// Extra routes on the admin HTTP port (e.g. identity's JWKS).
    pub fn admin_routes(mut self, routes: Router) -> Self {
        self.admin_routes = self.admin_routes.merge(routes);
        self
    }

    /// A background task that runs until the host stops (outbox relay, consumers).
    pub fn spawn_task<F, Fut>(mut self, task: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks.push(Box::new(move |token| Box::pin(task(token))));
        self
    }

    pub fn port(&self) -> u16 {
        self.grpc_listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn admin_port(&self) -> u16 {
        self.admin_listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Cancelling this token stops the host as a signal would.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until SIGTERM/Ctrl-C or the shutdown token, then drains.
    pub async fn run(self) -> Result<(), ServeError> {
        let shutdown = self.shutdown.clone();
        let signal_watch = {
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = crate::shutdown::signal() => shutdown.cancel(),
                    _ = shutdown.cancelled() => {}
                }
            })
        };

        let (reporter, health_service) = tonic_health::server::health_reporter();
        let ready = Arc::new(Readiness {
            postgres: AtomicBool::new(false),
            nats: AtomicBool::new(false),
            revocations: self.revocations.clone(),
            stalled_consumers: Mutex::new(Vec::new()),
        });
        let health_task = tokio::spawn(watch_dependencies(
            self.pool.clone(),
            self.bus.clone(),
            reporter,
            self.service_names.clone(),
            ready.clone(),
            shutdown.clone(),
        ));

        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(myaccount_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| ServeError::Reflection(e.to_string()))?;

        let tasks: Vec<JoinHandle<()>> = self
            .tasks
            .into_iter()
            .map(|task| tokio::spawn(task(shutdown.clone())))
            .collect();

        let admin = admin_router(ready, self.pool.clone()).merge(self.admin_routes);
        let admin_server = {
            let shutdown = shutdown.clone();
            match self.admin_tls {
                Some(config) => {
                    let listener =
                        crate::tls::TlsListener::new(self.admin_listener, config).map_err(ServeError::Admin)?;
                    tokio::spawn(async move {
                        axum::serve(listener, admin)
                            .with_graceful_shutdown(shutdown.cancelled_owned())
                            .await
                    })
                }
                None => tokio::spawn(async move {
                    axum::serve(self.admin_listener, admin)
                        .with_graceful_shutdown(shutdown.cancelled_owned())
                        .await
                }),
            }
        };

        let routes = self.routes.add_service(health_service).add_service(reflection);
        // No Nagle: a multi-segment answer (a page of sign-ins) would otherwise wait for the
        // client's delayed ACK, 40 ms per call.
        let incoming = tonic::transport::server::TcpIncoming::from(self.grpc_listener).with_nodelay(Some(true));
        tracing::info!(services = ?self.service_names, tls = self.grpc_tls.is_some(), "serving gRPC");
        let mut server = tonic::transport::Server::builder();
        if let Some(tls) = self.grpc_tls {
            server = server.tls_config(tls)?;
        }
        let served = server
            // Deadline for every call; a client's shorter grpc-timeout wins.
            .timeout(self.settings.request_timeout)
            .layer(
                ServiceBuilder::new()
                    // Outermost: every call gets a server span (a child of the caller's
                    // traceparent) and its RPC metrics, including the rejected ones. Non-OK
                    // codes are mostly the caller's (bad token, bad input): not logged here.
                    // Internal failures are logged where they are mapped to a status.
                    .layer(GrpcServerLayer)
                    // Then authentication, so handlers only ever see verified callers.
                    .layer(self.auth),
            )
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned())
            .await;

        // The gRPC server has drained; give background work the rest of the drain window.
        shutdown.cancel();
        let drain = async {
            for task in tasks {
                let _ = task.await;
            }
            let _ = health_task.await;
        };
        if tokio::time::timeout(self.settings.drain_timeout, drain).await.is_err() {
            tracing::warn!("background tasks did not stop within the drain timeout");
        }
        signal_watch.abort();
        crate::telemetry::flush_async().await;
        if let Ok(Err(e)) = admin_server.await {
            return Err(ServeError::Admin(e));
        }
        served.map_err(ServeError::from)
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

fn admin_router(ready: Arc<Readiness>, pool: PgPool) -> Router {
    Router::new()
        // Liveness: the process answers. Never depends on Postgres or NATS, so an outage does
        // not make Kubernetes restart every pod.
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let answer = ready.answer();
                async move { answer }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let pool = pool.clone();
                async move {
                    crate::metrics::refresh_database_gauges(&pool).await;
                    (
                        [(http::header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
                        crate::metrics::render(),
                    )
                }
            }),
        )
}

/// The `grpc.health.v1` entry that follows NATS reachability.
pub const NATS_HEALTH_NAME: &str = "nats";

/// The `grpc.health.v1` entry that follows the consumers: NOT_SERVING while one is stalled.
pub const CONSUMERS_HEALTH_NAME: &str = "consumers";

/// What readiness follows: Postgres, NATS when the host was given its connection, and the
/// consumers that hold a batch because a dependency keeps failing.
#[derive(Debug)]
struct Readiness {
    postgres: AtomicBool,
    nats: AtomicBool,
    /// Checked on every probe: it changes faster than the dependency checks run.
    revocations: Option<Arc<RevocationSet>>,
    /// `consumer: reason` of each stalled consumer.
    stalled_consumers: Mutex<Vec<String>>,
}

impl Readiness {
    /// `/readyz`'s answer: 200 `ready`, or 503 naming everything that is not.
    fn answer(&self) -> (StatusCode, String) {
        let mut problems = Vec::new();
        if !self.postgres.load(Ordering::Relaxed) {
            problems.push("postgres unreachable".to_owned());
        }
        if !self.nats.load(Ordering::Relaxed) {
            problems.push("nats unreachable".to_owned());
        }
        if self.revocations.as_ref().is_some_and(|r| !r.is_current()) {
            problems.push("revocation feed not current".to_owned());
        }
        if let Ok(stalled) = self.stalled_consumers.lock()
            && !stalled.is_empty()
        {
            problems.push(format!("consumers stalled: {}", stalled.join("; ")));
        }
        if problems.is_empty() {
            (StatusCode::OK, "ready".to_owned())
        } else {
            (StatusCode::SERVICE_UNAVAILABLE, problems.join(", "))
        }
    }
}

/// Keeps gRPC health and `/readyz` current: `""` and each service SERVING while Postgres
/// answers, `nats` while NATS does, `consumers` while none is stalled; `/readyz` ready while all
/// three hold. Checked every 5 s, every second while something is down, each check bounded by
/// 2 s.
async fn watch_dependencies(
    pool: PgPool,
    bus: Option<EventBus>,
    reporter: HealthReporter,
    names: Vec<&'static str>,
    ready: Arc<Readiness>,
    shutdown: CancellationToken,
) {
    let mut last: Option<(bool, bool, Vec<String>)> = None;
    loop {
        let postgres = async {
            tokio::time::timeout(Duration::from_secs(2), sqlx::query("SELECT 1").execute(&pool))
                .await
                .is_ok_and(|r| r.is_ok())
        };
        let nats = async {
            match &bus {
                // A round trip, not only the connection state: a half-open connection fails it.
                Some(bus) => tokio::time::timeout(Duration::from_secs(2), bus.client().flush())
                    .await
                    .is_ok_and(|r| r.is_ok() && bus.is_connected()),
                None => true,
            }
        };
        let (postgres, nats) = tokio::join!(postgres, nats);
        let stalled: Vec<String> = bus
            .as_ref()
            .map(|bus| {
                bus.consumer_stalls()
                    .current()
                    .into_iter()
                    .map(|(consumer, reason)| format!("{consumer}: {reason}"))
                    .collect()
            })
            .unwrap_or_default();
        let up = postgres && nats && stalled.is_empty();
        let now = (postgres, nats, stalled.clone());
        if last.as_ref() != Some(&now) {
            let serving = |up: bool| {
                if up {
                    ServingStatus::Serving
                } else {
                    ServingStatus::NotServing
                }
            };
            if last.is_some() {
                tracing::warn!(postgres_reachable = postgres, nats_reachable = nats, stalled_consumers = ?stalled, "health changed");
            }
            // The overall status and the services' follow Postgres: requests succeed while NATS
            // is away (events wait in the outbox), so a NATS outage must not take every pod out
            // of rotation (or fail start-up probes). NATS has an entry of its own.
            reporter.set_service_status("", serving(postgres)).await;
            for name in &names {
                reporter.set_service_status(*name, serving(postgres)).await;
            }
            reporter.set_service_status(NATS_HEALTH_NAME, serving(nats)).await;
            // Requests are served while a consumer is stalled; its events wait in JetStream.
            reporter
                .set_service_status(CONSUMERS_HEALTH_NAME, serving(stalled.is_empty()))
                .await;
            ready.postgres.store(postgres, Ordering::Relaxed);
            ready.nats.store(nats, Ordering::Relaxed);
            if let Ok(mut current) = ready.stalled_consumers.lock() {
                *current = stalled;
            }
            last = Some(now);
        }
        tokio::select! {
            _ = shutdown.cancelled() => {
                // Tell load balancers to stop sending new calls while we drain.
                reporter.set_service_status("", ServingStatus::NotServing).await;
                return;
            }
            _ = tokio::time::sleep(Duration::from_secs(if up { 5 } else { 1 })) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_names_every_problem_including_stalled_consumers() {
        let ready = Readiness {
            postgres: AtomicBool::new(true),
            nats: AtomicBool::new(true),
            revocations: None,
            stalled_consumers: Mutex::new(Vec::new()),
        };
        assert_eq!(ready.answer(), (StatusCode::OK, "ready".to_owned()));
        if let Ok(mut stalled) = ready.stalled_consumers.lock() {
            stalled.push("audit_recorded: pool timed out".to_owned());
        }
        ready.postgres.store(false, Ordering::Relaxed);
        assert_eq!(
            ready.answer(),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "postgres unreachable, consumers stalled: audit_recorded: pool timed out".to_owned()
            )
        );
        // A revocation feed that has not loaded yet keeps the process out of rotation.
        let waiting = Readiness {
            revocations: Some(Arc::new(RevocationSet::default())),
            ..ready
        };
        waiting.postgres.store(true, Ordering::Relaxed);
        if let Ok(mut stalled) = waiting.stalled_consumers.lock() {
            stalled.clear();
        }
        assert_eq!(
            waiting.answer(),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "revocation feed not current".to_owned()
            )
        );
    }
}
