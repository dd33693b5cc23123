//! Observability end to end, in a test binary of its own: the tracing subscriber and the OTLP
//! exporter are process-wide, and this test installs its own (an in-process collector and a log
//! writer it reads back) before anything else logs. Assertions are keyed by the trace id the
//! test sends, so anything else in the process cannot disturb them.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use myaccount_integration_tests::{ADMIN_PASSWORD, TestSystem};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use platform::telemetry::{Export, LogWriter, TelemetrySettings};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A tiny OTLP/gRPC collector: keeps every span it is sent.
#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<Span>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().expect("collector lock");
        for resource in request.into_inner().resource_spans {
            for scope in resource.scope_spans {
                spans.extend(scope.spans);
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

impl Collector {
    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("collector port");
        let address = listener.local_addr().expect("address");
        let server = tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(self.clone()))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener));
        tokio::spawn(server);
        format!("http://{address}")
    }

    fn spans_of(&self, trace_id: &str) -> Vec<Span> {
        self.spans
            .lock()
            .expect("collector lock")
            .iter()
            .filter(|s| hex(&s.trace_id) == trace_id)
            .cloned()
            .collect()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(any_value::Value::StringValue(s)) => Some(s.as_str()),
            _ => None,
        })
}

/// The log lines, as a test-owned writer receives them.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log lock")).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sign_in_is_one_trace_from_the_gateway_through_nats_to_audit_and_no_log_holds_a_secret() {
    let collector = Collector::default();
    let endpoint = collector.start().await;
    let logs = Captured::default();
    let writer = logs.clone();
    assert!(
        platform::telemetry::init_with(TelemetrySettings {
            // sqlx's statements at debug: many lines inside spans, and none may hold a secret.
            default_filter: "info,sqlx=debug".into(),
            filter: None,
            service_name: Some("myaccount-observability-test".into()),
            export: Export::Endpoint(endpoint),
            writer: Some(LogWriter::new(move || writer.clone())),
        }),
        "this binary installs the subscriber before anything else"
    );

    let system = TestSystem::spawn().await;
    let user = system.create_user().await;

    // The browser (or a proxy in front of the gateway) started the trace.
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let caller_span = "00f067aa0ba902b7";
    let response = system
        .http
        .post(system.url("/api/v1/auth/sign-in"))
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .json(&json!({ "username": user.upn, "password": user.password }))
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    let access_token = body["accessToken"].as_str().expect("accessToken").to_owned();
    let refresh_token = body["refreshToken"].as_str().expect("refreshToken").to_owned();
    assert_eq!(system.wait_for_sign_ins(&access_token, 1).await.len(), 1);

    // The trace: gateway -> identity -> outbox relay -> NATS -> audit's consumer.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (gateway, identity, publish, consumed) = loop {
        tokio::task::spawn_blocking(platform::telemetry::flush)
            .await
            .expect("flush");
        let spans = collector.spans_of(&trace_id);
        let find = |predicate: &dyn Fn(&Span) -> bool| spans.iter().find(|s| predicate(s)).cloned();
        let gateway = find(&|s| s.kind == SpanKind::Server as i32 && s.name == "POST /api/v1/auth/sign-in");
        let identity =
            find(&|s| s.kind == SpanKind::Server as i32 && s.name == "myaccount.identity.v1.IdentityService/SignIn");
        let publish =
            find(&|s| s.kind == SpanKind::Producer as i32 && s.name == "publish myaccount.signin.v1.recorded");
        let consumed = find(&|s| {
            s.kind == SpanKind::Consumer as i32
                && s.name == "process myaccount.signin.v1.recorded"
                && attribute(s, "messaging.consumer.group.name").is_some_and(|g| g.starts_with("audit"))
        });
        match (gateway, identity, publish, consumed) {
            (Some(g), Some(i), Some(p), Some(c)) => break (g, i, p, c),
            found => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "spans of trace {trace_id} missing (gateway, identity, publish, audit): {:?}; all: {:?}",
                    (
                        found.0.is_some(),
                        found.1.is_some(),
                        found.2.is_some(),
                        found.3.is_some()
                    ),
                    spans.iter().map(|s| s.name.clone()).collect::<Vec<_>>()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    // The gateway continued the caller's trace.
    assert_eq!(hex(&gateway.parent_span_id), caller_span);
    assert_eq!(attribute(&gateway, "http.route"), Some("/api/v1/auth/sign-in"));
    assert_eq!(attribute(&identity, "rpc.system"), Some("grpc"));
    assert_eq!(attribute(&identity, "rpc.method"), Some("SignIn"));
    assert_eq!(attribute(&publish, "messaging.system"), Some("nats"));
    assert_eq!(attribute(&consumed, "messaging.system"), Some("nats"));
    assert_eq!(attribute(&consumed, "messaging.operation"), Some("process"));
    assert!(
        attribute(&consumed, "messaging.destination.name").is_some_and(|d| d.ends_with("myaccount.signin.v1.recorded")),
        "{consumed:?}"
    );
    assert_eq!(
        attribute(&consumed, "messaging.message.id"),
        attribute(&publish, "messaging.message.id")
    );
    // The consumer continues from the relay's publish span, which continues from identity.
    assert_eq!(consumed.parent_span_id, publish.span_id);

    // More secrets for the logs to keep: an authenticator app, its codes, a second sign-in.
    let (app, step, _) = system.add_authenticator_app(&access_token).await;
    let secret = app.secret().to_owned();
    let registration_code = app.code(step);
    let sign_in_code = app.code(step + 1);
    let second = system.sign_in_with_code(&user, &sign_in_code).await;
    assert_eq!(second.status(), StatusCode::OK);
    let second: Value = second.json().await.expect("json");
    let mfa_access_token = second["accessToken"].as_str().expect("accessToken").to_owned();
    let mfa_refresh_token = second["refreshToken"].as_str().expect("refreshToken").to_owned();
    let refreshed = system.refresh(&mfa_refresh_token).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.expect("json");
    let last_refresh_token = refreshed["refreshToken"].as_str().expect("refreshToken").to_owned();
    system.wait_for_sign_ins(&mfa_access_token, 2).await;
    tokio::task::spawn_blocking(platform::telemetry::flush)
        .await
        .expect("flush");

    // No secret in any log line or exported span.
    let text = logs.text();
    let spans = format!("{:?}", collector.spans.lock().expect("collector lock"));
    let secrets = [
        ("password", user.password.as_str()),
        ("admin password", ADMIN_PASSWORD),
        ("access token", access_token.as_str()),
        ("refresh token", refresh_token.as_str()),
        ("TOTP secret", secret.as_str()),
        ("registration code", registration_code.as_str()),
        ("sign-in code", sign_in_code.as_str()),
        ("second access token", mfa_access_token.as_str()),
        ("second refresh token", mfa_refresh_token.as_str()),
        ("refreshed refresh token", last_refresh_token.as_str()),
    ];
    for (what, secret) in secrets {
        // Six-digit codes can occur by chance in ids and numbers: look for them as values only.
        let needle = if secret.len() <= 8 {
            format!("\"{secret}\"")
        } else {
            secret.to_owned()
        };
        assert!(!text.contains(&needle), "the {what} is in the logs");
        assert!(!spans.contains(&needle), "the {what} is in an exported span");
    }
    // The token's signature part alone must not appear either (a log of the JWT's tail).
    let signature = access_token.rsplit('.').next().expect("signature");
    assert!(!text.contains(signature), "an access token's signature is in the logs");

    // Every line is JSON; every line inside a span carries trace_id and span_id; the sign-in's
    // trace has lines.
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        if line["spans"].as_array().is_some_and(|s| !s.is_empty()) {
            assert!(
                line["trace_id"].as_str().is_some_and(|t| t.len() == 32)
                    && line["span_id"].as_str().is_some_and(|s| s.len() == 16),
                "a line inside a span without trace ids: {line}"
            );
        }
    }
    assert!(
        lines.iter().any(|l| l["trace_id"] == trace_id.as_str()),
        "no log line of the sign-in's trace"
    );
}
