//! Export of what identity keeps about me, and deleting an account (by the person when the
//! organization allows it, or by an admin), which publishes `user_deleted`.

use std::time::Duration;

use chrono::Utc;
use myaccount_proto::events::v1::{MemberJoined, OrganizationChanged, OrganizationMembershipKind, UserDeleted};
use myaccount_proto::identity::v1 as pb;
use prost::Message;
use tonic::{Code, Request, Status};
use uuid::Uuid;

use crate::helpers::{
    INVALID_CREDENTIALS, TestApp, TestUser, assert_revoked, assert_status, bearer, spawn_app, spawn_app_with,
    violated_fields,
};

const USER_DELETED: &str = "myaccount.identity.v1.user_deleted";

impl TestApp {
    async fn export(&self, access_token: &str) -> Result<pb::IdentityExport, Status> {
        Ok(self
            .identity
            .clone()
            .export_my_data(bearer(pb::ExportMyDataRequest {}, access_token))
            .await?
            .into_inner())
    }

    async fn delete_my_account(&self, access_token: &str, confirm: &str) -> Result<pb::DeleteAccountResponse, Status> {
        let request = pb::DeleteMyAccountRequest {
            confirm_user_principal_name: confirm.into(),
        };
        Ok(self
            .identity
            .clone()
            .delete_my_account(bearer(request, access_token))
            .await?
            .into_inner())
    }

    async fn delete_user(&self, access_token: &str, user_id: &str) -> Result<pb::DeleteAccountResponse, Status> {
        let request = pb::DeleteUserRequest {
            user_id: user_id.into(),
        };
        Ok(self
            .identity
            .clone()
            .delete_user(bearer(request, access_token))
            .await?
            .into_inner())
    }

    async fn deletions(&self) -> Vec<UserDeleted> {
        self.outbox_payloads(USER_DELETED)
            .await
            .into_iter()
            .map(|p| UserDeleted::decode(p.as_slice()).expect("a UserDeleted payload"))
            .collect()
    }

    /// The organization's settings as organizations would publish them.
    async fn allow_self_deletion(&self, organization_id: Uuid, allow: bool) {
        let changed = OrganizationChanged {
            organization_id: organization_id.to_string(),
            display_name: "Contoso".into(),
            sign_in_retention_days: 30,
            allow_self_deletion: allow,
            ..Default::default()
        };
        self.deliver(&changed, Some(Utc::now())).await;
    }

    async fn rows_about(&self, user: &TestUser) -> i64 {
        sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM users WHERE id = $1) + (SELECT count(*) FROM sessions WHERE user_id = $1) \
                  + (SELECT count(*) FROM guest_memberships WHERE user_id = $1) \
                  + (SELECT count(*) FROM registered_devices WHERE owner_id = $1) \
                  + (SELECT count(*) FROM sign_in_throttle WHERE key = 'account:' || $2)",
        )
        .bind(user.id)
        .bind(&user.upn)
        .fetch_one(&self.db)
        .await
        .expect("count rows")
    }
}

