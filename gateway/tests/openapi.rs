//! The OpenAPI document against the router it describes: valid OpenAPI 3.1, every documented
//! operation is served, and every operation that takes a body refuses a malformed one with a
//! problem. No service is called: the gateway's clients point at a closed port, and every
//! request here is refused before a service would be asked.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use myaccount_gateway::{AppState, Settings, router};
use platform::config::Env;
use serde_json::Value;
use tower::ServiceExt;

/// Nothing listens on the discard port: a request that reached a service would fail loudly.
const NOWHERE: &str = "http://127.0.0.1:9";

fn app() -> axum::Router {
    let env = Env::from_pairs(
        [
            "IDENTITY_URL",
            "AUDIT_URL",
            "DEVICES_URL",
            "ORGANIZATIONS_URL",
            "SECURITYINFO_URL",
        ]
        .map(|name| (name, NOWHERE)),
    );
    let settings = Settings::from_env(&env).expect("settings");
    router(AppState::new(settings).expect("state"))
}

fn document() -> Value {
    serde_json::from_str(&myaccount_gateway::openapi_json()).expect("the document is JSON")
}

/// Every (method, path) the document lists, with `{param}` filled in.
fn operations(doc: &Value) -> Vec<(Method, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let concrete = path
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        "0195f3a0-0000-7000-8000-000000000001"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            all.push((method, concrete, operation.clone()));
        }
    }
    all
}

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, Option<String>, Value) {
    let mut request = request;
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 10], 40000))));
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        content_type,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let text = myaccount_gateway::openapi_json();
    let spec = oas3::from_json(text).expect("parses as OpenAPI 3.1");
    assert!(spec.openapi.starts_with("3.1"), "{}", spec.openapi);

    let doc = document();
    let mut ids = BTreeSet::new();
    for (method, path, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap_or_default().to_owned();
        assert!(!id.is_empty(), "{method} {path} has an operationId");
        assert!(ids.insert(id.clone()), "operationId {id} is used twice");
        assert!(
            operation["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path} documents its answers"
        );
    }
    // Every reference points at a schema that the document defines.
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().unwrap_or_default();
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {target}"));
        assert!(schemas.contains_key(name), "{target} is defined");
    }
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = app();
    let doc = document();
    let operations = operations(&doc);
    assert!(operations.len() > 40, "{} operations", operations.len());
    for (method, path, _) in operations {
        let request = Request::builder()
            .method(method.clone())
            .uri(&path)
            .body(Body::empty())
            .expect("request");
        let (status, _, body) = send(&app, request).await;
        let unrouted = status == StatusCode::METHOD_NOT_ALLOWED
            || (status == StatusCode::NOT_FOUND && body["detail"] == "no such endpoint");
        assert!(
            !unrouted,
            "{method} {path} is documented but not served: {status} {body}"
        );
    }
}

#[tokio::test]
async fn undocumented_paths_are_problems() {
    let app = app();
    for (method, path) in [
        (Method::GET, "/api/v1/me/passwords"),
        (Method::POST, "/api/v1/me/profile/photo"),
        (Method::DELETE, "/api/v1/me/profile"),
        (Method::GET, "/api"),
    ] {
        let request = Request::builder()
            .method(method.clone())
            .uri(path)
            .body(Body::empty())
            .expect("request");
        let (status, content_type, body) = send(&app, request).await;
        assert!(
            matches!(status, StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED),
            "{method} {path}: {status}"
        );
        assert_eq!(
            content_type.as_deref(),
            Some("application/problem+json"),
            "{method} {path}"
        );
        assert_eq!(body["status"], status.as_u16(), "{method} {path}: {body}");
    }
}

#[tokio::test]
async fn every_operation_with_a_body_refuses_malformed_json_with_a_problem() {
    let app = app();
    let doc = document();
    let mut checked = 0;
    for (method, path, operation) in operations(&doc) {
        if operation.get("requestBody").is_none() {
            continue;
        }
        // A form-encoded operation (the OAuth 2.0 token endpoint) answers RFC 6749 errors, not
        // problems; the e2e receiver checks those.
        if operation["requestBody"]["content"].get("application/json").is_none() {
            continue;
        }
        for (body, content_type, expected) in [
            ("{\"unterminated\": ", "application/json", StatusCode::BAD_REQUEST),
            ("[1, 2, 3]", "application/json", StatusCode::BAD_REQUEST),
            (
                "a=b",
                "application/x-www-form-urlencoded",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
        ] {
            let request = Request::builder()
                .method(method.clone())
                .uri(&path)
                .header(header::CONTENT_TYPE, content_type)
                // A well-formed token: the gateway leaves verifying it to the services, so the
                // body is checked before anything is forwarded.
                .header(header::AUTHORIZATION, "Bearer aaaa.bbbb.cccc")
                .body(Body::from(body))
                .expect("request");
            let (status, answer_type, answer) = send(&app, request).await;
            assert_eq!(status, expected, "{method} {path} with {body:?}: {answer}");
            assert_eq!(
                answer_type.as_deref(),
                Some("application/problem+json"),
                "{method} {path}"
            );
            assert!(
                answer["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{method} {path}: {answer}"
            );
        }
        checked += 1;
    }
    assert!(checked > 15, "{checked} operations take a body");
}

#[tokio::test]
async fn the_document_is_served_and_every_answer_carries_the_security_headers() {
    let app = app();
    for path in ["/openapi.json", "/healthz", "/api/v1/me", "/", "/security-info"] {
        let request = Request::builder().uri(path).body(Body::empty()).expect("request");
        let mut request = request;
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 10], 40000))));
        let response = app.clone().oneshot(request).await.expect("infallible");
        let headers = response.headers();
        let csp = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert!(headers.contains_key("x-request-id"), "{path}");
        assert!(
            !headers.contains_key(header::STRICT_TRANSPORT_SECURITY),
            "{path}: no HSTS unless configured"
        );
        assert!(
            !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
            "{path}: no CORS unless configured"
        );
    }
}
