//! "More information required": a sign-in to an organization that requires multi-factor
//! authentication, by a person with no second factor, stops at a registration token instead of a
//! session. (Registering the method itself is security-info's; the whole story runs in the
//! end-to-end tests.)

use chrono::Utc;
use myaccount_proto::events::v1::{OrganizationChanged, SignInFailureReason};
use myaccount_proto::identity::v1 as pb;
use platform::auth::{Claims, MFA_REGISTRATION_SCOPE};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{TestApp, assert_status, bearer, spawn_app};

const REFUSED: &str =
    "this token only registers a first sign-in method and finishes that sign-in; finish signing in first";

impl TestApp {
    async fn require_mfa(&self, organization_id: Uuid, required: bool) {
        let changed = OrganizationChanged {
            organization_id: organization_id.to_string(),
            display_name: "Contoso".into(),
            sign_in_retention_days: 30,
            mfa_required: required,
            ..Default::default()
        };
        self.deliver(&changed, Some(Utc::now())).await;
    }

    async fn interrupted_sign_in(&self, upn: &str, password: &str) -> pb::sign_in_response::Result {
        self.client()
            .sign_in(pb::SignInRequest {
                username: upn.into(),
                password: password.into(),
                ..Default::default()
            })
            .await
            .expect("the password is right")
            .into_inner()
            .result
            .expect("an answer")
    }
}

fn claims_of(token: &str) -> Claims {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).expect("base64");
    serde_json::from_slice(&bytes).expect("claims")
}

#[tokio::test]
async fn a_sign_in_without_a_second_factor_to_an_organization_requiring_mfa_stops_at_registration() {
    let app = spawn_app().await;
    let adele = app.create_test_user("adele@contoso.example").await;
    // Before the organization requires MFA, the password alone opens a session.
    app.sign_in(&adele.upn, &adele.password)
        .await
        .expect("a session without the requirement");
    app.require_mfa(adele.organization_id, true).await;

    let pb::sign_in_response::Result::MfaRegistrationRequired(interrupt) =
        app.interrupted_sign_in(&adele.upn, &adele.password).await
    else {
        panic!("the sign-in must ask for a second factor to be registered");
    };
    let claims = claims_of(&interrupt.registration_token);
    assert_eq!(claims.sub, adele.id.to_string());
    assert_eq!(claims.scope.as_deref(), Some(MFA_REGISTRATION_SCOPE));
    assert_eq!(claims.org, Some(adele.organization_id.to_string()));
    assert_eq!(claims.amr, ["pwd"]);
    let expires_at = interrupt.expires_at.expect("an expiry").seconds;
    assert_eq!(claims.exp, expires_at);
    let lifetime = expires_at - Utc::now().timestamp();
    assert!((1..=600).contains(&lifetime), "short-lived: {lifetime} s");

    // The token is no access token: identity refuses it everywhere but the last step.
    let token = &interrupt.registration_token;
    let refused = app.get_my_profile(token).await.unwrap_err();
    assert_status(&refused, Code::Unauthenticated, REFUSED);
    let refused = app
        .client()
        .list_my_sessions(bearer(pb::ListMySessionsRequest::default(), token))
        .await
        .unwrap_err();
    assert_status(&refused, Code::Unauthenticated, REFUSED);
    let refused = app.sign_out(token).await.unwrap_err();
    assert_status(&refused, Code::Unauthenticated, REFUSED);

    // Finishing before a method is registered and verified opens nothing.
    let early = app
        .client()
        .complete_mfa_registration(bearer(pb::CompleteMfaRegistrationRequest::default(), token))
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition, "{early:?}");
    assert!(
        early.message().contains("verify it, then finish signing in"),
        "{early:?}"
    );
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1")
        .bind(adele.id)
        .fetch_one(&app.db)
        .await
        .expect("sessions");
    assert_eq!(sessions, 1, "only the session from before the requirement");

    // The sign-in log says the password was right but a second factor had to be registered.
    let records = app.sign_in_records_for(&adele.upn).await;
    let interrupted: Vec<_> = records
        .iter()
        .filter(|r| r.failure_reason() == SignInFailureReason::MfaRegistrationRequired)
        .collect();
    assert_eq!(interrupted.len(), 1, "{records:?}");
    assert!(
        interrupted
            .iter()
            .all(|r| r.session_id.is_empty() && r.authentication_methods == ["pwd"])
    );
}

