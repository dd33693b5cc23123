//! A real security-info service per test: its own database and NATS namespace, tokens from an
//! in-test issuer, an in-test SMTP server, and an independent TOTP implementation (totp-rs) and
//! software authenticator (webauthn-authenticator-rs) playing the person's devices, and an
//! in-test HTTP server playing the SMS and voice provider ([`FakePhoneProvider`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use myaccount_proto::events::v1::{
    MemberJoined, MemberLeft, NotificationRequested, OrganizationChanged, OrganizationMembershipKind, UserDeleted,
};
use myaccount_proto::securityinfo::v1 as pb;
use myaccount_proto::securityinfo::v1::security_info_service_client::SecurityInfoServiceClient;
use myaccount_security_info::notifications::{SenderSettings, open_secret_parameters};
pub use myaccount_security_info::phone::{PhoneProvider, PhoneSettings, Secret, WebhookAuth};
use myaccount_security_info::{Application, SPEC, Settings, WebAuthnSettings};
use platform::auth::{Claims, MFA_REGISTRATION_SCOPE};
use platform::crypto::Keyring;
use platform::events::{Event, EventBus, Naming, Stream};
use platform::service::ServiceSettings;
use platform::testing::{StartedService, TestDatabase, TestGateway, TestIssuer, TestNats, eventually};
pub use platform::testing::{assert_status, bearer, violated_fields, with_workload_token};
use platform::workload::{IDENTITY, SignedAsWorkload, WorkloadKey};
use prost::Message;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tonic::transport::Channel;
use tonic::{Code, Status};
use url::Url;
use uuid::Uuid;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

pub const ORIGIN: &str = "http://localhost:8080";

pub struct TestApp {
    /// Calls as the gateway makes them: security-info takes a person's calls from it alone.
    pub client: SecurityInfoServiceClient<SignedAsWorkload<Channel>>,
    /// The bare channel: calls on it carry only the workload token a test puts there (identity's
    /// internal calls, a direct caller's).
    pub channel: Channel,
    pub gateway: TestGateway,
    /// identity's workload key, the one security-info trusts for the second-factor checks.
    pub identity_key: WorkloadKey,
    pub db: PgPool,
    pub naming: Naming,
    pub issuer: TestIssuer,
    pub nats: platform::events::NatsSettings,
    pub smtp: Option<SmtpSink>,
    /// The SMS and voice provider the service sends to (a webhook, unless the test chose
    /// otherwise through `settings.phone`).
    pub phone: FakePhoneProvider,
    /// The service's keyring: what the notification sender opens codes with.
    pub keyring: Keyring,
    _service: StartedService,
    _database: TestDatabase,
    _nats: TestNats,
}

/// How the person signed in, as their token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedIn {
    /// Password and a second factor, just now.
    WithMfa,
    /// Password only, just now.
    PasswordOnly,
    /// Password and a second factor, 11 minutes ago (outside the 10-minute step-up window).
    WithMfaLongAgo,
    /// An app password, just now: a read-only session.
    AppPassword,
    /// Password only, into an organization that requires MFA: identity's registration token
    /// ("more information required"), whose `sid` names the interrupted sign-in.
    ForMfaRegistration,
}

/// A person and their access token.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: Uuid,
    pub organization_id: String,
    pub token: String,
}

pub async fn spawn_app() -> TestApp {
    spawn(SenderSettings::Log, |_| {}).await
}

/// The bearer token the default webhook provider expects.
pub const WEBHOOK_TOKEN: &str = "webhook-test-token";

/// With settings the test adjusts (say, a contended pool).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn(SenderSettings::Log, configure).await
}

/// With the SMTP sender pointed at an SMTP server owned by the test.
pub async fn spawn_app_with_smtp() -> TestApp {
    let sink = SmtpSink::start().await;
    let sender = SenderSettings::Smtp {
        host: "127.0.0.1".into(),
        port: sink.port,
        from: "MyAccount <no-reply@contoso.example>".into(),
    };
    let mut app = spawn(sender, |_| {}).await;
    app.smtp = Some(sink);
    app
}

