//! Terms of use: an admin publishes an organization's terms (an https URL and a version), a
//! member accepts the version they were shown, and a new version asks them to accept again.

use std::time::Duration;

use myaccount_proto::events::v1::{OrganizationChanged, TermsAccepted};
use myaccount_proto::organizations::v1 as pb;
use platform::events::{Event, Stream, headers};
use platform::testing::eventually;
use prost::Message;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{TestApp, assert_status, settings, spawn_app};

const TERMS_URL: &str = "https://contoso.example/legal/terms";

/// Publishes (or replaces) the organization's terms of use, as an admin does.
async fn publish_terms(app: &TestApp, organization_id: Uuid, url: &str, version: &str) -> pb::Organization {
    app.update_organization(
        &organization_id.to_string(),
        pb::OrganizationSettings {
            terms_of_use_url: url.into(),
            terms_of_use_version: version.into(),
            ..Default::default()
        },
        &["terms_of_use_url", "terms_of_use_version"],
    )
    .await
    .expect("the admin publishes terms of use")
}

fn mine(list: &pb::ListMyOrganizationsResponse, organization_id: Uuid) -> &pb::MyOrganization {
    list.organizations
        .iter()
        .find(|o| o.organization_id == organization_id.to_string())
        .expect("one of my organizations")
}

/// The field violations of a status as (field, reason).
fn reasons(status: &tonic::Status) -> Vec<(String, String)> {
    platform::error::field_violations(status)
        .into_iter()
        .map(|v| (v.field, v.reason))
        .collect()
}

#[tokio::test]
async fn a_member_accepts_the_current_terms_once_and_the_event_reaches_jetstream() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    let published = publish_terms(&app, contoso, TERMS_URL, " 2026-11 ").await;
    assert_eq!(
        (
            published.terms_of_use_url.as_str(),
            published.terms_of_use_version.as_str()
        ),
        (TERMS_URL, "2026-11"),
        "stored trimmed"
    );

    let before = app.my_organizations(&adele.token).await.expect("listed");
    let home = mine(&before, contoso);
    let organization = home.organization.as_ref().expect("known");
    assert_eq!(organization.terms_of_use_url, TERMS_URL);
    assert_eq!(organization.terms_of_use_version, "2026-11");
    assert_eq!(home.accepted_terms_version, "");
    assert!(home.terms_accepted_at.is_none());
    assert!(!home.accepted_current_terms);

    let accepted = app
        .accept_terms(&adele.token, &contoso.to_string(), "2026-11")
        .await
        .expect("accepted");
    assert_eq!(accepted.accepted_terms_version, "2026-11");
    assert!(accepted.accepted_current_terms);
    let accepted_at = accepted.terms_accepted_at.expect("when");
    let listed = app.my_organizations(&adele.token).await.expect("listed");
    assert_eq!(*mine(&listed, contoso), accepted, "as the list shows it");

    let events = app.outbox_events::<TermsAccepted>().await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0],
        TermsAccepted {
            user_id: adele.id.to_string(),
            organization_id: contoso.to_string(),
            organization_display_name: "Contoso".into(),
            version: "2026-11".into(),
            terms_of_use_url: TERMS_URL.into(),
            time: Some(accepted_at),
        }
    );

    let again = app
        .accept_terms(&adele.token, &contoso.to_string(), "2026-11")
        .await
        .expect("accepting the same version again is harmless");
    assert_eq!(again, accepted, "the first acceptance stands, with its time");
    assert_eq!(app.outbox_events::<TermsAccepted>().await.len(), 1, "published once");

    let subject = app.naming.subject(&TermsAccepted::subject());
    eventually(Duration::from_secs(10), || async {
        app.stream_messages(Stream::Organizations)
            .await
            .iter()
            .any(|m| m.subject.as_str() == subject)
    })
    .await;
    let messages = app.stream_messages(Stream::Organizations).await;
    let message = messages
        .iter()
        .find(|m| m.subject.as_str() == subject)
        .expect("on the stream");
    let header = |name: &str| message.headers.get(name).map(|v| v.as_str().to_owned());
    assert_eq!(
        header(headers::TYPE).as_deref(),
        Some("myaccount.organizations.v1.terms_accepted")
    );
    assert_eq!(header(headers::SUBJECT), Some(adele.id.to_string()), "about the person");
    let decoded = TermsAccepted::decode(message.payload.clone()).expect("a TermsAccepted");
    assert_eq!(decoded, events[0]);
}

