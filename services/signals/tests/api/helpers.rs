//! A real signals service per test: its own database, its own NATS namespace, free ports, a
//! gRPC client, a token issuer standing in for identity, and a receiver written to RFC 8935 and
//! RFC 8936 that verifies every SET it gets against the transmitter's keys.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use myaccount_proto::events::v1::{PasswordChanged, SecurityMethodAdded, SessionRevoked};
use myaccount_proto::signals::v1 as pb;
use myaccount_proto::signals::v1::signals_service_client::SignalsServiceClient;
use myaccount_signals::push::PushSettings;
use myaccount_signals::service::StreamPolicy;
use myaccount_signals::{Application, SPEC, Settings};
use platform::crypto::Keyring;
use platform::events::{EventBus, Stream};
use platform::service::ServiceSettings;
use platform::testing::{StartedService, TestDatabase, TestGateway, TestIssuer, TestNats};
pub use platform::testing::{assert_status, bearer, violated_fields};
use platform::workload::SignedAsWorkload;
use serde_json::Value;
use sqlx::PgPool;
use tonic::transport::Channel;
use tonic::{Request, Status};
use uuid::Uuid;

pub const ISSUER: &str = "https://myaccount.test";
/// How long asynchronous outcomes (a consumed event, a push) may take.
pub const DEADLINE: Duration = Duration::from_secs(20);
pub const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
pub const CREDENTIAL_CHANGE: &str = "https://schemas.openid.net/secevent/caep/event-type/credential-change";

pub struct TestApp {
    /// Calls as the gateway makes them: signals takes calls from it alone.
    pub signals: SignalsServiceClient<SignedAsWorkload<Channel>>,
    pub issuer: TestIssuer,
    pub db: PgPool,
    pub bus: EventBus,
    _service: StartedService,
    // Dropped last: they delete the database and the streams.
    _database: TestDatabase,
    _nats: TestNats,
}

/// A registered receiver with a fresh access token.
#[derive(Debug, Clone)]
pub struct TestReceiver {
    pub audience: String,
    pub client_id: String,
    pub client_secret: String,
    pub access_token: String,
}

/// How tests treat streams: a paused stream holds only a few SETs, so the bound is reachable.
pub fn test_policy() -> StreamPolicy {
    StreamPolicy {
        all_subjects_allowed: true,
        min_verification_interval: Duration::from_secs(30),
        paused_hold_limit: PAUSED_HOLD_LIMIT,
    }
}

pub const PAUSED_HOLD_LIMIT: i64 = 3;

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_policy()).await
}

pub async fn spawn_app_with(streams: StreamPolicy) -> TestApp {
    let database = TestDatabase::new("signals");
    let nats = TestNats::new();
    let issuer = TestIssuer::new();
    let gateway = TestGateway::new();
    let mut db_settings = database.settings.clone();
    db_settings.max_connections = 5;
    let settings = Settings {
        service: ServiceSettings::for_tests(&SPEC, db_settings, nats.settings.clone(), "http://unused.invalid")
            .trusting(gateway.trusted()),
        encryption: Keyring::generate("test1"),
        issuer: ISSUER.into(),
        receiver_token_ttl: Duration::from_secs(600),
        // A receiver that comes back is tried again within a fraction of a second.
        push: PushSettings {
            timeout: Duration::from_secs(2),
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(400),
        },
        streams,
        keys: myaccount_signals::keys::KeySettings::default(),
    };
    let app = Application::build_with_verifier(settings, issuer.verifier())
        .await
        .expect("signals starts");
    let service = platform::testing::start_service(app, &database.settings).await;
    let bus = EventBus::connect(&nats.settings, "signals-tests")
        .await
        .expect("connect to nats");
    bus.ensure_streams(&[Stream::Identity, Stream::SecurityInfo, Stream::SignIn])
        .await
        .expect("streams");
    TestApp {
        signals: SignalsServiceClient::new(gateway.sign(service.channel.clone(), SPEC.name)),
        issuer,
        db: service.db.clone(),
        bus,
        _service: service,
        _database: database,
        _nats: nats,
    }
}