async fn spawn(sender: SenderSettings, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::new("securityinfo");
    let nats = TestNats::new();
    let issuer = TestIssuer::new();
    let mut db_settings = database.settings.clone();
    db_settings.max_connections = 5;
    let identity_key = WorkloadKey::generate(IDENTITY);
    let gateway = TestGateway::new();
    let phone = FakePhoneProvider::start().await;
    let mut settings = Settings {
        service: ServiceSettings::for_tests(&SPEC, db_settings, nats.settings.clone(), "http://unused.invalid")
            .trusting(gateway.trusted().with_key(&identity_key)),
        keyring: Keyring::generate("k1"),
        webauthn: WebAuthnSettings {
            rp_id: "localhost".into(),
            rp_origin: Url::parse(ORIGIN).expect("origin"),
            rp_name: "MyAccount".into(),
        },
        totp_issuer: "MyAccount".into(),
        sender,
        phone: Some(phone.webhook_settings(WebhookAuth::Bearer(Secret::new(WEBHOOK_TOKEN)))),
    };
    configure(&mut settings);
    let keyring = settings.keyring.clone();
    let app = Application::build_with_verifier(settings, issuer.verifier())
        .await
        .expect("security-info starts");
    let service = platform::testing::start_service(app, &database.settings).await;
    TestApp {
        client: SecurityInfoServiceClient::new(gateway.sign(service.channel.clone(), SPEC.name)),
        channel: service.channel.clone(),
        gateway,
        identity_key,
        db: service.db.clone(),
        naming: nats.settings.naming(),
        nats: nats.settings.clone(),
        issuer,
        smtp: None,
        phone,
        keyring,
        _service: service,
        _database: database,
        _nats: nats,
    }
}

#[track_caller]
pub fn assert_reauthentication_required(status: &Status) {
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(platform::error::is_reauthentication_required(status), "{status:?}");
    assert!(status.message().contains("sign in again"), "{status:?}");
}

// --- the person's devices

/// An authenticator app, independent of the service's TOTP code (totp-rs).
pub struct AuthenticatorApp {
    totp: totp_rs::TOTP,
}

impl AuthenticatorApp {
    pub fn from_base32(secret: &str) -> Self {
        let bytes = totp_rs::Secret::Encoded(secret.to_owned())
            .to_bytes()
            .expect("a base32 secret");
        Self {
            totp: totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes),
        }
    }

    pub fn current_step() -> u64 {
        u64::try_from(Utc::now().timestamp()).expect("after 1970") / 30
    }

    /// The code shown during the 30-second step `step`.
    pub fn code_at_step(&self, step: u64) -> String {
        self.totp.generate(step * 30)
    }
}

/// A software passkey that really signs (P-256), as a browser with a platform authenticator.
pub fn software_key() -> WebauthnAuthenticator<SoftPasskey> {
    WebauthnAuthenticator::new(SoftPasskey::new(true))
}

pub fn origin() -> Url {
    Url::parse(ORIGIN).expect("origin")
}

// --- tokens and calls

impl TestApp {
    pub fn token(&self, user_id: Uuid, organization_id: &str, how: SignedIn) -> String {
        let mut claims: Claims = self.issuer.claims_for(user_id);
        claims.org = Some(organization_id.to_owned());
        match how {
            SignedIn::WithMfa => claims.amr = vec!["pwd".into(), "otp".into(), "mfa".into()],
            SignedIn::PasswordOnly => claims.amr = vec!["pwd".into()],
            SignedIn::WithMfaLongAgo => {
                claims.amr = vec!["pwd".into(), "otp".into(), "mfa".into()];
                claims.auth_time -= 11 * 60;
            }
            SignedIn::AppPassword => {
                claims.amr = vec![platform::auth::APP_PASSWORD_AMR.into()];
                claims.scope = Some(platform::auth::READ_ONLY_SCOPE.into());
            }
            SignedIn::ForMfaRegistration => {
                claims.amr = vec!["pwd".into()];
                claims.scope = Some(MFA_REGISTRATION_SCOPE.into());
            }
        }
        self.issuer.sign(&claims)
    }

    pub fn person(&self, how: SignedIn) -> Person {
        let id = Uuid::new_v4();
        let organization_id = Uuid::new_v4().to_string();
        Person {
            token: self.token(id, &organization_id, how),
            id,
            organization_id,
        }
    }

