//! Test helpers (feature `testing`): a database per test, a NATS namespace per test, an
//! in-test token issuer, a test-owned nats-server for fault tests, and waiting with a deadline.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::jwk::JwkSet;
use uuid::Uuid;

mod postgres;
mod tls;

pub use postgres::PostgresServer;
pub use tls::{TestCa, TestCertificate, TlsFiles};

use crate::auth::{
    ADMIN_SCOPE, Claims, DEFAULT_AUDIENCE, DEFAULT_ISSUER, SigningKey, StaticJwks, TokenVerifier, VerifierSettings,
};
use crate::db::{DatabaseSettings, quote_identifier};
use crate::events::{NatsSettings, Stream};

pub const POSTGRES_SERVER: &str = "postgres://postgres@127.0.0.1:5432";
pub const NATS_URL: &str = "nats://127.0.0.1:4222";

/// A database of its own for one test, dropped when the value is dropped.
pub struct TestDatabase {
    pub settings: DatabaseSettings,
    name: String,
    /// Dropped already, with others at once ([`TestDatabase::drop_together`]).
    dropped: bool,
}

impl TestDatabase {
    pub fn new(service: &str) -> Self {
        let name = format!("myaccount_test_{service}_{}", Uuid::new_v4().simple());
        // Many services of many tests share one Postgres (max_connections 100 by default):
        // small pools keep parallel tests within it.
        let mut settings = DatabaseSettings::new(format!("{POSTGRES_SERVER}/{name}"));
        settings.max_connections = 4;
        Self {
            settings,
            name,
            dropped: false,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops these databases side by side. Each drop ends the connections still open to its
    /// database and waits for them to close (Postgres checks every 100 ms), so a system of six
    /// services' databases is let go in one such wait instead of six.
    pub fn drop_together(databases: &mut [&mut TestDatabase]) {
        let names = databases
            .iter_mut()
            .filter(|database| !database.dropped)
            .map(|database| {
                database.dropped = true;
                database.name.clone()
            })
            .collect();
        drop_databases(names);
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if !self.dropped {
            drop_databases(vec![self.name.clone()]);
        }
    }
}

fn drop_databases(names: Vec<String>) {
    if names.is_empty() {
        return;
    }
    // Drop runs inside the test's runtime; do the async cleanup on a thread of its own.
    let _ = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            return;
        };
        rt.block_on(futures::future::join_all(names.into_iter().map(|name| async move {
            use sqlx::Connection;
            let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_identifier(&name));
            if let Ok(mut conn) = sqlx::PgConnection::connect(&format!("{POSTGRES_SERVER}/postgres")).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut conn).await;
            }
        })));
    })
    .join();
}

/// A NATS namespace of its own for one test; its streams are deleted when dropped.
pub struct TestNats {
    pub settings: NatsSettings,
    /// Per service name, the nkey seed it connects with (a server with authorization); a
    /// service not listed connects as `settings` says.
    pub seed_files: HashMap<String, PathBuf>,
}

impl TestNats {
    pub fn new() -> Self {
        Self::at(NATS_URL)
    }

    pub fn at(url: &str) -> Self {
        let mut settings = NatsSettings::new(url);
        settings.namespace = Some(format!("t{}", &Uuid::new_v4().simple().to_string()[..12]));
        settings.duplicate_window = Duration::from_secs(60);
        Self {
            settings,
            seed_files: HashMap::new(),
        }
    }

    /// The settings `service` (its `ServiceSpec::name`) connects with: its own seed, if any.
    pub fn settings_for(&self, service: &str) -> NatsSettings {
        let mut settings = self.settings.clone();
        if let Some(seed) = self.seed_files.get(service) {
            settings.nkey_seed_file = Some(seed.clone());
        }
        settings
    }
}

impl Default for TestNats {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestNats {
    fn drop(&mut self) {
        let settings = self.settings.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async move {
                let connect = async_nats::ConnectOptions::new()
                    .connection_timeout(Duration::from_secs(1))
                    .connect(settings.url.as_str());
                if let Ok(Ok(client)) = tokio::time::timeout(Duration::from_secs(2), connect).await {
                    let js = async_nats::jetstream::new(client);
                    let naming = settings.naming();
                    for s in Stream::ALL {
                        let _ = tokio::time::timeout(Duration::from_secs(2), js.delete_stream(naming.stream(s))).await;
                    }
                }
            });
        })
        .join();
    }
}

