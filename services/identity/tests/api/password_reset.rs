//! Self-service password reset as identity answers it. Here identity runs without
//! security-info, so nobody has a method to prove and every flow offers the stand-in that can
//! never be proven: the answers that must not tell accounts apart, bad input, expiry, the flow's
//! and the throttle's limits. Proving real methods (email codes, two methods) runs end to end in
//! `integration-tests` `e2e password_reset`; the last step is exercised here on a flow whose
//! method is marked proven in the database.

use chrono::{DateTime, Utc};
use myaccount_proto::events::v1::{PasswordChanged, SignInFailureReason, SignInStatus};
use myaccount_proto::identity::v1 as pb;
use platform::events::Stream;
use prost::Message;
use tonic::{Code, Status};
use uuid::Uuid;

use crate::helpers::{STRONG_PASSWORD, TestApp, assert_revoked, spawn_app, violated_fields};

const NEW_PASSWORD: &str = "saffron glacier tidy metronome";
const PASSWORD_CHANGED: &str = "myaccount.identity.v1.password_changed";

impl TestApp {
    async fn start_reset(&self, username: &str) -> Result<pb::PasswordResetFlow, Status> {
        let request = pb::StartPasswordResetRequest {
            username: username.into(),
            client: Some(pb::ClientContext {
                ip_address: "198.51.100.7".into(),
                ..Default::default()
            }),
        };
        Ok(self.client().start_password_reset(request).await?.into_inner())
    }

    async fn begin_reset_method(&self, flow_id: &str, method_id: &str) -> Result<pb::MfaPrompt, Status> {
        let request = pb::BeginPasswordResetMethodRequest {
            flow_id: flow_id.into(),
            method_id: method_id.into(),
            client: None,
        };
        Ok(self.client().begin_password_reset_method(request).await?.into_inner())
    }

    async fn verify_reset_code(
        &self,
        flow_id: &str,
        method_id: &str,
        code: &str,
    ) -> Result<pb::PasswordResetProgress, Status> {
        let request = pb::VerifyPasswordResetMethodRequest {
            flow_id: flow_id.into(),
            method_id: method_id.into(),
            proof: Some(pb::verify_password_reset_method_request::Proof::Code(code.into())),
            client: None,
        };
        Ok(self.client().verify_password_reset_method(request).await?.into_inner())
    }

    async fn complete_reset(&self, flow_id: &str, new_password: &str) -> Result<(), Status> {
        let request = pb::CompletePasswordResetRequest {
            flow_id: flow_id.into(),
            new_password: new_password.into(),
            client: None,
        };
        self.client().complete_password_reset(request).await?;
        Ok(())
    }

    /// What a proven method looks like once security-info said yes: set in the database, as
    /// `VerifyPasswordResetMethod` would.
    async fn mark_proven(&self, flow_id: &str) {
        sqlx::query(
            "UPDATE password_reset_methods SET proven_at = now(), proven_method = 'email', proven_amr = '{otp}' \
             WHERE reset_id = $1",
        )
        .bind(Uuid::parse_str(flow_id).expect("a uuid"))
        .execute(&self.db)
        .await
        .expect("mark the flow's method proven");
    }

    async fn expire(&self, flow_id: &str) {
        sqlx::query("UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE id = $1")
            .bind(Uuid::parse_str(flow_id).expect("a uuid"))
            .execute(&self.db)
            .await
            .expect("expire the flow");
    }

    async fn reset_rows(&self) -> (i64, i64) {
        let flows = sqlx::query_scalar("SELECT count(*) FROM password_resets")
            .fetch_one(&self.db)
            .await
            .expect("count flows");
        let attempts = sqlx::query_scalar("SELECT coalesce(sum(attempts), 0)::bigint FROM password_resets")
            .fetch_one(&self.db)
            .await
            .expect("count attempts");
        (flows, attempts)
    }
}

fn expires_at(flow: &pb::PasswordResetFlow) -> DateTime<Utc> {
    myaccount_proto::datetime(flow.expires_at.as_ref().expect("expires_at")).expect("a time")
}

fn only_method(flow: &pb::PasswordResetFlow) -> &pb::PasswordResetMethod {
    assert_eq!(flow.methods.len(), 1, "{flow:?}");
    &flow.methods[0]
}

