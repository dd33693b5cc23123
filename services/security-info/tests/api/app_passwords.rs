//! App passwords are for old apps only: their sessions read and change nothing, and they end
//! with the password they were made under and with a suspected compromise.

use myaccount_proto::events::v1::{PasswordChanged, SignInFlagged};
use myaccount_proto::securityinfo::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{Person, SignedIn, TestApp, spawn_app};

fn app_passwords(info: &pb::SecurityInfo) -> usize {
    info.methods
        .iter()
        .filter(|m| m.r#type == i32::from(pb::MethodType::AppPassword))
        .count()
}

#[track_caller]
fn assert_read_only_refusal(status: &tonic::Status) {
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(platform::error::is_interactive_sign_in_required(status), "{status:?}");
}

#[tokio::test]
async fn an_app_password_session_reads_but_changes_nothing_and_never_steps_up() {
    let app = spawn_app().await;
    // A person without a second factor: any fresh sign-in would do for their first one.
    let interactive = app.person(SignedIn::PasswordOnly);
    let created = app
        .create_app_password(&interactive, "Old mail client")
        .await
        .expect("created interactively");
    let legacy = app.again(&interactive, SignedIn::AppPassword);

    let info = app.security_info(&legacy).await;
    assert_eq!(app_passwords(&info), 1, "reading works");

    let status = app
        .start_app(&legacy, "Attacker's phone")
        .await
        .expect_err("no new factor");
    assert_read_only_refusal(&status);
    let status = app
        .create_app_password(&legacy, "Another")
        .await
        .expect_err("no new app password");
    assert_read_only_refusal(&status);
    let status = app.recovery_codes(&legacy).await.expect_err("no recovery codes");
    assert_read_only_refusal(&status);
    let status = app
        .remove(&legacy, &created.method.as_ref().expect("method").id)
        .await
        .expect_err("no removal");
    assert_read_only_refusal(&status);
    let status = app.export(&legacy).await.expect_err("no export");
    assert_read_only_refusal(&status);

    assert_eq!(
        app.security_info(&interactive).await.methods.len(),
        1,
        "nothing changed"
    );
}

async fn with_app_passwords(app: &TestApp) -> (Person, [String; 2]) {
    let person = app.person(SignedIn::WithMfa);
    let mail = app
        .create_app_password(&person, "Old mail client")
        .await
        .expect("created");
    let calendar = app.create_app_password(&person, "Old calendar").await.expect("created");
    (person, [mail.password, calendar.password])
}

#[tokio::test]
async fn a_password_change_or_reset_revokes_every_app_password_of_the_person() {
    let app = spawn_app().await;
    let (adele, passwords) = with_app_passwords(&app).await;
    let (other, others) = with_app_passwords(&app).await;
    for password in &passwords {
        assert!(app.check_app_password(adele.id, password).await, "valid before");
    }

    // identity publishes this for a change by the person and for the new password a
    // "this wasn't me" demanded alike.
    let event_id = Uuid::now_v7().to_string();
    let event = PasswordChanged {
        user_id: adele.id.to_string(),
        session_id: String::new(),
        other_sessions_ended: 0,
        time: None,
        ..Default::default()
    };
    app.publish(&event_id, &event).await;
    app.wait_until_processed("securityinfo_password_changed", &event_id)
        .await;

    for password in &passwords {
        assert!(!app.check_app_password(adele.id, password).await, "revoked");
    }
    assert_eq!(app_passwords(&app.security_info(&adele).await), 0);
    let events = app.security_events(adele.id, 4).await;
    assert_eq!(
        events.iter().filter(|s| s.ends_with("method_removed")).count(),
        2,
        "each removal is announced: {events:?}"
    );
    for password in &others {
        assert!(
            app.check_app_password(other.id, password).await,
            "another person's stay"
        );
    }
}

#[tokio::test]
async fn this_was_not_me_revokes_every_app_password_of_the_person() {
    let app = spawn_app().await;
    let (adele, passwords) = with_app_passwords(&app).await;

    let event_id = Uuid::now_v7().to_string();
    let event = SignInFlagged {
        sign_in_id: Uuid::now_v7().to_string(),
        user_id: adele.id.to_string(),
        ..SignInFlagged::default()
    };
    app.publish(&event_id, &event).await;
    app.wait_until_processed("securityinfo_flagged", &event_id).await;

    for password in &passwords {
        assert!(!app.check_app_password(adele.id, password).await, "revoked");
    }
    assert_eq!(app_passwords(&app.security_info(&adele).await), 0);
}

#[tokio::test]
async fn a_password_reset_is_told_to_every_verified_email_address_and_a_change_is_not() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let work = app
        .start_email(&adele, "adele@contoso.example")
        .await
        .expect("a valid address");
    let code = app.code_sent_to("adele@contoso.example", 0).await;
    let adele = app.again(&adele, SignedIn::WithMfa);
    app.verify(&adele, &work.method_id, &code).await.expect("verified");
    // Added but never verified: not an address the person proved, so not told.
    app.start_email(&adele, "adele.pending@contoso.example")
        .await
        .expect("a valid address");
    let change = PasswordChanged {
        user_id: adele.id.to_string(),
        ..Default::default()
    };
    let change_id = Uuid::now_v7().to_string();
    app.publish(&change_id, &change).await;
    app.wait_until_processed("securityinfo_password_changed", &change_id)
        .await;
    assert!(
        reset_notices(&app).await.is_empty(),
        "a change by the person is not a reset"
    );

    let reset = PasswordChanged {
        user_id: adele.id.to_string(),
        reset: true,
        methods_proven: vec!["email".into(), "authenticator_app".into()],
        ..Default::default()
    };
    let reset_id = Uuid::now_v7().to_string();
    app.publish(&reset_id, &reset).await;
    app.wait_until_processed("securityinfo_password_changed", &reset_id)
        .await;
    platform::testing::eventually(std::time::Duration::from_secs(20), || async {
        !reset_notices(&app).await.is_empty()
    })
    .await;
    assert_eq!(
        reset_notices(&app).await,
        [(
            "adele@contoso.example".to_owned(),
            "email, authenticator_app".to_owned()
        )]
    );
}

/// The `password_reset` notices requested so far: to whom, and the methods they name.
async fn reset_notices(app: &TestApp) -> Vec<(String, String)> {
    app.notifications()
        .await
        .into_iter()
        .filter(|n| n.template == "password_reset")
        .map(|n| (n.recipient, n.parameters.get("methods").cloned().unwrap_or_default()))
        .collect()
}
