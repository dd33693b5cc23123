//! A real audit service per test: its own database, its own NATS namespace, free ports, a gRPC
//! client, and a token issuer standing in for identity. Sign-in events reach the service the way
//! identity's reach it in production: written to an outbox and published by the platform's
//! outbox relay. Malformed and duplicate deliveries are published onto JetStream directly.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::message::StreamMessage;
use chrono::{DateTime, Utc};
use myaccount_audit::{Application, SPEC, Settings};
use myaccount_proto::audit::v1 as pb;
use myaccount_proto::audit::v1::audit_service_client::AuditServiceClient;
use myaccount_proto::events::v1::{SignInFailureReason, SignInRecorded, SignInStatus, UserDeleted};
use platform::events::{Event, EventBus, Stream, headers};
use platform::outbox::{OutboxRelay, OutgoingEvent, publish_in_tx};
use platform::service::ServiceSettings;
use platform::testing::{StartedService, TestDatabase, TestGateway, TestIssuer, TestNats, eventually};
pub use platform::testing::{assert_status, bearer};
use platform::workload::SignedAsWorkload;
use prost::Message;
use sqlx::PgPool;
use tonic::Status;
use tonic::transport::Channel;
use uuid::Uuid;

pub const SIGN_IN_RECORDED: &str = "myaccount.signin.v1.recorded";
/// Where audit's consumer of sign-in events puts what it cannot apply.
pub const DEAD_LETTER_SUBJECT: &str = "myaccount.deadletter.v1.audit_recorded";
/// The durable consumer audit creates for `myaccount.signin.v1.recorded`.
const CONSUMER: &str = "audit_recorded";
/// How long an event may take from JetStream into the sign-in log.
pub const INGEST_DEADLINE: Duration = Duration::from_secs(15);

pub struct TestApp {
    /// Calls as the gateway makes them: audit takes a person's calls from it alone.
    pub audit: AuditServiceClient<SignedAsWorkload<Channel>>,
    /// The bare channel: calls on it carry no workload token, as a direct caller's would.
    pub channel: Channel,
    pub gateway: TestGateway,
    /// The service's database, for checking what it stored.
    pub db: PgPool,
    pub bus: EventBus,
    /// Signs access tokens the service accepts.
    pub issuer: TestIssuer,
    /// Identity's side of the pipe: an outbox and the platform's relay.
    upstream: OutboxRelay,
    upstream_db: PgPool,
    _service: StartedService,
    // Dropped last: they delete the databases and the streams.
    _database: TestDatabase,
    _upstream_database: TestDatabase,
    _nats: TestNats,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// With settings the test adjusts (say, a contended pool).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::new("audit");
    let upstream_database = TestDatabase::new("audit_upstream");
    let nats = TestNats::new();
    let issuer = TestIssuer::new();
    let gateway = TestGateway::new();
    let mut db_settings = database.settings.clone();
    // Tests run many services side by side against one Postgres; a test needs only a few.
    db_settings.max_connections = 5;
    let mut settings = Settings {
        // The JWKS URL is unused: the verifier below knows the test issuer's keys.
        service: ServiceSettings::for_tests(
            &SPEC,
            db_settings,
            nats.settings.clone(),
            "http://127.0.0.1:9/.well-known/jwks.json",
        )
        .trusting(gateway.trusted()),
        ingest_workers: myaccount_audit::DEFAULT_INGEST_WORKERS,
        geoip_databases: vec![platform::geoip::test_database("geoip2-city-test.mmdb")],
        retention: myaccount_audit::retention::RetentionSettings::default(),
    };
    configure(&mut settings);
    let app = Application::build_with_verifier(settings, issuer.verifier())
        .await
        .expect("audit starts");
    let service = platform::testing::start_service(app, &database.settings).await;
    let channel = service.channel.clone();
    let db = service.db.clone();
    let bus = EventBus::connect(&nats.settings, "audit-tests")
        .await
        .expect("connect to nats");
    bus.ensure_streams(&[Stream::SignIn, Stream::DeadLetter])
        .await
        .expect("the streams exist");
    // Only the platform's outbox table is needed upstream; audit's migrations are a harmless extra.
    let mut upstream_settings = upstream_database.settings.clone();
    upstream_settings.max_connections = 2;
    let upstream_db = platform::db::connect(&upstream_settings, &myaccount_audit::MIGRATIONS)
        .await
        .expect("the upstream database");
    TestApp {
        audit: AuditServiceClient::new(gateway.sign(channel.clone(), SPEC.name)),
        channel,
        gateway,
        db,
        upstream: OutboxRelay::new(
            upstream_db.clone(),
            bus.clone(),
            "myaccount/identity",
            vec![Stream::SignIn],
        ),
        upstream_db,
        bus,
        issuer,
        _service: service,
        _database: database,
        _upstream_database: upstream_database,
        _nats: nats,
    }
}

/// A time `seconds` after a fixed instant, so tests choose the order of sign-ins.
pub fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000 + seconds, 0).expect("in range")
}

fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).expect("nanos fit"),
    }
}

/// A successful password sign-in of `user_id` at `time`, as identity reports it.
pub fn success(user_id: Uuid, time: DateTime<Utc>) -> SignInRecorded {
    SignInRecorded {
        sign_in_id: Uuid::now_v7().to_string(),
        time: Some(timestamp(time)),
        user_id: user_id.to_string(),
        user_principal_name: format!("user-{}@contoso.example", &user_id.simple().to_string()[..8]),
        app_id: "myaccount-web".into(),
        ip_address: "203.0.113.7".into(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64)".into(),
        device_id: "device-1".into(),
        status: SignInStatus::Success.into(),
        failure_reason: SignInFailureReason::Unspecified.into(),
        authentication_methods: vec!["pwd".into()],
        session_id: Uuid::now_v7().to_string(),
        organization_id: String::new(),
        correlation_id: Uuid::new_v4().to_string(),
        method: "pwd".into(),
        reported_location: None,
    }
}

/// A failed sign-in of `user_id` (or of an unknown name, when `None`) at `time`.
pub fn failure(user_id: Option<Uuid>, time: DateTime<Utc>, reason: SignInFailureReason) -> SignInRecorded {
    let mut event = success(user_id.unwrap_or_else(Uuid::new_v4), time);
    if user_id.is_none() {
        event.user_id = String::new();
    }
    event.status = SignInStatus::Failure.into();
    event.failure_reason = reason.into();
    event.authentication_methods = vec![];
    event.session_id = String::new();
    event
}

/// The CloudEvents headers identity's outbox relay puts on an event.
pub fn cloud_event_headers(ce_id: &str, ce_type: &str) -> HeaderMap {
    headers::cloud_event(ce_id, ce_id, ce_type, "myaccount/identity", Utc::now(), "")
}

impl TestApp {
    pub fn token_for(&self, user_id: Uuid) -> String {
        self.issuer.token_for(user_id)
    }

    /// An admin of `organization_id` (the `org` claim), signed in as someone new.
    /// As [`TestApp::admin_of`], signed in with the password alone.
    pub fn admin_without_mfa_of(&self, organization_id: &str) -> String {
        let mut claims = self.issuer.claims_for(Uuid::new_v4());
        claims.org = Some(organization_id.to_owned());
        claims.scope = Some(platform::auth::ADMIN_SCOPE.into());
        self.issuer.sign(&claims)
    }

    pub fn admin_of(&self, organization_id: &str) -> String {
        let mut claims = self.issuer.claims_for(Uuid::new_v4());
        claims.scope = Some(platform::auth::ADMIN_SCOPE.into());
        // Signed in with a second factor just now, as every admin action needs.
        claims.amr = vec!["pwd".into(), "otp".into(), "mfa".into()];
        claims.org = Some(organization_id.to_owned());
        self.issuer.sign(&claims)
    }

    /// ListOrganizationSignIns with `token`.
    pub async fn organization_sign_ins(
        &self,
        token: &str,
        request: pb::ListOrganizationSignInsRequest,
    ) -> Result<pb::ListMySignInsResponse, Status> {
        Ok(self
            .audit
            .clone()
            .list_organization_sign_ins(bearer(request, token))
            .await?
            .into_inner())
    }

    /// GetMySignIn with `token`.
    pub async fn my_sign_in(&self, token: &str, id: &str) -> Result<pb::SignIn, Status> {
        Ok(self
            .audit
            .clone()
            .get_my_sign_in(bearer(pb::GetMySignInRequest { id: id.into() }, token))
            .await?
            .into_inner())
    }

    /// ListMySignIns as `user_id`.
    pub async fn list_my_sign_ins(
        &self,
        user_id: Uuid,
        request: pb::ListMySignInsRequest,
    ) -> Result<pb::ListMySignInsResponse, Status> {
        self.list_my_sign_ins_with(&self.token_for(user_id), request).await
    }

    pub async fn list_my_sign_ins_with(
        &self,
        token: &str,
        request: pb::ListMySignInsRequest,
    ) -> Result<pb::ListMySignInsResponse, Status> {
        Ok(self
            .audit
            .clone()
            .list_my_sign_ins(bearer(request, token))
            .await?
            .into_inner())
    }

    /// Every sign-in of `user_id` (one big page), newest first.
    pub async fn all_sign_ins_of(&self, user_id: Uuid) -> Vec<pb::SignIn> {
        let page = self
            .list_my_sign_ins(
                user_id,
                pb::ListMySignInsRequest {
                    page_size: 100,
                    ..Default::default()
                },
            )
            .await
            .expect("lists sign-ins");
        assert_eq!(page.next_page_token, "", "everything fits on one page");
        page.sign_ins
    }