#[tokio::test]
async fn an_access_token_cannot_finish_a_registration() {
    let app = spawn_app().await;
    let (_, tokens) = app.signed_in_user("bob@contoso.example").await;
    let refused = app
        .client()
        .complete_mfa_registration(bearer(
            pb::CompleteMfaRegistrationRequest::default(),
            &tokens.access_token,
        ))
        .await
        .unwrap_err();
    assert_status(
        &refused,
        Code::Unauthenticated,
        "the registration token is invalid, expired or already used; sign in again",
    );
}

#[tokio::test]
async fn an_admin_signed_in_to_a_guest_organization_is_no_admin_there() {
    use myaccount_proto::events::v1::{MemberJoined, OrganizationMembershipKind};
    let app = spawn_app().await;
    let mut request = crate::helpers::user_request("grace@contoso.example");
    request.roles = vec!["admin".into()];
    let home: Uuid = request.home_organization_id.parse().expect("uuid");
    let grace = app.create_user(request).await.expect("an admin of Contoso");
    let guest = Uuid::new_v4();
    app.deliver(
        &MemberJoined {
            user_id: grace.id.clone(),
            organization_id: guest.to_string(),
            kind: OrganizationMembershipKind::Guest.into(),
            ..Default::default()
        },
        Some(Utc::now()),
    )
    .await;
    let at_home = app
        .sign_in(&grace.user_principal_name, crate::helpers::STRONG_PASSWORD)
        .await
        .expect("signed in at home");
    let at_home = claims_of(&at_home.access_token);
    assert_eq!(at_home.org, Some(home.to_string()));
    assert_eq!(at_home.scope.as_deref(), Some(platform::auth::ADMIN_SCOPE));

    let as_guest = app
        .sign_in_with(pb::SignInRequest {
            username: grace.user_principal_name.clone(),
            password: crate::helpers::STRONG_PASSWORD.into(),
            organization_id: guest.to_string(),
            ..Default::default()
        })
        .await
        .expect("signed in as a guest");
    let as_guest = claims_of(&as_guest.access_token);
    assert_eq!(as_guest.org, Some(guest.to_string()));
    assert_eq!(as_guest.scope, None, "a guest is no admin of the host organization");
}

/// Two relays and two consumers may hand identity an organization's changes out of order: the
/// newest requirement stands whichever is handled last.
#[tokio::test]
async fn an_older_mfa_requirement_handled_late_does_not_overwrite_a_newer_one() {
    let app = spawn_app().await;
    let adele = app.create_test_user("adele@contoso.example").await;
    let changed = |required: bool| OrganizationChanged {
        organization_id: adele.organization_id.to_string(),
        display_name: "Contoso".into(),
        sign_in_retention_days: 30,
        mfa_required: required,
        ..Default::default()
    };
    app.deliver(&changed(false), Some(Utc::now())).await;
    app.deliver(&changed(true), Some(Utc::now() - chrono::Duration::minutes(5)))
        .await;
    let answer = app.interrupted_sign_in(&adele.upn, &adele.password).await;
    assert!(
        matches!(answer, pb::sign_in_response::Result::Tokens(_)),
        "the newer \"not required\" stands: {answer:?}"
    );

    app.deliver(&changed(true), Some(Utc::now())).await;
    let answer = app.interrupted_sign_in(&adele.upn, &adele.password).await;
    assert!(
        matches!(answer, pb::sign_in_response::Result::MfaRegistrationRequired(_)),
        "a newer requirement applies: {answer:?}"
    );
}
