//! The gateway's Prometheus metrics (`http_server_request_duration_seconds` per route, and
//! whatever else this process records; see docs/OPERATIONS.md, "Metrics").

use axum::http::header;
use axum::response::IntoResponse;

/// Prometheus text exposition of this process's metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "service",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain"))
)]
pub async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, platform::metrics::CONTENT_TYPE)],
        platform::metrics::render(),
    )
}
