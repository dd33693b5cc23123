//! Privacy end to end: the privacy page, the export of everything from every service, and
//! deleting an account, after which no service returns the person's data (over real NATS, with
//! `user_deleted` consumed by every service), and a replay of the event changes nothing.

use std::time::Duration;

use myaccount_integration_tests::{Session, TestSystem, TestUser, assert_problem, header};
use myaccount_proto::audit::v1::audit_service_client::AuditServiceClient;
use myaccount_proto::devices::v1::devices_service_client::DevicesServiceClient;
use myaccount_proto::events::v1::UserDeleted;
use myaccount_proto::identity::v1::identity_service_client::IdentityServiceClient;
use myaccount_proto::organizations::v1::organizations_service_client::OrganizationsServiceClient;
use myaccount_proto::securityinfo::v1::security_info_service_client::SecurityInfoServiceClient;
use myaccount_proto::{audit, devices, identity, organizations, securityinfo};
use platform::auth::bearer_request;
use platform::events::{Event, headers};
use platform::testing::eventually;
use platform::workload;
use prost::Message;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::organizations::{Admin, wait_for_home};
use crate::security_info::session;

/// What each service answers to ExportMyData for `token`, as a count of the person's records
/// (identity answers an error once the account is gone).
#[derive(Debug, PartialEq, Eq)]
struct Held {
    identity: Result<usize, tonic::Code>,
    security_methods: usize,
    devices: usize,
    memberships: usize,
    sign_ins: usize,
    activity: usize,
}

async fn held(system: &TestSystem, token: &str) -> Held {
    let identity = IdentityServiceClient::new(system.as_gateway(system.identity_port, workload::IDENTITY))
        .export_my_data(bearer_request(identity::v1::ExportMyDataRequest {}, token).expect("request"))
        .await
        .map(|r| r.into_inner().sessions.len())
        .map_err(|s| s.code());
    let security =
        SecurityInfoServiceClient::new(system.as_gateway(system.security_info_port, workload::SECURITY_INFO))
            .export_my_data(bearer_request(securityinfo::v1::ExportMyDataRequest {}, token).expect("request"))
            .await
            .expect("security-info answers")
            .into_inner();
    let devices = DevicesServiceClient::new(system.as_gateway(system.devices_port, workload::DEVICES))
        .export_my_data(bearer_request(devices::v1::ExportMyDataRequest {}, token).expect("request"))
        .await
        .expect("devices answers")
        .into_inner();
    let organizations =
        OrganizationsServiceClient::new(system.as_gateway(system.organizations_port, workload::ORGANIZATIONS))
            .export_my_data(bearer_request(organizations::v1::ExportMyDataRequest {}, token).expect("request"))
            .await
            .expect("organizations answers")
            .into_inner();
    let audit = AuditServiceClient::new(system.as_gateway(system.audit_port, workload::AUDIT))
        .export_my_data(bearer_request(audit::v1::ExportMyDataRequest {}, token).expect("request"))
        .await
        .expect("audit answers")
        .into_inner();
    Held {
        identity,
        security_methods: security.methods.len(),
        devices: devices.devices.len(),
        memberships: organizations.memberships.len(),
        sign_ins: audit.sign_ins.len(),
        activity: audit.activities.len(),
    }
}

