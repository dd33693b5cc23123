//! The gateway: the HTTP/JSON front door of My Account, for API clients (bearer tokens) and the
//! web UI (embedded, with cookie sessions). It forwards the caller's access token to the
//! services (which verify it themselves) and aggregates the overview.

pub mod clients;
pub mod cookies;
pub mod extract;
pub mod i18n;
pub mod idempotency;
pub mod json;
pub mod linger;
pub mod localize;
pub mod location;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod ratelimit;
pub mod remembered;
pub mod routes;
pub mod session;
pub mod settings;
pub mod state;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::{Extension, Router};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use crate::settings::{COOKIE_KEYS_VARIABLE, Settings};
pub use crate::state::{AppState, Clients, StartError};

use crate::openapi::PublishedDocument;
use crate::problem::Problem;

/// The web UI's policy: no inline script or style, nothing from other origins, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Every route of the gateway, each with its OpenAPI description: the router and
/// `/openapi.json` both come from here. `protect` wraps the routes that need a session.
fn documented_routes(
    protect: impl FnOnce(OpenApiRouter<AppState>) -> OpenApiRouter<AppState>,
) -> OpenApiRouter<AppState> {
    use routes::{auth, devices, health, me, organizations, privacy, security_info, sessions, sign_ins};
    // Open to anyone: they take credentials, a challenge, a refresh token or a password reset's
    // flow id.
    let public = OpenApiRouter::new()
        .routes(routes!(auth::sign_in))
        .routes(routes!(auth::start_passkey_sign_in))
        .routes(routes!(auth::passkey_sign_in))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::complete_mfa))
        .routes(routes!(auth::start_mfa))
        .routes(routes!(auth::set_required_password))
        .routes(routes!(auth::complete_mfa_registration))
        .routes(routes!(auth::start_password_reset))
        .routes(routes!(auth::begin_password_reset_method))
        .routes(routes!(auth::verify_password_reset_method))
        .routes(routes!(auth::complete_password_reset))
        .routes(routes!(auth::session));
    let mut protected = OpenApiRouter::new()
        .routes(routes!(auth::sign_out))
        .routes(routes!(auth::reauthenticate))
        .routes(routes!(security_info::get))
        .routes(routes!(security_info::add_method))
        .routes(routes!(security_info::remove_method, security_info::rename_method))
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
        // Every request has an idempotency key for the keyed calls it makes.
        .layer(axum::middleware::from_fn(idempotency::with_request_key))
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
        .routes(routes!(health::openapi_json))
        // OpenID Shared Signals: receivers authenticate with their own access tokens (signals
        // checks them), never with a person's session.
        .merge(routes::ssf::routes())
}

/// The OpenAPI document of [`router`].
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    openapi::finish(documented_routes(|protected| protected).into_openapi())
}

/// [`openapi_document`] as the JSON that `GET /openapi.json` serves.
pub fn openapi_json() -> String {
    openapi_document()
        .to_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
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
                HeaderName::from_static(cookies::CSRF_HEADER),
                HeaderName::from_static(cookies::MODE_HEADER),
                HeaderName::from_static("x-device-id"),
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static(idempotency::HEADER),
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
        protected
            // Inside the session layer: a cookie's access token is in the request by now, so
            // problems come in the person's own language.
            .layer(axum::middleware::from_fn_with_state(
                session_state.clone(),
                localize::localize_problems,
            ))
            .layer(axum::middleware::from_fn_with_state(
                session_state,
                session::authenticate,
            ))
    })
    .split_for_parts();

    let request_id = HeaderName::from_static("x-request-id");
    routes
        .layer(Extension(PublishedDocument(Arc::from(openapi_json()))))
        .fallback(web::fallback)
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "this endpoint does not accept that method",
            )
        })
        // Every other problem (public routes, the session layer's own, the fallbacks) in the
        // language `Accept-Language` asks for.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            localize::localize_problems,
        ))
        .layer(DefaultBodyLimit::max(state.settings.body_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.draining.clone(),
            close_when_draining,
        ))
        // Around every answer that may come before the body was read (the session layer's
        // refusals, the body limit, the fallbacks), so the answer is not lost to a reset.
        .layer(axum::middleware::from_fn(linger::read_unread_body))
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

/// While draining, every HTTP/1.1 answer says `Connection: close`, so a keep-alive client opens
/// its next request elsewhere instead of racing the connection's close at shutdown.
async fn close_when_draining(
    axum::extract::State(draining): axum::extract::State<Arc<AtomicBool>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let http1 = request.version() == axum::http::Version::HTTP_11;
    let mut response = next.run(request).await;
    if http1 && draining.load(Ordering::Relaxed) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
    draining: Arc<AtomicBool>,
    drain_delay: Duration,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let addr = SocketAddr::new(settings.host, settings.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let state = AppState::new(settings)?;
        let (draining, drain_delay) = (state.draining.clone(), state.settings.drain_delay);
        Ok(Self {
            listener,
            router: router(state),
            shutdown: CancellationToken::new(),
            draining,
            drain_delay,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until SIGTERM/Ctrl-C or the shutdown token; in-flight requests finish first.
    /// After a signal it drains first: for `GATEWAY_DRAIN_DELAY` it keeps serving with
    /// readiness failing and every answer closing its connection, so nothing a client sends
    /// in the meantime meets a closed connection. The token (tests, `myaccount up`'s own stop)
    /// stops at once.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let shutdown = self.shutdown.clone();
        let (draining, drain_delay) = (self.draining.clone(), self.drain_delay);
        let stop = async move {
            tokio::select! {
                _ = platform::shutdown::signal() => {
                    draining.store(true, Ordering::Relaxed);
                    tracing::info!(delay = ?drain_delay, "draining: readiness fails, connections close after their answer");
                    tokio::select! {
                        _ = tokio::time::sleep(drain_delay) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
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