    /// The same person signed in another way.
    pub fn again(&self, person: &Person, how: SignedIn) -> Person {
        Person {
            token: self.token(person.id, &person.organization_id, how),
            ..person.clone()
        }
    }

    /// identity's workload token for security-info, as identity's calls carry it.
    pub fn identity_token(&self) -> String {
        self.identity_key.token_for(SPEC.name).expect("signed")
    }

    /// `message` as identity sends it: with its workload token, on no person's token.
    pub fn as_identity_sends<T>(&self, message: T) -> tonic::Request<T> {
        with_workload_token(tonic::Request::new(message), &self.identity_token())
    }

    pub fn c(&self) -> SecurityInfoServiceClient<SignedAsWorkload<Channel>> {
        self.client.clone()
    }

    /// A client on the bare channel: only the workload token the request carries goes along.
    pub fn direct(&self) -> SecurityInfoServiceClient<Channel> {
        SecurityInfoServiceClient::new(self.channel.clone())
    }

    pub async fn security_info(&self, p: &Person) -> pb::SecurityInfo {
        self.c()
            .get_my_security_info(bearer(pb::GetMySecurityInfoRequest {}, &p.token))
            .await
            .expect("security info")
            .into_inner()
    }

    pub async fn start_app(&self, p: &Person, name: &str) -> Result<pb::AuthenticatorAppRegistration, Status> {
        let r = pb::StartAuthenticatorAppRegistrationRequest { name: name.into() };
        Ok(self
            .c()
            .start_authenticator_app_registration(bearer(r, &p.token))
            .await?
            .into_inner())
    }

    pub async fn verify(&self, p: &Person, method_id: &str, code: &str) -> Result<pb::Method, Status> {
        let r = pb::VerifyMethodRequest {
            method_id: method_id.into(),
            code: code.into(),
        };
        Ok(self.c().verify_method(bearer(r, &p.token)).await?.into_inner())
    }

    /// Registers an authenticator app end to end; returns the method and the app.
    pub async fn register_app(&self, p: &Person, name: &str) -> (pb::Method, AuthenticatorApp, u64) {
        let started = self.start_app(p, name).await.expect("start authenticator app");
        let app = AuthenticatorApp::from_base32(&started.secret);
        let step = AuthenticatorApp::current_step();
        let method = self
            .verify(p, &started.method_id, &app.code_at_step(step))
            .await
            .expect("the current code registers the app");
        (method, app, step)
    }

    pub async fn start_phone(
        &self,
        p: &Person,
        phone_type: pb::PhoneType,
        number: &str,
    ) -> Result<pb::PendingMethod, Status> {
        let r = pb::StartPhoneRegistrationRequest {
            phone_type: phone_type.into(),
            phone_number: number.into(),
            delivery: pb::PhoneDelivery::Unspecified.into(),
        };
        Ok(self
            .c()
            .start_phone_registration(bearer(r, &p.token))
            .await?
            .into_inner())
    }

    pub async fn start_email(&self, p: &Person, email: &str) -> Result<pb::PendingMethod, Status> {
        let r = pb::StartEmailRegistrationRequest { email: email.into() };
        Ok(self
            .c()
            .start_email_registration(bearer(r, &p.token))
            .await?
            .into_inner())
    }

    pub async fn remove(&self, p: &Person, method_id: &str) -> Result<(), Status> {
        let r = pb::RemoveMethodRequest {
            method_id: method_id.into(),
        };
        self.c().remove_method(bearer(r, &p.token)).await?;
        Ok(())
    }

    pub async fn set_default(&self, p: &Person, method_id: &str) -> Result<pb::SecurityInfo, Status> {
        let r = pb::SetDefaultMethodRequest {
            method_id: method_id.into(),
        };
        Ok(self.c().set_default_method(bearer(r, &p.token)).await?.into_inner())
    }

    pub async fn create_app_password(&self, p: &Person, name: &str) -> Result<pb::AppPasswordCreated, Status> {
        let r = pb::CreateAppPasswordRequest { name: name.into() };
        Ok(self.c().create_app_password(bearer(r, &p.token)).await?.into_inner())
    }

    pub async fn recovery_codes(&self, p: &Person) -> Result<pb::RecoveryCodes, Status> {
        Ok(self
            .c()
            .generate_recovery_codes(bearer(pb::GenerateRecoveryCodesRequest {}, &p.token))
            .await?
            .into_inner())
    }

