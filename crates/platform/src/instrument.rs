//! Spans and request metrics at the edges: the gRPC server layer every service runs
//! ([`GrpcServerLayer`], in `ServiceHost`), the gRPC client layer every service-to-service
//! client carries ([`GrpcClientLayer`]: gateway -> services, identity -> security-info), and
//! the HTTP middleware of the gateway ([`http_server`]).
//!
//! The server side continues the caller's W3C trace context (`traceparent`/`tracestate`
//! headers, which gRPC metadata are); the client side opens a client span under the current
//! span and sends its context on.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::telemetry::{extract_http, inject_http, set_remote_parent};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// `/myaccount.identity.v1.IdentityService/SignIn` -> (`myaccount.identity.v1.IdentityService`, `SignIn`).
fn rpc_names(path: &str) -> (String, String) {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let service = parts.next().filter(|s| !s.is_empty()).unwrap_or("unknown");
    let method = parts.next().filter(|s| !s.is_empty()).unwrap_or("unknown");
    (service.to_owned(), method.to_owned())
}

/// The `grpc-status` of a trailers-only answer (every error tonic returns from a unary call);
/// a response without it carries its status in the trailers, which for our unary calls is OK.
fn grpc_code<B>(response: &http::Response<B>) -> i32 {
    response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Probes (health checks, reflection) are neither traced nor counted: a probe every few
/// seconds would bury the traces and rates that matter.
fn is_probe_rpc(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/") || path.starts_with("/grpc.reflection.")
}

/// `tonic::Code` names as Prometheus label values.
fn code_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}

/// The codes that are the server's fault (OpenTelemetry's gRPC conventions).
fn is_server_error(code: i32) -> bool {
    matches!(code, 2 | 4 | 12 | 13 | 14 | 15)
}

/// A server span per call, a child of the caller's context, and the RPC metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcServerLayer;

impl<S> tower::Layer<S> for GrpcServerLayer {
    type Service = GrpcServer<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcServer { inner }
    }
}

#[derive(Debug, Clone)]
pub struct GrpcServer<S> {
    inner: S,
}

impl<S, B, ResB> tower::Service<http::Request<B>> for GrpcServer<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResB>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResB: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if is_probe_rpc(request.uri().path()) {
            return Box::pin(self.inner.call(request));
        }
        let (service, method) = rpc_names(request.uri().path());
        let span = tracing::info_span!(
            "grpc.server",
            otel.name = %format_args!("{service}/{method}"),
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = Empty,
            otel.status_code = Empty,
        );
        set_remote_parent(&span, extract_http(request.headers()));
        let start = Instant::now();
        let future = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        Box::pin(async move {
            let result = future.instrument(span.clone()).await;
            let code = match &result {
                Ok(response) => grpc_code(response),
                Err(_) => 2,
            };
            span.record("rpc.grpc.status_code", code);
            if is_server_error(code) {
                span.record("otel.status_code", "ERROR");
            }
            // Unknown paths would let a client mint label values.
            let method = if code == 12 { "unknown".to_owned() } else { method };
            let labels = [
                ("rpc_system", "grpc".to_owned()),
                ("rpc_service", service),
                ("rpc_method", method),
                ("rpc_grpc_status_code", code_name(code).to_owned()),
            ];
            metrics::histogram!("rpc_server_duration_seconds", &labels).record(start.elapsed().as_secs_f64());
            metrics::counter!("rpc_server_requests_total", &labels).increment(1);
            if is_server_error(code) {
                metrics::counter!("rpc_server_errors_total", &labels).increment(1);
            }
            result
        })
    }
}

/// A client span per call under the current span, its context sent as `traceparent`.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcClientLayer;

impl<S> tower::Layer<S> for GrpcClientLayer {
    type Service = GrpcClient<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcClient { inner }
    }
}

/// See [`GrpcClientLayer`]; `GrpcClient<Channel>` is a traced channel for a tonic client.
#[derive(Debug, Clone)]
pub struct GrpcClient<S> {
    inner: S,
}

impl<S> GrpcClient<S> {
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S, B, ResB> tower::Service<http::Request<B>> for GrpcClient<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResB>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResB: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        if is_probe_rpc(request.uri().path()) {
            return Box::pin(self.inner.call(request));
        }
        let (service, method) = rpc_names(request.uri().path());
        let span = tracing::info_span!(
            "grpc.client",
            otel.name = %format_args!("{service}/{method}"),
            otel.kind = "client",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = Empty,
            otel.status_code = Empty,
        );
        inject_http(&span.context(), request.headers_mut());
        let future = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        Box::pin(async move {
            let result = future.instrument(span.clone()).await;
            match &result {
                Ok(response) => {
                    let code = grpc_code(response);
                    span.record("rpc.grpc.status_code", code);
                    if code != 0 {
                        span.record("otel.status_code", "ERROR");
                    }
                }
                Err(_) => {
                    span.record("otel.status_code", "ERROR");
                }
            }
            result
        })
    }
}

/// The HTTP methods kept as label values; anything else is `_OTHER`.
fn method_label(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::PATCH => "PATCH",
        http::Method::DELETE => "DELETE",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        _ => "_OTHER",
    }
}

/// axum middleware: a server span per request (continuing an incoming `traceparent`, else a
/// new trace) with the route template, method and status, and
/// `http_server_request_duration_seconds`. Add it with `Router::layer` so the matched route
/// is known; requests no route matched are labelled `fallback`.
pub async fn http_server(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "fallback".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method());
    // Probes and scrapes are measured but not traced.
    let span = if matches!(route.as_str(), "/healthz" | "/readyz" | "/metrics") {
        tracing::Span::none()
    } else {
        tracing::info_span!(
            "http.server",
            otel.name = %format_args!("{method} {route}"),
            otel.kind = "server",
            http.request.method = method,
            http.route = %route,
            url.path = %request.uri().path(),
            http.response.status_code = Empty,
            otel.status_code = Empty,
        )
    };
    set_remote_parent(&span, extract_http(request.headers()));
    let start = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
    metrics::histogram!(
        "http_server_request_duration_seconds",
        "http_route" => route,
        "http_request_method" => method,
        "http_response_status_code" => status.to_string(),
    )
    .record(start.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_paths_split_into_service_and_method() {
        assert_eq!(
            rpc_names("/myaccount.identity.v1.IdentityService/SignIn"),
            ("myaccount.identity.v1.IdentityService".to_owned(), "SignIn".to_owned())
        );
        assert_eq!(rpc_names("/"), ("unknown".to_owned(), "unknown".to_owned()));
    }
}
