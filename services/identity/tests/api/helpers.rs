//! A real identity service per test: its own database, its own NATS namespace, free ports, and a
//! gRPC client. Typed helpers keep the tests about behaviour rather than plumbing.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::message::StreamMessage;
use chrono::{DateTime, Utc};
use myaccount_identity::tokens::TokenSettings;
use myaccount_identity::{Application, BootstrapAdmin, SPEC, Settings, SignInSettings};
use myaccount_proto::events::v1::{SessionRevoked, SignInRecorded};
use myaccount_proto::identity::v1 as pb;
use myaccount_proto::identity::v1::identity_service_client::IdentityServiceClient;
use platform::auth::{DEFAULT_AUDIENCE, DEFAULT_ISSUER, HttpJwks, TokenVerifier, VerifierSettings};
use platform::events::{Event, EventBus, Naming, Stream};
use platform::service::ServiceSettings;
use platform::testing::{StartedService, TestDatabase, TestNats};
pub use platform::testing::{assert_status, bearer, violated_fields};
use platform::workload::{GATEWAY, IDENTITY, SignedAsWorkload, TrustedCallers, WorkloadKey};
use prost::Message;
use sqlx::PgPool;
use tokio::sync::OnceCell;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_health::pb::health_client::HealthClient;
use uuid::Uuid;

pub const ADMIN_UPN: &str = "admin@contoso.example";
pub const ADMIN_PASSWORD: &str = "bootstrap: quartz lantern velvet orbit";
/// Long and unusual: passes the NIST/zxcvbn check for any of the test users.
pub const STRONG_PASSWORD: &str = "correct horse battery staple orbit";
pub const SIGN_IN_RECORDED: &str = "myaccount.signin.v1.recorded";
pub const USER_CREATED: &str = "myaccount.identity.v1.user_created";
pub const INVALID_CREDENTIALS: &str = "the user name or password is incorrect";
pub const INVALID_REFRESH_TOKEN: &str = "the refresh token is invalid, expired or already used; sign in again";

/// identity's client as the gateway holds it: every call carries the gateway's workload token.
pub type GatewayClient = IdentityServiceClient<SignedAsWorkload<Channel>>;

pub struct TestApp {
    pub admin_port: u16,
    /// Calls as the gateway makes them.
    pub identity: GatewayClient,
    /// The bare channel: calls on it carry no workload token, as a direct caller's would.
    pub channel: Channel,
    /// The gateway's workload key, the one identity trusts.
    pub gateway_key: WorkloadKey,
    /// The service's database, for checking what it stored.
    pub db: PgPool,
    pub naming: Naming,
    bus: EventBus,
    admin_token: OnceCell<String>,
    _service: StartedService,
    // Dropped last: they delete the database and the streams.
    _database: TestDatabase,
    _nats: TestNats,
}

/// A user created through CreateUser, with the password it was created with.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub upn: String,
    pub password: String,
    pub organization_id: Uuid,
}

/// The first lock-out of the service under test.
pub const LOCKOUT_BASE: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A service whose settings `configure` adjusts first.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::new("identity");
    let nats = TestNats::new();
    let mut db_settings = database.settings.clone();
    // Tests run many services side by side against one Postgres; a test needs only a few.
    db_settings.max_connections = 5;
    let gateway_key = WorkloadKey::generate(GATEWAY);
    let settings = Settings {
        service: ServiceSettings::for_tests(&SPEC, db_settings, nats.settings.clone(), "http://unused.invalid")
            .trusting(TrustedCallers::new().with_key(&gateway_key)),
        tokens: TokenSettings::new(DEFAULT_ISSUER, DEFAULT_AUDIENCE),
        // A first lock-out far longer than any test: whether a call lands inside it never
        // depends on how loaded the machine is.
        sign_in: SignInSettings {
            lockout_base: LOCKOUT_BASE,
            ..SignInSettings::default()
        },
        bootstrap_admin: Some(BootstrapAdmin {
            user_principal_name: ADMIN_UPN.into(),
            password: ADMIN_PASSWORD.into(),
        }),
        second_factors: None,
        workload_key: None,
        geoip_databases: vec![platform::geoip::test_database("geoip2-city-test.mmdb")],
    };
    let mut settings = settings;
    configure(&mut settings);
    let app = Application::build(settings).await.expect("identity starts");
    let admin_port = app.admin_port();
    let service = platform::testing::start_service(app, &database.settings).await;
    let channel = service.channel.clone();
    let db = service.db.clone();
    let bus = EventBus::connect(&nats.settings, "identity-tests")
        .await
        .expect("connect to nats");
    TestApp {
        admin_port,
        identity: IdentityServiceClient::new(SignedAsWorkload::new(
            channel.clone(),
            Arc::new(gateway_key.clone()),
            IDENTITY,
        )),
        channel,
        gateway_key,
        db,
        naming: nats.settings.naming(),
        bus,
        admin_token: OnceCell::new(),
        _service: service,
        _database: database,
        _nats: nats,
    }
}

