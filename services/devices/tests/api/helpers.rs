//! A real devices service per test: its own database, its own NATS namespace, free ports, a gRPC
//! client, and a token issuer standing in for identity. Typed helpers keep the tests about
//! behaviour rather than plumbing.

use std::time::Duration;

use chrono::Utc;
use myaccount_devices::{Application, SPEC, Settings};
use myaccount_proto::devices::v1 as pb;
use myaccount_proto::devices::v1::devices_service_client::DevicesServiceClient;
use myaccount_proto::events::v1::{SignInRecorded, SignInStatus, UserCreated, UserDeleted};

use platform::crypto::Keyring;
use platform::events::{Event, EventBus, Naming, Stream, headers};
use platform::service::ServiceSettings;
use platform::testing::{StartedService, TestDatabase, TestGateway, TestIssuer, TestNats};
pub use platform::testing::{assert_status, bearer, violated_fields};
use platform::workload::SignedAsWorkload;
use sqlx::PgPool;
use tonic::Status;
use tonic::transport::Channel;
use uuid::Uuid;

/// A valid BitLocker recovery password (every block a multiple of 11).
pub const RECOVERY_PASSWORD: &str = "111111-222222-333333-444444-555555-666666-000000-010010";
pub const OTHER_RECOVERY_PASSWORD: &str = "000011-000022-000033-000044-000055-000066-000077-000088";
/// How long asynchronous outcomes (a publish, a consumed event) may take.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub struct TestApp {
    /// Calls as the gateway makes them: devices takes a person's calls from it alone.
    pub devices: DevicesServiceClient<SignedAsWorkload<Channel>>,
    /// The bare channel: calls on it carry no workload token, as a direct caller's would.
    pub channel: Channel,
    pub gateway: TestGateway,
    pub issuer: TestIssuer,
    /// The service's database, for checking what it stored.
    pub db: PgPool,
    pub bus: EventBus,
    pub naming: Naming,
    _service: StartedService,
    // Dropped last: they delete the database and the streams.
    _database: TestDatabase,
    _nats: TestNats,
}

/// A person as devices sees them: an id and access tokens of a few kinds.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub session_id: Uuid,
    /// Signed in with a password only, just now.
    pub token: String,
    /// Signed in with a password and a second factor, just now.
    pub mfa_token: String,
    /// Signed in with a second factor, but an hour ago.
    pub stale_mfa_token: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// With settings the test adjusts (say, a contended pool).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::new("devices");
    let nats = TestNats::new();
    let issuer = TestIssuer::new();
    let gateway = TestGateway::new();
    let mut db_settings = database.settings.clone();
    db_settings.max_connections = 5;
    let mut settings = Settings {
        service: ServiceSettings::for_tests(&SPEC, db_settings, nats.settings.clone(), "http://unused.invalid")
            .trusting(gateway.trusted()),
        encryption: Keyring::generate("test1"),
    };
    configure(&mut settings);
    let app = Application::build_with_verifier(settings, issuer.verifier())
        .await
        .expect("devices starts");
    let service = platform::testing::start_service(app, &database.settings).await;
    let bus = EventBus::connect(&nats.settings, "devices-tests")
        .await
        .expect("connect to nats");
    bus.ensure_streams(&[Stream::SignIn, Stream::Devices, Stream::Identity])
        .await
        .expect("streams");
    TestApp {
        devices: DevicesServiceClient::new(gateway.sign(service.channel.clone(), SPEC.name)),
        channel: service.channel.clone(),
        gateway,
        issuer,
        db: service.db.clone(),
        naming: bus.naming(),
        bus,
        _service: service,
        _database: database,
        _nats: nats,
    }
}

/// A personal laptop registration.
pub fn laptop(name: &str) -> pb::RegisterDeviceRequest {
    pb::RegisterDeviceRequest {
        display_name: name.into(),
        manufacturer: "Contoso".into(),
        model: "Surface Laptop 7".into(),
        operating_system: "Windows".into(),
        operating_system_version: "11 24H2".into(),
        device_type: pb::DeviceType::Laptop as i32,
        ..Default::default()
    }
}

impl TestApp {
    fn client(&self) -> DevicesServiceClient<SignedAsWorkload<Channel>> {
        self.devices.clone()
    }

    pub fn new_user(&self) -> TestUser {
        let id = Uuid::new_v4();
        let mut claims = self.issuer.claims_for(id);
        let session_id = Uuid::new_v4();
        claims.sid = Some(session_id.to_string());
        let token = self.issuer.sign(&claims);
        claims.amr = vec!["pwd".into(), "otp".into(), "mfa".into()];
        let mfa_token = self.issuer.sign(&claims);
        claims.auth_time -= 3600;
        let stale_mfa_token = self.issuer.sign(&claims);
        TestUser {
            id,
            session_id,
            token,
            mfa_token,
            stale_mfa_token,
        }
    }

