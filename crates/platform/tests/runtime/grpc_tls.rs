//! gRPC over TLS: a `ServiceHost` given a certificate from a CA made up by the test answers a
//! client that trusts that CA, and no other.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow};
use platform::auth::AuthLayer;
use platform::config::Env;
use platform::grpc::{GrpcSettings, ServeError, ServiceHost};
use platform::testing::{TestCa, TestDatabase, TestIssuer, TlsFiles};
use platform::tls::{ClientTls, GRPC_TLS_CA_FILE, ServerTls};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use uuid::Uuid;

use crate::helpers::empty_migrator;

struct TlsHost {
    port: u16,
    admin_port: u16,
    files: TlsFiles,
    dir: PathBuf,
    shutdown: CancellationToken,
    run: JoinHandle<Result<(), ServeError>>,
    _db: TestDatabase,
}

impl TlsHost {
    async fn start() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("myaccount-grpc-tls-{}", Uuid::new_v4().simple()));
        let files = TestCa::new("myaccount test services CA").write_server_files(&dir, "audit", &["localhost"]);
        let db = TestDatabase::new("platform");
        let pool = platform::db::connect(&db.settings, &empty_migrator()).await?;
        let settings = GrpcSettings {
            tls: Some(ServerTls {
                cert_file: files.cert.clone(),
                key_file: files.key.clone(),
            }),
            ..GrpcSettings::ephemeral()
        };
        let host = ServiceHost::bind(&settings, pool, AuthLayer::new(Arc::new(TestIssuer::new().verifier()))).await?;
        Ok(Self {
            port: host.port(),
            admin_port: host.admin_port(),
            shutdown: host.shutdown_token(),
            run: tokio::spawn(host.run()),
            files,
            dir,
            _db: db,
        })
    }

    /// A health check over a client that trusts `ca` (none: plain text), at `host`.
    async fn health_check(&self, scheme_host: &str, ca: Option<PathBuf>) -> Result<tonic::Status> {
        let url = format!("{scheme_host}:{}", self.port);
        let endpoint = ClientTls { ca_file: ca }
            .endpoint(&url, "AUDIT_URL")?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(5));
        let channel = match endpoint.connect().await {
            Ok(channel) => channel,
            Err(e) => return Ok(tonic::Status::unavailable(format!("connect: {e:?}"))),
        };
        match HealthClient::new(channel).check(HealthCheckRequest::default()).await {
            Ok(_) => Ok(tonic::Status::ok("answered")),
            Err(status) => Ok(status),
        }
    }

    async fn stop(self) -> Result<()> {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(15), self.run)
            .await
            .map_err(|_| anyhow!("run() did not return within 15s of the shutdown token"))???;
        let _ = std::fs::remove_dir_all(&self.dir);
        Ok(())
    }
}

#[tokio::test]
async fn a_service_with_a_certificate_answers_only_clients_that_trust_its_ca() -> Result<()> {
    let host = TlsHost::start().await?;

    let trusted = host
        .health_check("https://localhost", Some(host.files.ca.clone()))
        .await?;
    assert_eq!(trusted.code(), tonic::Code::Ok, "{trusted:?}");

    let other_ca = TestCa::new("another CA").write_cert(&host.dir, "other-ca.crt");
    let untrusted = host.health_check("https://localhost", Some(other_ca)).await?;
    assert_eq!(untrusted.code(), tonic::Code::Unavailable, "{untrusted:?}");
    assert!(untrusted.message().contains("UnknownIssuer"), "{untrusted:?}");

    // The certificate names localhost, not the address.
    let wrong_name = host
        .health_check("https://127.0.0.1", Some(host.files.ca.clone()))
        .await?;
    assert_eq!(wrong_name.code(), tonic::Code::Unavailable, "{wrong_name:?}");
    assert!(wrong_name.message().contains("NotValidForName"), "{wrong_name:?}");

    // A plain-text client gets no answer from a TLS port.
    let plain = host.health_check("http://localhost", None).await?;
    assert_ne!(plain.code(), tonic::Code::Ok, "{plain:?}");

    host.stop().await
}