    pub async fn register_security_key(
        &self,
        p: &Person,
        key: &mut WebauthnAuthenticator<SoftPasskey>,
        name: &str,
    ) -> Result<pb::Method, Status> {
        let started = self
            .c()
            .start_security_key_registration(bearer(
                pb::StartSecurityKeyRegistrationRequest { name: name.into() },
                &p.token,
            ))
            .await?
            .into_inner();
        let options = serde_json::from_str(&started.creation_options_json).expect("creation options JSON");
        let credential = key.do_registration(origin(), options).expect("the key registers");
        let r = pb::CompleteSecurityKeyRegistrationRequest {
            method_id: started.method_id,
            credential_json: serde_json::to_string(&credential).expect("json"),
        };
        Ok(self
            .c()
            .complete_security_key_registration(bearer(r, &p.token))
            .await?
            .into_inner())
    }

    pub async fn export(&self, p: &Person) -> Result<pb::SecurityInfoExport, Status> {
        Ok(self
            .c()
            .export_my_data(bearer(pb::ExportMyDataRequest {}, &p.token))
            .await?
            .into_inner())
    }

    // --- the internal calls identity makes

    /// The person's second factors, asked with `workload_token` (identity's: [`Self::identity_token`]).
    pub async fn second_factors(&self, user_id: Uuid, workload_token: &str) -> Result<pb::SecondFactors, Status> {
        let r = pb::ListSecondFactorsRequest {
            user_id: user_id.to_string(),
        };
        let request = with_workload_token(tonic::Request::new(r), workload_token);
        Ok(self.direct().list_second_factors(request).await?.into_inner())
    }

    /// The person's second factors, asked with a person's access token and no workload token.
    pub async fn second_factors_as_person(
        &self,
        user_id: Uuid,
        access_token: &str,
    ) -> Result<pb::SecondFactors, Status> {
        let r = pb::ListSecondFactorsRequest {
            user_id: user_id.to_string(),
        };
        Ok(self
            .direct()
            .list_second_factors(bearer(r, access_token))
            .await?
            .into_inner())
    }

    pub async fn begin_factor(&self, user_id: Uuid, method_id: &str) -> pb::SecondFactorPrompt {
        let r = pb::BeginSecondFactorRequest {
            user_id: user_id.to_string(),
            method_id: method_id.into(),
        };
        self.direct()
            .begin_second_factor(self.as_identity_sends(r))
            .await
            .expect("begin second factor")
            .into_inner()
    }

    pub async fn check_code(&self, user_id: Uuid, method_id: &str, code: &str) -> pb::SecondFactorVerification {
        self.check(
            user_id,
            method_id,
            pb::verify_second_factor_request::Proof::Code(code.into()),
        )
        .await
    }

    pub async fn check(
        &self,
        user_id: Uuid,
        method_id: &str,
        proof: pb::verify_second_factor_request::Proof,
    ) -> pb::SecondFactorVerification {
        let r = pb::VerifySecondFactorRequest {
            user_id: user_id.to_string(),
            method_id: method_id.into(),
            proof: Some(proof),
        };
        self.direct()
            .verify_second_factor(self.as_identity_sends(r))
            .await
            .expect("verify second factor")
            .into_inner()
    }

    pub async fn check_app_password(&self, user_id: Uuid, password: &str) -> bool {
        let r = pb::VerifyAppPasswordRequest {
            user_id: user_id.to_string(),
            password: password.into(),
        };
        self.direct()
            .verify_app_password(self.as_identity_sends(r))
            .await
            .expect("verify app password")
            .into_inner()
            .valid
    }

    // --- what was published

    /// Every message of a stream in this test's namespace (empty until it exists).
    pub async fn messages(&self, stream: Stream) -> Vec<(String, Vec<u8>)> {
        let bus = EventBus::connect(&self.nats, "test").await.expect("nats");
        platform::testing::stream_messages(&bus, stream)
            .await
            .into_iter()
            .map(|m| {
                (
                    self.naming.logical_subject(m.subject.as_str()).to_owned(),
                    m.payload.to_vec(),
                )
            })
            .collect()
    }

