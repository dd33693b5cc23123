use myaccount_proto::events::v1::OrganizationChanged;
use myaccount_proto::organizations::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{assert_status, settings, spawn_app, violated_fields};

#[tokio::test]
async fn an_admin_creates_an_organization_and_the_platform_hears_its_settings() {
    let app = spawn_app().await;
    let mut request = settings("Contoso");
    request.display_name = "  Contoso Ltd  ".into();
    request.verified_domains = vec!["Contoso.Example".into(), "contoso.co.uk".into()];
    request.privacy_contact_email = "Privacy@Contoso.Example".into();
    request.mfa_required = true;

    let created = app.create_organization(request).await.expect("created");

    let id: Uuid = created.id.parse().expect("a generated uuid");
    assert_eq!(created.display_name, "Contoso Ltd");
    assert_eq!(created.verified_domains, ["contoso.example", "contoso.co.uk"]);
    assert_eq!(created.privacy_statement_url, "https://contoso.example/privacy");
    assert_eq!(created.privacy_contact_email, "privacy@contoso.example");
    assert_eq!(created.technical_contact_email, "it@contoso.example");
    assert!(created.mfa_required);
    assert_eq!(created.sign_in_retention_days, 30, "the default");
    assert_eq!(created.created_at, created.updated_at);
    assert_eq!(app.get_organization(&created.id).await.expect("read back"), created);

    let changed = app.outbox_events::<OrganizationChanged>().await;
    assert_eq!(
        changed,
        [OrganizationChanged {
            organization_id: id.to_string(),
            display_name: "Contoso Ltd".into(),
            mfa_required: true,
            sign_in_retention_days: 30,
            time: created.updated_at,
            user_id: String::new(),
            allow_self_deletion: false,
        }]
    );
}

#[tokio::test]
async fn an_organization_can_be_created_with_the_id_identity_already_uses() {
    let app = spawn_app().await;
    let id = Uuid::new_v4().to_string();

    let created = app
        .create_organization_as(&app.admin_token(), &id, settings("Contoso"))
        .await
        .expect("created with its id");
    assert_eq!(created.id, id);

    let again = app
        .create_organization_as(&app.admin_token(), &id, settings("Elsewhere"))
        .await
        .expect_err("the id is taken");
    assert_status(
        &again,
        Code::AlreadyExists,
        &format!("organization {id} already exists"),
    );
    assert_eq!(
        app.get_organization(&id).await.expect("still there"),
        created,
        "left as it was"
    );
    assert_eq!(app.outbox_events::<OrganizationChanged>().await.len(), 1);
}

#[tokio::test]
async fn invalid_organizations_are_refused_field_by_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let bad = pb::OrganizationSettings {
        display_name: " ".into(),
        verified_domains: vec![
            "not a domain".into(),
            "contoso.example".into(),
            "CONTOSO.example".into(),
        ],
        privacy_statement_url: "http://contoso.example/privacy".into(),
        privacy_contact_email: "privacy".into(),
        technical_contact_email: "it@".into(),
        mfa_required: true,
        sign_in_retention_days: Some(400),
        allow_self_deletion: false,
        ..Default::default()
    };

    let status = app
        .create_organization_as(&app.admin_token(), "not-a-uuid", bad)
        .await
        .expect_err("invalid");

    assert_eq!(status.code(), Code::InvalidArgument);
    let violations: Vec<(String, String)> = platform::error::field_violations(&status)
        .into_iter()
        .map(|v| (v.field, v.description))
        .collect();
    let expected = [
        ("organization_id", "must be an organization id (a UUID)"),
        ("display_name", "is required"),
        (
            "verified_domains",
            "\"not a domain\" is not a domain name such as contoso.example",
        ),
        ("verified_domains", "contoso.example is listed twice"),
        (
            "privacy_statement_url",
            "must be an https URL such as https://contoso.example/privacy",
        ),
        (
            "privacy_contact_email",
            "must be an email address such as privacy@contoso.example",
        ),
        (
            "technical_contact_email",
            "must be an email address such as privacy@contoso.example",
        ),
        ("sign_in_retention_days", "must be between 1 and 365 days"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(f, d)| ((*f).into(), (*d).into())).collect();
    assert_eq!(violations, expected);
    let counts = app.row_counts().await;
    assert_eq!(
        (counts.organizations, counts.outbox),
        (0, 0),
        "nothing stored, nothing published"
    );
}

