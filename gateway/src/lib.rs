//! The gateway: the HTTP/JSON front door of My Account, for API clients (bearer tokens) and the
//! web UI (embedded, with cookie sessions). It forwards the caller's access token to the
//! services (which verify it themselves) and aggregates the overview.

pub mod catalogue;
pub mod clients;
pub mod extract;
pub mod json;
pub mod location;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod ratelimit;
pub mod routes;
pub mod session;
pub mod web;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use myaccount_proto::audit::v1::audit_service_client::AuditServiceClient;
use myaccount_proto::devices::v1::devices_service_client::DevicesServiceClient;
use myaccount_proto::identity::v1::identity_service_client::IdentityServiceClient;
use myaccount_proto::organizations::v1::organizations_service_client::OrganizationsServiceClient;
use myaccount_proto::securityinfo::v1::security_info_service_client::SecurityInfoServiceClient;
use platform::config::{ConfigError, Env};
use platform::crypto::Keyring;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Endpoint;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalogue::PersonalDataCatalogue;
use crate::clients::{ClientSettings, ServiceChannel};
use crate::problem::Problem;
use crate::ratelimit::{AuthLimits, RateLimitSettings};
use crate::session::BrowserSessions;

/// The variable holding the keyring that seals browser session cookies (the format of
/// `DATA_ENCRYPTION_KEYS`: `id:<base64 of 32 bytes>[,id:...]`, the first key seals).
pub const COOKIE_KEYS_VARIABLE: &str = "GATEWAY_COOKIE_KEYS";

/// The web UI's policy: no inline script or style, nothing from other origins, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const HSTS: &str = "max-age=63072000; includeSubDomains";

#[derive(Debug, Clone)]
pub struct Settings {
    pub host: IpAddr,
    pub port: u16,
    pub identity_url: String,
    pub audit_url: String,
    pub devices_url: String,
    pub organizations_url: String,
    pub security_info_url: String,
    pub jwks_url: String,
    /// Deadline of each overview section, carried to the service as the gRPC deadline.
    pub section_deadline: Duration,
    pub request_timeout: Duration,
    pub body_limit: usize,
    /// Take the client IP from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Visitor location headers of the proxy in front, if one sets them.
    pub location_headers: location::LocationHeaders,
    /// Seals browser session cookies.
    pub cookie_keys: Keyring,
    /// Send `Strict-Transport-Security` (only when clients reach the gateway over TLS).
    pub hsts: bool,
    /// Origins allowed to call the API from a browser; empty: no CORS (same origin only).
    pub cors_allowed_origins: Vec<HeaderValue>,
    pub rate_limits: RateLimitSettings,
    /// Calls in flight to one service before more are refused (503).
    pub service_concurrency_limit: usize,
    /// Extra attempts of a read RPC after a transport failure or `UNAVAILABLE`.
    pub read_retries: u32,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let url = |name: &str, default: &str| -> Result<String, ConfigError> {
            let value: String = env.or(name, default.to_owned())?;
            if value.starts_with("http://") || value.starts_with("https://") {
                Ok(value)
            } else {
                Err(ConfigError::new(name, format!("must be an http(s) URL, got {value:?}")))
            }
        };
        Ok(Self {
            host: env.or("GATEWAY_HOST", IpAddr::V4(Ipv4Addr::UNSPECIFIED))?,
            port: env.or("GATEWAY_PORT", 8080)?,
            identity_url: url("IDENTITY_URL", "http://127.0.0.1:50051")?,
            audit_url: url("AUDIT_URL", "http://127.0.0.1:50055")?,
            devices_url: url("DEVICES_URL", "http://127.0.0.1:50053")?,
            organizations_url: url("ORGANIZATIONS_URL", "http://127.0.0.1:50054")?,
            security_info_url: url("SECURITYINFO_URL", "http://127.0.0.1:50052")?,
            jwks_url: url("JWKS_URL", "http://127.0.0.1:51051/.well-known/jwks.json")?,
            section_deadline: env.duration("GATEWAY_SECTION_DEADLINE", Duration::from_millis(300))?,
            request_timeout: env.duration("GATEWAY_REQUEST_TIMEOUT", Duration::from_secs(10))?,
            body_limit: env.or("GATEWAY_BODY_LIMIT_BYTES", 64 * 1024)?,
            trust_forwarded_for: env.flag("GATEWAY_TRUST_FORWARDED_FOR", false)?,
            location_headers: env.or("GATEWAY_LOCATION_HEADERS", location::LocationHeaders::Off)?,
            cookie_keys: cookie_keys(env)?,
            hsts: env.flag("GATEWAY_HSTS", false)?,
            cors_allowed_origins: cors_origins(env)?,
            rate_limits: RateLimitSettings {
                per_ip: env.or("GATEWAY_AUTH_RATE_LIMIT_PER_IP", 60)?,
                per_account: env.or("GATEWAY_AUTH_RATE_LIMIT_PER_ACCOUNT", 10)?,
                period: env.duration("GATEWAY_AUTH_RATE_LIMIT_PERIOD", Duration::from_secs(60))?,
            },
            service_concurrency_limit: env.or("GATEWAY_SERVICE_CONCURRENCY_LIMIT", 256)?,
            read_retries: env.or("GATEWAY_READ_RETRIES", 2)?,
        })
    }
}

