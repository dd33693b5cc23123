//! Operators' view: Prometheus metrics on a service's admin port and on the gateway, and the
//! probes (`/healthz` liveness only, `/readyz` and gRPC health following Postgres and NATS).
//!
//! A test binary of its own: the metrics recorder is one per process, so here only these tests
//! move the series, and the counts test asserts exactly what its own calls changed.

use std::collections::HashMap;
use std::time::Duration;

use myaccount_integration_tests::{TestSystem, header};
use platform::testing::{NatsServer, TestNats, eventually};
use reqwest::StatusCode;
use tonic_health::pb::health_check_response::ServingStatus;

/// One sample of the Prometheus text format: `name{label="value",...} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: HashMap<String, String>,
    value: f64,
}

fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value: {line}"));
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let body = rest
                        .strip_suffix('}')
                        .unwrap_or_else(|| panic!("unclosed labels: {line}"));
                    let labels = body
                        .split("\",")
                        .filter(|p| !p.is_empty())
                        .map(|pair| {
                            let (k, v) = pair.split_once("=\"").unwrap_or_else(|| panic!("bad label: {line}"));
                            (k.to_owned(), v.trim_end_matches('"').to_owned())
                        })
                        .collect();
                    (name, labels)
                }
                None => (series, HashMap::new()),
            };
            Sample {
                name: name.to_owned(),
                labels,
                value,
            }
        })
        .collect()
}

/// The sum of the samples named `name` whose labels include `labels`.
fn total(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

async fn scrape(url: &str) -> Vec<Sample> {
    let response = reqwest::get(url).await.expect("metrics answer");
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    let content_type = header(&response, "content-type");
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    parse(&response.text().await.expect("text"))
}

#[tokio::test]
async fn a_service_and_the_gateway_count_the_calls_just_made() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let identity_metrics = format!("http://127.0.0.1:{}/metrics", system.identity_admin_port);
    let before = scrape(&identity_metrics).await;
    let gateway_before = scrape(&system.url("/metrics")).await;

    // What this test does, and nothing else in this process signs in: one good sign-in and one
    // wrong password.
    let session = system.sign_in_ok(&user).await;
    let wrong = system.sign_in(&user.upn, "not the password at all").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(system.wait_for_sign_ins(&session.access_token, 2).await.len(), 2);

    let identity = scrape(&identity_metrics).await;
    let change = |name: &str, labels: &[(&str, &str)]| total(&identity, name, labels) - total(&before, name, labels);
    let sign_in = [
        ("rpc_system", "grpc"),
        ("rpc_service", "myaccount.identity.v1.IdentityService"),
        ("rpc_method", "SignIn"),
        ("rpc_grpc_status_code", "OK"),
    ];
    assert_eq!(change("rpc_server_requests_total", &sign_in), 1.0);
    assert_eq!(change("rpc_server_duration_seconds_count", &sign_in), 1.0);
    assert!(
        identity.iter().any(
            |s| s.name == "rpc_server_duration_seconds_bucket" && s.labels.get("le").is_some_and(|le| le == "+Inf")
        ),
        "a histogram with buckets"
    );
    let refused = [("rpc_method", "SignIn"), ("rpc_grpc_status_code", "UNAUTHENTICATED")];
    assert_eq!(change("rpc_server_requests_total", &refused), 1.0);
    assert_eq!(change("myaccount_sign_ins_total", &[("outcome", "success")]), 1.0);
    assert_eq!(
        change(
            "myaccount_sign_ins_total",
            &[("outcome", "failure"), ("reason", "invalid_password")]
        ),
        1.0
    );
    // State gauges of this service's database, refreshed by the scrape.
    let database = system.identity_db.name();
    assert!(total(&identity, "db_client_connection_max", &[("pool_name", database)]) >= 1.0);
    assert!(
        identity
            .iter()
            .any(|s| s.name == "outbox_backlog_events" && s.labels.get("pool_name").is_some_and(|p| p == database))
    );
    assert!(identity.iter().any(|s| s.name == "outbox_oldest_unsent_age_seconds"));
    // The two sign-in events at least (a sign-in may publish more, such as revocations).
    assert!(change("outbox_events_published_total", &[("source", "myaccount/identity")]) >= 2.0);

    let gateway = scrape(&system.url("/metrics")).await;
    let route = |status: &'static str| {
        [
            ("http_route", "/api/v1/auth/sign-in"),
            ("http_request_method", "POST"),
            ("http_response_status_code", status),
        ]
    };
    let gateway_change =
        |name: &str, labels: &[(&str, &str)]| total(&gateway, name, labels) - total(&gateway_before, name, labels);
    assert_eq!(
        gateway_change("http_server_request_duration_seconds_count", &route("200")),
        1.0
    );
    assert_eq!(
        gateway_change("http_server_request_duration_seconds_count", &route("401")),
        1.0
    );
    // The route template, never the path with its ids.
    assert!(
        gateway
            .iter()
            .filter(|s| s.name == "http_server_request_duration_seconds_count")
            .all(|s| !s.labels.get("http_route").is_some_and(|r| r.contains(&user.id))),
    );

    // Audit's consumer applied both sign-ins; its lag is known.
    let audit_applied = |samples: &[Sample]| {
        samples
            .iter()
            .filter(|s| {
                s.name == "messaging_process_messages_total"
                    && s.labels.get("consumer_group").is_some_and(|g| g == "audit_recorded")
                    && s.labels.get("outcome").is_some_and(|o| o == "ack")
            })
            .map(|s| s.value)
            .sum::<f64>()
    };
    // The admin's sign-in (to create the user) may be applied on either side of the first
    // scrape: two or three, never fewer.
    let applied = audit_applied(&gateway) - audit_applied(&gateway_before);
    assert!(
        (2.0..=3.0).contains(&applied),
        "one process: the gateway's scrape shows every metric ({applied})"
    );
    assert!(gateway.iter().any(|s| s.name == "messaging_consumer_lag_messages"));
}

