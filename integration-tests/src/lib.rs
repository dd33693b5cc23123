//! Black-box harness: every service and the gateway started in-process, each with its own
//! database, sharing one NATS namespace, on free ports. Tests talk to the gateway over HTTP as a
//! web client would.

pub mod answer_dropper;
mod authenticator;

pub use answer_dropper::AnswerDropper;
pub use authenticator::{AuthenticatorApp, DiscoverablePasskey};

use std::sync::Arc;
use std::time::Duration;

use myaccount_gateway::ratelimit::RateLimitSettings;
use myaccount_identity::BootstrapAdmin;

use platform::events::NatsSettings;
use platform::service::ServiceSettings;
use platform::testing::{TestDatabase, TestNats};
use platform::workload::{self, SignedAsWorkload, TrustedCallers, WorkloadKey};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const ADMIN_UPN: &str = "admin@test.example";
pub const ADMIN_PASSWORD: &str = "integration admin lantern 99";

/// How a [`TestSystem`] differs from the usual one.
#[derive(Debug, Clone)]
pub struct SystemOptions {
    pub trust_forwarded_for: bool,
    pub rate_limits: RateLimitSettings,
    /// Identity's token settings (access tokens of 5 minutes unless changed).
    pub tokens: myaccount_identity::tokens::TokenSettings,
    /// Identity's sign-in settings: smart lockout and how many methods a password reset needs.
    pub sign_in: myaccount_identity::SignInSettings,
    /// A second gateway replica (same cookie keys, same services), as behind a load balancer.
    pub second_gateway: bool,
    /// A second identity replica on the same database, whose JWKS the other services and the
    /// gateways verify with, while the gateways' calls (sign-in, refresh) go to the first: what
    /// a load balancer in front of two replicas does at its worst.
    pub identity_replica_serves_jwks: bool,
    /// The gateway reaches identity and devices through an [`AnswerDropper`] each
    /// ([`TestSystem::answer_droppers`]), which cuts off an answer with its connection on demand.
    pub answer_droppers: bool,
}

/// The proxies between the gateway and identity and devices, with
/// [`SystemOptions::answer_droppers`].
pub struct AnswerDroppers {
    pub identity: AnswerDropper,
    pub devices: AnswerDropper,
}

impl Default for SystemOptions {
    fn default() -> Self {
        Self {
            trust_forwarded_for: false,
            rate_limits: RateLimitSettings::OFF,
            tokens: myaccount_identity::tokens::TokenSettings {
                access_token_ttl: Duration::from_secs(300),
                ..myaccount_identity::tokens::TokenSettings::new(
                    platform::auth::DEFAULT_ISSUER,
                    platform::auth::DEFAULT_AUDIENCE,
                )
            },
            second_gateway: false,
            identity_replica_serves_jwks: false,
            answer_droppers: false,
            sign_in: myaccount_identity::SignInSettings::default(),
        }
    }
}

pub struct TestSystem {
    pub gateway: String,
    /// The second gateway replica, with [`SystemOptions::second_gateway`].
    pub second_gateway: Option<String>,
    /// The gateway as a browser reaches it for WebAuthn: `http://localhost:<port>`, the relying
    /// party's origin (security keys are bound to it).
    pub web_origin: String,
    pub http: reqwest::Client,
    pub identity_port: u16,
    pub identity_admin_port: u16,
    pub audit_port: u16,
    pub audit_db: TestDatabase,
    pub devices_port: u16,
    pub devices_db: TestDatabase,
    pub organizations_port: u16,
    pub organizations_db: TestDatabase,
    pub identity_db: TestDatabase,
    pub security_info_port: u16,
    pub security_info_db: TestDatabase,
    pub signals_port: u16,
    pub signals_db: TestDatabase,
    /// Seals signals' SET signing keys; with [`Self::signals_keys`], what rotating them needs.
    pub signals_keyring: platform::crypto::Keyring,
    pub signals_keys: myaccount_signals::keys::KeySettings,
    pub nats: TestNats,
    /// The gateway's workload key: every service takes a person's calls only with a token of
    /// it, so a test that calls a service directly signs as the gateway would.
    pub gateway_key: Arc<WorkloadKey>,
    /// With [`SystemOptions::answer_droppers`].
    pub answer_droppers: Option<AnswerDroppers>,
    /// security-info's keyring: what the notification sender opens one-time codes with.
    pub security_info_keyring: platform::crypto::Keyring,
    stops: Vec<CancellationToken>,
    audit_stop: CancellationToken,
    /// The bootstrap admin's second factor and latest multi-factor token (admin actions need a
    /// recent multi-factor sign-in).
    admin: tokio::sync::Mutex<AdminSignIn>,
}