fn cookie_keys(env: &Env) -> Result<Keyring, ConfigError> {
    match env.raw(COOKIE_KEYS_VARIABLE) {
        Some(value) => Keyring::parse(value).map_err(|reason| ConfigError::new(COOKIE_KEYS_VARIABLE, reason)),
        None => {
            tracing::warn!(
                "{COOKIE_KEYS_VARIABLE} is not set: browser sessions are sealed with a random key, so they end when the gateway restarts and work with one replica only"
            );
            Ok(Keyring::generate("ephemeral"))
        }
    }
}

/// `https://app.example.com,http://localhost:5173`: scheme, host and port only.
fn cors_origins(env: &Env) -> Result<Vec<HeaderValue>, ConfigError> {
    const NAME: &str = "GATEWAY_CORS_ALLOWED_ORIGINS";
    let Some(raw) = env.raw(NAME) else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let parsed = url::Url::parse(origin)
                .map_err(|e| ConfigError::new(NAME, format!("{origin:?} is not an origin: {e}")))?;
            let exact = parsed.origin().ascii_serialization();
            if !matches!(parsed.scheme(), "http" | "https") || exact != origin {
                return Err(ConfigError::new(
                    NAME,
                    format!("{origin:?} must be scheme://host[:port] with nothing after it, like {exact:?}"),
                ));
            }
            HeaderValue::from_str(origin).map_err(|e| ConfigError::new(NAME, e.to_string()))
        })
        .collect()
}

/// One client stack per service (see [`clients`]), created once and shared by every request.
#[derive(Clone)]
pub struct Clients {
    pub identity: ServiceChannel,
    pub audit: ServiceChannel,
    pub devices: ServiceChannel,
    pub organizations: ServiceChannel,
    pub security_info: ServiceChannel,
}

impl Clients {
    fn connect_lazy(settings: &Settings) -> Result<Self, StartError> {
        let stack_settings = ClientSettings {
            timeout: settings.request_timeout,
            concurrency_limit: settings.service_concurrency_limit,
            read_retries: settings.read_retries,
        };
        let endpoint = |url: &str| -> Result<ServiceChannel, StartError> {
            let channel = Endpoint::from_shared(url.to_owned())
                .map_err(|e| StartError::Endpoint(url.to_owned(), e.to_string()))?
                .connect_timeout(Duration::from_secs(2))
                .connect_lazy();
            Ok(clients::stack(channel, &stack_settings))
        };
        Ok(Self {
            identity: endpoint(&settings.identity_url)?,
            audit: endpoint(&settings.audit_url)?,
            devices: endpoint(&settings.devices_url)?,
            organizations: endpoint(&settings.organizations_url)?,
            security_info: endpoint(&settings.security_info_url)?,
        })
    }
}

