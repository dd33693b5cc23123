//! Organizations end to end: identity creates the person (home membership by event, over real
//! NATS), an admin creates organizations and invites over gRPC, and the person works through the
//! gateway.

use std::time::Duration;

use myaccount_integration_tests::{Session, TestSystem, TestUser, assert_problem};
use myaccount_proto::events::v1::MemberLeft;
use myaccount_proto::organizations::v1 as pb;
use myaccount_proto::organizations::v1::organizations_service_client::OrganizationsServiceClient;
use platform::events::{Event, Stream};
use platform::workload::{ORGANIZATIONS, SignedAsWorkload};
use prost::Message;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tonic::transport::Channel;
use uuid::Uuid;

/// An admin working on the organizations service directly (there are no admin pages yet).
pub(crate) struct Admin {
    client: OrganizationsServiceClient<SignedAsWorkload<Channel>>,
    token: String,
}

impl Admin {
    pub(crate) async fn of(system: &TestSystem) -> Self {
        let client = OrganizationsServiceClient::new(system.as_gateway(system.organizations_port, ORGANIZATIONS));
        Self {
            client,
            token: system.admin_token().await,
        }
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let value = format!("Bearer {}", self.token).parse().expect("header");
        request.metadata_mut().insert("authorization", value);
        request
    }

    /// Creates an organization (with `id` when given) and returns its id.
    pub(crate) async fn create_organization(&self, name: &str, id: Option<&str>) -> String {
        let domain = format!("{}.example", name.to_lowercase());
        let request = self.request(pb::CreateOrganizationRequest {
            organization_id: id.unwrap_or_default().into(),
            settings: Some(pb::OrganizationSettings {
                display_name: name.into(),
                verified_domains: vec![domain.clone()],
                privacy_statement_url: format!("https://{domain}/privacy"),
                privacy_contact_email: format!("privacy@{domain}"),
                technical_contact_email: format!("it@{domain}"),
                mfa_required: false,
                sign_in_retention_days: None,
                allow_self_deletion: false,
                ..Default::default()
            }),
        });
        self.client
            .clone()
            .create_organization(request)
            .await
            .expect("the admin creates an organization")
            .into_inner()
            .id
    }

    /// Lets (or stops) members of the organization delete their own account.
    pub(crate) async fn allow_self_deletion(&self, organization_id: &str, allow: bool) {
        let request = self.request(pb::UpdateOrganizationRequest {
            organization_id: organization_id.into(),
            settings: Some(pb::OrganizationSettings {
                allow_self_deletion: allow,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["allow_self_deletion".into()],
            }),
        });
        self.client
            .clone()
            .update_organization(request)
            .await
            .expect("the admin changes the policy");
    }

    /// Requires (or stops requiring) multi-factor authentication of the organization's members.
    pub(crate) async fn require_mfa(&self, organization_id: &str, required: bool) {
        let request = self.request(pb::UpdateOrganizationRequest {
            organization_id: organization_id.into(),
            settings: Some(pb::OrganizationSettings {
                mfa_required: required,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["mfa_required".into()],
            }),
        });
        self.client
            .clone()
            .update_organization(request)
            .await
            .expect("the admin changes the requirement");
    }

    /// Publishes the organization's terms of use (a new version asks members to accept again).
    pub(crate) async fn publish_terms(&self, organization_id: &str, url: &str, version: &str) {
        let request = self.request(pb::UpdateOrganizationRequest {
            organization_id: organization_id.into(),
            settings: Some(pb::OrganizationSettings {
                terms_of_use_url: url.into(),
                terms_of_use_version: version.into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["terms_of_use_url".into(), "terms_of_use_version".into()],
            }),
        });
        self.client
            .clone()
            .update_organization(request)
            .await
            .expect("the admin publishes terms of use");
    }

    /// Invites `user` and returns the invitation id.
    pub(crate) async fn invite(&self, organization_id: &str, user: &TestUser) -> String {
        let request = self.request(pb::InviteUserRequest {
            organization_id: organization_id.into(),
            user_principal_name: user.upn.clone(),
        });
        self.client
            .clone()
            .invite_user(request)
            .await
            .expect("the admin invites")
            .into_inner()
            .id
    }
}

pub(crate) async fn items(system: &TestSystem, path: &str, session: &Session) -> Vec<Value> {
    let response = system.get(path, &session.access_token).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let body: Value = response.json().await.expect("json");
    body["items"].as_array().expect("items").clone()
}

