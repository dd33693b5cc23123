use myaccount_proto::events::v1::UserCreated;
use prost::Message;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{USER_CREATED, assert_status, spawn_app, user_request, violated_fields};

#[tokio::test]
async fn an_admin_creates_a_user_who_can_then_sign_in() {
    let app = spawn_app().await;
    let mut request = user_request("  Adele.Vance@Contoso.Example ");
    request.display_name = "  Adele Vance  ".into();
    let organization_id = request.home_organization_id.clone();

    let profile = app
        .create_user(request.clone())
        .await
        .expect("the admin creates a user");

    let id: Uuid = profile.id.parse().expect("the new user has a uuid");
    assert_eq!(profile.user_principal_name, "adele.vance@contoso.example");
    assert_eq!(profile.display_name, "Adele Vance");
    assert_eq!(profile.given_name, request.given_name);
    assert_eq!(profile.surname, request.surname);
    assert_eq!(profile.job_title, request.job_title);
    assert_eq!(profile.department, request.department);
    assert_eq!(profile.office_location, request.office_location);
    assert_eq!(profile.mobile_phone, request.mobile_phone);
    assert_eq!(profile.business_phone, request.business_phone);
    assert_eq!(profile.mail, "adele.vance@contoso.example");
    assert_eq!(profile.preferred_language, "en-US");
    assert_eq!(profile.home_organization_id, organization_id);
    assert!(profile.created_at.is_some());
    assert_eq!(profile.created_at, profile.updated_at);
    assert_eq!(app.user_count().await, 2, "the bootstrap admin and the new user");

    // The user exists for real: they can sign in with the password the admin set.
    app.sign_in("adele.vance@contoso.example", &request.password)
        .await
        .expect("the new user signs in");

    // And the rest of the system hears about it.
    let created: Vec<UserCreated> = app
        .outbox_payloads(USER_CREATED)
        .await
        .iter()
        .map(|p| UserCreated::decode(p.as_slice()).expect("a UserCreated payload"))
        .filter(|e| e.user_principal_name != crate::helpers::ADMIN_UPN)
        .collect();
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].user_id, id.to_string());
    assert_eq!(created[0].user_principal_name, "adele.vance@contoso.example");
    assert_eq!(created[0].home_organization_id, organization_id);
    assert_eq!(
        created[0].preferred_language, "en-US",
        "the language it was created with"
    );
}

#[tokio::test]
async fn create_user_without_the_admin_scope_is_permission_denied() {
    let app = spawn_app().await;
    let (_, tokens) = app.signed_in_user("adele.vance@contoso.example").await;

    let status = app
        .create_user_as(Some(&tokens.access_token), user_request("megan.bowen@contoso.example"))
        .await
        .expect_err("a regular user cannot create users");

    assert_status(
        &status,
        Code::PermissionDenied,
        "this operation needs the myaccount.admin scope",
    );
    assert_eq!(app.user_count().await, 2, "nothing was created");
}

#[tokio::test]
async fn create_user_without_an_access_token_is_unauthenticated() {
    let app = spawn_app().await;

    let status = app
        .create_user_as(None, user_request("megan.bowen@contoso.example"))
        .await
        .expect_err("an anonymous caller cannot create users");
    assert_status(&status, Code::Unauthenticated, "an access token is required");

    let status = app
        .create_user_as(Some("not-a-jwt"), user_request("megan.bowen@contoso.example"))
        .await
        .expect_err("a garbage token is no token");
    assert_status(&status, Code::Unauthenticated, "the access token is invalid: not a JWT");

    assert_eq!(app.user_count().await, 1, "only the bootstrap admin exists");
}

#[tokio::test]
async fn invalid_create_user_input_lists_every_bad_field_and_creates_nothing() {
    let app = spawn_app().await;
    let mut request = user_request("not-an-email");
    request.mail = "adele.vance@contoso.example".into();
    request.password = "short".into();
    request.display_name = "x".repeat(257);
    request.roles = vec!["superuser".into()];

    let status = app.create_user(request).await.expect_err("the request is invalid");

    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let violations = platform::error::field_violations(&status);
    let listed: Vec<(&str, &str)> = violations
        .iter()
        .map(|v| (v.field.as_str(), v.description.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            (
                "user_principal_name",
                "must look like name@domain.example (at most 256 characters)"
            ),
            ("display_name", "at most 256 characters"),
            ("roles", "unknown role \"superuser\"; known roles: admin"),
            ("password", "at least 8 characters"),
        ]
    );
    assert_eq!(
        status.message(),
        "user_principal_name: must look like name@domain.example (at most 256 characters); \
         display_name: at most 256 characters; roles: unknown role \"superuser\"; known roles: admin; \
         password: at least 8 characters"
    );
    assert_eq!(app.user_count().await, 1, "nothing was created");
    assert_eq!(
        app.outbox_payloads(USER_CREATED).await.len(),
        1,
        "only the admin's user_created event"
    );
}

#[tokio::test]
async fn each_invalid_field_is_reported_on_its_own() {
    let app = spawn_app().await;
    type Breaks = fn(&mut myaccount_proto::identity::v1::CreateUserRequest);
    let cases: [(&str, &str, Breaks); 9] = [
        ("upn with two @", "user_principal_name", |r| {
            r.user_principal_name = "a@b@contoso.example".into()
        }),
        ("upn missing", "user_principal_name", |r| {
            r.user_principal_name = "   ".into()
        }),
        ("common password", "password", |r| r.password = "password1234".into()),
        ("password from the user's name", "password", |r| {
            r.password = "adele.vance2024".into()
        }),
        ("password too long", "password", |r| r.password = "y".repeat(257)),
        ("display name missing", "display_name", |r| r.display_name = " ".into()),
        ("unknown role", "roles", |r| {
            r.roles = vec!["admin".into(), "root".into()]
        }),
        ("bad phone", "mobile_phone", |r| r.mobile_phone = "call me".into()),
        ("bad organization", "home_organization_id", |r| {
            r.home_organization_id = "contoso".into()
        }),
    ];

    for (case, field, breaks) in cases {
        let mut request = user_request("adele.vance@contoso.example");
        breaks(&mut request);
        let status = app.create_user(request).await.expect_err(case);
        assert_eq!(status.code(), Code::InvalidArgument, "{case}: {status:?}");
        assert_eq!(violated_fields(&status), [field], "{case}: {status:?}");
    }
    assert_eq!(app.user_count().await, 1, "nothing was created");
}

#[tokio::test]
async fn a_weak_password_is_rejected_with_a_hint() {
    let app = spawn_app().await;
    let mut request = user_request("adele.vance@contoso.example");
    request.password = "password1234".into();

    let status = app
        .create_user(request)
        .await
        .expect_err("a common password is refused");

    let violations = platform::error::field_violations(&status);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].field, "password");
    assert!(
        violations[0].description.starts_with("choose a less common password: "),
        "{violations:?}"
    );
}

#[tokio::test]
async fn a_user_principal_name_taken_in_another_case_already_exists() {
    let app = spawn_app().await;
    app.create_user(user_request("adele.vance@contoso.example"))
        .await
        .expect("the first user is created");

    let status = app
        .create_user(user_request("Adele.VANCE@contoso.EXAMPLE"))
        .await
        .expect_err("the same name in other letters is the same user");

    assert_status(
        &status,
        Code::AlreadyExists,
        "a user named adele.vance@contoso.example already exists",
    );
    assert_eq!(app.user_count().await, 2, "the admin and the first user only");
}