#[derive(Clone)]
pub struct AppState {
    pub settings: Settings,
    pub clients: Clients,
    pub http: reqwest::Client,
    pub sessions: Arc<BrowserSessions>,
    pub limits: Arc<AuthLimits>,
    pub personal_data: Arc<PersonalDataCatalogue>,
}

impl AppState {
    /// Clients connect lazily: nothing is dialled until the first request.
    pub fn new(settings: Settings) -> Result<Self, StartError> {
        let clients = Clients::connect_lazy(&settings)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        Ok(Self {
            sessions: Arc::new(BrowserSessions::new(settings.cookie_keys.clone())),
            limits: Arc::new(AuthLimits::new(&settings.rate_limits)),
            personal_data: Arc::default(),
            settings,
            clients,
            http,
        })
    }

    pub fn identity(&self) -> IdentityServiceClient<ServiceChannel> {
        IdentityServiceClient::new(self.clients.identity.clone())
    }

    pub fn audit(&self) -> AuditServiceClient<ServiceChannel> {
        AuditServiceClient::new(self.clients.audit.clone())
    }

    pub fn devices(&self) -> DevicesServiceClient<ServiceChannel> {
        DevicesServiceClient::new(self.clients.devices.clone())
    }

    pub fn organizations(&self) -> OrganizationsServiceClient<ServiceChannel> {
        OrganizationsServiceClient::new(self.clients.organizations.clone())
    }

    pub fn security_info(&self) -> SecurityInfoServiceClient<ServiceChannel> {
        SecurityInfoServiceClient::new(self.clients.security_info.clone())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid service url {0}: {1}")]
    Endpoint(String, String),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// Every route of the gateway, each with its OpenAPI description: the router and
/// `/openapi.json` both come from here. `protect` wraps the routes that need a session.
fn documented_routes(
    protect: impl FnOnce(OpenApiRouter<AppState>) -> OpenApiRouter<AppState>,
) -> OpenApiRouter<AppState> {
    use routes::{auth, devices, health, me, organizations, privacy, security_info, sessions, sign_ins};
    // Open to anyone: they take credentials, a challenge or a refresh token in the body.
    let public = OpenApiRouter::new()
        .routes(routes!(auth::sign_in))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::complete_mfa))
        .routes(routes!(auth::start_mfa))
        .routes(routes!(auth::set_required_password))
        .routes(routes!(auth::complete_mfa_registration))
        .routes(routes!(auth::session));
    let mut protected = OpenApiRouter::new()
        .routes(routes!(auth::sign_out))
        .routes(routes!(auth::reauthenticate))
        .routes(routes!(security_info::get))
        .routes(routes!(security_info::add_method))
        .routes(routes!(security_info::remove_method))
        .routes(routes!(security_info::verify_method))
        .routes(routes!(security_info::set_default))
        .routes(routes!(me::overview, privacy::delete_my_account))
        .routes(routes!(privacy::privacy))
        .routes(routes!(privacy::export))
        .routes(routes!(me::get_profile, me::patch_profile))
        .routes(routes!(sign_ins::list))
        .routes(routes!(sign_ins::get))
        .routes(routes!(sign_ins::review))
        .routes(routes!(sign_ins::activity))
        .merge(devices::routes())
        .merge(sessions::routes())
        .merge(organizations::routes());
    openapi::document_authentication(protected.get_openapi_mut());
    let api = public
        .merge(protect(protected))
        // Responses about a person's account are never cached by browsers or proxies.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/api/v1", api)
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::jwks))
        .routes(routes!(metrics::metrics))
        .routes(routes!(openapi::openapi_json))
}

/// The OpenAPI document of [`router`].
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    openapi::finish(documented_routes(|protected| protected).into_openapi())
}