/// The bootstrap admin's authenticator app, the last time step it answered with (each is
/// accepted once), and the latest multi-factor access token with when it was issued.
#[derive(Default)]
struct AdminSignIn {
    app: Option<AuthenticatorApp>,
    last_step: u64,
    token: Option<(String, tokio::time::Instant)>,
}

/// A person with an account.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub upn: String,
    pub password: String,
    pub id: String,
}

/// Tokens from a successful sign-in.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
}

impl TestSystem {
    pub async fn spawn() -> Self {
        Self::spawn_with_nats(TestNats::new()).await
    }

    /// A gateway that takes the client address from `X-Forwarded-For`, as behind a proxy: tests
    /// sign in "from" the addresses of the test geo database.
    pub async fn spawn_with_forwarded_for() -> Self {
        let options = SystemOptions {
            trust_forwarded_for: true,
            ..SystemOptions::default()
        };
        Self::spawn_with(TestNats::new(), options).await
    }

    /// A gateway that rate-limits its sign-in endpoints (the others run without limits, so they
    /// can sign in as often as their stories need).
    pub async fn spawn_with_rate_limits(limits: RateLimitSettings) -> Self {
        let options = SystemOptions {
            rate_limits: limits,
            ..SystemOptions::default()
        };
        Self::spawn_with(TestNats::new(), options).await
    }

    /// A system as `options` say.
    pub async fn spawn_with_options(options: SystemOptions) -> Self {
        Self::spawn_with(TestNats::new(), options).await
    }

    /// Uses `nats` (e.g. a test-owned server) instead of the machine's NATS.
    pub async fn spawn_with_nats(nats: TestNats) -> Self {
        Self::spawn_with(nats, SystemOptions::default()).await
    }