#[tokio::test]
async fn a_guest_accepts_the_terms_of_the_organization_they_joined() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    publish_terms(&app, fabrikam, "https://fabrikam.example/terms", "3").await;
    app.guest_of(&adele, fabrikam).await;

    let accepted = app
        .accept_terms(&adele.token, &fabrikam.to_string(), "3")
        .await
        .expect("accepted");

    assert!(accepted.accepted_current_terms);
    assert_eq!(accepted.kind, pb::MembershipKind::Guest as i32);
    let listed = app.my_organizations(&adele.token).await.expect("listed");
    assert!(
        !mine(&listed, contoso).accepted_current_terms,
        "the home organization has no terms"
    );
}

#[tokio::test]
async fn a_new_version_must_be_accepted_again_and_the_old_one_no_longer_can_be() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    publish_terms(&app, contoso, TERMS_URL, "2026-11").await;
    let first = app
        .accept_terms(&adele.token, &contoso.to_string(), "2026-11")
        .await
        .expect("accepted");

    // The admin publishes a new version of the same terms: only the version changes.
    let updated = app
        .update_organization(
            &contoso.to_string(),
            pb::OrganizationSettings {
                terms_of_use_version: "2027-01".into(),
                ..Default::default()
            },
            &["terms_of_use_version"],
        )
        .await
        .expect("a new version");
    assert_eq!(updated.terms_of_use_url, TERMS_URL);

    let listed = app.my_organizations(&adele.token).await.expect("listed");
    let home = mine(&listed, contoso);
    assert_eq!(
        home.accepted_terms_version, "2026-11",
        "the earlier acceptance stays on record"
    );
    assert_eq!(home.terms_accepted_at, first.terms_accepted_at);
    assert!(!home.accepted_current_terms, "but it is not of the current version");

    let outbox_before = app.row_counts().await.outbox;
    let stale = app
        .accept_terms(&adele.token, &contoso.to_string(), "2026-11")
        .await
        .expect_err("the version shown is no longer current");
    assert_status(
        &stale,
        Code::FailedPrecondition,
        &format!(
            "the terms of use of organization {contoso} changed: version 2026-11 is no longer current, \
             version 2027-01 is; read the new version before accepting it"
        ),
    );
    assert_eq!(
        *mine(&app.my_organizations(&adele.token).await.expect("listed"), contoso),
        *home,
        "nothing changed"
    );
    assert_eq!(app.row_counts().await.outbox, outbox_before, "nothing published");

    let renewed = app
        .accept_terms(&adele.token, &contoso.to_string(), "2027-01")
        .await
        .expect("the new version accepted");
    assert!(renewed.accepted_current_terms);
    assert_eq!(renewed.accepted_terms_version, "2027-01");
    let versions: Vec<String> = app
        .outbox_events::<TermsAccepted>()
        .await
        .into_iter()
        .map(|e| e.version)
        .collect();
    assert_eq!(versions, ["2026-11", "2027-01"]);
}

#[tokio::test]
async fn only_a_member_accepts_only_existing_terms_and_bad_input_changes_nothing() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    publish_terms(&app, fabrikam, "https://fabrikam.example/terms", "3").await;
    let before = app.row_counts().await;

    let not_member = app
        .accept_terms(&adele.token, &fabrikam.to_string(), "3")
        .await
        .expect_err("not a member of Fabrikam");
    assert_status(
        &not_member,
        Code::NotFound,
        &format!("you are not a member of organization {fabrikam}"),
    );

    let no_terms = app
        .accept_terms(&adele.token, &contoso.to_string(), "1")
        .await
        .expect_err("Contoso has no terms");
    assert_status(
        &no_terms,
        Code::FailedPrecondition,
        &format!("organization {contoso} has no terms of use to accept"),
    );

    let invalid = app
        .accept_terms(&adele.token, "not-an-id", &"9".repeat(33))
        .await
        .expect_err("invalid");
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert_eq!(
        reasons(&invalid),
        [
            ("organization_id".to_owned(), "INVALID_ID".to_owned()),
            ("version".to_owned(), "TOO_LONG".to_owned())
        ]
    );
    let empty = app
        .accept_terms(&adele.token, &contoso.to_string(), "  ")
        .await
        .expect_err("no version");
    assert_eq!(reasons(&empty), [("version".to_owned(), "REQUIRED".to_owned())]);

    let unauthenticated = app
        .client()
        .accept_my_organization_terms(pb::AcceptMyOrganizationTermsRequest {
            organization_id: contoso.to_string(),
            version: "1".into(),
        })
        .await
        .expect_err("no token");
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);

    assert_eq!(app.row_counts().await, before, "nothing changed");
    assert!(app.outbox_events::<TermsAccepted>().await.is_empty());
    let accepted: i64 = sqlx::query_scalar("SELECT count(*) FROM memberships WHERE accepted_terms_version IS NOT NULL")
        .fetch_one(&app.db)
        .await
        .expect("count acceptances");
    assert_eq!(accepted, 0);
}

