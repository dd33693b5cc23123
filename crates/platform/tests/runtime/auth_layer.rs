//! `ServiceHost` with the `AuthLayer`: deny by default, the verified caller reaches the handler,
//! health and probes need no token, and the shutdown token stops the host.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use myaccount_proto::audit::v1::audit_service_client::AuditServiceClient;
use myaccount_proto::audit::v1::audit_service_server::{AuditService, AuditServiceServer};
use myaccount_proto::audit::v1::{ListMySignInsRequest, ListMySignInsResponse};
use platform::auth::{ADMIN_SCOPE, AuthLayer, Caller};
use platform::grpc::{GrpcSettings, ServeError, ServiceHost};
use platform::testing::{TestDatabase, TestIssuer, eventually};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use uuid::Uuid;

use crate::helpers::{DEADLINE, empty_migrator};

/// Answers with what the auth layer told it about the caller.
struct WhoAmI;

#[tonic::async_trait]
impl AuditService for WhoAmI {
    async fn list_my_sign_ins(
        &self,
        request: Request<ListMySignInsRequest>,
    ) -> Result<Response<ListMySignInsResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(ListMySignInsResponse {
            sign_ins: Vec::new(),
            next_page_token: format!("{} {}", caller.user_id, caller.scopes.join(",")),
        }))
    }

    // The auth layer is what is under test; the other methods are never called.
    async fn get_my_sign_in(
        &self,
        _: Request<myaccount_proto::audit::v1::GetMySignInRequest>,
    ) -> Result<Response<myaccount_proto::audit::v1::SignIn>, Status> {
        Err(Status::unimplemented("not part of this test"))
    }

    async fn review_my_sign_in(
        &self,
        _: Request<myaccount_proto::audit::v1::ReviewMySignInRequest>,
    ) -> Result<Response<myaccount_proto::audit::v1::ReviewMySignInResponse>, Status> {
        Err(Status::unimplemented("not part of this test"))
    }

    async fn list_my_activity(
        &self,
        _: Request<myaccount_proto::audit::v1::ListMyActivityRequest>,
    ) -> Result<Response<myaccount_proto::audit::v1::ListMyActivityResponse>, Status> {
        Err(Status::unimplemented("not part of this test"))
    }

    async fn list_organization_sign_ins(
        &self,
        _: Request<myaccount_proto::audit::v1::ListOrganizationSignInsRequest>,
    ) -> Result<Response<ListMySignInsResponse>, Status> {
        Err(Status::unimplemented("not part of this test"))
    }

    async fn export_my_data(
        &self,
        _: Request<myaccount_proto::audit::v1::ExportMyDataRequest>,
    ) -> Result<Response<myaccount_proto::audit::v1::AuditExport>, Status> {
        Err(Status::unimplemented("not part of this test"))
    }

    async fn get_my_data_retention(
        &self,
        _: Request<myaccount_proto::audit::v1::GetMyDataRetentionRequest>,
    ) -> Result<Response<myaccount_proto::audit::v1::DataRetention>, Status> {
        Err(Status::unimplemented("not part of this test"))
    }

    async fn describe_my_personal_data(
        &self,
        _: Request<myaccount_proto::privacy::v1::DescribeMyPersonalDataRequest>,
    ) -> Result<Response<myaccount_proto::privacy::v1::PersonalDataDescription>, Status> {
        Err(Status::unimplemented("not part of this test"))
    }
}

struct Host {
    issuer: TestIssuer,
    port: u16,
    admin_port: u16,
    shutdown: CancellationToken,
    /// Set by a background task once the host has told it to stop.
    task_stopped: Arc<AtomicBool>,
    run: JoinHandle<Result<(), ServeError>>,
    _db: TestDatabase,
}