    async fn spawn_with(nats: TestNats, options: SystemOptions) -> Self {
        let SystemOptions {
            trust_forwarded_for,
            rate_limits,
            ..
        } = options;
        let identity_db = TestDatabase::new("identity");
        let audit_db = TestDatabase::new("audit");
        let devices_db = TestDatabase::new("devices");
        let organizations_db = TestDatabase::new("organizations");
        let security_info_db = TestDatabase::new("securityinfo");
        let signals_db = TestDatabase::new("signals");
        // Identity and security-info call each other: security-info's port is chosen first.
        let security_info_port = platform::testing::free_port();
        // The gateway's port is chosen first too: it is the WebAuthn relying party's origin.
        let gateway_port = platform::testing::free_port();
        let web_origin = format!("http://localhost:{gateway_port}");
        // Each calling workload's own key: the gateway calls every service, identity calls
        // security-info.
        let gateway_key = WorkloadKey::generate(workload::GATEWAY);
        let identity_key = WorkloadKey::generate(workload::IDENTITY);
        let gateway_only = TrustedCallers::new().with_key(&gateway_key);
        let security_info_keyring = platform::crypto::Keyring::generate("e2e");

        let mut identity_settings = myaccount_identity::Settings {
            service: ServiceSettings::for_tests(
                &myaccount_identity::SPEC,
                identity_db.settings.clone(),
                nats.settings_for(myaccount_identity::SPEC.name),
                "http://unused.invalid",
            )
            .trusting(gateway_only.clone()),
            tokens: options.tokens.clone(),
            sign_in: options.sign_in,
            bootstrap_admin: Some(BootstrapAdmin {
                user_principal_name: ADMIN_UPN.into(),
                password: ADMIN_PASSWORD.into(),
            }),
            second_factors: Some(myaccount_identity::security_info::SecondFactorSettings::new(format!(
                "http://127.0.0.1:{security_info_port}"
            ))),
            workload_key: Some(identity_key.clone()),
            geoip_databases: vec![geo_test_database()],
        };
        // Identity's admin port (its JWKS) is chosen first, so every service can start at once.
        identity_settings.service.grpc.admin_port = platform::testing::free_port();
        let identity_admin_port = identity_settings.service.grpc.admin_port;
        let replica_settings = options.identity_replica_serves_jwks.then(|| {
            let mut replica = myaccount_identity::Settings {
                bootstrap_admin: None,
                ..identity_settings.clone()
            };
            replica.service.grpc.admin_port = platform::testing::free_port();
            replica
        });
        let jwks_port = replica_settings
            .as_ref()
            .map_or(identity_admin_port, |replica| replica.service.grpc.admin_port);
        let jwks_url = format!("http://127.0.0.1:{jwks_port}/.well-known/jwks.json");

        let mut security_info_service = ServiceSettings::for_tests(
            &myaccount_security_info::SPEC,
            security_info_db.settings.clone(),
            nats.settings_for(myaccount_security_info::SPEC.name),
            &jwks_url,
        )
        .trusting(gateway_only.clone().with_key(&identity_key));
        security_info_service.grpc.port = security_info_port;
        // The transmitter's issuer is the gateway, where receivers find it.
        let signals_issuer = format!("http://127.0.0.1:{gateway_port}");
        let signals_keyring = platform::crypto::Keyring::generate("e2e");
        // Keys reloaded every second and cached by receivers for a second: a rotated key signs
        // three seconds after it is published.
        let signals_keys = myaccount_signals::keys::KeySettings {
            reload: Duration::from_secs(1),
            jwks_max_age: Duration::from_secs(1),
        };
        // Every service starts side by side, each creating and migrating its database: what
        // they need of each other (identity's JWKS, security-info's port) was chosen above.
        // Each start is boxed: six of them inline would overflow a test thread's stack.
        let (identity, audit, organizations, devices, security_info, signals) = tokio::join!(
            Box::pin(myaccount_identity::Application::build(identity_settings)),
            Box::pin(myaccount_audit::Application::build(myaccount_audit::Settings {
                service: ServiceSettings::for_tests(
                    &myaccount_audit::SPEC,
                    audit_db.settings.clone(),
                    nats.settings_for(myaccount_audit::SPEC.name),
                    &jwks_url,
                )
                .trusting(gateway_only.clone()),
                ingest_workers: myaccount_audit::DEFAULT_INGEST_WORKERS,
                geoip_databases: vec![geo_test_database()],
                retention: myaccount_audit::retention::RetentionSettings::default(),
            })),
            Box::pin(myaccount_organizations::Application::build(
                myaccount_organizations::Settings {
                    service: ServiceSettings::for_tests(
                        &myaccount_organizations::SPEC,
                        organizations_db.settings.clone(),
                        nats.settings_for(myaccount_organizations::SPEC.name),
                        &jwks_url,
                    )
                    .trusting(gateway_only.clone()),
                    max_sign_in_retention_days: 365,
                }
            )),
            Box::pin(myaccount_devices::Application::build(myaccount_devices::Settings {
                service: ServiceSettings::for_tests(
                    &myaccount_devices::SPEC,
                    devices_db.settings.clone(),
                    nats.settings_for(myaccount_devices::SPEC.name),
                    &jwks_url,
                )
                .trusting(gateway_only.clone()),
                encryption: platform::crypto::Keyring::generate("e2e"),
            })),
            Box::pin(myaccount_security_info::Application::build(
                myaccount_security_info::Settings {
                    service: security_info_service,
                    keyring: security_info_keyring.clone(),
                    webauthn: myaccount_security_info::WebAuthnSettings {
                        rp_id: "localhost".into(),
                        rp_origin: web_origin.parse().expect("origin"),
                        rp_name: "MyAccount".into(),
                    },
                    totp_issuer: "MyAccount".into(),
                    sender: myaccount_security_info::notifications::SenderSettings::Log,
                    // No SMS or voice provider: the portal offers phones as unavailable.
                    phone: None,
                }
            )),
            Box::pin(myaccount_signals::Application::build(myaccount_signals::Settings {
                service: ServiceSettings::for_tests(
                    &myaccount_signals::SPEC,
                    signals_db.settings.clone(),
                    nats.settings_for(myaccount_signals::SPEC.name),
                    &jwks_url,
                )
                .trusting(gateway_only.clone()),
                encryption: signals_keyring.clone(),
                issuer: signals_issuer.clone(),
                receiver_token_ttl: Duration::from_secs(600),
                // A receiver that comes back is tried again within half a second.
                push: myaccount_signals::push::PushSettings {
                    timeout: Duration::from_secs(2),
                    initial_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_millis(500),
                },
                streams: myaccount_signals::service::StreamPolicy::default(),
                keys: signals_keys.clone(),
            })),
        );
        let identity = identity.expect("identity starts");
        let identity_port = identity.port();
        // The replica once identity's migrations are in place.
        let identity_replica = match replica_settings {
            Some(settings) => Some(
                myaccount_identity::Application::build(settings)
                    .await
                    .expect("the identity replica starts"),
            ),
            None => None,
        };
        let audit = audit.expect("audit starts");
        let audit_port = audit.port();
        let organizations = organizations.expect("organizations starts");
        let organizations_port = organizations.port();
        let devices = devices.expect("devices starts");
        let devices_port = devices.port();
        let security_info = security_info.expect("security-info starts");
        let signals = signals.expect("signals starts");
        let signals_port = signals.port();

        let answer_droppers = if options.answer_droppers {
            Some(AnswerDroppers {
                identity: AnswerDropper::start(identity_port).await,
                devices: AnswerDropper::start(devices_port).await,
            })
        } else {
            None
        };
        let (gateway_identity_port, gateway_devices_port) = answer_droppers
            .as_ref()
            .map_or((identity_port, devices_port), |d| (d.identity.port, d.devices.port));

        let gateway_settings = myaccount_gateway::Settings {
            host: "127.0.0.1".parse().expect("ip"),
            port: gateway_port,
            identity_url: format!("http://127.0.0.1:{gateway_identity_port}"),
            audit_url: format!("http://127.0.0.1:{audit_port}"),
            devices_url: format!("http://127.0.0.1:{gateway_devices_port}"),
            organizations_url: format!("http://127.0.0.1:{organizations_port}"),
            security_info_url: format!("http://127.0.0.1:{security_info_port}"),
            signals_url: format!("http://127.0.0.1:{signals_port}"),
            signals_issuer,
            jwks_url,
            section_deadline: Duration::from_millis(300),
            request_timeout: Duration::from_secs(10),
            body_limit: 64 * 1024,
            trust_forwarded_for,
            // Behind the tests' pretend proxy, its location headers are believed too.
            location_headers: if trust_forwarded_for {
                myaccount_gateway::location::LocationHeaders::Generic
            } else {
                myaccount_gateway::location::LocationHeaders::Off
            },
            cookie_keys: platform::crypto::Keyring::generate("e2e-cookies"),
            hsts: false,
            cors_allowed_origins: Vec::new(),
            rate_limits,
            service_concurrency_limit: 256,
            call_retries: 3,
            drain_delay: Duration::from_secs(1),
            client_tls: platform::tls::ClientTls::default(),
            workload_key: Some(gateway_key.clone()),
        };
        let second_gateway = if options.second_gateway {
            let settings = myaccount_gateway::Settings {
                port: 0,
                ..gateway_settings.clone()
            };
            Some(
                myaccount_gateway::Application::build(settings)
                    .await
                    .expect("the second gateway starts"),
            )
        } else {
            None
        };
        let gateway = myaccount_gateway::Application::build(gateway_settings)
            .await
            .expect("gateway starts");
        let gateway_url = format!("http://127.0.0.1:{}", gateway.port());
        let second_gateway_url = second_gateway
            .as_ref()
            .map(|g| format!("http://127.0.0.1:{}", g.port()));

        let audit_stop = audit.shutdown_token();
        let stops = vec![
            identity.shutdown_token(),
            audit.shutdown_token(),
            gateway.shutdown_token(),
            organizations.shutdown_token(),
            devices.shutdown_token(),
            security_info.shutdown_token(),
            signals.shutdown_token(),
        ];
        let mut admin_ports = vec![
            identity.admin_port(),
            audit.admin_port(),
            organizations.admin_port(),
            devices.admin_port(),
            security_info.admin_port(),
            signals.admin_port(),
        ];
        let mut stops = stops;
        if let Some(replica) = identity_replica {
            admin_ports.push(replica.admin_port());
            stops.push(replica.shutdown_token());
            tokio::spawn(replica.run_until_stopped());
        }
        if let Some(second) = second_gateway {
            stops.push(second.shutdown_token());
            tokio::spawn(second.run_until_stopped());
        }
        tokio::spawn(identity.run_until_stopped());
        tokio::spawn(audit.run_until_stopped());
        tokio::spawn(gateway.run_until_stopped());
        tokio::spawn(organizations.run_until_stopped());
        tokio::spawn(devices.run_until_stopped());
        tokio::spawn(security_info.run_until_stopped());
        tokio::spawn(signals.run_until_stopped());
        // Traffic only once every service is ready, its revocation feed loaded.
        for port in admin_ports {
            platform::testing::wait_until_ready(port).await;
        }

        Self {
            gateway: gateway_url,
            second_gateway: second_gateway_url,
            web_origin,
            http: reqwest::Client::new(),
            identity_port,
            identity_admin_port,
            audit_port,
            audit_db,
            devices_port,
            devices_db,
            organizations_port,
            organizations_db,
            identity_db,
            security_info_port,
            security_info_db,
            signals_port,
            signals_db,
            signals_keyring,
            signals_keys,
            nats,
            gateway_key: Arc::new(gateway_key),
            answer_droppers,
            security_info_keyring,
            stops,
            audit_stop,
            admin: tokio::sync::Mutex::default(),
        }
    }

