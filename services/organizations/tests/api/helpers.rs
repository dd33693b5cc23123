//! A real organizations service per test: its own database, its own NATS namespace, free ports,
//! a token issuer standing in for identity, and a gRPC client. Identity's events are published
//! to JetStream as identity would, and consumed by the service for real.

use std::time::Duration;

use async_nats::jetstream::message::StreamMessage;
use chrono::Utc;
use myaccount_organizations::{Application, SPEC, Settings};
use myaccount_proto::events::v1::{UserCreated, UserDeleted};
use myaccount_proto::organizations::v1 as pb;
use myaccount_proto::organizations::v1::organizations_service_client::OrganizationsServiceClient;
use platform::auth::MFA_AMR;

use platform::events::{Event, EventBus, Naming, Stream};
use platform::service::ServiceSettings;
use platform::testing::{StartedService, TestDatabase, TestGateway, TestIssuer, TestNats, eventually};
pub use platform::testing::{assert_status, bearer, violated_fields};
use platform::workload::SignedAsWorkload;
use sqlx::PgPool;
use tonic::Status;
use tonic::transport::Channel;
use uuid::Uuid;

pub const STEP_UP_MAX_AGE: Duration = Duration::from_secs(600);
pub const MAX_RETENTION_DAYS: i32 = 365;
const WAIT: Duration = Duration::from_secs(15);

pub struct TestApp {
    /// Calls as the gateway makes them: organizations takes a person's calls from it alone.
    pub client: OrganizationsServiceClient<SignedAsWorkload<Channel>>,
    /// The bare channel: calls on it carry no workload token, as a direct caller's would.
    pub channel: Channel,
    pub gateway: TestGateway,
    pub db: PgPool,
    pub naming: Naming,
    pub issuer: TestIssuer,
    bus: EventBus,
    _service: StartedService,
    // Dropped last: they delete the database and the streams.
    _database: TestDatabase,
    _nats: TestNats,
}

/// A person identity told us about, with tokens of the kinds the tests need.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub upn: String,
    /// Signed in with a password only.
    pub token: String,
    /// Signed in with a second factor just now.
    pub mfa_token: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// With settings the test adjusts (say, a contended pool).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::new("organizations");
    let nats = TestNats::new();
    let mut db_settings = database.settings.clone();
    db_settings.max_connections = 5;
    let gateway = TestGateway::new();
    let mut service = ServiceSettings::for_tests(&SPEC, db_settings, nats.settings.clone(), "http://unused.invalid")
        .trusting(gateway.trusted());
    service.step_up_max_age = STEP_UP_MAX_AGE;
    let mut settings = Settings {
        service,
        max_sign_in_retention_days: MAX_RETENTION_DAYS,
    };
    configure(&mut settings);
    let issuer = TestIssuer::new();
    let app = Application::build_with_verifier(settings, issuer.verifier())
        .await
        .expect("organizations starts");
    let service = platform::testing::start_service(app, &database.settings).await;
    let channel = service.channel.clone();
    let db = service.db.clone();
    let bus = EventBus::connect(&nats.settings, "organizations-test")
        .await
        .expect("connect to nats");
    TestApp {
        client: OrganizationsServiceClient::new(gateway.sign(channel.clone(), SPEC.name)),
        channel,
        gateway,
        db,
        naming: nats.settings.naming(),
        issuer,
        bus,
        _service: service,
        _database: database,
        _nats: nats,
    }
}

/// Settings of a well-described organization.
pub fn settings(name: &str) -> pb::OrganizationSettings {
    let domain = format!("{}.example", name.to_lowercase());
    pb::OrganizationSettings {
        display_name: name.into(),
        verified_domains: vec![domain.clone()],
        privacy_statement_url: format!("https://{domain}/privacy"),
        privacy_contact_email: format!("privacy@{domain}"),
        technical_contact_email: format!("it@{domain}"),
        mfa_required: false,
        sign_in_retention_days: None,
        allow_self_deletion: false,
        ..Default::default()
    }
}

impl TestApp {
    pub fn client(&self) -> OrganizationsServiceClient<SignedAsWorkload<Channel>> {
        self.client.clone()
    }

    pub fn admin_token(&self) -> String {
        self.issuer.admin_token()
    }

    // --- identity's side, as events

    /// Publishes an event to JetStream the way a service's outbox relay would; returns its id.
    pub async fn publish<E: Event>(&self, event: &E) -> String {
        let id = Uuid::now_v7().to_string();
        self.publish_with_id(&id, event).await;
        id
    }