    /// Subjects of the security-info events about `user_id`, in order, once `count` are there.
    pub async fn security_events(&self, user_id: Uuid, count: usize) -> Vec<String> {
        wait_for(|| async move {
            let found: Vec<String> = self
                .messages(Stream::SecurityInfo)
                .await
                .into_iter()
                .filter(|(_, payload)| {
                    // Every security-info event has user_id as field 1.
                    myaccount_proto::events::v1::SecurityMethodAdded::decode(payload.as_slice())
                        .is_ok_and(|e| e.user_id == user_id.to_string())
                })
                .map(|(subject, _)| subject)
                .collect();
            (found.len() >= count).then_some(found)
        })
        .await
    }

    pub async fn notifications(&self) -> Vec<NotificationRequested> {
        self.messages(Stream::Notifications)
            .await
            .into_iter()
            .filter_map(|(_, p)| NotificationRequested::decode(p.as_slice()).ok())
            .collect()
    }

    /// The `nth` code sent to `recipient`, read from the notification event on JetStream and
    /// opened with the keyring, as the notification sender does.
    pub async fn code_sent_to(&self, recipient: &str, nth: usize) -> String {
        wait_for(|| async move {
            let codes: Vec<String> = self
                .notifications()
                .await
                .into_iter()
                .filter(|n| n.recipient == recipient)
                .map(|n| open_secret_parameters(&self.keyring, &n).expect("the sender opens every secret parameter"))
                .filter_map(|parameters| parameters.get("code").cloned())
                .collect();
            codes.get(nth).cloned()
        })
        .await
    }

    /// Publishes `myaccount.organizations.v1.changed` as the organizations service would and
    /// waits until the projection has it.
    pub async fn organization_changed(&self, organization_id: &str, mfa_required: bool) {
        let event = OrganizationChanged {
            organization_id: organization_id.into(),
            display_name: "Contoso".into(),
            mfa_required,
            sign_in_retention_days: 30,
            time: Some(prost_types::Timestamp {
                seconds: Utc::now().timestamp(),
                nanos: 0,
            }),
            ..Default::default()
        };
        let bus = EventBus::connect(&self.nats, "test").await.expect("nats");
        let id = Uuid::new_v4().to_string();
        platform::testing::publish_as(&bus, "myaccount/organizations", &id, &event, Utc::now()).await;
        let db = self.db.clone();
        let org = organization_id.to_owned();
        eventually(Duration::from_secs(10), || {
            let db = db.clone();
            let org = org.clone();
            async move {
                sqlx::query_scalar::<_, bool>(
                    "SELECT mfa_required FROM organization_policies WHERE organization_id = $1",
                )
                .bind(&org)
                .fetch_optional(&db)
                .await
                .ok()
                .flatten()
                    == Some(mfa_required)
            }
        })
        .await;
    }

    /// Publishes an event to JetStream the way a service's outbox relay would, with `ce-id`
    /// `event_id`. Each call is a new message (its own `Nats-Msg-Id`), so the same `event_id`
    /// twice is a redelivery the consumer must recognise.
    pub async fn publish<E: Event>(&self, event_id: &str, event: &E) {
        let bus = EventBus::connect(&self.nats, "test").await.expect("nats");
        platform::testing::publish_as(&bus, "myaccount/identity", event_id, event, Utc::now()).await;
    }

    /// organizations says `user_id` joined `organization_id`; waits until the rule knows it.
    pub async fn member_joined(&self, user_id: Uuid, organization_id: &str, kind: OrganizationMembershipKind) {
        let event = MemberJoined {
            user_id: user_id.to_string(),
            organization_id: organization_id.into(),
            kind: kind.into(),
            ..Default::default()
        };
        self.publish(&Uuid::now_v7().to_string(), &event).await;
        self.wait_for_membership(user_id, organization_id, true).await;
    }

    /// organizations says `user_id` left `organization_id`; waits until the rule knows it.
    pub async fn member_left(&self, user_id: Uuid, organization_id: &str) {
        let event = MemberLeft {
            user_id: user_id.to_string(),
            organization_id: organization_id.into(),
            ..Default::default()
        };
        self.publish(&Uuid::now_v7().to_string(), &event).await;
        self.wait_for_membership(user_id, organization_id, false).await;
    }