    /// A channel to the service `audience` listening on `port`, whose calls carry the
    /// gateway's workload token as the gateway's do: how tests call a service directly.
    pub fn as_gateway(&self, port: u16, audience: &str) -> SignedAsWorkload<tonic::transport::Channel> {
        let channel = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .expect("a loopback address")
            .connect_lazy();
        SignedAsWorkload::new(channel, self.gateway_key.clone(), audience)
    }

    pub fn nats_settings(&self) -> &NatsSettings {
        &self.nats.settings
    }

    /// Stops the audit service (for degraded-overview tests).
    pub async fn stop_audit(&self) {
        self.audit_stop.cancel();
        let port = self.audit_port;
        platform::testing::eventually(Duration::from_secs(10), || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err()
        })
        .await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway)
    }

    /// The OpenAPI document the gateway publishes at `/openapi.json`.
    pub async fn published_document(&self) -> Value {
        self.http
            .get(self.url("/openapi.json"))
            .send()
            .await
            .expect("the gateway answers")
            .json()
            .await
            .expect("the document is JSON")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("gateway answers")
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Response {
        let mut rb = self.http.request(method, self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        rb.send().await.expect("gateway answers")
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn sign_in(&self, upn: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/sign-in",
            &json!({ "username": upn, "password": password }),
        )
        .await
    }

    pub async fn sign_in_ok(&self, user: &TestUser) -> Session {
        let response = self.sign_in(&user.upn, &user.password).await;
        assert_eq!(response.status(), StatusCode::OK, "sign-in of {}", user.upn);
        let body: Value = response.json().await.expect("json");
        Session {
            access_token: body["accessToken"].as_str().expect("accessToken").to_owned(),
            refresh_token: body["refreshToken"].as_str().expect("refreshToken").to_owned(),
        }
    }

    /// Creates a user through identity's admin API, signed in as the bootstrap admin.
    pub async fn create_user(&self) -> TestUser {
        self.create_user_in(&Uuid::new_v4().to_string()).await
    }

    /// Registers a Shared Signals receiver for `audience` as the operator (what
    /// `myaccount ssf add-receiver` does): its client id and secret.
    pub async fn add_ssf_receiver(&self, name: &str, audience: &str) -> (String, String) {
        use myaccount_proto::signals::v1 as signals;
        // Signals, like every service, takes calls from the gateway alone.
        let channel = self.as_gateway(self.signals_port, workload::SIGNALS);
        let registered = signals::signals_service_client::SignalsServiceClient::new(channel)
            .add_receiver(platform::testing::bearer(
                signals::AddReceiverRequest {
                    name: name.into(),
                    audience: audience.into(),
                },
                &self.admin_token().await,
            ))
            .await
            .expect("the operator registers a receiver")
            .into_inner();
        (registered.client_id, registered.client_secret)
    }

    /// The operator changes a Shared Signals stream's status (signals'
    /// `SetStreamStatusAsOperator`): the receiver is told with a stream-updated SET.
    pub async fn set_ssf_stream_status(&self, stream_id: &str, status: &str, reason: &str) {
        use myaccount_proto::signals::v1 as signals;
        let channel = self.as_gateway(self.signals_port, workload::SIGNALS);
        signals::signals_service_client::SignalsServiceClient::new(channel)
            .set_stream_status_as_operator(platform::testing::bearer(
                signals::UpdateStreamStatusRequest {
                    stream_id: stream_id.into(),
                    status: status.into(),
                    reason: reason.into(),
                },
                &self.admin_token().await,
            ))
            .await
            .expect("the operator changes the stream's status");
    }

    /// The bootstrap admin's access token (it carries the admin scope), from a multi-factor
    /// sign-in at most four minutes old: admin actions need one within ten. The first call
    /// registers an authenticator app for the admin.
    pub async fn admin_token(&self) -> String {
        let mut admin = self.admin.lock().await;
        if let Some((token, issued)) = &admin.token
            && issued.elapsed() < Duration::from_secs(240)
        {
            return token.clone();
        }
        if admin.app.is_none() {
            let first = self
                .sign_in_ok(&TestUser {
                    upn: ADMIN_UPN.into(),
                    password: ADMIN_PASSWORD.into(),
                    id: String::new(),
                })
                .await;
            let (app, step, _) = self.add_authenticator_app(&first.access_token).await;
            admin.app = Some(app);
            admin.last_step = step;
        }
        let challenge: Value = self
            .sign_in(ADMIN_UPN, ADMIN_PASSWORD)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(challenge["mfaRequired"], true, "{challenge}");
        // A step not answered yet, within the one-step tolerance around now.
        let step = (admin.last_step + 1).max(AuthenticatorApp::step_now().saturating_sub(1));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(61);
        while AuthenticatorApp::step_now() + 1 < step {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the clock did not reach step {step}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let code = admin.app.as_ref().map(|app| app.code(step)).unwrap_or_default();
        let answer = self
            .post_json(
                "/api/v1/auth/mfa",
                &json!({ "challengeId": challenge["challengeId"], "methodId": challenge["methods"][0]["id"], "code": code }),
            )
            .await;
        assert_eq!(answer.status(), StatusCode::OK, "the admin's second factor");
        let answer: Value = answer.json().await.expect("json");
        let token = answer["accessToken"].as_str().expect("accessToken").to_owned();
        admin.last_step = step;
        admin.token = Some((token.clone(), tokio::time::Instant::now()));
        token
    }

    /// As [`TestSystem::create_user`], with this home organization.
    pub async fn create_user_in(&self, home_organization_id: &str) -> TestUser {
        use myaccount_proto::identity::v1 as pb;
        let admin_token = self.admin_token().await;
        // There are no admin pages yet: the admin calls identity directly, as the gateway.
        let mut client = pb::identity_service_client::IdentityServiceClient::new(
            self.as_gateway(self.identity_port, workload::IDENTITY),
        );
        let upn = format!("user.{}@test.example", &Uuid::new_v4().simple().to_string()[..10]);
        let password = format!("maple {} orbit", Uuid::new_v4().simple());
        let mut request = tonic::Request::new(pb::CreateUserRequest {
            user_principal_name: upn.clone(),
            password: password.clone(),
            display_name: "Test User".into(),
            home_organization_id: home_organization_id.into(),
            ..Default::default()
        });
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {admin_token}").parse().expect("header"),
        );
        let profile = client.create_user(request).await.expect("user created").into_inner();
        TestUser {
            upn,
            password,
            id: profile.id,
        }
    }

    /// Every page of my sign-ins, following nextPageToken.
    pub async fn all_sign_ins(&self, token: &str, page_size: u32) -> Vec<Value> {
        let mut items = Vec::new();
        let mut page_token = String::new();
        loop {
            let mut path = format!("/api/v1/me/sign-ins?pageSize={page_size}");
            if !page_token.is_empty() {
                path.push_str(&format!("&pageToken={page_token}"));
            }
            let response = self.get(&path, token).await;
            assert_eq!(response.status(), StatusCode::OK);
            let body: Value = response.json().await.expect("json");
            items.extend(body["items"].as_array().expect("items").iter().cloned());
            match body["nextPageToken"].as_str() {
                Some(t) if !t.is_empty() => page_token = t.to_owned(),
                _ => return items,
            }
        }
    }

    /// Waits until `count` of my sign-ins are visible.
    pub async fn wait_for_sign_ins(&self, token: &str, count: usize) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let items = self.all_sign_ins(token, 100).await;
            if items.len() >= count {
                return items;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{count} sign-ins not visible within 20 s: only {}",
                items.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for TestSystem {
    fn drop(&mut self) {
        for stop in &self.stops {
            stop.cancel();
        }
        TestDatabase::drop_together(&mut [
            &mut self.identity_db,
            &mut self.audit_db,
            &mut self.devices_db,
            &mut self.organizations_db,
            &mut self.security_info_db,
            &mut self.signals_db,
        ]);
    }
}

/// The tiny GeoIP database the audit tests ship (RFC 5737 ranges: 192.0.2.x Seattle,
/// 198.51.100.x Paris, 203.0.113.x Sydney).
pub fn geo_test_database() -> std::path::PathBuf {
    platform::geoip::test_database("geoip2-city-test.mmdb")
}

/// A response header as text; empty when absent or not text.
pub fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Asserts a problem+json answer with this status and returns its body.
pub async fn assert_problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(header(&response, "content-type"), "application/problem+json");
    let body: Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], json!(status.as_u16()));
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    body
}