#[tokio::test]
async fn my_export_has_my_profile_and_every_session_and_no_secrets() {
    let app = spawn_app().await;
    let (user, first) = app.signed_in_user("adele.vance@contoso.example").await;
    let second = app.sign_in(&user.upn, &user.password).await.expect("again");
    app.sign_out(&first.access_token).await.expect("signs out");
    let (_, _) = app.signed_in_user("lee.gu@contoso.example").await;
    let fabrikam = Uuid::new_v4();
    let joined = MemberJoined {
        user_id: user.id.to_string(),
        organization_id: fabrikam.to_string(),
        kind: OrganizationMembershipKind::Guest.into(),
        ..Default::default()
    };
    app.deliver(&joined, Some(Utc::now())).await;
    // Two successful sign-ins from two addresses (the later one last) and a wrong password
    // from a third: only where the person got in is familiar.
    for (address, password) in [
        ("198.51.100.20", user.password.as_str()),
        ("203.0.113.7", user.password.as_str()),
        ("192.0.2.99", "not the password"),
    ] {
        let _ = app
            .sign_in_with(pb::SignInRequest {
                username: user.upn.clone(),
                password: password.into(),
                client: Some(pb::ClientContext {
                    ip_address: address.into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await;
    }

    let export = app.export(&second.access_token).await.expect("exports");
    let familiar: Vec<&str> = export
        .familiar_addresses
        .iter()
        .map(|a| a.ip_address.as_str())
        .collect();
    // (The first sign-ins came without a client context: identity saw the loopback peer.)
    assert_eq!(
        familiar,
        ["203.0.113.7", "198.51.100.20", "127.0.0.1"],
        "most recent first, successes only"
    );
    assert!(export.familiar_addresses.iter().all(|a| a.last_signed_in_at.is_some()));

    assert_eq!(export.user_id, user.id.to_string());
    let profile = export.profile.as_ref().expect("the profile");
    assert_eq!(profile.user_principal_name, user.upn);
    assert_eq!(
        export.sessions.len(),
        4,
        "mine only, ended ones too: {:?}",
        export.sessions
    );
    let ended: Vec<_> = export.sessions.iter().filter(|s| s.ended_at.is_some()).collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].end_reason, "signed_out");
    assert!(
        export
            .sessions
            .iter()
            .any(|s| s.session.as_ref().is_some_and(|s| s.current))
    );
    assert!(
        export
            .sessions
            .iter()
            .all(|s| s.organization_id == user.organization_id.to_string())
    );
    assert_eq!(export.guest_organization_ids, [fabrikam.to_string()]);
    assert!(export.password_changed_at.is_some());
    let everything = format!("{export:?}");
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user.id)
        .fetch_one(&app.db)
        .await
        .expect("hash");
    assert!(!everything.contains(&hash) && !everything.contains("argon2"));
    assert!(!everything.contains(&second.refresh_token));

    let status = app
        .identity
        .clone()
        .export_my_data(Request::new(pb::ExportMyDataRequest {}))
        .await
        .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn i_delete_my_account_when_my_organization_allows_it_and_everything_of_mine_goes() {
    let app = spawn_app().await;
    let (user, tokens) = app.signed_in_user("adele.vance@contoso.example").await;
    let (other, other_tokens) = app.signed_in_user("lee.gu@contoso.example").await;
    let _ = app.sign_in(&user.upn, "a wrong password, counted").await;

    // Unknown policy: refused, and nothing changes.
    let status = app
        .delete_my_account(&tokens.access_token, &user.upn)
        .await
        .expect_err("not allowed yet");
    assert_status(
        &status,
        Code::FailedPrecondition,
        "your organization does not let members delete their own account; ask its administrator",
    );
    app.allow_self_deletion(user.organization_id, false).await;
    assert_eq!(
        app.delete_my_account(&tokens.access_token, &user.upn)
            .await
            .expect_err("explicitly not allowed")
            .code(),
        Code::FailedPrecondition
    );
    app.allow_self_deletion(user.organization_id, true).await;
    let status = app
        .delete_my_account(&tokens.access_token, "someone.else@contoso.example")
        .await
        .expect_err("the confirmation must match");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["confirm_user_principal_name"]);
    assert!(app.deletions().await.is_empty());
    app.get_my_profile(&tokens.access_token).await.expect("still here");

    let deleted = app
        .delete_my_account(&tokens.access_token, "  Adele.Vance@Contoso.example ")
        .await
        .expect("deleted");

    assert_eq!(deleted.user_id, user.id.to_string());
    let events = app.deletions().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].user_id, user.id.to_string());
    assert_eq!(app.rows_about(&user).await, 0, "no row names the user any more");
    let by: String = sqlx::query_scalar("SELECT deleted_by FROM deleted_users WHERE user_id = $1")
        .bind(user.id)
        .fetch_one(&app.db)
        .await
        .expect("the tombstone");
    assert_eq!(by, "self");
    assert_revoked(
        &app.get_my_profile(&tokens.access_token).await.expect_err("gone"),
        "account_deleted",
    );
    assert_status(
        &app.sign_in(&user.upn, &user.password).await.expect_err("gone"),
        Code::Unauthenticated,
        INVALID_CREDENTIALS,
    );
    assert!(app.refresh(&tokens.refresh_token).await.is_err());
    // The other person is untouched.
    app.get_my_profile(&other_tokens.access_token)
        .await
        .expect("still here");
    assert!(app.rows_about(&other).await > 0);
    // Deleting again finds nothing, and publishes nothing more.
    let status = app
        .delete_user(&app.admin_token().await, &user.id.to_string())
        .await
        .expect_err("already deleted");
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(app.deletions().await.len(), 1);
}

#[tokio::test]
async fn deleting_my_account_needs_a_recent_sign_in() {
    let app = spawn_app_with(|s| s.service.step_up_max_age = Duration::from_secs(1)).await;
    let (user, tokens) = app.signed_in_user("adele.vance@contoso.example").await;
    app.allow_self_deletion(user.organization_id, true).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let status = app
        .delete_my_account(&tokens.access_token, &user.upn)
        .await
        .expect_err("the sign-in is too old");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("needs a recent sign-in"), "{status:?}");
    assert!(app.deletions().await.is_empty());
    app.get_my_profile(&tokens.access_token).await.expect("still here");
}

#[tokio::test]
async fn an_admin_deletes_an_account_but_not_their_own_and_others_cannot() {
    let app = spawn_app().await;
    let (user, tokens) = app.signed_in_user("adele.vance@contoso.example").await;
    let (other, _) = app.signed_in_user("lee.gu@contoso.example").await;
    let admin = app.admin_token().await;

    let status = app
        .delete_user(&tokens.access_token, &other.id.to_string())
        .await
        .expect_err("not an admin");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = app.delete_user(&admin, "adele").await.expect_err("not an id");
    assert_eq!(violated_fields(&status), ["user_id"]);
    let status = app
        .delete_user(&admin, &Uuid::new_v4().to_string())
        .await
        .expect_err("nobody");
    assert_eq!(status.code(), Code::NotFound);
    let admin_id = app.jwks_verifier().verify(&admin).await.expect("verifies").user_id;
    let status = app
        .delete_user(&admin, &admin_id.to_string())
        .await
        .expect_err("not oneself");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(app.deletions().await.is_empty());

    app.delete_user(&admin, &user.id.to_string()).await.expect("deleted");

    assert_eq!(app.deletions().await.len(), 1);
    assert_eq!(app.rows_about(&user).await, 0);
    assert!(app.rows_about(&other).await > 0);
}