impl Host {
    async fn start() -> Result<Self> {
        let db = TestDatabase::new("platform");
        let pool = platform::db::connect(&db.settings, &empty_migrator()).await?;
        let issuer = TestIssuer::new();
        let auth = AuthLayer::new(Arc::new(issuer.verifier()));
        let task_stopped = Arc::new(AtomicBool::new(false));
        let flag = task_stopped.clone();
        let host = ServiceHost::bind(&GrpcSettings::ephemeral(), pool, auth)
            .await?
            .add_service(AuditServiceServer::new(WhoAmI))
            .spawn_task(move |token| async move {
                token.cancelled().await;
                flag.store(true, Ordering::SeqCst);
            });
        let (port, admin_port, shutdown) = (host.port(), host.admin_port(), host.shutdown_token());
        assert_ne!(port, 0);
        assert_ne!(admin_port, 0);
        Ok(Self {
            issuer,
            port,
            admin_port,
            shutdown,
            task_stopped,
            run: tokio::spawn(host.run()),
            _db: db,
        })
    }

    async fn channel(&self) -> Result<Channel> {
        Ok(Channel::from_shared(format!("http://127.0.0.1:{}", self.port))?
            .connect()
            .await?)
    }

    async fn client(&self) -> Result<AuditServiceClient<Channel>> {
        Ok(AuditServiceClient::new(self.channel().await?))
    }

    /// Calls the service with `authorization` set to `header` (or without one).
    async fn call(&self, header: Option<&str>) -> Result<Result<String, Status>> {
        let mut request = Request::new(ListMySignInsRequest::default());
        if let Some(value) = header {
            request.metadata_mut().insert("authorization", value.parse()?);
        }
        Ok(self
            .client()
            .await?
            .list_my_sign_ins(request)
            .await
            .map(|r| r.into_inner().next_page_token))
    }

    async fn rejected(&self, header: Option<&str>) -> Result<Status> {
        match self.call(header).await? {
            Ok(token) => Err(anyhow!("{header:?} was let through as {token:?}")),
            Err(status) => Ok(status),
        }
    }

    /// Cancels the shutdown token and waits for `run` to return.
    async fn stop(self) -> Result<()> {
        self.shutdown.cancel();
        let served = tokio::time::timeout(Duration::from_secs(15), self.run)
            .await
            .map_err(|_| anyhow!("run() did not return within 15s of the shutdown token"))??;
        served?;
        Ok(())
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The token with its claims replaced (and the original signature kept).
fn tampered(token: &str, change: impl FnOnce(&mut serde_json::Value)) -> Result<String> {
    let mut parts = token.split('.');
    let (header, claims, signature) = (
        parts.next().context("header")?,
        parts.next().context("claims")?,
        parts.next().context("signature")?,
    );
    let mut claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims)?)?;
    change(&mut claims);
    let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?);
    Ok(format!("{header}.{claims}.{signature}"))
}

#[tokio::test]
async fn calls_without_a_valid_token_are_unauthenticated() -> Result<()> {
    let host = Host::start().await?;
    let user = Uuid::new_v4();

    let status = host.rejected(None).await?;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "an access token is required");

    for malformed in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "token-without-scheme"] {
        let status = host.rejected(Some(malformed)).await?;
        assert_eq!(status.code(), Code::Unauthenticated, "{malformed:?}");
        assert_eq!(
            status.message(),
            "the authorization header must be \"Bearer <token>\"",
            "{malformed:?}"
        );
    }

    let status = host.rejected(Some(&bearer("not.a.jwt"))).await?;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "the access token is invalid: not a JWT");

    // Claims changed after signing: someone else's user id.
    let valid = host.issuer.token_for(user);
    let forged = tampered(&valid, |c| c["sub"] = Uuid::new_v4().to_string().into())?;
    let status = host.rejected(Some(&bearer(&forged))).await?;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "the access token is invalid: bad signature");

    // Signed by a key the verifier does not know.
    let stranger = TestIssuer::new().token_for(user);
    let status = host.rejected(Some(&bearer(&stranger))).await?;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "the access token was signed by an unknown key");

    // Well signed, but expired (beyond the leeway) or for another audience.
    let mut claims = host.issuer.claims_for(user);
    claims.exp = chrono::Utc::now().timestamp() - 3600;
    let status = host.rejected(Some(&bearer(&host.issuer.sign(&claims)))).await?;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "the access token has expired");

    let mut claims = host.issuer.claims_for(user);
    claims.aud = "someone-else".into();
    let status = host.rejected(Some(&bearer(&host.issuer.sign(&claims)))).await?;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "the access token is invalid: wrong audience");

    host.stop().await
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_as_the_caller() -> Result<()> {
    let host = Host::start().await?;
    let user = Uuid::new_v4();

    let answer = host.call(Some(&bearer(&host.issuer.token_for(user)))).await??;
    assert_eq!(answer, format!("{user} "));

    // The scheme is case-insensitive.
    let answer = host
        .call(Some(&format!("bearer {}", host.issuer.token_for(user))))
        .await??;
    assert_eq!(answer, format!("{user} "));

    let answer = host.call(Some(&bearer(&host.issuer.admin_token()))).await??;
    assert!(answer.ends_with(&format!(" {ADMIN_SCOPE}")), "{answer}");

    host.stop().await
}