/// Devices and sessions: signing in from a device, refreshing, and the devices page.
impl TestSystem {
    /// Signs `user` in from a device: the client sends its device id (`x-device-id`) and its
    /// browser's user agent, as the web client does.
    pub async fn sign_in_on_device(&self, user: &TestUser, device_id: &str, user_agent: &str) -> Session {
        let response = self
            .http
            .post(self.url("/api/v1/auth/sign-in"))
            .header("x-device-id", device_id)
            .header("user-agent", user_agent)
            .json(&json!({ "username": user.upn, "password": user.password }))
            .send()
            .await
            .expect("gateway answers");
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "sign-in of {} on {device_id}",
            user.upn
        );
        let body: Value = response.json().await.expect("json");
        Session {
            access_token: body["accessToken"].as_str().expect("accessToken").to_owned(),
            refresh_token: body["refreshToken"].as_str().expect("refreshToken").to_owned(),
        }
    }

    /// `POST /api/v1/auth/refresh` with `refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post_json("/api/v1/auth/refresh", &json!({ "refreshToken": refresh_token }))
            .await
    }

    /// Registers a personal device through the gateway and returns its id.
    pub async fn register_device(&self, token: &str, name: &str, device_type: &str) -> String {
        let body = json!({ "displayName": name, "deviceType": device_type, "operatingSystem": "Windows" });
        let response = self
            .request(Method::POST, "/api/v1/me/devices", Some(token), Some(&body))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "registers {name}");
        let device: Value = response.json().await.expect("json");
        let id = device["id"].as_str().expect("an id").to_owned();
        self.wait_until_identity_knows_device(&id).await;
        id
    }

    /// Waits until identity has heard of the device (`devices.v1.registered`): only then does a
    /// sign-in naming it bind its session to it.
    pub async fn wait_until_identity_knows_device(&self, device_id: &str) {
        let device_id = Uuid::parse_str(device_id).expect("a device id");
        let pool = sqlx::PgPool::connect(&self.identity_db.settings.url)
            .await
            .expect("identity's database");
        platform::testing::eventually(Duration::from_secs(20), || {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM registered_devices WHERE device_id = $1")
                    .bind(device_id)
                    .fetch_one(&pool)
                    .await
                    .is_ok_and(|n| n == 1)
            }
        })
        .await;
        pool.close().await;
    }

    /// `GET /api/v1/me/devices`, the joined view.
    pub async fn devices_page(&self, token: &str) -> Value {
        let response = self.get("/api/v1/me/devices", token).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json")
    }
}