    async fn wait_for_membership(&self, user_id: Uuid, organization_id: &str, present: bool) {
        eventually(Duration::from_secs(10), || async move {
            self.is_member(user_id, organization_id).await == present
        })
        .await;
    }

    /// Whether the membership projection has `user_id` in `organization_id` now.
    pub async fn is_member(&self, user_id: Uuid, organization_id: &str) -> bool {
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM memberships WHERE user_id = $1 AND organization_id = $2 AND left_at IS NULL",
        )
        .bind(user_id)
        .bind(organization_id)
        .fetch_optional(&self.db)
        .await
        .expect("memberships");
        found.is_some()
    }

    /// Identity deletes the account; returns the event id.
    pub async fn user_deleted(&self, user_id: Uuid) -> String {
        let id = Uuid::now_v7().to_string();
        let event = UserDeleted {
            user_id: user_id.to_string(),
            time: None,
        };
        self.publish(&id, &event).await;
        id
    }

    /// Waits until security-info has processed the event `event_id` of consumer `durable`
    /// (`securityinfo_user_deleted`).
    pub async fn wait_until_processed(&self, durable: &str, event_id: &str) {
        platform::testing::wait_until_processed(&self.db, durable, event_id).await;
    }

    /// Rows of every table a person's data lives in, for "nothing changed" and erasure checks.
    pub async fn row_counts(&self) -> RowCounts {
        let count = |table| platform::testing::row_count(&self.db, table);
        RowCounts {
            methods: count("methods").await,
            recovery_codes: count("recovery_codes").await,
            one_time_codes: count("one_time_codes").await,
            webauthn_ceremonies: count("webauthn_ceremonies").await,
            default_methods: count("default_methods").await,
            erased_users: count("platform.erased_users").await,
        }
    }

    pub async fn method_rows(&self, user_id: Uuid) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM methods WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&self.db)
            .await
            .expect("count methods")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    pub methods: i64,
    pub recovery_codes: i64,
    pub one_time_codes: i64,
    pub webauthn_ceremonies: i64,
    pub default_methods: i64,
    pub erased_users: i64,
}

// --- an SMTP server for the test

/// A minimal SMTP server that accepts every message and keeps it.
pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let port = listener.local_addr().expect("addr").port();
        let messages: Arc<Mutex<Vec<String>>> = Arc::default();
        let store = messages.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                    let mut data: Option<String> = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(body) = data.as_mut() {
                            if line == "." {
                                let message = decode_body(&data.take().unwrap_or_default());
                                store.lock().expect("lock").push(message);
                                let _ = write.write_all(b"250 queued\r\n").await;
                            } else {
                                body.push_str(&line);
                                body.push('\n');
                            }
                            continue;
                        }
                        let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250 sink\r\n",
                            "DATA" => {
                                data = Some(String::new());
                                b"354 go ahead\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"250 ok\r\n",
                        };
                        let _ = write.write_all(reply).await;
                    }
                });
            }
        });
        Self { port, messages }
    }

    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().expect("lock").clone()
    }

    /// Waits for a message to `address` containing `needle`; returns it.
    pub async fn wait_for(&self, address: &str, needle: &str) -> String {
        wait_for(|| {
            let messages = self.messages();
            async move {
                messages
                    .into_iter()
                    .find(|m| m.contains(&format!("To: {address}")) && m.contains(needle))
            }
        })
        .await
    }
}