/// A refused settings change: what it is, the settings, the update mask, and the field
/// violations expected (field, reason).
type SettingsCase = (
    &'static str,
    pb::OrganizationSettings,
    Vec<&'static str>,
    Vec<(&'static str, &'static str)>,
);

#[tokio::test]
async fn admins_set_terms_only_as_an_https_url_with_a_short_version() {
    let app = spawn_app().await;
    let id = app.organization("Contoso").await.to_string();
    let before = app.get_organization(&id).await.expect("read");
    let changed_before = app.outbox_events::<OrganizationChanged>().await.len();
    let both = ["terms_of_use_url", "terms_of_use_version"];

    let cases: Vec<SettingsCase> = vec![
        (
            "not https",
            pb::OrganizationSettings {
                terms_of_use_url: "http://contoso.example/terms".into(),
                terms_of_use_version: "1".into(),
                ..Default::default()
            },
            both.to_vec(),
            vec![("terms_of_use_url", "NOT_HTTPS_URL")],
        ),
        (
            "not a URL",
            pb::OrganizationSettings {
                terms_of_use_url: "contoso terms".into(),
                terms_of_use_version: "1".into(),
                ..Default::default()
            },
            both.to_vec(),
            vec![("terms_of_use_url", "NOT_HTTPS_URL")],
        ),
        (
            "a URL without a version",
            pb::OrganizationSettings {
                terms_of_use_url: TERMS_URL.into(),
                ..Default::default()
            },
            vec!["terms_of_use_url"],
            vec![("terms_of_use_version", "TERMS_VERSION_REQUIRED")],
        ),
        (
            "a version without a URL",
            pb::OrganizationSettings {
                terms_of_use_version: "1".into(),
                ..Default::default()
            },
            vec!["terms_of_use_version"],
            vec![("terms_of_use_url", "TERMS_URL_REQUIRED")],
        ),
        (
            "over-long values",
            pb::OrganizationSettings {
                terms_of_use_url: format!("https://contoso.example/{}", "t".repeat(2048)),
                terms_of_use_version: "v".repeat(33),
                ..Default::default()
            },
            both.to_vec(),
            vec![("terms_of_use_url", "TOO_LONG"), ("terms_of_use_version", "TOO_LONG")],
        ),
        (
            "control characters in the version",
            pb::OrganizationSettings {
                terms_of_use_url: TERMS_URL.into(),
                terms_of_use_version: "1\u{7}".into(),
                ..Default::default()
            },
            both.to_vec(),
            vec![("terms_of_use_version", "CONTROL_CHARACTERS")],
        ),
    ];
    for (case, change, paths, expected) in cases {
        let status = app.update_organization(&id, change, &paths).await.expect_err(case);
        assert_eq!(status.code(), Code::InvalidArgument, "{case}: {status:?}");
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(field, reason)| (field.to_owned(), reason.to_owned()))
            .collect();
        assert_eq!(reasons(&status), expected, "{case}");
    }
    assert_eq!(app.get_organization(&id).await.expect("read"), before, "unchanged");
    assert_eq!(
        app.outbox_events::<OrganizationChanged>().await.len(),
        changed_before,
        "nothing published"
    );

    // A new organization may come with its terms.
    let created = app
        .create_organization(pb::OrganizationSettings {
            terms_of_use_url: "https://fabrikam.example/terms".into(),
            terms_of_use_version: "2026-11".into(),
            ..settings("Fabrikam")
        })
        .await
        .expect("created with terms");
    assert_eq!(created.terms_of_use_version, "2026-11");

    // Both emptied: the organization has no terms any more.
    let with_terms = publish_terms(&app, id.parse().expect("uuid"), TERMS_URL, "1").await;
    assert_eq!(with_terms.terms_of_use_version, "1");
    let removed = publish_terms(&app, id.parse().expect("uuid"), "", "").await;
    assert_eq!(
        (removed.terms_of_use_url, removed.terms_of_use_version),
        (String::new(), String::new())
    );
}