impl TestSystem {
    /// Registers an authenticator app ("Phone") for the person signed in with `token` and
    /// verifies it with the current code; returns the app, the time step that code used, and
    /// the method id.
    pub async fn add_authenticator_app(&self, token: &str) -> (AuthenticatorApp, u64, String) {
        let started = self
            .request(
                Method::POST,
                "/api/v1/me/security-info/methods",
                Some(token),
                Some(&json!({ "type": "authenticatorApp", "name": "Phone" })),
            )
            .await;
        assert_eq!(started.status(), StatusCode::CREATED);
        let started: Value = started.json().await.expect("json");
        assert_eq!(started["status"], "pending");
        assert!(
            started["otpauthUri"]
                .as_str()
                .expect("uri")
                .starts_with("otpauth://totp/MyAccount:Phone?secret=")
        );
        assert!(
            started["qrCode"]
                .as_str()
                .expect("qrCode")
                .starts_with("data:image/svg+xml;base64,")
        );
        let app = AuthenticatorApp::new(started["secret"].as_str().expect("secret"));
        let method_id = started["methodId"].as_str().expect("methodId").to_owned();
        let step = AuthenticatorApp::step_now();
        let verified = self
            .request(
                Method::POST,
                &format!("/api/v1/me/security-info/methods/{method_id}/verify"),
                Some(token),
                Some(&json!({ "code": app.code(step) })),
            )
            .await;
        assert_eq!(verified.status(), StatusCode::OK, "the app is verified");
        (app, step, method_id)
    }