/// `message` with a receiver's access token, as the gateway sends it.
pub fn as_receiver<T>(message: T, access_token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        myaccount_signals::grpc::ACCESS_TOKEN_METADATA,
        access_token.parse().expect("token as metadata"),
    );
    request
}

impl TestApp {
    pub fn client(&self) -> SignalsServiceClient<SignedAsWorkload<Channel>> {
        self.signals.clone()
    }

    /// Registers a receiver as the operator and gets it an access token.
    pub async fn receiver(&self) -> TestReceiver {
        let audience = format!("https://rp-{}.example.com", Uuid::new_v4().simple());
        let registered = self
            .client()
            .add_receiver(bearer(
                pb::AddReceiverRequest {
                    name: "Payroll".into(),
                    audience: audience.clone(),
                },
                &self.issuer.admin_token(),
            ))
            .await
            .expect("the operator registers a receiver")
            .into_inner();
        let access_token = self
            .token(&registered.client_id, &registered.client_secret)
            .await
            .expect("client credentials work")
            .access_token;
        TestReceiver {
            audience,
            client_id: registered.client_id,
            client_secret: registered.client_secret,
            access_token,
        }
    }

    pub async fn token(&self, client_id: &str, secret: &str) -> Result<pb::IssueReceiverTokenResponse, Status> {
        self.client()
            .issue_receiver_token(pb::IssueReceiverTokenRequest {
                client_id: client_id.into(),
                client_secret: secret.into(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn create_stream(
        &self,
        receiver: &TestReceiver,
        request: pb::CreateStreamRequest,
    ) -> Result<pb::Stream, Status> {
        self.client()
            .create_stream(as_receiver(request, &receiver.access_token))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn poll_stream(&self, receiver: &TestReceiver) -> pb::Stream {
        self.create_stream(
            receiver,
            pb::CreateStreamRequest {
                delivery_method: pb::DeliveryMethod::Poll as i32,
                events_requested: vec![SESSION_REVOKED.into(), CREDENTIAL_CHANGE.into()],
                all_subjects: true,
                ..Default::default()
            },
        )
        .await
        .expect("a poll stream")
    }

    pub async fn poll(
        &self,
        receiver: &TestReceiver,
        stream_id: &str,
        request: pb::PollSecurityEventsRequest,
    ) -> Result<pb::PollSecurityEventsResponse, Status> {
        self.client()
            .poll_security_events(as_receiver(
                pb::PollSecurityEventsRequest {
                    stream_id: stream_id.into(),
                    ..request
                },
                &receiver.access_token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Polls (acknowledging nothing) until `count` SETs are waiting, and returns them.
    pub async fn poll_until(&self, receiver: &TestReceiver, stream_id: &str, count: usize) -> Vec<(String, String)> {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let answer = self
                .poll(
                    receiver,
                    stream_id,
                    pb::PollSecurityEventsRequest {
                        max_events: 100,
                        ..Default::default()
                    },
                )
                .await
                .expect("poll");
            if answer.sets.len() >= count {
                return answer.sets.into_iter().collect();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{count} SETs expected, {} arrived",
                answer.sets.len()
            );
        }
    }

    pub async fn jwks(&self) -> JwkSet {
        let json = self
            .client()
            .get_signing_keys(pb::GetSigningKeysRequest {})
            .await
            .expect("the key set")
            .into_inner()
            .jwks_json;
        serde_json::from_str(&json).expect("a JWK set")
    }

    /// Identity ends a session.
    pub async fn session_revoked(&self, user_id: Uuid, session_id: Uuid, reason: &str) -> String {
        let event_id = Uuid::new_v4().to_string();
        let event = SessionRevoked {
            user_id: user_id.to_string(),
            session_id: session_id.to_string(),
            reason: reason.into(),
            time: Some(myaccount_proto::timestamp(Utc::now())),
            ..Default::default()
        };
        platform::testing::publish_as(&self.bus, "myaccount/identity", &event_id, &event, Utc::now()).await;
        event_id
    }

    /// The AAGUID security-info reports for the security keys these tests add (YubiKey 5 Series).
    pub const SECURITY_KEY_AAGUID: &str = "cb69481e-8ff7-4039-93ec-0a2729a154a8";

    /// Security-info adds a security key.
    pub async fn security_key_added(&self, user_id: Uuid, label: &str) -> String {
        let event_id = Uuid::new_v4().to_string();
        let event = SecurityMethodAdded {
            user_id: user_id.to_string(),
            method_id: Uuid::new_v4().to_string(),
            method_type: "security_key".into(),
            label: label.into(),
            time: Some(myaccount_proto::timestamp(Utc::now())),
            session_id: String::new(),
            fido2_aaguid: Some(Self::SECURITY_KEY_AAGUID.into()),
            // As an event from before security-info named the person's second factors.
            second_factors_after: None,
        };
        platform::testing::publish_as(&self.bus, "myaccount/security-info", &event_id, &event, Utc::now()).await;
        event_id
    }

    /// Identity records a password change.
    pub async fn password_changed(&self, user_id: Uuid) -> String {
        let event_id = Uuid::new_v4().to_string();
        let event = PasswordChanged {
            user_id: user_id.to_string(),
            session_id: Uuid::new_v4().to_string(),
            other_sessions_ended: 0,
            time: Some(myaccount_proto::timestamp(Utc::now())),
            ..Default::default()
        };
        platform::testing::publish_as(&self.bus, "myaccount/identity", &event_id, &event, Utc::now()).await;
        event_id
    }
}

/// Checks a SET as a receiver must (RFC 8417, SSF 1.0 section 4): `typ`, RS256 with a key of the
/// set, `iss`, `aud`, no `sub` and no `exp`, one event; returns its claims.
pub fn verify_set(token: &str, jwks: &JwkSet, audience: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).expect("a JWS header");
    assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("a kid");
    let jwk = jwks.find(&kid).expect("the kid is in the key set");
    let key = DecodingKey::from_jwk(jwk).expect("an RSA key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[audience]);
    let claims: Value = jsonwebtoken::decode(token, &key, &validation)
        .expect("the signature and claims verify")
        .claims;
    assert!(claims.get("sub").is_none(), "SSF SETs carry no sub");
    assert!(claims.get("exp").is_none(), "SSF SETs carry no exp");
    for claim in ["iat", "jti", "txn", "sub_id", "events"] {
        assert!(claims.get(claim).is_some(), "{claim} missing from {claims}");
    }
    assert_eq!(
        claims["events"].as_object().map(serde_json::Map::len),
        Some(1),
        "one event per SET"
    );
    claims
}

/// The single event of a SET's claims: its type URI and its body.
pub fn event_of(claims: &Value) -> (String, Value) {
    let (uri, body) = claims["events"]
        .as_object()
        .and_then(|events| events.iter().next())
        .expect("an event");
    (uri.clone(), body.clone())
}

/// A push endpoint written to RFC 8935: takes `application/secevent+jwt`, answers 202, or 503
/// while it is down.
#[derive(Clone, Default)]
pub struct PushReceiver {
    pub received: Arc<Mutex<Vec<String>>>,
    pub down: Arc<std::sync::atomic::AtomicBool>,
    pub refused_while_down: Arc<std::sync::atomic::AtomicUsize>,
}

impl PushReceiver {
    /// Serves on a free port; returns its URL.
    pub async fn start(&self) -> String {
        use axum::http::{HeaderMap, StatusCode};
        let state = self.clone();
        let app = axum::Router::new().route(
            "/ssf/events",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let state = state.clone();
                async move {
                    if state.down.load(std::sync::atomic::Ordering::SeqCst) {
                        state
                            .refused_while_down
                            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
                    if content_type != Some("application/secevent+jwt") {
                        return StatusCode::UNSUPPORTED_MEDIA_TYPE;
                    }
                    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer rp-secret") {
                        return StatusCode::UNAUTHORIZED;
                    }
                    state.received.lock().expect("lock").push(body);
                    StatusCode::ACCEPTED
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://127.0.0.1:{port}/ssf/events")
    }

    pub fn received(&self) -> Vec<String> {
        self.received.lock().expect("lock").clone()
    }

    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        platform::testing::eventually(DEADLINE, || async { self.received().len() >= count }).await;
        self.received()
    }
}
