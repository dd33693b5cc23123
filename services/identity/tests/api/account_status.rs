//! Disabling and enabling an account: an administrator (DisableUser / EnableUser) or the
//! operator (`myaccount user`, [`set_enabled_by_name`]) disables an account, whose sign-ins are
//! then refused and whose sessions end, each ending and the `user_disabled` event in one act
//! (one `cause_id`); enabling lets the person sign in again and publishes `user_enabled`. The
//! status it already has changes nothing; bad input and other organizations change nothing.

use myaccount_identity::account_status::set_enabled_by_name;
use myaccount_proto::events::v1::{UserDisabled, UserEnabled};
use myaccount_proto::identity::v1 as pb;
use prost::Message;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{STRONG_PASSWORD, TestApp, bearer, spawn_app, user_request};

const USER_DISABLED: &str = "myaccount.identity.v1.user_disabled";
const USER_ENABLED: &str = "myaccount.identity.v1.user_enabled";

impl TestApp {
    async fn disable(&self, token: &str, user_id: &str) -> Result<pb::UserStatus, tonic::Status> {
        let request = pb::DisableUserRequest {
            user_id: user_id.into(),
        };
        Ok(self.client().disable_user(bearer(request, token)).await?.into_inner())
    }

    async fn enable(&self, token: &str, user_id: &str) -> Result<pb::UserStatus, tonic::Status> {
        let request = pb::EnableUserRequest {
            user_id: user_id.into(),
        };
        Ok(self.client().enable_user(bearer(request, token)).await?.into_inner())
    }

    async fn disabled_events(&self) -> Vec<UserDisabled> {
        self.outbox_payloads(USER_DISABLED)
            .await
            .iter()
            .map(|p| UserDisabled::decode(p.as_slice()).expect("a UserDisabled payload"))
            .collect()
    }

    async fn enabled_events(&self) -> Vec<UserEnabled> {
        self.outbox_payloads(USER_ENABLED)
            .await
            .iter()
            .map(|p| UserEnabled::decode(p.as_slice()).expect("a UserEnabled payload"))
            .collect()
    }
}

#[tokio::test]
async fn an_admin_disables_an_account_ending_its_sessions_in_one_act_and_enables_it_again() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (user, first) = app.signed_in_user("disabled.person@contoso.example").await;
    let second = app.sign_in(&user.upn, &user.password).await.expect("signs in again");

    let status = app.disable(&admin, &user.id.to_string()).await.expect("disabled");
    assert_eq!((status.enabled, status.changed), (false, true));
    assert_eq!(status.user_id, user.id.to_string());

    // Refused from now on, and every session has ended.
    let refused = app.sign_in(&user.upn, &user.password).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    for tokens in [&first, &second] {
        let refreshed = app.refresh(&tokens.refresh_token).await.unwrap_err();
        assert_eq!(refreshed.code(), Code::Unauthenticated, "{refreshed:?}");
    }

    // One user_disabled, in the act of the two session_revoked.
    let disabled = app.disabled_events().await;
    assert_eq!(disabled.len(), 1, "{disabled:?}");
    assert_eq!(disabled[0].user_id, user.id.to_string());
    assert_eq!(disabled[0].changed_by, "admin");
    assert!(!disabled[0].cause_id.is_empty());
    let ended: Vec<_> = app
        .revocations()
        .await
        .into_iter()
        .filter(|r| r.user_id == user.id.to_string())
        .collect();
    assert_eq!(ended.len(), 2, "{ended:?}");
    for revoked in &ended {
        assert_eq!(revoked.reason, "account_disabled");
        assert_eq!(revoked.cause_id, disabled[0].cause_id, "one act");
    }

    // Disabling again changes and publishes nothing.
    let again = app.disable(&admin, &user.id.to_string()).await.expect("answered");
    assert_eq!((again.enabled, again.changed), (false, false));
    assert_eq!(app.disabled_events().await.len(), 1);

    let enabled = app.enable(&admin, &user.id.to_string()).await.expect("enabled");
    assert_eq!((enabled.enabled, enabled.changed), (true, true));
    app.sign_in(&user.upn, &user.password).await.expect("signs in again");
    let events = app.enabled_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].user_id, user.id.to_string());
    assert_eq!(events[0].changed_by, "admin");
}

#[tokio::test]
async fn the_operator_disables_and_enables_by_name() {
    let app = spawn_app().await;
    let user = app.create_test_user("operator.case@contoso.example").await;

    let change = set_enabled_by_name(&app.db, "  Operator.Case@Contoso.Example ", false)
        .await
        .expect("disabled");
    assert_eq!((change.user_id, change.enabled, change.changed), (user.id, false, true));
    assert_eq!(
        app.sign_in(&user.upn, &user.password).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    assert_eq!(app.disabled_events().await[0].changed_by, "operator");
    set_enabled_by_name(&app.db, &user.upn, true).await.expect("enabled");
    app.sign_in(&user.upn, &user.password).await.expect("signs in");
    assert_eq!(app.enabled_events().await[0].changed_by, "operator");

    let unknown = set_enabled_by_name(&app.db, "nobody@contoso.example", false)
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, myaccount_identity::error::IdentityError::Invalid(v) if v[0].field == "username"),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn bad_requests_other_organizations_and_stale_sign_ins_change_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let user = app.create_test_user("untouched@contoso.example").await;

    let malformed = app.disable(&admin, "not-a-uuid").await.unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument, "{malformed:?}");
    let violations = platform::error::field_violations(&malformed);
    assert_eq!(violations[0].field, "user_id", "{malformed:?}");
    let unknown = app.disable(&admin, &Uuid::new_v4().to_string()).await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");

    // An admin of another organization: as for nobody at all.
    let mut request = user_request(&format!(
        "admin.{}@fabrikam.example",
        &Uuid::new_v4().simple().to_string()[..8]
    ));
    request.home_organization_id = Uuid::new_v4().to_string();
    request.roles = vec!["admin".into()];
    let other_admin = app.create_user(request).await.expect("another organization's admin");
    let other_password_only = app
        .sign_in(&other_admin.user_principal_name, STRONG_PASSWORD)
        .await
        .expect("signs in")
        .access_token;
    let other = app.with_second_factor(&other_password_only).await;
    let elsewhere = app.disable(&other, &user.id.to_string()).await.unwrap_err();
    assert_eq!(elsewhere.code(), Code::NotFound, "{elsewhere:?}");
    // A password-only sign-in is not enough, nor may an admin disable themselves.
    let own_org_user = {
        let mut r = user_request(&format!(
            "member.{}@fabrikam.example",
            &Uuid::new_v4().simple().to_string()[..8]
        ));
        r.home_organization_id = other_admin.home_organization_id.clone();
        app.create_user(r).await.expect("a member")
    };
    let stale = app.disable(&other_password_only, &own_org_user.id).await.unwrap_err();
    assert!(platform::error::is_reauthentication_required(&stale), "{stale:?}");
    let herself = app.disable(&other, &other_admin.id).await.unwrap_err();
    assert_eq!(herself.code(), Code::InvalidArgument, "{herself:?}");

    app.sign_in(&user.upn, &user.password).await.expect("untouched");
    app.sign_in(&own_org_user.user_principal_name, STRONG_PASSWORD)
        .await
        .expect("untouched");
    assert!(app.disabled_events().await.is_empty());
}