#[tokio::test]
async fn readiness_and_grpc_health_follow_nats_and_liveness_does_not() {
    let mut nats = NatsServer::start().await;
    let system = TestSystem::spawn_with_nats(TestNats::at(&nats.url())).await;
    let admin = format!("http://127.0.0.1:{}", system.identity_admin_port);
    let status = |path: &'static str| {
        let url = format!("{admin}{path}");
        async move {
            reqwest::get(&url)
                .await
                .map(|r| r.status())
                .unwrap_or(StatusCode::BAD_GATEWAY)
        }
    };
    eventually(Duration::from_secs(20), || async {
        status("/readyz").await == StatusCode::OK
    })
    .await;

    nats.stop();
    eventually(Duration::from_secs(20), || async {
        status("/readyz").await == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    let body = reqwest::get(format!("{admin}/readyz"))
        .await
        .expect("readyz")
        .text()
        .await
        .expect("text");
    assert!(body.starts_with("nats unreachable"), "{body}");
    assert_eq!(status("/healthz").await, StatusCode::OK, "liveness ignores NATS");
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{}", system.identity_port))
        .expect("endpoint")
        .connect()
        .await
        .expect("identity reachable");
    let health = tonic_health::pb::health_client::HealthClient::new(channel);
    let status_of = |service: &str| {
        let request = tonic_health::pb::HealthCheckRequest {
            service: service.to_owned(),
        };
        let mut health = health.clone();
        async move {
            health
                .check(request)
                .await
                .expect("health answers")
                .into_inner()
                .status()
        }
    };
    assert_eq!(status_of("nats").await, ServingStatus::NotServing);
    // Requests still succeed without NATS (events wait in the outbox): the service stays in
    // rotation for gRPC probes.
    assert_eq!(status_of("").await, ServingStatus::Serving);
    assert_eq!(
        status_of("myaccount.identity.v1.IdentityService").await,
        ServingStatus::Serving
    );

    nats.resume().await;
    eventually(Duration::from_secs(30), || async {
        status("/readyz").await == StatusCode::OK
    })
    .await;
}
