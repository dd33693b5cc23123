//! `myaccount healthcheck`, the built binary, against real servers listening on loopback: a tiny
//! axum app and a tonic server with the standard health service. Checks the exit codes (0
//! healthy, 1 not) the Dockerfile's HEALTHCHECK and the compose file rely on.

use std::net::SocketAddr;
use std::process::Output;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;
use tonic_health::ServingStatus;

async fn healthcheck(args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_myaccount"))
        .arg("healthcheck")
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .await
        .expect("myaccount runs")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn http_server() -> SocketAddr {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "postgres: down") }),
        )
        .route(
            "/moved",
            get(|| async { (StatusCode::FOUND, [("location", "/healthz")]) }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A free port nobody listens on (bound, then released).
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("address")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_success_on_2xx_and_failure_otherwise() {
    let addr = http_server().await;

    let ok = healthcheck(&[&format!("http://{addr}/healthz")]).await;
    assert_eq!(code(&ok), 0, "{}", text(&ok));
    assert!(text(&ok).contains("200"), "{}", text(&ok));

    let unavailable = healthcheck(&[&format!("http://{addr}/readyz")]).await;
    assert_eq!(code(&unavailable), 1, "{}", text(&unavailable));
    assert!(text(&unavailable).contains("503"), "{}", text(&unavailable));

    // A redirect is not followed, and is not a 2xx.
    let moved = healthcheck(&[&format!("http://{addr}/moved")]).await;
    assert_eq!(code(&moved), 1, "{}", text(&moved));

    let missing = healthcheck(&[&format!("http://{addr}/nowhere")]).await;
    assert_eq!(code(&missing), 1, "{}", text(&missing));

    let refused = healthcheck(&[&format!("http://{}/healthz", closed_port().await)]).await;
    assert_eq!(code(&refused), 1, "{}", text(&refused));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_does_not_answer_fails_within_the_timeout() {
    let addr = http_server().await;
    let started = Instant::now();
    let slow = healthcheck(&["--timeout", "500ms", &format!("http://{addr}/slow")]).await;
    assert_eq!(code(&slow), 1, "{}", text(&slow));
    assert!(text(&slow).contains("did not answer"), "{}", text(&slow));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_health_serving_and_not_serving() {
    let (reporter, service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("myaccount.identity.v1.IdentityService", ServingStatus::Serving)
        .await;
    reporter
        .set_service_status("myaccount.audit.v1.AuditService", ServingStatus::NotServing)
        .await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let address = addr.to_string();

    // The whole server ("") is SERVING by default.
    let whole = healthcheck(&["--grpc", &address]).await;
    assert_eq!(code(&whole), 0, "{}", text(&whole));
    assert!(text(&whole).contains("SERVING"), "{}", text(&whole));

    let named = healthcheck(&["--grpc", &address, "--service", "myaccount.identity.v1.IdentityService"]).await;
    assert_eq!(code(&named), 0, "{}", text(&named));

    let not_serving = healthcheck(&["--grpc", &address, "--service", "myaccount.audit.v1.AuditService"]).await;
    assert_eq!(code(&not_serving), 1, "{}", text(&not_serving));
    assert!(text(&not_serving).contains("NOT_SERVING"), "{}", text(&not_serving));

    let unknown = healthcheck(&["--grpc", &address, "--service", "nobody.v1.Nothing"]).await;
    assert_eq!(code(&unknown), 1, "{}", text(&unknown));

    // Going NOT_SERVING (a drain, a database outage) turns the check red.
    reporter.set_service_status("", ServingStatus::NotServing).await;
    let draining = healthcheck(&["--grpc", &address]).await;
    assert_eq!(code(&draining), 1, "{}", text(&draining));

    let refused = healthcheck(&["--grpc", &closed_port().await.to_string()]).await;
    assert_eq!(code(&refused), 1, "{}", text(&refused));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_are_usage_errors_not_health() {
    // Not an http:// URL: unhealthy, with the reason.
    let https = healthcheck(&["https://127.0.0.1:1/healthz"]).await;
    assert_eq!(code(&https), 1, "{}", text(&https));
    // clap refuses a URL together with --grpc (exit code 2, a usage error).
    let both = healthcheck(&["http://127.0.0.1:1/", "--grpc", "127.0.0.1:1"]).await;
    assert_eq!(code(&both), 2, "{}", text(&both));
}