/// Adele: home Contoso (which allows self-deletion when asked), guest of Fabrikam, with an
/// authenticator app and a laptop, signed in again with her second factor.
async fn adele(system: &TestSystem, allow_self_deletion: bool) -> (TestUser, Session, String) {
    let admin = Admin::of(system).await;
    let contoso = admin.create_organization("Contoso", None).await;
    let fabrikam = admin.create_organization("Fabrikam", None).await;
    if allow_self_deletion {
        admin.allow_self_deletion(&contoso, true).await;
    }
    let adele = system.create_user_in(&contoso).await;
    let first = system.sign_in_ok(&adele).await;
    wait_for_home(system, &first).await;
    let invitation = admin.invite(&fabrikam, &adele).await;
    let accepted = system
        .request(
            Method::POST,
            &format!("/api/v1/me/invitations/{invitation}/accept"),
            Some(&first.access_token),
            None,
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let (app, step, _) = system.add_authenticator_app(&first.access_token).await;
    system.register_device(&first.access_token, "Laptop", "laptop").await;
    let signed_in = system.sign_in_with_code(&adele, &app.code(step + 1)).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let body: Value = signed_in.json().await.expect("json");
    (adele, session(&body), contoso)
}

#[tokio::test]
async fn the_privacy_page_shows_what_each_organization_holds_and_for_how_long() {
    let system = TestSystem::spawn().await;
    let (_, session, contoso) = adele(&system, false).await;

    let response = system.get("/api/v1/me/privacy", &session.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.expect("json");

    let organizations = page["organizations"].as_array().expect("organizations");
    assert_eq!(organizations.len(), 2, "{page}");
    assert_eq!(organizations[0]["id"], contoso.as_str());
    assert_eq!(organizations[0]["kind"], "home");
    assert_eq!(
        organizations[0]["privacy"]["statementUrl"],
        "https://contoso.example/privacy"
    );
    assert_eq!(organizations[0]["privacy"]["contactEmail"], "privacy@contoso.example");
    assert_eq!(organizations[0]["signInRetentionDays"], 30);
    let home_services: Vec<&str> = organizations[0]["dataHeld"]
        .as_array()
        .expect("dataHeld")
        .iter()
        .map(|d| d["service"].as_str().expect("service"))
        .collect();
    assert_eq!(
        home_services,
        ["identity", "security-info", "devices", "organizations", "audit"]
    );
    assert_eq!(organizations[1]["kind"], "guest");
    assert_eq!(organizations[1]["displayName"], "Fabrikam");
    assert!(
        organizations[1]["dataHeld"]
            .as_array()
            .expect("dataHeld")
            .iter()
            .all(|d| d["service"] != "devices" && d["service"] != "security-info"),
        "a guest organization holds no devices or sign-in methods: {page}"
    );
    assert_eq!(page["retention"]["signInRetentionDays"], 30);
    assert!(
        page["retention"]["keptAfterErasure"]
            .as_str()
            .is_some_and(|s| s.contains("pseudonymised")),
        "{page}"
    );
    assert_eq!(page["selfDeletion"]["allowed"], false);
    assert!(page["selfDeletion"]["reason"].as_str().is_some());
}

#[tokio::test]
async fn my_export_holds_every_service_part_and_is_recorded_in_my_activity() {
    let system = TestSystem::spawn().await;
    let (adele, session, contoso) = adele(&system, false).await;
    system.wait_for_sign_ins(&session.access_token, 2).await;

    let response = system
        .request(Method::POST, "/api/v1/me/export", Some(&session.access_token), None)
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let disposition = header(&response, "content-disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"myaccount-export-"),
        "{disposition}"
    );
    let text = response.text().await.expect("body");
    let export: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(export["schemaVersion"], 1);
    assert_eq!(export["userId"], adele.id.as_str());
    assert_eq!(export["identity"]["profile"]["userPrincipalName"], adele.upn.as_str());
    assert!(export["identity"]["sessions"].as_array().expect("sessions").len() >= 2);
    // Where Adele got in from (smart lockout's familiar places): the gateway's view of her.
    let familiar = export["identity"]["familiarAddresses"]
        .as_array()
        .expect("familiarAddresses");
    assert_eq!(familiar.len(), 1, "{familiar:?}");
    assert_eq!(familiar[0]["ipAddress"], "127.0.0.1");
    assert!(familiar[0]["lastSignedInAt"].is_string());
    assert_eq!(export["securityInfo"]["methods"][0]["type"], "authenticatorApp");
    assert_eq!(export["devices"]["devices"][0]["displayName"], "Laptop");
    let memberships = export["organizations"]["memberships"].as_array().expect("memberships");
    assert_eq!(memberships.len(), 2);
    assert_eq!(memberships[0]["id"], contoso.as_str());
    assert!(export["audit"]["signIns"].as_array().expect("signIns").len() >= 2);
    assert!(!text.contains(&adele.password), "never a password");
    assert!(!text.contains("\"secret\""), "never an authenticator secret");

    // The export request is in my account activity.
    let activity = system.get("/api/v1/me/activity", &session.access_token).await;
    let activity: Value = activity.json().await.expect("json");
    assert!(
        activity["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|a| a["activity"] == "data_exported"),
        "{activity}"
    );
    // Without a token there is nothing to export.
    let anonymous = system.request(Method::POST, "/api/v1/me/export", None, None).await;
    assert_problem(anonymous, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn an_export_fails_loudly_rather_than_leave_a_part_out() {
    let system = TestSystem::spawn().await;
    let adele = system.create_user().await;
    let session = system.sign_in_ok(&adele).await;
    system.stop_audit().await;

    let response = system
        .request(Method::POST, "/api/v1/me/export", Some(&session.access_token), None)
        .await;

    let problem = assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(problem["type"], "urn:myaccount:problem:export-incomplete");
    assert!(
        problem["detail"].as_str().is_some_and(|d| d.contains("sign-in log")),
        "{problem}"
    );
}

#[tokio::test]
async fn deleting_my_account_erases_me_from_every_service_and_a_replay_changes_nothing() {
    let system = TestSystem::spawn().await;
    let (adele, session, _) = adele(&system, true).await;
    let lee = system.create_user().await;
    let lee_session = system.sign_in_ok(&lee).await;
    system.wait_for_sign_ins(&session.access_token, 2).await;
    system.wait_for_sign_ins(&lee_session.access_token, 1).await;
    let before = held(&system, &session.access_token).await;
    assert_eq!(before.security_methods, 1, "{before:?}");
    assert_eq!((before.devices, before.memberships), (1, 2), "{before:?}");
    let lee_before = held(&system, &lee_session.access_token).await;

    // A wrong confirmation is refused and changes nothing.
    let refused = system
        .request(
            Method::DELETE,
            "/api/v1/me",
            Some(&session.access_token),
            Some(&json!({ "confirmUserPrincipalName": "someone@else.example" })),
        )
        .await;
    let problem = assert_problem(refused, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["errors"][0]["field"], "confirmUserPrincipalName");

    // Identity learns Contoso's policy from organizations' event; until then it refuses.
    let mut deleted = None;
    for _ in 0..200 {
        let response = system
            .request(
                Method::DELETE,
                "/api/v1/me",
                Some(&session.access_token),
                Some(&json!({ "confirmUserPrincipalName": adele.upn })),
            )
            .await;
        if response.status() == StatusCode::OK {
            deleted = Some(response.json::<Value>().await.expect("json"));
            break;
        }
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deleted = deleted.expect("the account is deleted once identity knows the policy");
    assert_eq!(deleted["userId"], adele.id.as_str());

    let erased = Held {
        identity: Ok(0),
        security_methods: 0,
        devices: 0,
        memberships: 0,
        sign_ins: 0,
        activity: 0,
    };
    eventually(Duration::from_secs(30), || async {
        held_in_databases(&system, &adele.id).await == erased
    })
    .await;
    // Her old token is refused by every service, saying why.
    let refused = SecurityInfoServiceClient::new(system.as_gateway(system.security_info_port, workload::SECURITY_INFO))
        .export_my_data(
            bearer_request(securityinfo::v1::ExportMyDataRequest {}, &session.access_token).expect("request"),
        )
        .await
        .expect_err("a deleted account's token is refused");
    assert_eq!(
        platform::revocation::revoked_reason(&refused).as_deref(),
        Some("account_deleted")
    );
    // Audit keeps her sign-ins as pseudonymised evidence only.
    let audit_db = pool(&system.audit_db).await;
    let (named, kept): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE user_id = $1::uuid OR user_principal_name = $2), count(*) FROM sign_ins",
    )
    .bind(&adele.id)
    .bind(&adele.upn)
    .fetch_one(&audit_db)
    .await
    .expect("count");
    assert_eq!(named, 0);
    assert!(kept >= 3, "Adele's sign-ins stay, pseudonymised, beside Lee's");
    // Her name now signs nobody in (that attempt is recorded like any unknown user name).
    assert_eq!(
        system.sign_in(&adele.upn, &adele.password).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // The same event again, and a copy with a new id: nothing changes, nothing breaks.
    let event = UserDeleted {
        user_id: adele.id.clone(),
        ..Default::default()
    };
    let ids = replay(&system, &event).await;
    for (db, consumer) in [
        (&system.audit_db, "audit_user_deleted"),
        (&system.devices_db, "devices_user_deleted"),
        (&system.organizations_db, "organizations_user_deleted"),
        (&system.security_info_db, "securityinfo_user_deleted"),
    ] {
        let db = pool(db).await;
        eventually(Duration::from_secs(30), || async {
            let done: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM platform.processed_events WHERE consumer = $1 AND event_id = ANY($2)",
            )
            .bind(consumer)
            .bind(&ids)
            .fetch_one(&db)
            .await
            .expect("processed events");
            done == 2
        })
        .await;
    }
    assert_eq!(held_in_databases(&system, &adele.id).await, erased);
    // Lee is untouched (his activity only grows: each export is recorded in it).
    let lee_after = held(&system, &lee_session.access_token).await;
    assert!(lee_after.activity > lee_before.activity, "{lee_after:?}");
    assert_eq!(
        Held {
            activity: lee_before.activity,
            ..lee_after
        },
        lee_before
    );
}

/// What each service's own tables hold about `user_id` (a deleted person's token is refused
/// everywhere, so their export cannot be asked for): identity's sessions, and as [`Held`].
async fn held_in_databases(system: &TestSystem, user_id: &str) -> Held {
    async fn count(db: &platform::testing::TestDatabase, sql: &'static str, user_id: &str) -> usize {
        let pool = pool(db).await;
        let n: i64 = sqlx::query_scalar(sql)
            .bind(uuid::Uuid::parse_str(user_id).expect("a uuid"))
            .fetch_one(&pool)
            .await
            .expect("count");
        usize::try_from(n).expect("a count")
    }
    Held {
        identity: Ok(count(
            &system.identity_db,
            "SELECT count(*) FROM sessions WHERE user_id = $1",
            user_id,
        )
        .await),
        security_methods: count(
            &system.security_info_db,
            "SELECT count(*) FROM methods WHERE user_id = $1",
            user_id,
        )
        .await,
        devices: count(
            &system.devices_db,
            "SELECT count(*) FROM devices WHERE owner_id = $1",
            user_id,
        )
        .await,
        memberships: count(
            &system.organizations_db,
            "SELECT count(*) FROM memberships WHERE user_id = $1",
            user_id,
        )
        .await,
        sign_ins: count(
            &system.audit_db,
            "SELECT count(*) FROM sign_ins WHERE user_id = $1",
            user_id,
        )
        .await,
        activity: count(
            &system.audit_db,
            "SELECT count(*) FROM activities WHERE user_id = $1",
            user_id,
        )
        .await,
    }
}

async fn pool(db: &platform::testing::TestDatabase) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&db.settings.url)
        .await
        .expect("connect")
}

/// Publishes `event` on the system's identity stream as identity would, twice with new ids;
/// returns the ids.
async fn replay(system: &TestSystem, event: &UserDeleted) -> Vec<String> {
    let client = async_nats::connect(system.nats_settings().url.as_str())
        .await
        .expect("nats");
    let jetstream = async_nats::jetstream::new(client);
    let naming = system.nats_settings().naming();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let id = Uuid::now_v7().to_string();
        ids.push(id.clone());
        let mut h = async_nats::HeaderMap::new();
        h.insert("Nats-Msg-Id", id.as_str());
        h.insert(headers::SPEC_VERSION, "1.0");
        h.insert(headers::ID, id.as_str());
        h.insert(headers::TYPE, UserDeleted::subject().as_str());
        h.insert(headers::SOURCE, "myaccount/identity");
        h.insert(headers::SUBJECT, event.ce_subject().as_str());
        h.insert(headers::CONTENT_TYPE, headers::PROTOBUF);
        jetstream
            .publish_with_headers(naming.subject(&UserDeleted::subject()), h, event.encode_to_vec().into())
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    ids
}
