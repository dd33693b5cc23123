//! The gateway: the HTTP/JSON front door of My Account for web clients. It forwards the caller's
//! bearer token to the services (which verify it themselves) and aggregates the overview.

pub mod extract;
pub mod json;
pub mod problem;
pub mod routes;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::routing::{delete, get, post, put};
use myaccount_proto::audit::v1::audit_service_client::AuditServiceClient;
use myaccount_proto::devices::v1::devices_service_client::DevicesServiceClient;
use myaccount_proto::identity::v1::identity_service_client::IdentityServiceClient;
use myaccount_proto::organizations::v1::organizations_service_client::OrganizationsServiceClient;
use myaccount_proto::securityinfo::v1::security_info_service_client::SecurityInfoServiceClient;
use platform::config::{ConfigError, Env};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::problem::Problem;

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
        })
    }
}

/// gRPC channels to the services, created once and shared by every request.
#[derive(Clone)]
pub struct Clients {
    pub identity: Channel,
    pub audit: Channel,
    pub devices: Channel,
    pub organizations: Channel,
    pub security_info: Channel,
}

impl Clients {
    fn connect_lazy(settings: &Settings) -> Result<Self, StartError> {
        let endpoint = |url: &str| -> Result<Channel, StartError> {
            Ok(Endpoint::from_shared(url.to_owned())
                .map_err(|e| StartError::Endpoint(url.to_owned(), e.to_string()))?
                .connect_timeout(Duration::from_secs(2))
                .timeout(settings.request_timeout)
                .connect_lazy())
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
}

impl AppState {
    pub fn identity(&self) -> IdentityServiceClient<Channel> {
        IdentityServiceClient::new(self.clients.identity.clone())
    }

    pub fn audit(&self) -> AuditServiceClient<Channel> {
        AuditServiceClient::new(self.clients.audit.clone())
    }

    pub fn devices(&self) -> DevicesServiceClient<Channel> {
        DevicesServiceClient::new(self.clients.devices.clone())
    }

    pub fn organizations(&self) -> OrganizationsServiceClient<Channel> {
        OrganizationsServiceClient::new(self.clients.organizations.clone())
    }

    pub fn security_info(&self) -> SecurityInfoServiceClient<Channel> {
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

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/sign-in", post(routes::auth::sign_in))
        .route("/auth/refresh", post(routes::auth::refresh))
        .route("/auth/sign-out", post(routes::auth::sign_out))
        .route("/auth/mfa", post(routes::auth::complete_mfa))
        .route("/auth/mfa/start", post(routes::auth::start_mfa))
        .route("/auth/reauthenticate", post(routes::auth::reauthenticate))
        .route("/me/security-info", get(routes::security_info::get))
        .route("/me/security-info/methods", post(routes::security_info::add_method))
        .route(
            "/me/security-info/methods/{id}",
            delete(routes::security_info::remove_method),
        )
        .route(
            "/me/security-info/methods/{id}/verify",
            post(routes::security_info::verify_method),
        )
        .route("/me/security-info/default", put(routes::security_info::set_default))
        .route(
            "/me",
            get(routes::me::overview).delete(routes::privacy::delete_my_account),
        )
        .route("/me/privacy", get(routes::privacy::privacy))
        .route("/me/export", post(routes::privacy::export))
        .route(
            "/me/profile",
            get(routes::me::get_profile).patch(routes::me::patch_profile),
        )
        .route("/me/sign-ins", get(routes::sign_ins::list))
        .route("/me/sign-ins/{id}", get(routes::sign_ins::get))
        .route("/me/sign-ins/{id}/review", post(routes::sign_ins::review))
        .route("/me/activity", get(routes::sign_ins::activity))
        .merge(routes::devices::routes())
        .merge(routes::sessions::routes())
        .merge(routes::organizations::routes())
        // Responses about a person's account are never cached by browsers or proxies.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));

    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/.well-known/jwks.json", get(routes::health::jwks))
        .fallback(|| async { Problem::not_found("no such endpoint") })
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
                // A request id first, so every log line and response carries it.
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http())
                .layer(PropagateRequestIdLayer::new(request_id))
                // Security headers on every response, errors included.
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
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
                ))
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
        let clients = Clients::connect_lazy(&settings)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        let router = router(AppState {
            settings,
            clients,
            http,
        });
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
        axum::serve(
            self.listener,
            self.router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop)
        .await
    }
}