/// Waits until organizations has heard from identity that the person exists.
pub(crate) async fn wait_for_home(system: &TestSystem, session: &Session) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let organizations = items(system, "/api/v1/me/organizations", session).await;
        if !organizations.is_empty() {
            return organizations;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "organizations did not hear of the person within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn post(system: &TestSystem, path: &str, session: &Session) -> reqwest::Response {
    system
        .request(Method::POST, path, Some(&session.access_token), None)
        .await
}

#[tokio::test]
async fn a_person_sees_their_home_first_and_answers_invitations() {
    let system = TestSystem::spawn().await;
    let admin = Admin::of(&system).await;
    let contoso = admin.create_organization("Contoso", None).await;
    let fabrikam = admin.create_organization("Fabrikam", None).await;
    let northwind = admin.create_organization("Northwind", None).await;
    let adele = system.create_user_in(&contoso).await;
    let session = system.sign_in_ok(&adele).await;

    let home = wait_for_home(&system, &session).await;
    assert_eq!(
        home.len(),
        1,
        "identity's user_created made the home membership: {home:?}"
    );
    assert_eq!(home[0]["id"], contoso.as_str());
    assert_eq!(home[0]["displayName"], "Contoso");
    assert_eq!(home[0]["kind"], "home");
    assert_eq!(home[0]["canLeave"], false);
    assert_eq!(
        home[0]["cannotLeaveReason"],
        "this is your home organization: your account belongs to it, so you cannot leave it"
    );
    assert_eq!(home[0]["privacy"]["statementUrl"], "https://contoso.example/privacy");
    assert_eq!(home[0]["privacy"]["contactEmail"], "privacy@contoso.example");

    let to_fabrikam = admin.invite(&fabrikam, &adele).await;
    let to_northwind = admin.invite(&northwind, &adele).await;
    let invitations = items(&system, "/api/v1/me/invitations", &session).await;
    let ids: Vec<&str> = invitations.iter().map(|i| i["id"].as_str().expect("id")).collect();
    assert_eq!(ids, [to_fabrikam.as_str(), to_northwind.as_str()]);
    assert_eq!(invitations[0]["status"], "pending");
    assert_eq!(invitations[0]["organization"]["displayName"], "Fabrikam");
    assert_eq!(
        invitations[0]["organization"]["privacy"]["statementUrl"],
        "https://fabrikam.example/privacy"
    );

    let accepted = post(
        &system,
        &format!("/api/v1/me/invitations/{to_fabrikam}/accept"),
        &session,
    )
    .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let joined: Value = accepted.json().await.expect("json");
    assert_eq!(joined["id"], fabrikam.as_str());
    assert_eq!(joined["kind"], "guest");
    assert_eq!(joined["canLeave"], true);
    assert_eq!(joined["invitedBy"], myaccount_integration_tests::ADMIN_UPN);

    let mine = items(&system, "/api/v1/me/organizations", &session).await;
    let listed: Vec<(&str, &str)> = mine
        .iter()
        .map(|o| {
            (
                o["displayName"].as_str().expect("name"),
                o["kind"].as_str().expect("kind"),
            )
        })
        .collect();
    assert_eq!(listed, [("Contoso", "home"), ("Fabrikam", "guest")]);

    let overview: Value = system
        .get("/api/v1/me", &session.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        overview["organizations"],
        json!({
            "home": { "id": contoso, "displayName": "Contoso" },
            "guestCount": 1,
            "pendingInvitationCount": 1
        })
    );

    let declined = post(
        &system,
        &format!("/api/v1/me/invitations/{to_northwind}/decline"),
        &session,
    )
    .await;
    assert_eq!(declined.status(), StatusCode::OK);
    let declined: Value = declined.json().await.expect("json");
    assert_eq!(declined["status"], "declined");
    assert!(declined["respondedAt"].as_str().is_some());
    assert!(items(&system, "/api/v1/me/invitations", &session).await.is_empty());
    assert_eq!(
        items(&system, "/api/v1/me/organizations", &session).await.len(),
        2,
        "not a member of northwind"
    );
}