/// Issues access tokens in tests of services other than identity.
pub struct TestIssuer {
    key: SigningKey,
}

impl TestIssuer {
    pub fn new() -> Self {
        Self {
            key: SigningKey::generate(),
        }
    }

    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.key.public_jwk()],
        }
    }

    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier::new(
            VerifierSettings::new(DEFAULT_ISSUER, DEFAULT_AUDIENCE, "http://unused.invalid"),
            StaticJwks(self.jwks()),
        )
    }

    pub fn claims_for(&self, user_id: Uuid) -> Claims {
        let now = Utc::now().timestamp();
        Claims {
            iss: DEFAULT_ISSUER.into(),
            aud: DEFAULT_AUDIENCE.into(),
            sub: user_id.to_string(),
            exp: now + 300,
            iat: now,
            jti: Uuid::new_v4().to_string(),
            sid: Some(Uuid::new_v4().to_string()),
            org: None,
            auth_time: now,
            amr: vec!["pwd".into()],
            scope: None,
        }
    }

    pub fn sign(&self, claims: &Claims) -> String {
        self.key.sign(claims).expect("signing a test token")
    }

    pub fn token_for(&self, user_id: Uuid) -> String {
        self.sign(&self.claims_for(user_id))
    }

    /// The installation operator's token (an admin naming no organization), signed in with a
    /// second factor just now, as every admin action needs.
    pub fn admin_token(&self) -> String {
        let mut claims = self.claims_for(Uuid::new_v4());
        claims.scope = Some(ADMIN_SCOPE.into());
        claims.amr = vec!["pwd".into(), "otp".into(), "mfa".into()];
        self.sign(&claims)
    }

    /// The token of an admin of `organization_id`, signed in with a second factor just now.
    pub fn admin_token_in(&self, organization_id: &str) -> String {
        let mut claims = self.claims_for(Uuid::new_v4());
        claims.scope = Some(ADMIN_SCOPE.into());
        claims.org = Some(organization_id.to_owned());
        claims.amr = vec!["pwd".into(), "otp".into(), "mfa".into()];
        self.sign(&claims)
    }

    /// As [`TestIssuer::admin_token_in`], signed in with the password alone.
    pub fn admin_token_without_mfa_in(&self, organization_id: &str) -> String {
        let mut claims = self.claims_for(Uuid::new_v4());
        claims.scope = Some(ADMIN_SCOPE.into());
        claims.org = Some(organization_id.to_owned());
        self.sign(&claims)
    }
}

impl Default for TestIssuer {
    fn default() -> Self {
        Self::new()
    }
}

/// A nats-server owned by one test, on a free port, that the test can stop and start again
/// (same port, same storage) to simulate an outage.
pub struct NatsServer {
    binary: PathBuf,
    port: u16,
    store: PathBuf,
    /// A configuration file the server starts with (`myaccount nats-config`'s); its listener is
    /// replaced by the test's port, and it keeps its own store directory and authorization.
    config: Option<PathBuf>,
    child: Option<Child>,
}

impl NatsServer {
    pub async fn start() -> Self {
        let port = free_port();
        let store = std::env::temp_dir().join(format!("myaccount-nats-{}", Uuid::new_v4().simple()));
        let mut server = Self {
            binary: installed_nats_server(),
            port,
            store,
            config: None,
            child: None,
        };
        server.resume().await;
        server
    }