#[tokio::test]
async fn health_answers_without_a_token() -> Result<()> {
    let host = Host::start().await?;
    let mut health = HealthClient::new(host.channel().await?);
    for service in ["", "myaccount.audit.v1.AuditService"] {
        let health = &mut health;
        // SERVING once the host has seen Postgres answer.
        eventually(DEADLINE, || {
            let mut health = health.clone();
            async move {
                health
                    .check(HealthCheckRequest {
                        service: service.to_owned(),
                    })
                    .await
                    .is_ok_and(|r| r.into_inner().status == ServingStatus::Serving as i32)
            }
        })
        .await;
    }
    let status = health
        .check(HealthCheckRequest {
            service: "myaccount.audit.v1.AuditService".into(),
        })
        .await?
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);
    host.stop().await
}

#[tokio::test]
async fn the_admin_port_answers_probes() -> Result<()> {
    let host = Host::start().await?;
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{}", host.admin_port);

    let healthz = http.get(format!("{base}/healthz")).send().await?;
    assert_eq!(healthz.status(), reqwest::StatusCode::OK);
    assert_eq!(healthz.text().await?, "ok");

    let (http, readyz) = (&http, format!("{base}/readyz"));
    let readyz = &readyz;
    eventually(DEADLINE, || async move {
        http.get(readyz)
            .send()
            .await
            .is_ok_and(|r| r.status() == reqwest::StatusCode::OK)
    })
    .await;
    let ready = http.get(readyz).send().await?;
    assert_eq!(ready.status(), reqwest::StatusCode::OK);
    assert_eq!(ready.text().await?, "ready");

    host.stop().await
}

#[tokio::test]
async fn cancelling_the_shutdown_token_stops_the_host() -> Result<()> {
    let host = Host::start().await?;
    let user = Uuid::new_v4();
    // A client that stays connected must not keep the host from stopping.
    let mut client = host.client().await?;
    let mut request = Request::new(ListMySignInsRequest::default());
    request
        .metadata_mut()
        .insert("authorization", bearer(&host.issuer.token_for(user)).parse()?);
    client.list_my_sign_ins(request).await?;

    let (port, admin_port, task_stopped) = (host.port, host.admin_port, host.task_stopped.clone());
    host.stop().await?;

    assert!(
        task_stopped.load(Ordering::SeqCst),
        "background tasks are stopped before run returns"
    );
    for port in [port, admin_port] {
        assert!(
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(),
            "port {port} still accepts connections after shutdown"
        );
    }
    let after = client
        .list_my_sign_ins(Request::new(ListMySignInsRequest::default()))
        .await;
    assert_eq!(after.map_err(|s| s.code()).err(), Some(Code::Unavailable));
    Ok(())
}