    pub fn admin_token(&self) -> String {
        self.issuer.admin_token()
    }

    pub async fn register(&self, token: &str, request: pb::RegisterDeviceRequest) -> Result<pb::Device, Status> {
        Ok(self
            .client()
            .register_device(bearer(request, token))
            .await?
            .into_inner())
    }

    /// Registers a personal laptop for `user`.
    pub async fn register_laptop(&self, user: &TestUser, name: &str) -> pb::Device {
        self.register(&user.token, laptop(name))
            .await
            .expect("a personal device registers")
    }

    pub async fn list(&self, token: &str) -> Result<Vec<pb::Device>, Status> {
        Ok(self
            .client()
            .list_my_devices(bearer(pb::ListMyDevicesRequest {}, token))
            .await?
            .into_inner()
            .devices)
    }

    pub async fn get(&self, token: &str, device_id: &str) -> Result<pb::Device, Status> {
        let request = pb::GetMyDeviceRequest {
            device_id: device_id.into(),
        };
        Ok(self.client().get_my_device(bearer(request, token)).await?.into_inner())
    }

    pub async fn rename(&self, token: &str, device_id: &str, name: &str) -> Result<pb::Device, Status> {
        let request = pb::RenameMyDeviceRequest {
            device_id: device_id.into(),
            display_name: name.into(),
        };
        Ok(self
            .client()
            .rename_my_device(bearer(request, token))
            .await?
            .into_inner())
    }

    pub async fn delete(&self, token: &str, device_id: &str) -> Result<(), Status> {
        let request = pb::DeleteMyDeviceRequest {
            device_id: device_id.into(),
        };
        self.client().delete_my_device(bearer(request, token)).await?;
        Ok(())
    }

    pub async fn disable(&self, token: &str, device_id: &str) -> Result<pb::Device, Status> {
        let request = pb::DisableMyDeviceRequest {
            device_id: device_id.into(),
        };
        Ok(self
            .client()
            .disable_my_device(bearer(request, token))
            .await?
            .into_inner())
    }

    pub async fn enable(&self, token: &str, device_id: &str) -> Result<pb::Device, Status> {
        let request = pb::EnableDeviceRequest {
            device_id: device_id.into(),
        };
        Ok(self.client().enable_device(bearer(request, token)).await?.into_inner())
    }

    pub async fn add_key(&self, token: &str, device_id: &str, key: &str) -> Result<pb::RecoveryKey, Status> {
        let request = pb::AddRecoveryKeyRequest {
            device_id: device_id.into(),
            volume_type: pb::VolumeType::OperatingSystem as i32,
            key: key.into(),
        };
        Ok(self
            .client()
            .add_recovery_key(bearer(request, token))
            .await?
            .into_inner())
    }

    pub async fn list_keys(&self, token: &str, device_id: &str) -> Result<Vec<pb::RecoveryKey>, Status> {
        let request = pb::ListRecoveryKeysRequest {
            device_id: device_id.into(),
        };
        Ok(self
            .client()
            .list_recovery_keys(bearer(request, token))
            .await?
            .into_inner()
            .recovery_keys)
    }

    pub async fn reveal(&self, token: &str, device_id: &str, key_id: &str) -> Result<pb::RevealedRecoveryKey, Status> {
        let request = pb::RevealRecoveryKeyRequest {
            device_id: device_id.into(),
            recovery_key_id: key_id.into(),
        };
        Ok(self
            .client()
            .reveal_recovery_key(bearer(request, token))
            .await?
            .into_inner())
    }

    pub async fn export(&self, token: &str) -> Result<pb::DevicesExport, Status> {
        Ok(self
            .client()
            .export_my_data(bearer(pb::ExportMyDataRequest {}, token))
            .await?
            .into_inner())
    }

    /// Identity created `user` at home in `organization_id`; waits until devices knows it.
    pub async fn user_created(&self, user: &TestUser, organization_id: Uuid) {
        let id = Uuid::now_v7().to_string();
        self.publish(
            &id,
            &UserCreated {
                user_id: user.id.to_string(),
                user_principal_name: format!("{}@contoso.example", user.id.simple()),
                home_organization_id: organization_id.to_string(),
                time: None,
                preferred_language: String::new(),
                ..Default::default()
            },
        )
        .await;
        self.await_processed(&[&id]).await;
    }

    /// Identity deletes the account; returns the event id.
    pub async fn user_deleted(&self, user_id: Uuid) -> String {
        let id = Uuid::now_v7().to_string();
        self.publish(
            &id,
            &UserDeleted {
                user_id: user_id.to_string(),
                time: None,
            },
        )
        .await;
        id
    }

    /// Waits until devices has processed the event `event_id` of consumer `durable`
    /// (`devices_user_deleted`).
    pub async fn wait_until_processed(&self, durable: &str, event_id: &str) {
        platform::testing::wait_until_processed(&self.db, durable, event_id).await;
    }