    /// A server started as `nats-server -c config` (on a free port of loopback); its log is
    /// kept, for tests that look for what the server refused ([`NatsServer::log`]). It is the
    /// pinned nats-server ([`pinned_nats_server`]): the configurations `myaccount nats-config`
    /// writes are the shipped ones, which need 2.10 or newer (`sync_interval`).
    pub async fn start_with_config(config: PathBuf) -> Self {
        let port = free_port();
        let store = std::env::temp_dir().join(format!("myaccount-nats-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&store).expect("a directory for the server's log");
        let mut server = Self {
            binary: pinned_nats_server(),
            port,
            store,
            config: Some(config),
            child: None,
        };
        server.resume().await;
        server
    }

    /// What the server logged so far (only kept for servers started with a configuration).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.store.join("nats-server.log")).unwrap_or_default()
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again and waits until it accepts connections.
    pub async fn resume(&mut self) {
        let mut command = Command::new(&self.binary);
        command.args(["-a", "127.0.0.1", "-p", &self.port.to_string()]);
        match &self.config {
            Some(config) => command
                .arg("-c")
                .arg(config)
                .arg("-l")
                .arg(self.store.join("nats-server.log")),
            None => command.args(["-js", "-sd"]).arg(&self.store),
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server must be installed for fault tests (scripts/ensure-services.sh)");
        self.child = Some(child);
        let port = self.port;
        eventually(Duration::from_secs(10), || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok()
        })
        .await;
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// The machine's nats-server (`deploy/scripts/ensure-services.sh` installs it).
fn installed_nats_server() -> PathBuf {
    [
        "/usr/sbin/nats-server",
        "/usr/bin/nats-server",
        "/usr/local/bin/nats-server",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
    .unwrap_or("nats-server")
    .into()
}

/// The nats-server the project ships against, at the version pinned in
/// `deploy/scripts/ensure-nats-server.sh`, which installs it (once) into the tools cache and
/// prints its path.
pub fn pinned_nats_server() -> PathBuf {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/scripts/ensure-nats-server.sh");
    let output = std::process::Command::new(&script)
        .output()
        .unwrap_or_else(|e| panic!("{} runs: {e}", script.display()));
    assert!(
        output.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    PathBuf::from(
        stdout
            .lines()
            .last()
            .expect("the script prints the binary's path")
            .trim(),
    )
}

/// A port for a server a test starts later (when the port must be known before it binds):
/// [`crate::ports::unused_port`], never handed out twice in this process.
pub fn free_port() -> u16 {
    crate::ports::unused_port().expect("a free loopback port")
}

/// Waits until the service whose admin port is `admin_port` says it is ready (`/readyz` 200:
/// Postgres and NATS answer and its revocation feed is loaded), as Kubernetes would before
/// sending it traffic.
pub async fn wait_until_ready(admin_port: u16) {
    let url = format!("http://127.0.0.1:{admin_port}/readyz");
    let client = reqwest::Client::new();
    eventually(Duration::from_secs(60), || {
        let request = client.get(&url).send();
        async move { request.await.is_ok_and(|r| r.status().is_success()) }
    })
    .await;
}

/// Polls `condition` until it holds; panics after `deadline`. For conditions that become true
/// asynchronously (an event arriving), instead of sleeping a guessed time.
pub async fn eventually<F, Fut>(deadline: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    loop {
        if condition().await {
            return;
        }
        assert!(start.elapsed() < deadline, "condition not met within {deadline:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A pool far smaller than the callers and a short acquire timeout: a request that holds one
/// pooled connection while it waits for another fails within seconds instead of passing.
pub fn contended_pool(settings: &mut DatabaseSettings) {
    settings.max_connections = 2;
    settings.acquire_timeout = Duration::from_secs(2);
}

/// Callers for a pool set up by [`contended_pool`]: eight per connection.
pub const CONCURRENT_CALLERS: usize = 16;

/// Runs `call` from [`CONCURRENT_CALLERS`] concurrent callers; panics, naming `what`, unless
/// every call succeeds.
pub async fn all_succeed_concurrently<F, Fut, T, E>(what: &str, call: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Debug,
{
    let results = futures::future::join_all((0..CONCURRENT_CALLERS).map(|_| call())).await;
    let failures: Vec<E> = results.into_iter().filter_map(Result::err).collect();
    assert!(
        failures.is_empty(),
        "{what}: {} of {CONCURRENT_CALLERS} concurrent callers failed, the first with {:?}",
        failures.len(),
        failures.first()
    );
}

/// A TCP proxy a test controls, in front of a server (Postgres): [`TcpProxy::cut`] closes every
/// connection through it and refuses new ones, as a server that went away would;
/// [`TcpProxy::restore`] lets connections through again on the same port.
pub struct TcpProxy {
    port: u16,
    target: std::net::SocketAddr,
    open: Option<tokio_util::sync::CancellationToken>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards to `target`.
    pub async fn start(target: std::net::SocketAddr) -> Self {
        let mut proxy = Self {
            port: free_port(),
            target,
            open: None,
        };
        proxy.restore().await;
        proxy
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Closes every connection and stops listening: new connections are refused.
    pub fn cut(&mut self) {
        if let Some(open) = self.open.take() {
            open.cancel();
        }
    }

    /// Listens again (on the same port) and forwards new connections.
    pub async fn restore(&mut self) {
        if self.open.is_some() {
            return;
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("the proxy's port is free again");
        let open = tokio_util::sync::CancellationToken::new();
        let target = self.target;
        let token = open.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = token.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((mut client, _)) = accepted else { continue };
                let token = token.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = token.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    }
                });
            }
        });
        self.open = Some(open);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// A service started for a test with [`start_service`]: a gRPC channel to it and a small pool
/// on its database for checking what it stored. The service stops when this is dropped.
pub struct StartedService {
    pub channel: tonic::transport::Channel,
    pub db: sqlx::PgPool,
    shutdown: tokio_util::sync::CancellationToken,
}

impl StartedService {
    /// Stops the service now (it also stops when dropped).
    pub fn stop(&self) {
        self.shutdown.cancel();
    }
}

impl Drop for StartedService {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Runs `app` in the background until it is ready, as Kubernetes would before sending traffic,
/// and connects to it and to its database `database`.
pub async fn start_service<S: crate::service::Service>(
    app: crate::service::Application<S>,
    database: &DatabaseSettings,
) -> StartedService {
    let port = app.port();
    let admin_port = app.admin_port();
    let shutdown = app.shutdown_token();
    tokio::spawn(app.run_until_stopped());
    wait_until_ready(admin_port).await;
    let channel = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("a valid uri")
        .connect()
        .await
        .expect("connect to the service");
    let db = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&database.url)
        .await
        .expect("connect to the test database");
    StartedService { channel, db, shutdown }
}

/// Publishes `event` as another service's outbox relay would, from `source` (`myaccount/identity`)
/// with `ce-id` `event_id` and `ce-time` `time`. Each call is a new message (its own
/// `Nats-Msg-Id`), so the same `event_id` twice is a redelivery the consumer must recognise.
pub async fn publish_as<E: crate::events::Event>(
    bus: &crate::events::EventBus,
    source: &str,
    event_id: &str,
    event: &E,
    time: chrono::DateTime<Utc>,
) {
    let msg_id = Uuid::new_v4().to_string();
    let headers =
        crate::events::headers::cloud_event(&msg_id, event_id, &E::subject(), source, time, &event.ce_subject());
    bus.ensure_streams(&[E::STREAM]).await.expect("the event's stream");
    bus.jetstream()
        .publish_with_headers(
            bus.naming().subject(&E::subject()),
            headers,
            prost::Message::encode_to_vec(event).into(),
        )
        .await
        .expect("publish")
        .await
        .expect("publish ack");
}

/// Whether the consumer `durable` of the service behind `db` has applied the event `event_id`.
pub async fn processed(db: &sqlx::PgPool, durable: &str, event_id: &str) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM platform.processed_events WHERE consumer = $1 AND event_id = $2)")
        .bind(durable)
        .bind(event_id)
        .fetch_one(db)
        .await
        .expect("read processed events")
}

/// Waits until the consumer `durable` of the service behind `db` has applied `event_id`.
pub async fn wait_until_processed(db: &sqlx::PgPool, durable: &str, event_id: &str) {
    eventually(Duration::from_secs(20), || processed(db, durable, event_id)).await;
}

/// The rows of `table` (a name the test chose, not input), for "nothing changed" and erasure
/// checks.
pub async fn row_count(db: &sqlx::PgPool, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(db)
        .await
        .expect("count rows")
}

/// The field names of a status's violations, in order.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    crate::error::field_violations(status)
        .into_iter()
        .map(|v| v.field)
        .collect()
}

#[track_caller]
pub fn assert_status(status: &tonic::Status, code: tonic::Code, message: &str) {
    assert_eq!(status.code(), code, "unexpected status: {status:?}");
    assert_eq!(status.message(), message, "unexpected message: {status:?}");
}

/// `message` with `authorization: Bearer <token>`.
pub fn bearer<T>(message: T, token: &str) -> tonic::Request<T> {
    crate::auth::bearer_request(message, token).expect("a valid token")
}

/// `request` also carrying a workload token ([`crate::workload`]), as a calling service sends it.
pub fn with_workload_token<T>(mut request: tonic::Request<T>, token: &str) -> tonic::Request<T> {
    let value = token.parse().expect("a token a header can carry");
    request
        .metadata_mut()
        .insert(crate::workload::WORKLOAD_TOKEN_METADATA, value);
    request
}

/// The gateway of a test: the workload key the service under test trusts, and channels that
/// sign every call with it as the gateway's do.
#[derive(Clone)]
pub struct TestGateway {
    pub key: std::sync::Arc<crate::workload::WorkloadKey>,
}

impl Default for TestGateway {
    fn default() -> Self {
        Self::new()
    }
}

impl TestGateway {
    pub fn new() -> Self {
        Self {
            key: std::sync::Arc::new(crate::workload::WorkloadKey::generate(crate::workload::GATEWAY)),
        }
    }

    /// The callers of a service that takes a person's calls from this gateway alone.
    pub fn trusted(&self) -> crate::workload::TrustedCallers {
        crate::workload::TrustedCallers::new().with_key(&self.key)
    }

    /// `channel`, every call on it carrying this gateway's token for `audience`.
    pub fn sign(
        &self,
        channel: tonic::transport::Channel,
        audience: &str,
    ) -> crate::workload::SignedAsWorkload<tonic::transport::Channel> {
        crate::workload::SignedAsWorkload::new(channel, self.key.clone(), audience)
    }
}

/// A way of calling a service directly, around the gateway, with a person's valid token: the
/// workload token it presents (if any), and the refusal the service must answer.
#[derive(Debug, Clone)]
pub struct DirectCall {
    pub case: &'static str,
    pub workload_token: Option<String>,
    pub code: tonic::Code,
    pub message: String,
}

impl DirectCall {
    /// `request` with this case's workload token, if it has one.
    pub fn prepare<T>(&self, request: tonic::Request<T>) -> tonic::Request<T> {
        match &self.workload_token {
            Some(token) => with_workload_token(request, token),
            None => request,
        }
    }
}

/// The ways of calling `method` of the service `audience` that takes calls from `gateway`
/// alone without being the gateway: no workload token, one forged under the gateway's name,
/// one the gateway meant for another service, one of a workload nobody trusts.
pub fn direct_calls(gateway: &TestGateway, audience: &str, method: &str) -> Vec<DirectCall> {
    let signed = |key: &crate::workload::WorkloadKey, audience: &str| {
        Some(key.token_for(audience).expect("an Ed25519 key signs"))
    };
    let other_service = if audience == crate::workload::AUDIT {
        crate::workload::DEVICES
    } else {
        crate::workload::AUDIT
    };
    vec![
        DirectCall {
            case: "a person's token alone",
            workload_token: None,
            code: tonic::Code::Unauthenticated,
            message: format!(
                "{method} accepts calls only from the gateway workload: present its workload token in the {} metadata",
                crate::workload::WORKLOAD_TOKEN_METADATA
            ),
        },
        DirectCall {
            case: "a workload token forged under the gateway's name",
            workload_token: signed(
                &crate::workload::WorkloadKey::generate(crate::workload::GATEWAY),
                audience,
            ),
            code: tonic::Code::Unauthenticated,
            message: "the workload token is not valid: bad signature".into(),
        },
        DirectCall {
            case: "the gateway's token for another service",
            workload_token: signed(&gateway.key, other_service),
            code: tonic::Code::Unauthenticated,
            message: format!("the workload token is meant for {other_service:?}, not this service"),
        },
        DirectCall {
            case: "the token of a workload nobody trusts",
            workload_token: signed(&crate::workload::WorkloadKey::generate("intruder"), audience),
            code: tonic::Code::Unauthenticated,
            message: "the workload token is from \"intruder\", a workload this service does not trust".into(),
        },
    ]
}

/// Whether the gRPC health service at `channel` answers a probe that carries no token that the
/// server is serving.
pub async fn grpc_serving(channel: tonic::transport::Channel) -> Result<bool, tonic::Status> {
    use tonic_health::pb::health_check_response::ServingStatus;
    let answer = tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await?;
    Ok(answer.into_inner().status() == ServingStatus::Serving)
}

/// Every message of the test's copy of `stream`, in stream order; empty while the stream does
/// not exist.
pub async fn stream_messages(
    bus: &crate::events::EventBus,
    stream: Stream,
) -> Vec<async_nats::jetstream::message::StreamMessage> {
    let Ok(mut s) = bus.jetstream().get_stream(bus.naming().stream(stream)).await else {
        return Vec::new();
    };
    let state = s.info().await.expect("stream info").state.clone();
    if state.messages == 0 {
        return Vec::new();
    }
    let mut messages = Vec::new();
    for sequence in state.first_sequence..=state.last_sequence {
        // A sequence may have been deleted (a purge, a message limit): only what is there.
        if let Ok(message) = s.get_raw_message(sequence).await {
            messages.push(message);
        }
    }
    messages
}
