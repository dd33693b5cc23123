//! "This wasn't me": identity ends every session and the next sign-in must choose a new
//! password before a session opens (`password_change_required`, then SetRequiredPassword).

use chrono::Utc;
use myaccount_proto::events::v1::{PasswordChanged, SignInFailureReason, SignInFlagged, SignInStatus};
use myaccount_proto::identity::v1 as pb;
use prost::Message;
use tonic::{Code, Status};
use uuid::Uuid;

use crate::helpers::{INVALID_REFRESH_TOKEN, TestApp, TestUser, assert_status, spawn_app, violated_fields};

const NEW_PASSWORD: &str = "velvet otter maple quasar";

impl TestApp {
    async fn sign_in_answer(&self, user: &TestUser, password: &str) -> Result<pb::SignInResponse, Status> {
        let request = pb::SignInRequest {
            username: user.upn.clone(),
            password: password.into(),
            ..Default::default()
        };
        Ok(self.client().sign_in(request).await?.into_inner())
    }

    async fn set_required_password(&self, ticket: &str, password: &str) -> Result<pb::TokenSet, Status> {
        let request = pb::SetRequiredPasswordRequest {
            change_ticket: ticket.into(),
            new_password: password.into(),
            client: None,
        };
        Ok(self.client().set_required_password(request).await?.into_inner())
    }

    async fn report_not_me(&self, user: &TestUser) {
        let flagged = SignInFlagged {
            user_id: user.id.to_string(),
            sign_in_id: Uuid::now_v7().to_string(),
            ..Default::default()
        };
        self.deliver(&flagged, Some(Utc::now())).await;
    }
}

fn ticket_of(answer: pb::SignInResponse) -> pb::PasswordChangeRequired {
    match answer.result {
        Some(pb::sign_in_response::Result::PasswordChangeRequired(p)) => p,
        other => panic!("a password change is due, got {other:?}"),
    }
}

#[tokio::test]
async fn after_not_me_the_next_sign_in_chooses_a_new_password_first() {
    let app = spawn_app().await;
    let (user, tokens) = app.signed_in_user("adele.vance@contoso.example").await;

    app.report_not_me(&user).await;

    assert_status(
        &app.refresh(&tokens.refresh_token).await.expect_err("ended"),
        Code::Unauthenticated,
        INVALID_REFRESH_TOKEN,
    );
    let interrupted = ticket_of(app.sign_in_answer(&user, &user.password).await.expect("answers"));
    assert!(interrupted.reason.contains("not you"), "{interrupted:?}");
    let record = app.sign_in_records_for(&user.upn).await.pop().expect("recorded");
    assert_eq!(record.status(), SignInStatus::Failure);
    assert_eq!(record.failure_reason(), SignInFailureReason::PasswordChangeRequired);
    assert!(record.session_id.is_empty());

    // Bad input changes nothing: the ticket still works afterwards.
    let status = app
        .set_required_password(&interrupted.change_ticket, &user.password)
        .await
        .expect_err("the old password again");
    assert_eq!(violated_fields(&status), ["new_password"]);
    let status = app
        .set_required_password(&interrupted.change_ticket, "password")
        .await
        .expect_err("weak");
    assert_eq!(violated_fields(&status), ["new_password"]);
    let status = app
        .set_required_password("not-a-ticket", NEW_PASSWORD)
        .await
        .expect_err("malformed");
    assert_eq!(violated_fields(&status), ["change_ticket"]);
    let status = app
        .set_required_password(&Uuid::new_v4().to_string(), NEW_PASSWORD)
        .await
        .expect_err("unknown");
    assert_eq!(status.code(), Code::Unauthenticated);

    let tokens = app
        .set_required_password(&interrupted.change_ticket, NEW_PASSWORD)
        .await
        .expect("signed in");
    app.get_my_profile(&tokens.access_token)
        .await
        .expect("a working session");
    let record = app.sign_in_records_for(&user.upn).await.pop().expect("recorded");
    assert_eq!(record.status(), SignInStatus::Success);
    assert_eq!(record.method, "password_change");
    let changed = app.outbox_payloads("myaccount.identity.v1.password_changed").await;
    assert_eq!(changed.len(), 1);
    assert_eq!(
        PasswordChanged::decode(changed[0].as_slice()).expect("payload").user_id,
        user.id.to_string()
    );

    // The ticket is spent, the old password is gone, and the new one signs in directly.
    let status = app
        .set_required_password(&interrupted.change_ticket, "another lively walrus anthem")
        .await
        .expect_err("spent");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        app.sign_in(&user.upn, &user.password).await.expect_err("old").code(),
        Code::Unauthenticated
    );
    app.sign_in(&user.upn, NEW_PASSWORD)
        .await
        .expect("no second interruption");
}

#[tokio::test]
async fn a_wrong_password_never_gets_a_ticket_and_others_are_unaffected() {
    let app = spawn_app().await;
    let (user, _) = app.signed_in_user("adele.vance@contoso.example").await;
    let (other, _) = app.signed_in_user("lee.gu@contoso.example").await;
    app.report_not_me(&user).await;

    assert_eq!(
        app.sign_in_answer(&user, "not the password at all")
            .await
            .expect_err("wrong")
            .code(),
        Code::Unauthenticated
    );
    app.sign_in(&other.upn, &other.password)
        .await
        .expect("another person signs in as usual");
}