    pub async fn publish_with_id<E: Event>(&self, id: &str, event: &E) {
        platform::testing::publish_as(&self.bus, "myaccount/identity", id, event, Utc::now()).await;
    }

    /// Identity creates a user (with this home organization) and organizations hears of it.
    pub async fn user_created(&self, upn: &str, home_organization_id: Option<Uuid>) -> TestUser {
        let id = Uuid::now_v7();
        self.publish(&UserCreated {
            user_id: id.to_string(),
            user_principal_name: upn.into(),
            home_organization_id: home_organization_id.map(|o| o.to_string()).unwrap_or_default(),
            time: Some(prost_types::Timestamp {
                seconds: Utc::now().timestamp(),
                nanos: 0,
            }),
            preferred_language: String::new(),
            ..Default::default()
        })
        .await;
        self.wait_until_known(id).await;
        TestUser {
            id,
            upn: upn.to_lowercase(),
            token: self.issuer.token_for(id),
            mfa_token: self.mfa_token_for(id, Duration::ZERO),
        }
    }

    /// A token of `user_id` whose multi-factor sign-in happened `ago`.
    pub fn mfa_token_for(&self, user_id: Uuid, ago: Duration) -> String {
        let mut claims = self.issuer.claims_for(user_id);
        claims.auth_time -= i64::try_from(ago.as_secs()).expect("seconds");
        claims.amr = vec!["pwd".into(), "otp".into(), MFA_AMR.into()];
        self.issuer.sign(&claims)
    }

    /// Identity deletes the account.
    pub async fn user_deleted(&self, user_id: Uuid) -> String {
        self.publish(&UserDeleted {
            user_id: user_id.to_string(),
            time: None,
        })
        .await
    }

    pub async fn wait_until_known(&self, user_id: Uuid) {
        eventually(WAIT, || async move {
            self.known_user_principal_name(user_id).await.is_some()
        })
        .await;
    }

    /// Waits until organizations has processed the event `event_id` of consumer `durable`
    /// (`organizations_user_deleted`).
    pub async fn wait_until_processed(&self, durable: &str, event_id: &str) {
        platform::testing::wait_until_processed(&self.db, durable, event_id).await;
    }

    // --- admin calls

    pub async fn create_organization(&self, settings: pb::OrganizationSettings) -> Result<pb::Organization, Status> {
        self.create_organization_as(&self.admin_token(), "", settings).await
    }

    pub async fn create_organization_as(
        &self,
        token: &str,
        id: &str,
        settings: pb::OrganizationSettings,
    ) -> Result<pb::Organization, Status> {
        let request = pb::CreateOrganizationRequest {
            organization_id: id.into(),
            settings: Some(settings),
        };
        Ok(self
            .client()
            .create_organization(bearer(request, token))
            .await?
            .into_inner())
    }

    /// Creates an organization named `name` and returns its id.
    pub async fn organization(&self, name: &str) -> Uuid {
        let o = self
            .create_organization(settings(name))
            .await
            .expect("the admin creates an organization");
        o.id.parse().expect("organization id is a uuid")
    }

    pub async fn update_organization(
        &self,
        id: &str,
        settings: pb::OrganizationSettings,
        paths: &[&str],
    ) -> Result<pb::Organization, Status> {
        let request = pb::UpdateOrganizationRequest {
            organization_id: id.into(),
            settings: Some(settings),
            update_mask: Some(prost_types::FieldMask {
                paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            }),
        };
        Ok(self
            .client()
            .update_organization(bearer(request, &self.admin_token()))
            .await?
            .into_inner())
    }

    pub async fn get_organization(&self, id: &str) -> Result<pb::Organization, Status> {
        let request = pb::GetOrganizationRequest {
            organization_id: id.into(),
        };
        Ok(self
            .client()
            .get_organization(bearer(request, &self.admin_token()))
            .await?
            .into_inner())
    }

    pub async fn invite(&self, organization_id: Uuid, upn: &str) -> Result<pb::Invitation, Status> {
        self.invite_as(&self.admin_token(), &organization_id.to_string(), upn)
            .await
    }

    pub async fn invite_as(&self, token: &str, organization_id: &str, upn: &str) -> Result<pb::Invitation, Status> {
        let request = pb::InviteUserRequest {
            organization_id: organization_id.into(),
            user_principal_name: upn.into(),
        };
        Ok(self.client().invite_user(bearer(request, token)).await?.into_inner())
    }

    pub async fn remove_member(&self, token: &str, organization_id: &str, user_id: &str) -> Result<(), Status> {
        let request = pb::RemoveMemberRequest {
            organization_id: organization_id.into(),
            user_id: user_id.into(),
        };
        self.client().remove_member(bearer(request, token)).await?;
        Ok(())
    }