/// Polls until `probe` finds something; panics after 15 seconds. For things that arrive
/// asynchronously (events, mail), instead of sleeping a guessed time.
pub async fn wait_for<T, F, Fut>(mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "not found within 15s");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Headers as sent, then the body decoded from quoted-printable or base64 when so encoded.
fn decode_body(raw: &str) -> String {
    let (headers, body) = raw.split_once("\n\n").unwrap_or((raw, ""));
    let lower = headers.to_ascii_lowercase();
    let decoded = if lower.contains("content-transfer-encoding: quoted-printable") {
        let joined = body.replace("=\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && let Ok(b) = u8::from_str_radix(joined.get(i + 1..i + 3).unwrap_or(""), 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    } else if lower.contains("content-transfer-encoding: base64") {
        use base64::Engine;
        let compact: String = body.split_whitespace().collect();
        String::from_utf8_lossy(
            &base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap_or_default(),
        )
        .into_owned()
    } else {
        body.to_owned()
    };
    format!("{headers}\n\n{decoded}")
}

/// The six-digit code in an email body.
pub fn code_in(message: &str) -> String {
    message
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a six-digit code in the message")
        .to_owned()
}

// --- the SMS and voice provider

/// One request the provider received.
#[derive(Debug, Clone)]
pub struct ProviderRequest {
    pub path: String,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    pub at: std::time::Instant,
}

impl ProviderRequest {
    /// The form fields of a Twilio-style request.
    pub fn form(&self) -> std::collections::HashMap<String, String> {
        url::form_urlencoded::parse(self.body.as_bytes()).into_owned().collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
}

/// What the provider answers to one request, in the order scripted; after the script it
/// answers `201 {"sid": "SM<n>"}`.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<u64>,
    /// How long it waits before answering.
    pub delay: Duration,
}

impl Scripted {
    pub fn status(status: u16, body: &str) -> Self {
        Self {
            status,
            body: body.to_owned(),
            retry_after: None,
            delay: Duration::ZERO,
        }
    }
}

#[derive(Default)]
struct ProviderState {
    received: Vec<ProviderRequest>,
    script: std::collections::VecDeque<Scripted>,
}

/// An HTTP server on a free loopback port playing the SMS and voice provider: it records every
/// request and answers as scripted.
#[derive(Clone)]
pub struct FakePhoneProvider {
    pub base_url: Url,
    state: Arc<Mutex<ProviderState>>,
    _server: Arc<tokio::task::JoinHandle<()>>,
}

impl FakePhoneProvider {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(ProviderState::default()));
        let shared = state.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: String| {
                let state = shared.clone();
                async move {
                    let scripted = {
                        let mut state = state.lock().expect("provider state");
                        state.received.push(ProviderRequest {
                            path: uri.path().to_owned(),
                            headers,
                            body,
                            at: std::time::Instant::now(),
                        });
                        let n = state.received.len();
                        state
                            .script
                            .pop_front()
                            .unwrap_or_else(|| Scripted::status(201, &format!("{{\"sid\":\"SM{n}\"}}")))
                    };
                    tokio::time::sleep(scripted.delay).await;
                    let mut response = axum::response::Response::builder()
                        .status(scripted.status)
                        .header("content-type", "application/json");
                    if let Some(seconds) = scripted.retry_after {
                        response = response.header("retry-after", seconds.to_string());
                    }
                    response
                        .body(axum::body::Body::from(scripted.body))
                        .expect("a response")
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("provider serves");
        });
        Self {
            base_url: Url::parse(&format!("http://127.0.0.1:{port}/")).expect("url"),
            state,
            _server: Arc::new(server),
        }
    }

    /// Answers the next requests as `script` says, in order.
    pub fn script(&self, script: impl IntoIterator<Item = Scripted>) {
        self.state.lock().expect("provider state").script.extend(script);
    }

    pub fn received(&self) -> Vec<ProviderRequest> {
        self.state.lock().expect("provider state").received.clone()
    }

    /// Waits until the provider has received `n` requests.
    pub async fn wait_for(&self, n: usize) -> Vec<ProviderRequest> {
        eventually(Duration::from_secs(20), || async { self.received().len() >= n }).await;
        self.received()
    }

    /// Settings for a webhook at `/messages` with `auth`.
    pub fn webhook_settings(&self, auth: WebhookAuth) -> PhoneSettings {
        self.settings(PhoneProvider::Webhook {
            url: self.base_url.join("messages").expect("url"),
            auth,
        })
    }

    /// Settings for a Twilio-style API here.
    pub fn twilio_settings(&self, account_sid: &str, auth_token: &str) -> PhoneSettings {
        self.settings(PhoneProvider::Twilio {
            base_url: self.base_url.clone(),
            account_sid: account_sid.to_owned(),
            auth_token: Secret::new(auth_token),
        })
    }

    fn settings(&self, provider: PhoneProvider) -> PhoneSettings {
        let mut retry = platform::retry::RetrySettings::new(3);
        retry.first_backoff = Duration::from_millis(50);
        PhoneSettings {
            provider,
            from: "+14255550100".into(),
            timeout: Duration::from_millis(800),
            retry,
            max_retry_after: Duration::from_secs(5),
        }
    }
}