    /// Sends events the way identity does (outbox, then relay) and waits until audit has
    /// consumed them.
    pub async fn publish(&self, events: &[SignInRecorded]) {
        let mut tx = self.upstream_db.begin().await.expect("begin");
        for event in events {
            let id = Uuid::parse_str(&event.sign_in_id).expect("a sign-in id");
            publish_in_tx(&mut tx, &OutgoingEvent::new(id, event))
                .await
                .expect("written to the outbox");
        }
        tx.commit().await.expect("commit");
        let published = self.upstream.relay_batch().await.expect("the relay publishes");
        assert_eq!(published, events.len(), "the relay published the whole batch");
        self.wait_until_consumed().await;
    }

    /// Publishes one message on the (namespaced) sign-in subject as given; returns its stream
    /// sequence.
    pub async fn publish_raw(&self, headers: HeaderMap, payload: Vec<u8>) -> u64 {
        let subject = self.bus.naming().subject(SIGN_IN_RECORDED);
        self.bus
            .jetstream()
            .publish_with_headers(subject, headers, payload.into())
            .await
            .expect("published")
            .await
            .expect("acknowledged by the stream")
            .sequence
    }

    /// Publishes `event` with correct headers but a `Nats-Msg-Id` of choice, so JetStream
    /// stores it again (a redelivery JetStream itself did not dedupe).
    pub async fn publish_with_msg_id(&self, event: &SignInRecorded, msg_id: &str) -> u64 {
        let mut h = cloud_event_headers(&event.sign_in_id, &SignInRecorded::subject());
        h.insert("Nats-Msg-Id", msg_id);
        self.publish_raw(h, event.encode_to_vec()).await
    }

    /// Waits until audit's consumer has acknowledged (applied, skipped or dead-lettered)
    /// everything in the sign-in stream.
    pub async fn wait_until_consumed(&self) {
        let mut stream = self
            .bus
            .jetstream()
            .get_stream(self.bus.naming().stream(Stream::SignIn))
            .await
            .expect("the sign-in stream");
        let last = stream.info().await.expect("stream info").state.last_sequence;
        eventually(INGEST_DEADLINE, || {
            let stream = stream.clone();
            async move {
                let Ok(mut consumer): Result<PullConsumer, _> = stream.get_consumer(CONSUMER).await else {
                    return false;
                };
                consumer
                    .info()
                    .await
                    .is_ok_and(|i| i.ack_floor.stream_sequence >= last && i.num_ack_pending == 0)
            }
        })
        .await;
    }

    pub async fn stored_sign_ins(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM sign_ins")
            .fetch_one(&self.db)
            .await
            .expect("count sign-ins")
    }

    /// Every message in this test's namespaced `stream`; empty while the stream does not exist.
    pub async fn stream_messages(&self, stream: Stream) -> Vec<StreamMessage> {
        platform::testing::stream_messages(&self.bus, stream).await
    }

    /// What audit's consumer gave up on.
    pub async fn dead_letters(&self) -> Vec<StreamMessage> {
        self.stream_messages(Stream::DeadLetter).await
    }

    // --- other services' events, and privacy

    /// Publishes any event onto JetStream the way its service's relay would; returns its id.
    pub async fn publish_event<E: Event>(&self, event: &E) -> String {
        let id = Uuid::now_v7().to_string();
        self.bus.ensure_streams(&[E::STREAM]).await.expect("the stream exists");
        let mut h = cloud_event_headers(&id, &E::subject());
        h.insert(headers::SUBJECT, event.ce_subject().as_str());
        self.bus
            .jetstream()
            .publish_with_headers(
                self.bus.naming().subject(&E::subject()),
                h,
                event.encode_to_vec().into(),
            )
            .await
            .expect("published")
            .await
            .expect("acknowledged by the stream");
        id
    }

    /// Identity deletes the account; returns the event id.
    pub async fn user_deleted(&self, user_id: Uuid) -> String {
        self.publish_event(&UserDeleted {
            user_id: user_id.to_string(),
            time: None,
        })
        .await
    }

    /// Waits until audit's consumer `durable` (`audit_user_deleted`) has processed `event_id`.
    pub async fn wait_until_processed(&self, durable: &str, event_id: &str) {
        platform::testing::wait_until_processed(&self.db, durable, event_id).await;
    }

    /// The first page (up to 100 entries) of `user_id`'s account activity, newest first.
    pub async fn my_activity(&self, user_id: Uuid) -> Vec<pb::Activity> {
        let request = pb::ListMyActivityRequest {
            page_size: 100,
            ..Default::default()
        };
        self.audit
            .clone()
            .list_my_activity(bearer(request, &self.token_for(user_id)))
            .await
            .expect("lists activity")
            .into_inner()
            .activities
    }

    pub async fn export(&self, token: &str) -> Result<pb::AuditExport, Status> {
        Ok(self
            .audit
            .clone()
            .export_my_data(bearer(pb::ExportMyDataRequest {}, token))
            .await?
            .into_inner())
    }

    pub async fn data_retention(&self, token: &str) -> Result<pb::DataRetention, Status> {
        Ok(self
            .audit
            .clone()
            .get_my_data_retention(bearer(pb::GetMyDataRetentionRequest {}, token))
            .await?
            .into_inner())
    }
}