    /// Makes `user` a guest of `organization_id` by invitation and acceptance.
    pub async fn guest_of(&self, user: &TestUser, organization_id: Uuid) -> pb::MyOrganization {
        let invitation = self.invite(organization_id, &user.upn).await.expect("invited");
        self.accept(&user.token, &invitation.id).await.expect("accepted")
    }

    // --- the person's calls

    pub async fn my_organizations(&self, token: &str) -> Result<pb::ListMyOrganizationsResponse, Status> {
        Ok(self
            .client()
            .list_my_organizations(bearer(pb::ListMyOrganizationsRequest {}, token))
            .await?
            .into_inner())
    }

    /// Ids of my organizations, in the order listed.
    pub async fn my_organization_ids(&self, user: &TestUser) -> Vec<String> {
        self.my_organizations(&user.token)
            .await
            .expect("lists my organizations")
            .organizations
            .into_iter()
            .map(|o| o.organization_id)
            .collect()
    }

    pub async fn my_invitations(&self, token: &str) -> Result<Vec<pb::Invitation>, Status> {
        Ok(self
            .client()
            .list_my_invitations(bearer(pb::ListMyInvitationsRequest {}, token))
            .await?
            .into_inner()
            .invitations)
    }

    pub async fn accept(&self, token: &str, invitation_id: &str) -> Result<pb::MyOrganization, Status> {
        let request = pb::AcceptInvitationRequest {
            invitation_id: invitation_id.into(),
        };
        Ok(self
            .client()
            .accept_invitation(bearer(request, token))
            .await?
            .into_inner())
    }

    pub async fn decline(&self, token: &str, invitation_id: &str) -> Result<pb::Invitation, Status> {
        let request = pb::DeclineInvitationRequest {
            invitation_id: invitation_id.into(),
        };
        Ok(self
            .client()
            .decline_invitation(bearer(request, token))
            .await?
            .into_inner())
    }

    pub async fn leave(&self, token: &str, organization_id: &str) -> Result<(), Status> {
        let request = pb::LeaveOrganizationRequest {
            organization_id: organization_id.into(),
        };
        self.client().leave_organization(bearer(request, token)).await?;
        Ok(())
    }

    pub async fn accept_terms(
        &self,
        token: &str,
        organization_id: &str,
        version: &str,
    ) -> Result<pb::MyOrganization, Status> {
        let request = pb::AcceptMyOrganizationTermsRequest {
            organization_id: organization_id.into(),
            version: version.into(),
        };
        Ok(self
            .client()
            .accept_my_organization_terms(bearer(request, token))
            .await?
            .into_inner())
    }

    pub async fn export(&self, token: &str) -> Result<pb::OrganizationsExport, Status> {
        Ok(self
            .client()
            .export_my_data(bearer(pb::ExportMyDataRequest {}, token))
            .await?
            .into_inner())
    }

    // --- what the service stored and published

    pub async fn known_user_principal_name(&self, user_id: Uuid) -> Option<String> {
        sqlx::query_scalar("SELECT user_principal_name FROM users WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.db)
            .await
            .expect("read users")
    }

    /// Rows of every table a user's data lives in, for "nothing changed" and erasure checks.
    pub async fn row_counts(&self) -> RowCounts {
        let count = |table| platform::testing::row_count(&self.db, table);
        RowCounts {
            organizations: count("organizations").await,
            memberships: count("memberships").await,
            invitations: count("invitations").await,
            pending_invitations: sqlx::query_scalar("SELECT count(*) FROM invitations WHERE status = 'pending'")
                .fetch_one(&self.db)
                .await
                .expect("count pending invitations"),
            outbox: count("platform.outbox").await,
        }
    }

    /// Every event of type `E` written to the outbox, oldest first.
    pub async fn outbox_events<E: Event>(&self) -> Vec<E> {
        let payloads: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT payload FROM platform.outbox WHERE subject = $1 ORDER BY created_at, id")
                .bind(E::subject())
                .fetch_all(&self.db)
                .await
                .expect("read the outbox");
        payloads
            .iter()
            .map(|p| E::decode(p.as_slice()).expect("a payload of the subject's message"))
            .collect()
    }

    /// Every message in this test's namespaced `stream`; empty while the stream does not exist.
    pub async fn stream_messages(&self, stream: Stream) -> Vec<StreamMessage> {
        platform::testing::stream_messages(&self.bus, stream).await
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    pub organizations: i64,
    pub memberships: i64,
    pub invitations: i64,
    pub pending_invitations: i64,
    pub outbox: i64,
}