fn cors(settings: &Settings) -> Option<CorsLayer> {
    if settings.cors_allowed_origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(settings.cors_allowed_origins.clone()))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                HeaderName::from_static(session::CSRF_HEADER),
                HeaderName::from_static(session::MODE_HEADER),
                HeaderName::from_static("x-device-id"),
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([
                header::RETRY_AFTER,
                header::CONTENT_DISPOSITION,
                HeaderName::from_static("x-request-id"),
            ])
            .allow_credentials(true)
            .max_age(Duration::from_secs(600)),
    )
}

pub fn router(state: AppState) -> Router {
    platform::metrics::install();
    let session_state = state.clone();
    let (routes, _) = documented_routes(move |protected| {
        protected.layer(axum::middleware::from_fn_with_state(
            session_state,
            session::authenticate,
        ))
    })
    .split_for_parts();

    let request_id = HeaderName::from_static("x-request-id");
    routes
        .fallback(web::fallback)
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "this endpoint does not accept that method",
            )
        })
        .layer(DefaultBodyLimit::max(state.settings.body_limit))
        .layer(
            ServiceBuilder::new()
                // Outermost: a server span per request (continuing the caller's traceparent)
                // that every later layer and every service call runs in, and the route's
                // latency metric over everything below.
                .layer(axum::middleware::from_fn(platform::instrument::http_server))
                // A request id first, so every log line and response carries it.
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http())
                .layer(PropagateRequestIdLayer::new(request_id))
                // Security headers on every response, errors and CORS preflights included.
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CONTENT_SECURITY_POLICY),
                ))
                .option_layer(state.settings.hsts.then(|| {
                    SetResponseHeaderLayer::overriding(
                        header::STRICT_TRANSPORT_SECURITY,
                        HeaderValue::from_static(HSTS),
                    )
                }))
                .option_layer(cors(&state.settings))
                // Innermost: the whole request, service calls included, has one deadline.
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::GATEWAY_TIMEOUT,
                    state.settings.request_timeout,
                )),
        )
        .with_state(state)
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let addr = SocketAddr::new(settings.host, settings.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let router = router(AppState::new(settings)?);
        Ok(Self {
            listener,
            router,
            shutdown: CancellationToken::new(),
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until SIGTERM/Ctrl-C or the shutdown token; in-flight requests finish first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let shutdown = self.shutdown.clone();
        let stop = async move {
            tokio::select! {
                _ = platform::shutdown::signal() => {}
                _ = shutdown.cancelled() => {}
            }
        };
        tracing::info!(port = self.port(), "gateway listening");
        let served = axum::serve(
            self.listener,
            self.router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop)
        .await;
        // Spans still buffered reach the collector before the process ends.
        platform::telemetry::flush_async().await;
        served
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_keys_and_origins_are_validated() {
        let key = "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        let settings = Settings::from_env(&Env::from_pairs([
            (COOKIE_KEYS_VARIABLE, key),
            (
                "GATEWAY_CORS_ALLOWED_ORIGINS",
                "https://app.example.com, http://localhost:5173",
            ),
            ("GATEWAY_HSTS", "true"),
        ]))
        .expect("valid");
        assert_eq!(settings.cookie_keys.current_key_id(), "k1");
        assert_eq!(settings.cors_allowed_origins.len(), 2);
        assert!(settings.hsts);

        let bad_key = Settings::from_env(&Env::from_pairs([(COOKIE_KEYS_VARIABLE, "k1:c2hvcnQ=")])).unwrap_err();
        assert_eq!(bad_key.variable, COOKIE_KEYS_VARIABLE);
        for origin in ["https://app.example.com/", "app.example.com", "ftp://x.example", "*"] {
            let err = Settings::from_env(&Env::from_pairs([("GATEWAY_CORS_ALLOWED_ORIGINS", origin)])).unwrap_err();
            assert_eq!(err.variable, "GATEWAY_CORS_ALLOWED_ORIGINS", "{origin}");
        }
        let defaults = Settings::from_env(&Env::default()).expect("defaults");
        assert!(defaults.cors_allowed_origins.is_empty() && !defaults.hsts);
        assert_eq!(defaults.section_deadline, Duration::from_millis(300));
        assert_eq!(defaults.rate_limits.per_ip, 60);
    }
}