#[tokio::test]
async fn an_unknown_name_gets_a_flow_shaped_like_an_accounts() {
    let app = spawn_app().await;
    let adele = app.create_test_user("adele.vance@contoso.example").await;

    let known = app.start_reset(&adele.upn).await.expect("a flow");
    let unknown = app
        .start_reset("nobody@contoso.example")
        .await
        .expect("a flow all the same");

    // Partly hidden as security-info hides an email address: the first letter, a dot for each
    // other one.
    let adele_label = format!("a{}@contoso.example", "•".repeat(10));
    let nobody_label = format!("n{}@contoso.example", "•".repeat(5));
    for (flow, label) in [(&known, &adele_label), (&unknown, &nobody_label)] {
        assert!(Uuid::parse_str(&flow.flow_id).is_ok(), "{flow:?}");
        let method = only_method(flow);
        assert_eq!(
            (method.r#type.as_str(), method.label.as_str()),
            ("email", label.as_str())
        );
        assert_eq!(flow.methods_required, 1);
        let lasts = expires_at(flow) - Utc::now();
        assert!(
            lasts > chrono::Duration::minutes(14) && lasts <= chrono::Duration::minutes(15),
            "{lasts:?}"
        );
    }
    // Method ids belong to a flow: starting again shows nothing stable about the person.
    let again = app.start_reset(&adele.upn).await.expect("a second flow");
    assert_ne!(only_method(&again).method_id, only_method(&known).method_id);
    // Starting records nothing in the sign-in log, for either.
    assert!(app.sign_in_records_for(&adele.upn).await.is_empty());
    assert!(app.sign_in_records_for("nobody@contoso.example").await.is_empty());
    // A "sent" code for the stand-in: it says where, as a real one would.
    let prompt = app
        .begin_reset_method(&unknown.flow_id, &only_method(&unknown).method_id)
        .await
        .expect("answered like a real method");
    assert_eq!(prompt.sent_to, nobody_label);
}

#[tokio::test]
async fn bad_input_gets_a_precise_answer_and_changes_nothing() {
    let app = spawn_app().await;
    let adele = app.create_test_user("adele.vance@contoso.example").await;
    let flow = app.start_reset(&adele.upn).await.expect("a flow");
    let method = only_method(&flow).method_id.clone();
    let before = app.reset_rows().await;

    let status = app.start_reset("  ").await.expect_err("no name");
    assert_eq!(violated_fields(&status), ["username"]);
    let status = app.start_reset(&"a".repeat(300)).await.expect_err("too long");
    assert_eq!(violated_fields(&status), ["username"]);

    let status = app
        .verify_reset_code("not-a-flow", &method, "123456")
        .await
        .expect_err("bad id");
    assert_eq!(violated_fields(&status), ["flow_id"]);
    let unknown_flow = Uuid::new_v4().to_string();
    let status = app
        .verify_reset_code(&unknown_flow, &method, "123456")
        .await
        .expect_err("unknown");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let other_method = Uuid::new_v4().to_string();
    let status = app
        .verify_reset_code(&flow.flow_id, &other_method, "123456")
        .await
        .expect_err("not the flow's method");
    assert_eq!(violated_fields(&status), ["method_id"]);
    let status = app
        .begin_reset_method(&flow.flow_id, &other_method)
        .await
        .expect_err("not the flow's method");
    assert_eq!(violated_fields(&status), ["method_id"]);
    let status = app
        .verify_reset_code(&flow.flow_id, &method, " ")
        .await
        .expect_err("no code");
    assert_eq!(violated_fields(&status), ["code"]);
    let status = app.complete_reset(&flow.flow_id, "").await.expect_err("no password");
    assert_eq!(violated_fields(&status), ["new_password"]);

    assert_eq!(app.reset_rows().await, before, "no flow and no attempt counted");
    assert!(app.sign_in_records_for(&adele.upn).await.is_empty(), "nothing recorded");
    app.sign_in(&adele.upn, STRONG_PASSWORD)
        .await
        .expect("the password is unchanged");
}

#[tokio::test]
async fn the_stand_in_is_never_right_and_wrong_answers_are_recorded_counted_and_throttled() {
    let app = spawn_app().await;
    let flow = app.start_reset("nobody@contoso.example").await.expect("a flow");
    let method = only_method(&flow).method_id.clone();

    // Five wrong answers use the flow up (and the name's free failures from this address).
    for _ in 0..5 {
        let status = app
            .verify_reset_code(&flow.flow_id, &method, "123456")
            .await
            .expect_err("wrong");
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    }
    let status = app
        .verify_reset_code(&flow.flow_id, &method, "123456")
        .await
        .expect_err("used up");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(
        platform::error::retry_after(&status),
        None,
        "the flow's own limit: start again"
    );

    // A fresh flow for the same name from the same address is throttled like sign-in.
    let fresh = app.start_reset("nobody@contoso.example").await.expect("a flow");
    let status = app
        .verify_reset_code(&fresh.flow_id, &only_method(&fresh).method_id, "123456")
        .await
        .expect_err("throttled");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(platform::error::retry_after(&status).is_some(), "{status:?}");

    let records = app.sign_in_records_for("nobody@contoso.example").await;
    let reasons: Vec<_> = records.iter().map(|r| r.failure_reason()).collect();
    assert_eq!(
        reasons,
        [
            vec![SignInFailureReason::UnknownUser; 5],
            vec![SignInFailureReason::MfaTooManyAttempts, SignInFailureReason::Throttled]
        ]
        .concat()
    );
    assert!(
        records
            .iter()
            .all(|r| r.method == "password_reset" && r.ip_address == "198.51.100.7")
    );
}

#[tokio::test]
async fn an_expired_flow_is_refused_at_every_step() {
    let app = spawn_app().await;
    let adele = app.create_test_user("adele.vance@contoso.example").await;
    let flow = app.start_reset(&adele.upn).await.expect("a flow");
    let method = only_method(&flow).method_id.clone();
    app.mark_proven(&flow.flow_id).await;
    app.expire(&flow.flow_id).await;

    let expired = "this password reset has expired (it lasts 15 minutes); start again";
    let status = app
        .begin_reset_method(&flow.flow_id, &method)
        .await
        .expect_err("expired");
    platform::testing::assert_status(&status, Code::FailedPrecondition, expired);
    let status = app
        .complete_reset(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect_err("expired");
    platform::testing::assert_status(&status, Code::FailedPrecondition, expired);
    app.sign_in(&adele.upn, STRONG_PASSWORD)
        .await
        .expect("the password is unchanged");
}

#[tokio::test]
async fn the_new_password_needs_enough_proven_methods_and_the_usual_rules() {
    let app = spawn_app().await;
    let adele = app.create_test_user("adele.vance@contoso.example").await;
    let flow = app.start_reset(&adele.upn).await.expect("a flow");

    let status = app
        .complete_reset(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect_err("nothing proven");
    platform::testing::assert_status(
        &status,
        Code::FailedPrecondition,
        "prove 1 more of your sign-in methods before choosing a new password",
    );
    app.mark_proven(&flow.flow_id).await;
    for weak in ["password", "adele.vance@contoso.example", STRONG_PASSWORD] {
        let status = app.complete_reset(&flow.flow_id, weak).await.expect_err("refused");
        assert_eq!(violated_fields(&status), ["new_password"], "{weak:?}");
    }
    app.sign_in(&adele.upn, STRONG_PASSWORD)
        .await
        .expect("the password is unchanged");
}

#[tokio::test]
async fn a_reset_ends_every_session_and_is_published_and_recorded() {
    let app = spawn_app().await;
    let (adele, tokens) = app.signed_in_user("adele.vance@contoso.example").await;
    let other = app
        .sign_in(&adele.upn, STRONG_PASSWORD)
        .await
        .expect("a second session");
    let flow = app.start_reset(&adele.upn).await.expect("a flow");
    app.mark_proven(&flow.flow_id).await;

    app.complete_reset(&flow.flow_id, NEW_PASSWORD).await.expect("reset");

    for token in [&tokens.access_token, &other.access_token] {
        let status = app.get_my_profile(token).await.expect_err("every session ended");
        assert_revoked(&status, "password_reset");
    }
    let reasons: Vec<String> = app.revocations().await.into_iter().map(|r| r.reason).collect();
    assert_eq!(reasons, ["password_reset", "password_reset"]);
    app.sign_in(&adele.upn, STRONG_PASSWORD)
        .await
        .expect_err("the old password is gone");
    app.sign_in(&adele.upn, NEW_PASSWORD).await.expect("the new one works");

    let changed: Vec<PasswordChanged> = app
        .outbox_payloads(PASSWORD_CHANGED)
        .await
        .into_iter()
        .map(|p| PasswordChanged::decode(p.as_slice()).expect("a PasswordChanged"))
        .collect();
    assert_eq!(changed.len(), 1);
    assert!(changed[0].reset);
    assert_eq!(changed[0].methods_proven, ["email"]);
    assert_eq!(changed[0].other_sessions_ended, 2);
    let record = app
        .sign_in_records_for(&adele.upn)
        .await
        .into_iter()
        .find(|r| r.method == "password_reset")
        .expect("the reset is in the sign-in log");
    assert_eq!(record.status(), SignInStatus::Success);
    assert!(record.session_id.is_empty(), "a reset opens no session");
    assert_eq!(record.authentication_methods, ["otp"]);
    assert_eq!(record.ip_address, "198.51.100.7", "where the reset began");

    // The event reaches the stream (the relay publishes the outbox row).
    platform::testing::eventually(std::time::Duration::from_secs(20), || async {
        app.stream_messages(Stream::Identity).await.iter().any(|m| {
            m.subject.as_str().ends_with("identity.v1.password_changed")
                && PasswordChanged::decode(m.payload.as_ref()).is_ok_and(|e| e.reset)
        })
    })
    .await;

    // The flow is spent.
    let status = app
        .complete_reset(&flow.flow_id, "another fine password here")
        .await
        .expect_err("spent");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}