/// The admin port (probes, `/metrics`, identity's JWKS) presents the same certificate: a JWKS
/// fetched over it cannot be swapped on the wire, and it answers no plain-text client.
#[tokio::test]
async fn the_admin_port_of_a_service_with_a_certificate_serves_https_only() -> Result<()> {
    let host = TlsHost::start().await?;
    let trusting = ClientTls {
        ca_file: Some(host.files.ca.clone()),
    }
    .http_client(Duration::from_secs(5))?;
    let url = format!("https://localhost:{}/healthz", host.admin_port);
    let answer = trusting.get(&url).send().await?;
    assert_eq!(answer.status(), reqwest::StatusCode::OK, "{url}");
    let metrics = trusting
        .get(format!("https://localhost:{}/metrics", host.admin_port))
        .send()
        .await?;
    assert_eq!(metrics.status(), reqwest::StatusCode::OK);

    // Another CA's client refuses the certificate; a plain-text client gets no HTTP answer.
    let other_ca = TestCa::new("another CA").write_cert(&host.dir, "admin-other-ca.crt");
    let distrusting = ClientTls {
        ca_file: Some(other_ca),
    }
    .http_client(Duration::from_secs(5))?;
    assert!(
        distrusting.get(&url).send().await.is_err(),
        "a certificate of an unknown CA was accepted"
    );
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?
        .get(format!("http://localhost:{}/healthz", host.admin_port))
        .send()
        .await;
    assert!(plain.is_err(), "the admin port answered plain HTTP: {plain:?}");

    // A client that connects and never starts its handshake holds up nobody.
    let _stalled = tokio::net::TcpStream::connect(("127.0.0.1", host.admin_port)).await?;
    let again = trusting.get(&url).send().await?;
    assert_eq!(again.status(), reqwest::StatusCode::OK);

    host.stop().await
}

#[test]
fn an_https_address_without_a_ca_and_half_a_certificate_are_refused_at_start() {
    let err = ClientTls::default()
        .endpoint("https://audit:50055", "AUDIT_URL")
        .expect_err("https without a CA");
    assert_eq!(err.variable, GRPC_TLS_CA_FILE);
    assert!(err.reason.contains("AUDIT_URL is https://"), "{err}");
    assert!(ClientTls::default().endpoint("http://audit:50055", "AUDIT_URL").is_ok());

    let dir = std::env::temp_dir().join(format!("myaccount-grpc-tls-{}", Uuid::new_v4().simple()));
    let files = TestCa::new("a CA").write_server_files(&dir, "audit", &["audit"]);
    let cert = files.cert.display().to_string();
    let key = files.key.display().to_string();
    let err = ServerTls::from_env(&Env::from_pairs([("AUDIT_GRPC_TLS_CERT_FILE", cert.as_str())]), "AUDIT")
        .expect_err("a certificate without its key");
    assert_eq!(err.variable, "AUDIT_GRPC_TLS_KEY_FILE");
    let err = ServerTls::from_env(
        &Env::from_pairs([
            ("AUDIT_GRPC_TLS_CERT_FILE", key.as_str()),
            ("AUDIT_GRPC_TLS_KEY_FILE", key.as_str()),
        ]),
        "AUDIT",
    )
    .expect_err("a key given as the certificate");
    assert_eq!(err.variable, "AUDIT_GRPC_TLS_CERT_FILE");
    let both = ServerTls::from_env(
        &Env::from_pairs([
            ("AUDIT_GRPC_TLS_CERT_FILE", cert.as_str()),
            ("AUDIT_GRPC_TLS_KEY_FILE", key.as_str()),
        ]),
        "AUDIT",
    );
    assert_eq!(
        both,
        Ok(Some(ServerTls {
            cert_file: files.cert.clone(),
            key_file: files.key.clone(),
        }))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