/// A complete, valid CreateUser request for `upn`.
pub fn user_request(upn: &str) -> pb::CreateUserRequest {
    pb::CreateUserRequest {
        user_principal_name: upn.into(),
        password: STRONG_PASSWORD.into(),
        display_name: "Adele Vance".into(),
        given_name: "Adele".into(),
        surname: "Vance".into(),
        job_title: "Retail Manager".into(),
        department: "Retail".into(),
        office_location: "18/2111".into(),
        mobile_phone: "+1 425 555 0109".into(),
        business_phone: "+1 425 555 0100".into(),
        mail: upn.to_lowercase(),
        preferred_language: "en-US".into(),
        home_organization_id: Uuid::new_v4().to_string(),
        roles: vec![],
    }
}

/// A token of a session that was ended: `UNAUTHENTICATED`, saying why (`SESSION_REVOKED`).
pub fn assert_revoked(status: &Status, reason: &str) {
    assert_eq!(status.code(), Code::Unauthenticated, "unexpected status: {status:?}");
    assert_eq!(
        platform::revocation::revoked_reason(status).as_deref(),
        Some(reason),
        "unexpected status: {status:?}"
    );
}

impl TestApp {
    pub fn client(&self) -> GatewayClient {
        self.identity.clone()
    }

    /// A client of whoever can reach the port: its calls carry no workload token.
    pub fn direct_client(&self) -> IdentityServiceClient<Channel> {
        IdentityServiceClient::new(self.channel.clone())
    }

    pub async fn sign_in(&self, upn: &str, password: &str) -> Result<pb::TokenSet, Status> {
        self.sign_in_with(pb::SignInRequest {
            username: upn.into(),
            password: password.into(),
            ..Default::default()
        })
        .await
    }

    /// A sign-in as the gateway sends it: the gateway always says where the person is (here,
    /// the test's own address) unless the request says otherwise.
    pub async fn sign_in_with(&self, mut request: pb::SignInRequest) -> Result<pb::TokenSet, Status> {
        request.client.get_or_insert_with(|| pb::ClientContext {
            ip_address: "127.0.0.1".into(),
            ..Default::default()
        });
        let response = self.client().sign_in(request).await?.into_inner();
        match response.result {
            Some(pb::sign_in_response::Result::Tokens(tokens)) => Ok(tokens),
            other => panic!("a password sign-in of these users returns tokens, got {other:?}"),
        }
    }

    /// The bootstrap admin's access token (signed in once per test), as if a second factor had
    /// been proven too, as every admin action needs: identity runs here without security-info,
    /// so the test signs the same claims with `amr` naming one, with identity's own key.
    pub async fn admin_token(&self) -> String {
        self.admin_token
            .get_or_init(|| async {
                let password_only = self
                    .sign_in(ADMIN_UPN, ADMIN_PASSWORD)
                    .await
                    .expect("the bootstrap admin signs in")
                    .access_token;
                self.with_second_factor(&password_only).await
            })
            .await
            .clone()
    }