    /// Signs in with the password (which must ask for the authenticator app) and answers the
    /// second step with `code`.
    pub async fn sign_in_with_code(&self, user: &TestUser, code: &str) -> reqwest::Response {
        let first: Value = self
            .sign_in(&user.upn, &user.password)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(first["mfaRequired"], true, "{first}");
        let method = &first["methods"][0];
        assert_eq!(method["type"], "authenticatorApp");
        self.post_json(
            "/api/v1/auth/mfa",
            &json!({ "challengeId": first["challengeId"], "methodId": method["id"], "code": code }),
        )
        .await
    }
}

impl TestSystem {
    /// Every notification requested so far (from the notifications stream, as the sender reads
    /// it), oldest first.
    pub async fn notifications(&self) -> Vec<myaccount_proto::events::v1::NotificationRequested> {
        use prost::Message;
        let bus = platform::events::EventBus::connect(&self.nats.settings, "e2e-notifications")
            .await
            .expect("connect to nats");
        platform::testing::stream_messages(&bus, platform::events::Stream::Notifications)
            .await
            .into_iter()
            .filter_map(|m| myaccount_proto::events::v1::NotificationRequested::decode(m.payload.as_ref()).ok())
            .collect()
    }

    /// The `nth` one-time code sent to `recipient` (counting from 0), opened with security-info's
    /// keyring as the notification sender opens it; waits until it has been requested.
    pub async fn code_sent_to(&self, recipient: &str, nth: usize) -> String {
        let start = tokio::time::Instant::now();
        loop {
            let codes: Vec<String> = self
                .notifications()
                .await
                .into_iter()
                .filter(|n| n.recipient == recipient)
                .filter_map(|n| {
                    myaccount_security_info::notifications::open_secret_parameters(&self.security_info_keyring, &n)
                        .expect("the sender opens every secret parameter")
                        .get("code")
                        .cloned()
                })
                .collect();
            if let Some(code) = codes.get(nth) {
                return code.clone();
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no code number {nth} for {recipient} (got {})",
                codes.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