#[tokio::test]
async fn a_home_organization_created_after_its_members_shows_as_unknown_until_then() {
    let system = TestSystem::spawn().await;
    let later = Uuid::new_v4().to_string();
    let megan = system.create_user_in(&later).await;
    let session = system.sign_in_ok(&megan).await;

    let home = wait_for_home(&system, &session).await;
    assert_eq!(home.len(), 1);
    assert_eq!(home[0]["id"], later.as_str());
    assert_eq!(home[0]["displayName"], "unknown organization");
    assert_eq!(home[0]["known"], false);

    Admin::of(&system)
        .await
        .create_organization("Tailspin", Some(&later))
        .await;

    let home = items(&system, "/api/v1/me/organizations", &session).await;
    assert_eq!(home[0]["displayName"], "Tailspin");
    assert_eq!(home[0]["known"], true);
    let overview: Value = system
        .get("/api/v1/me", &session.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(overview["organizations"]["home"]["displayName"], "Tailspin");
    assert_eq!(overview["organizations"]["guestCount"], 0);
}

#[tokio::test]
async fn refused_leaves_and_someone_elses_invitation_change_nothing() {
    let system = TestSystem::spawn().await;
    let admin = Admin::of(&system).await;
    let contoso = admin.create_organization("Contoso", None).await;
    let fabrikam = admin.create_organization("Fabrikam", None).await;
    let northwind = admin.create_organization("Northwind", None).await;
    let adele = system.create_user_in(&contoso).await;
    let megan = system.create_user_in(&contoso).await;
    let adele_session = system.sign_in_ok(&adele).await;
    let megan_session = system.sign_in_ok(&megan).await;
    wait_for_home(&system, &adele_session).await;
    wait_for_home(&system, &megan_session).await;
    let invitation = admin.invite(&fabrikam, &adele).await;
    post(
        &system,
        &format!("/api/v1/me/invitations/{invitation}/accept"),
        &adele_session,
    )
    .await;
    let for_adele = admin.invite(&northwind, &adele).await;
    let adele_before = items(&system, "/api/v1/me/organizations", &adele_session).await;
    let megan_before = items(&system, "/api/v1/me/organizations", &megan_session).await;
    assert_eq!(adele_before.len(), 2);

    // Leaving the home organization: refused with the reason, whatever the sign-in.
    let home = post(
        &system,
        &format!("/api/v1/me/organizations/{contoso}/leave"),
        &adele_session,
    )
    .await;
    let problem = assert_problem(home, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["type"], "urn:myaccount:problem:failed-precondition");
    assert_eq!(
        problem["detail"],
        format!(
            "cannot leave organization {contoso}: this is your home organization: your account belongs to it, so you \
             cannot leave it"
        )
    );

    // Leaving a guest organization after a password-only sign-in: a step-up is needed.
    let no_step_up = post(
        &system,
        &format!("/api/v1/me/organizations/{fabrikam}/leave"),
        &adele_session,
    )
    .await;
    let problem = assert_problem(no_step_up, StatusCode::FORBIDDEN).await;
    assert_eq!(problem["type"], "urn:myaccount:problem:reauthentication-required");

    // Answering someone else's invitation: as if it did not exist.
    for action in ["accept", "decline"] {
        let response = post(
            &system,
            &format!("/api/v1/me/invitations/{for_adele}/{action}"),
            &megan_session,
        )
        .await;
        let problem = assert_problem(response, StatusCode::NOT_FOUND).await;
        assert_eq!(
            problem["detail"],
            format!("invitation {for_adele} not found"),
            "{action}"
        );
    }
    let malformed = post(&system, "/api/v1/me/invitations/not-an-id/accept", &megan_session).await;
    let problem = assert_problem(malformed, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["errors"][0]["field"], "invitationId");

    assert_eq!(
        items(&system, "/api/v1/me/organizations", &adele_session).await,
        adele_before
    );
    assert_eq!(
        items(&system, "/api/v1/me/organizations", &megan_session).await,
        megan_before
    );
    let pending = items(&system, "/api/v1/me/invitations", &adele_session).await;
    assert_eq!(pending.len(), 1, "still waiting for adele's answer");
    assert_eq!(pending[0]["id"], for_adele.as_str());
}

/// Adds an authenticator app to the person's account, then steps up the session with the
/// password and a code from it: the multi-factor sign-in that leaving needs.
async fn step_up(system: &TestSystem, user: &TestUser, session: &Session) -> Session {
    let (app, step, method_id) = system.add_authenticator_app(&session.access_token).await;
    let challenge: Value = system
        .request(
            Method::POST,
            "/api/v1/auth/reauthenticate",
            Some(&session.access_token),
            Some(&json!({ "password": user.password })),
        )
        .await
        .json()
        .await
        .expect("json");
    let stepped_up = system
        .post_json(
            "/api/v1/auth/mfa",
            &json!({ "challengeId": challenge["challengeId"], "methodId": method_id, "code": app.code(step + 1) }),
        )
        .await;
    assert_eq!(stepped_up.status(), StatusCode::OK);
    let body: Value = stepped_up.json().await.expect("json");
    Session {
        access_token: body["accessToken"].as_str().expect("accessToken").to_owned(),
        refresh_token: body["refreshToken"].as_str().expect("refreshToken").to_owned(),
    }
}

/// Every `member_left` event on this system's organizations stream.
async fn member_left_events(system: &TestSystem) -> Vec<MemberLeft> {
    let client = async_nats::connect(system.nats_settings().url.as_str())
        .await
        .expect("nats");
    let jetstream = async_nats::jetstream::new(client);
    let naming = system.nats_settings().naming();
    let Ok(mut stream) = jetstream.get_stream(naming.stream(Stream::Organizations)).await else {
        return Vec::new();
    };
    let state = stream.info().await.expect("stream info").state.clone();
    let mut events = Vec::new();
    if state.messages == 0 {
        return events;
    }
    for seq in state.first_sequence..=state.last_sequence {
        let message = stream.get_raw_message(seq).await.expect("a stream message");
        if message.subject.as_str() == naming.subject(&MemberLeft::subject()) {
            events.push(MemberLeft::decode(message.payload.clone()).expect("a MemberLeft"));
        }
    }
    events
}

#[tokio::test]
async fn after_a_multi_factor_step_up_a_guest_leaves_and_the_platform_hears_of_it() {
    let system = TestSystem::spawn().await;
    let admin = Admin::of(&system).await;
    let contoso = admin.create_organization("Contoso", None).await;
    let fabrikam = admin.create_organization("Fabrikam", None).await;
    let adele = system.create_user_in(&contoso).await;
    let session = system.sign_in_ok(&adele).await;
    wait_for_home(&system, &session).await;
    let invitation = admin.invite(&fabrikam, &adele).await;
    post(
        &system,
        &format!("/api/v1/me/invitations/{invitation}/accept"),
        &session,
    )
    .await;
    let leave = format!("/api/v1/me/organizations/{fabrikam}/leave");
    // A session in Fabrikam, once identity has heard of the membership.
    let mut in_fabrikam = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while in_fabrikam.is_none() {
        let signed_in = system
            .post_json(
                "/api/v1/auth/sign-in",
                &json!({ "username": adele.upn, "password": adele.password, "organizationId": fabrikam }),
            )
            .await;
        if signed_in.status() == StatusCode::OK {
            let body: Value = signed_in.json().await.expect("json");
            in_fabrikam = body["accessToken"].as_str().map(str::to_owned);
        } else {
            assert!(tokio::time::Instant::now() < deadline, "no guest sign-in within 20 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let in_fabrikam = in_fabrikam.expect("a guest session");
    // Each session says which organization it is in.
    let in_organization = |token: String| {
        let system = &system;
        async move {
            let status: Value = system
                .get("/api/v1/auth/session", &token)
                .await
                .json()
                .await
                .expect("json");
            assert_eq!(status["signedIn"], true, "{status}");
            status["organizationId"].as_str().map(str::to_owned)
        }
    };
    assert_eq!(
        in_organization(in_fabrikam.clone()).await.as_deref(),
        Some(fabrikam.as_str())
    );
    assert_eq!(
        in_organization(session.access_token.clone()).await.as_deref(),
        Some(contoso.as_str())
    );

    let refused = post(&system, &leave, &session).await;
    assert_problem(refused, StatusCode::FORBIDDEN).await;
    let stepped_up = step_up(&system, &adele, &session).await;
    let left = post(&system, &leave, &stepped_up).await;

    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    // The session in Fabrikam ends at every service; the home session goes on.
    let no_device = Uuid::new_v4().to_string();
    crate::revocation::refused_everywhere(&system, &in_fabrikam, &no_device, "left_organization").await;
    let mine = items(&system, "/api/v1/me/organizations", &stepped_up).await;
    let ids: Vec<&str> = mine.iter().map(|o| o["id"].as_str().expect("id")).collect();
    assert_eq!(ids, [contoso.as_str()], "only the home organization is left");
    let again = post(&system, &leave, &stepped_up).await;
    let problem = assert_problem(again, StatusCode::NOT_FOUND).await;
    assert_eq!(
        problem["detail"],
        format!("you are not a member of organization {fabrikam}")
    );

    // Published over NATS for identity (which revokes sessions scoped to that organization).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let events = loop {
        let events = member_left_events(&system).await;
        if !events.is_empty() {
            break events;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "member_left not published within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].user_id, adele.id);
    assert_eq!(events[0].organization_id, fabrikam);
    assert!(!events[0].session_id.is_empty());
}

async fn accept_terms(system: &TestSystem, session: &Session, organization_id: &str, body: Value) -> reqwest::Response {
    system
        .request(
            Method::POST,
            &format!("/api/v1/me/organizations/{organization_id}/terms/accept"),
            Some(&session.access_token),
            Some(&body),
        )
        .await
}

async fn privacy_terms(system: &TestSystem, session: &Session) -> Value {
    let response = system.get("/api/v1/me/privacy", &session.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let view: Value = response.json().await.expect("json");
    view["termsOfUse"].clone()
}

#[tokio::test]
async fn a_person_accepts_an_organizations_terms_of_use_and_is_asked_again_for_a_new_version() {
    let system = TestSystem::spawn().await;
    let admin = Admin::of(&system).await;
    let contoso = admin.create_organization("Contoso", None).await;
    let fabrikam = admin.create_organization("Fabrikam", None).await;
    admin
        .publish_terms(&contoso, "https://contoso.example/legal/terms", "2026-11")
        .await;
    let adele = system.create_user_in(&contoso).await;
    let session = system.sign_in_ok(&adele).await;
    wait_for_home(&system, &session).await;
    let invitation = admin.invite(&fabrikam, &adele).await;
    let joined = post(
        &system,
        &format!("/api/v1/me/invitations/{invitation}/accept"),
        &session,
    )
    .await;
    assert_eq!(joined.status(), StatusCode::OK);

    assert_eq!(
        privacy_terms(&system, &session).await,
        json!([{
            "organizationId": contoso,
            "organizationName": "Contoso",
            "url": "https://contoso.example/legal/terms",
            "version": "2026-11",
            "acceptedVersion": null,
            "acceptedAt": null,
            "accepted": false
        }]),
        "only organizations with terms; Fabrikam has none"
    );

    let accepted = accept_terms(&system, &session, &contoso, json!({ "version": "2026-11" })).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let accepted: Value = accepted.json().await.expect("json");
    assert_eq!(accepted["id"], contoso.as_str());
    assert_eq!(
        accepted["termsOfUse"],
        json!({ "url": "https://contoso.example/legal/terms", "version": "2026-11" })
    );
    assert_eq!(accepted["acceptedTermsVersion"], "2026-11");
    assert_eq!(accepted["acceptedCurrentTerms"], true);
    let accepted_at = accepted["termsAcceptedAt"].as_str().expect("when").to_owned();
    let listed = items(&system, "/api/v1/me/organizations", &session).await;
    assert_eq!(listed[0], accepted, "as GET /me/organizations shows it");
    let terms = privacy_terms(&system, &session).await;
    assert_eq!(terms[0]["accepted"], true);
    assert_eq!(terms[0]["acceptedVersion"], "2026-11");
    assert_eq!(terms[0]["acceptedAt"], accepted_at.as_str());

    // The admin publishes a new version: the earlier acceptance no longer counts.
    admin
        .publish_terms(&contoso, "https://contoso.example/legal/terms", "2027-01")
        .await;
    let terms = privacy_terms(&system, &session).await;
    assert_eq!(terms[0]["version"], "2027-01");
    assert_eq!(terms[0]["acceptedVersion"], "2026-11");
    assert_eq!(terms[0]["accepted"], false);

    let stale = accept_terms(&system, &session, &contoso, json!({ "version": "2026-11" })).await;
    let problem = assert_problem(stale, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["code"], "failed-precondition");
    assert!(
        problem["detail"].as_str().expect("detail").contains("changed"),
        "{problem}"
    );
    let no_terms = accept_terms(&system, &session, &fabrikam, json!({ "version": "1" })).await;
    assert_problem(no_terms, StatusCode::BAD_REQUEST).await;
    let stranger = accept_terms(
        &system,
        &session,
        &Uuid::new_v4().to_string(),
        json!({ "version": "1" }),
    )
    .await;
    assert_problem(stranger, StatusCode::NOT_FOUND).await;
    let invalid = accept_terms(&system, &session, "not-an-id", json!({ "version": "" })).await;
    let problem = assert_problem(invalid, StatusCode::BAD_REQUEST).await;
    let fields: Vec<(&str, &str)> = problem["errors"]
        .as_array()
        .expect("field errors")
        .iter()
        .map(|e| (e["field"].as_str().expect("field"), e["code"].as_str().expect("code")))
        .collect();
    assert_eq!(fields, [("organizationId", "INVALID_ID"), ("version", "REQUIRED")]);
    let unknown_field = accept_terms(&system, &session, &contoso, json!({ "version": "2027-01", "ok": true })).await;
    assert_problem(unknown_field, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        privacy_terms(&system, &session).await[0]["accepted"],
        false,
        "nothing changed"
    );

    let renewed = accept_terms(&system, &session, &contoso, json!({ "version": "2027-01" })).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let terms = privacy_terms(&system, &session).await;
    assert_eq!(terms[0]["accepted"], true);
    assert_eq!(terms[0]["acceptedVersion"], "2027-01");
}