    /// `access_token`'s claims with `amr` of a multi-factor sign-in, signed with identity's key.
    pub async fn with_second_factor(&self, access_token: &str) -> String {
        let payload = access_token.split('.').nth(1).expect("a JWT");
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).expect("base64");
        let mut claims: platform::auth::Claims = serde_json::from_slice(&bytes).expect("claims");
        claims.amr = vec!["pwd".into(), "otp".into(), "mfa".into()];
        claims.auth_time = Utc::now().timestamp();
        let settings = TokenSettings::new(DEFAULT_ISSUER, DEFAULT_AUDIENCE);
        let schedule = myaccount_identity::tokens::KeySchedule::of(&settings);
        let keys = myaccount_identity::tokens::KeyStore::load(self.db.clone(), schedule)
            .await
            .expect("identity's signing keys");
        keys.sign(&claims).await.expect("signed")
    }

    /// CreateUser as the bootstrap admin.
    pub async fn create_user(&self, request: pb::CreateUserRequest) -> Result<pb::Profile, Status> {
        let token = self.admin_token().await;
        self.create_user_as(Some(&token), request).await
    }

    /// CreateUser with the given access token, or none.
    pub async fn create_user_as(
        &self,
        token: Option<&str>,
        request: pb::CreateUserRequest,
    ) -> Result<pb::Profile, Status> {
        let request = match token {
            Some(t) => bearer(request, t),
            None => Request::new(request),
        };
        Ok(self.client().create_user(request).await?.into_inner())
    }

    /// Creates a user with a valid profile and [`STRONG_PASSWORD`].
    pub async fn create_test_user(&self, upn: &str) -> TestUser {
        let request = user_request(upn);
        let organization_id = request.home_organization_id.parse().expect("a uuid");
        let profile = self.create_user(request).await.expect("the admin creates a user");
        TestUser {
            id: profile.id.parse().expect("profile id is a uuid"),
            upn: profile.user_principal_name,
            password: STRONG_PASSWORD.into(),
            organization_id,
        }
    }

    /// Creates a user and signs them in.
    pub async fn signed_in_user(&self, upn: &str) -> (TestUser, pb::TokenSet) {
        let user = self.create_test_user(upn).await;
        let tokens = self
            .sign_in(&user.upn, &user.password)
            .await
            .expect("the new user signs in");
        (user, tokens)
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<pb::TokenSet, Status> {
        let request = pb::RefreshTokenRequest {
            refresh_token: refresh_token.into(),
            client: None,
        };
        Ok(self.client().refresh_token(request).await?.into_inner())
    }

    pub async fn sign_out(&self, access_token: &str) -> Result<(), Status> {
        self.client()
            .sign_out(bearer(pb::SignOutRequest {}, access_token))
            .await?;
        Ok(())
    }

    pub async fn get_my_profile(&self, access_token: &str) -> Result<pb::Profile, Status> {
        Ok(self
            .client()
            .get_my_profile(bearer(pb::GetMyProfileRequest {}, access_token))
            .await?
            .into_inner())
    }

    pub async fn update_my_profile(
        &self,
        access_token: &str,
        changes: pb::ProfileChanges,
        paths: &[&str],
    ) -> Result<pb::Profile, Status> {
        let request = pb::UpdateMyProfileRequest {
            profile: Some(changes),
            update_mask: Some(prost_types::FieldMask {
                paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            }),
        };
        Ok(self
            .client()
            .update_my_profile(bearer(request, access_token))
            .await?
            .into_inner())
    }

    pub fn health(&self) -> HealthClient<Channel> {
        HealthClient::new(self.channel.clone())
    }

    /// A verifier that knows only what identity publishes on its admin port, as every other
    /// service would.
    pub fn jwks_url(&self) -> String {
        format!("http://127.0.0.1:{}/.well-known/jwks.json", self.admin_port)
    }

    pub fn jwks_verifier(&self) -> TokenVerifier {
        let url = self.jwks_url();
        TokenVerifier::new(
            VerifierSettings::new(DEFAULT_ISSUER, DEFAULT_AUDIENCE, &url),
            HttpJwks::new(url),
        )
    }

    pub async fn user_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&self.db)
            .await
            .expect("count users")
    }

    /// Payloads of the outbox rows on `subject`, oldest first.
    pub async fn outbox_payloads(&self, subject: &str) -> Vec<Vec<u8>> {
        sqlx::query_scalar("SELECT payload FROM platform.outbox WHERE subject = $1 ORDER BY created_at, id")
            .bind(subject)
            .fetch_all(&self.db)
            .await
            .expect("read the outbox")
    }

    /// Every `myaccount.signin.v1.recorded` event written to the outbox, oldest first.
    pub async fn sign_in_records(&self) -> Vec<SignInRecorded> {
        self.outbox_payloads(SIGN_IN_RECORDED)
            .await
            .into_iter()
            .map(|p| SignInRecorded::decode(p.as_slice()).expect("a SignInRecorded payload"))
            .collect()
    }

    /// The sign-in records of attempts with `upn` typed as the user name.
    pub async fn sign_in_records_for(&self, upn: &str) -> Vec<SignInRecorded> {
        self.sign_in_records()
            .await
            .into_iter()
            .filter(|r| r.user_principal_name == upn)
            .collect()
    }

    pub async fn unpublished_outbox_rows(&self) -> i64 {
        platform::outbox::backlog(&self.db).await.expect("outbox backlog")
    }

    /// Every message in this test's namespaced `stream`; empty while the stream does not exist.
    pub async fn stream_messages(&self, stream: Stream) -> Vec<StreamMessage> {
        platform::testing::stream_messages(&self.bus, stream).await
    }
}

pub const SESSION_REVOKED: &str = "myaccount.identity.v1.session_revoked";

impl TestApp {
    /// Every `session_revoked` written to the outbox, oldest first.
    pub async fn revocations(&self) -> Vec<SessionRevoked> {
        self.outbox_payloads(SESSION_REVOKED)
            .await
            .into_iter()
            .map(|p| SessionRevoked::decode(p.as_slice()).expect("a SessionRevoked payload"))
            .collect()
    }

    /// Publishes `event` as its owning service would (CloudEvents headers, `ce-id` = `event_id`);
    /// each call is a new message, so the same `event_id` twice is a redelivery.
    pub async fn publish<E: Event>(&self, event_id: &str, event: &E) {
        self.publish_at(event_id, event, None).await;
    }

    /// As [`TestApp::publish`], at `time` when given (now otherwise).
    pub async fn publish_at<E: Event>(&self, event_id: &str, event: &E, time: Option<DateTime<Utc>>) {
        let time = time.unwrap_or_else(Utc::now);
        platform::testing::publish_as(&self.bus, "myaccount/test", event_id, event, time).await;
    }

    pub async fn processed(&self, event_id: &str) -> bool {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM platform.processed_events WHERE event_id = $1)")
            .bind(event_id)
            .fetch_one(&self.db)
            .await
            .expect("read processed events")
    }

    /// Publishes `event` and waits until identity has handled it.
    pub async fn deliver<E: Event>(&self, event: &E, time: Option<DateTime<Utc>>) -> String {
        let event_id = Uuid::now_v7().to_string();
        self.publish_at(&event_id, event, time).await;
        platform::testing::eventually(Duration::from_secs(20), || async { self.processed(&event_id).await }).await;
        event_id
    }
}