#[tokio::test]
async fn only_admins_manage_organizations() {
    let app = spawn_app().await;
    let id = app.organization("Contoso").await;
    let user = app.user_created("adele.vance@contoso.example", Some(id)).await;
    let before = app.row_counts().await;

    let create = app
        .create_organization_as(&user.mfa_token, "", settings("Mine"))
        .await
        .expect_err("not an admin");
    assert_status(
        &create,
        Code::PermissionDenied,
        "this operation needs the myaccount.admin scope",
    );
    let invite = app
        .invite_as(&user.token, &id.to_string(), "megan.bowen@contoso.example")
        .await
        .expect_err("not an admin");
    assert_eq!(invite.code(), Code::PermissionDenied);
    let remove = app
        .remove_member(&user.token, &id.to_string(), &user.id.to_string())
        .await
        .expect_err("not an admin");
    assert_eq!(remove.code(), Code::PermissionDenied);
    let anonymous = app
        .client
        .clone()
        .create_organization(pb::CreateOrganizationRequest::default())
        .await
        .expect_err("no token");
    assert_status(&anonymous, Code::Unauthenticated, "an access token is required");

    assert_eq!(app.row_counts().await, before, "nothing changed");
}

#[tokio::test]
async fn an_admin_updates_the_masked_settings_and_every_update_is_published_in_full() {
    let app = spawn_app().await;
    let id = app.organization("Contoso").await.to_string();
    let before = app.get_organization(&id).await.expect("read");

    let change = pb::OrganizationSettings {
        display_name: "ignored: not in the mask".into(),
        mfa_required: true,
        sign_in_retention_days: Some(90),
        allow_self_deletion: true,
        ..Default::default()
    };
    let updated = app
        .update_organization(
            &id,
            change,
            &["mfa_required", "sign_in_retention_days", "allow_self_deletion"],
        )
        .await
        .expect("updated");

    let expected = pb::Organization {
        mfa_required: true,
        sign_in_retention_days: 90,
        allow_self_deletion: true,
        updated_at: updated.updated_at,
        ..before.clone()
    };
    assert_eq!(updated, expected, "only the masked settings changed");
    let changed = app.outbox_events::<OrganizationChanged>().await;
    assert_eq!(changed.len(), 2, "one for the creation, one for the update");
    assert_eq!(changed[1].display_name, "Contoso", "the full current settings");
    assert!(changed[1].mfa_required);
    assert_eq!(changed[1].sign_in_retention_days, 90);
    assert!(changed[1].allow_self_deletion, "identity enforces it from this event");
}

#[tokio::test]
async fn invalid_updates_change_nothing() {
    let app = spawn_app().await;
    let id = app.organization("Contoso").await.to_string();
    let before = app.get_organization(&id).await.expect("read");

    let cases: Vec<(&str, pb::OrganizationSettings, Vec<&str>, Vec<&str>)> = vec![
        ("no mask", settings("Other"), vec![], vec!["update_mask"]),
        (
            "a managed field",
            settings("Other"),
            vec!["display_name", "created_at"],
            vec!["update_mask"],
        ),
        (
            "a field twice",
            settings("Other"),
            vec!["display_name", "display_name"],
            vec!["update_mask"],
        ),
        (
            "retention named but absent",
            settings("Other"),
            vec!["sign_in_retention_days"],
            vec!["sign_in_retention_days"],
        ),
        (
            "retention of zero",
            pb::OrganizationSettings {
                sign_in_retention_days: Some(0),
                ..settings("Other")
            },
            vec!["sign_in_retention_days"],
            vec!["sign_in_retention_days"],
        ),
        (
            "a display name removed",
            pb::OrganizationSettings {
                display_name: String::new(),
                privacy_statement_url: "ftp://contoso.example".into(),
                ..settings("Other")
            },
            vec!["display_name", "privacy_statement_url"],
            vec!["display_name", "privacy_statement_url"],
        ),
    ];
    for (case, change, paths, fields) in cases {
        let status = app.update_organization(&id, change, &paths).await.expect_err(case);
        assert_eq!(status.code(), Code::InvalidArgument, "{case}: {status:?}");
        assert_eq!(violated_fields(&status), fields, "{case}");
    }

    let missing = Uuid::new_v4().to_string();
    let status = app
        .update_organization(&missing, settings("Other"), &["display_name"])
        .await
        .expect_err("unknown organization");
    assert_status(&status, Code::NotFound, &format!("organization {missing} not found"));
    assert_eq!(
        app.get_organization(&id).await.expect("read"),
        before,
        "nothing changed"
    );
    assert_eq!(
        app.outbox_events::<OrganizationChanged>().await.len(),
        1,
        "only the creation was published"
    );
}
