//! Probes and the published token keys.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::AppState;
use crate::problem::Problem;

/// Liveness: the process answers.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: identity must be serving (without it nobody can sign in); other services are
/// reported but do not take the gateway out of rotation, since their pages degrade on their own.
pub async fn readyz(State(state): State<AppState>) -> Response {
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
        Json(json!({ "identity": word(identity), "audit": word(audit) })),
    )
        .into_response()
}

async fn serving(channel: tonic::transport::Channel) -> bool {
    let mut client = HealthClient::new(channel);
    let mut request = tonic::Request::new(HealthCheckRequest { service: String::new() });
    request.set_timeout(std::time::Duration::from_secs(1));
    matches!(
        client.check(request).await.map(|r| r.into_inner().status()),
        Ok(ServingStatus::Serving)
    )
}

/// identity's signing keys, for clients that verify access tokens themselves.
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