    /// Rows of every table a user's data lives in, for "nothing changed" and erasure checks.
    pub async fn row_counts(&self) -> RowCounts {
        let count = |table| platform::testing::row_count(&self.db, table);
        RowCounts {
            devices: count("devices").await,
            recovery_keys: count("recovery_keys").await,
            erased_users: count("platform.erased_users").await,
        }
    }

    pub async fn device_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM devices")
            .fetch_one(&self.db)
            .await
            .expect("count devices")
    }

    /// What is stored for a recovery key.
    pub async fn stored_ciphertext(&self, key_id: &str) -> Vec<u8> {
        sqlx::query_scalar("SELECT ciphertext FROM recovery_keys WHERE id = $1::uuid")
            .bind(key_id)
            .fetch_one(&self.db)
            .await
            .expect("read a recovery key row")
    }

    /// Every `E` this service has published to JetStream, oldest first.
    pub async fn published<E: Event>(&self) -> Vec<E> {
        let wire = self.naming.subject(&E::subject());
        let mut events = Vec::new();
        for message in platform::testing::stream_messages(&self.bus, E::STREAM).await {
            if message.subject.as_str() == wire {
                let subject = message.headers.get(headers::SUBJECT).map(|v| v.as_str().to_owned());
                let event = E::decode(message.payload.clone()).expect("a payload of the catalogue's type");
                assert_eq!(
                    subject.unwrap_or_default(),
                    event.ce_subject(),
                    "ce-subject is the owner"
                );
                events.push(event);
            }
        }
        events
    }

    /// Waits until exactly `count` events `E` are on the stream (and returns them).
    pub async fn await_published<E: Event>(&self, count: usize) -> Vec<E> {
        platform::testing::eventually(DEADLINE, || async { self.published::<E>().await.len() >= count }).await;
        let events = self.published::<E>().await;
        assert_eq!(events.len(), count, "exactly {count} {} events", E::subject());
        events
    }

    /// Publishes `event` as identity would, with `ce-id` = `event_id`; the same id twice is a
    /// redelivery the consumer must recognise.
    pub async fn publish<E: Event>(&self, event_id: &str, event: &E) {
        platform::testing::publish_as(&self.bus, "myaccount/identity", event_id, event, Utc::now()).await;
    }

    /// Publishes a successful sign-in of `user_id` from `device_id` at `at`; returns its id.
    pub async fn sign_in_from(&self, user_id: Uuid, device_id: &str, at: chrono::DateTime<Utc>) -> String {
        let event = sign_in_event(user_id, device_id, at, SignInStatus::Success);
        self.publish(&event.sign_in_id, &event).await;
        event.sign_in_id
    }

    /// Whether the consumer has applied (or skipped as a duplicate) the event with this id.
    pub async fn processed(&self, event_id: &str) -> bool {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM platform.processed_events WHERE event_id = $1)")
            .bind(event_id)
            .fetch_one(&self.db)
            .await
            .expect("read processed events")
    }

    /// Waits until the sign-in consumer has acknowledged everything on the stream (nothing
    /// pending, nothing awaiting an ack): a redelivery that the consumer choked on would stay.
    pub async fn await_sign_ins_drained(&self) {
        let stream = self.naming.stream(Stream::SignIn);
        platform::testing::eventually(DEADLINE, || async {
            let Ok(stream) = self.bus.jetstream().get_stream(&stream).await else {
                return false;
            };
            let Ok(mut consumer) = stream
                .get_consumer::<async_nats::jetstream::consumer::pull::Config>("devices_recorded")
                .await
            else {
                return false;
            };
            consumer.info().await.is_ok_and(|i| {
                i.num_pending == 0
                    && i.num_ack_pending == 0
                    && i.delivered.stream_sequence == i.ack_floor.stream_sequence
            })
        })
        .await;
    }

    /// Waits until the consumer has taken every one of `event_ids`.
    pub async fn await_processed(&self, event_ids: &[&str]) {
        for id in event_ids {
            platform::testing::eventually(DEADLINE, || self.processed(id)).await;
        }
    }
}

pub fn sign_in_event(
    user_id: Uuid,
    device_id: &str,
    at: chrono::DateTime<Utc>,
    status: SignInStatus,
) -> SignInRecorded {
    SignInRecorded {
        sign_in_id: Uuid::now_v7().to_string(),
        time: Some(prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
        }),
        user_id: user_id.to_string(),
        user_principal_name: "someone@contoso.example".into(),
        device_id: device_id.into(),
        status: status as i32,
        authentication_methods: vec!["pwd".into()],
        session_id: Uuid::new_v4().to_string(),
        ..Default::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    pub devices: i64,
    pub recovery_keys: i64,
    pub erased_users: i64,
}
