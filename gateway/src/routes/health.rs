//! Probes, the published token keys and the OpenAPI document.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use utoipa::ToSchema;

use crate::clients::ServiceChannel;
use crate::openapi::PublishedDocument;
use crate::problem::Problem;
use crate::state::AppState;

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "service",
    responses((status = 200, description = "`ok`", body = String, content_type = "text/plain"))
)]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Whether each service answers its health check: `serving` or `unavailable`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub identity: &'static str,
    pub audit: &'static str,
}

/// Readiness: identity must be serving (without it nobody can sign in); other services are
/// reported but do not take the gateway out of rotation, since their pages degrade on their own.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "service",
    responses(
        (status = 200, description = "Identity is serving", body = Readiness),
        (status = 503, description = "Identity is not serving", body = Readiness),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.draining.load(Ordering::Relaxed) {
        // Stopping: no new traffic, whatever the services say.
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Readiness {
                identity: "draining",
                audit: "draining",
            }),
        )
            .into_response();
    }
    let (identity, audit) = tokio::join!(
        serving(state.clients.identity.clone()),
        serving(state.clients.audit.clone())
    );
    let status = if identity {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |up: bool| if up { "serving" } else { "unavailable" };
    (
        status,
        Json(Readiness {
            identity: word(identity),
            audit: word(audit),
        }),
    )
        .into_response()
}

async fn serving(channel: ServiceChannel) -> bool {
    let mut client = HealthClient::new(channel);
    let mut request = tonic::Request::new(HealthCheckRequest { service: String::new() });
    request.set_timeout(std::time::Duration::from_secs(1));
    matches!(
        client.check(request).await.map(|r| r.into_inner().status()),
        Ok(ServingStatus::Serving)
    )
}

/// identity's signing keys, for clients that verify access tokens themselves.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "service",
    responses(
        (status = 200, description = "The JSON Web Key Set of identity's active signing keys", body = Object, content_type = "application/jwk-set+json"),
        (status = 503, description = "`unavailable`: the keys cannot be fetched now", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn jwks(State(state): State<AppState>) -> Result<Response, Problem> {
    let response = state.http.get(&state.settings.jwks_url).send().await.map_err(|e| {
        tracing::warn!(error = %e, "JWKS fetch failed");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the signing keys are unavailable; try again shortly",
        )
    })?;
    if !response.status().is_success() {
        return Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the signing keys are unavailable; try again shortly",
        ));
    }
    let body = response.bytes().await.map_err(|_| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the signing keys are unavailable; try again shortly",
        )
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response())
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "service",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json", body = Object))
)]
pub async fn openapi_json(Extension(PublishedDocument(document)): Extension<PublishedDocument>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        document.to_string(),
    )
        .into_response()
}
