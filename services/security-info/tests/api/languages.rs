//! Notifications in the person's language: identity's `profile_updated` and `user_created`
//! carry it, security-info keeps the newest, and the sender writes in it.

use chrono::{Duration, Utc};
use myaccount_proto::events::v1::{ProfileUpdated, UserCreated};
use uuid::Uuid;

use crate::helpers::{SignedIn, TestApp, code_in, spawn_app_with_smtp};

/// identity says the person's profile language is `language` as of `minutes_ago`; waits until
/// security-info has it.
async fn profile_language(app: &TestApp, user_id: Uuid, language: &str, minutes_ago: i64) {
    let id = Uuid::now_v7().to_string();
    let event = ProfileUpdated {
        user_id: user_id.to_string(),
        changed_fields: vec!["preferred_language".into()],
        time: Some(myaccount_proto::timestamp(Utc::now() - Duration::minutes(minutes_ago))),
        session_id: String::new(),
        preferred_language: language.into(),
    };
    app.publish(&id, &event).await;
    app.wait_until_processed("securityinfo_profile_updated", &id).await;
}

async fn known_language(app: &TestApp, user_id: Uuid) -> Option<String> {
    sqlx::query_scalar("SELECT language FROM preferred_languages WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&app.db)
        .await
        .expect("preferred_languages")
}

#[tokio::test]
async fn a_person_whose_profile_says_german_is_written_to_in_german() {
    let app = spawn_app_with_smtp().await;
    let smtp = app.smtp.as_ref().expect("smtp sink");
    let adele = app.person(SignedIn::PasswordOnly);
    profile_language(&app, adele.id, "de-CH", 0).await;

    let pending = app.start_email(&adele, "adele@contoso.example").await.expect("started");
    let mail = smtp
        .wait_for("adele@contoso.example", "Ihr Bestätigungscode lautet")
        .await;
    assert!(mail.contains("Wenn Sie ihn nicht angefordert haben"), "{mail}");
    app.verify(&adele, &pending.method_id, &code_in(&mail))
        .await
        .expect("the mailed code");
    let notice = smtp
        .wait_for(
            "adele@contoso.example",
            "Ihrem Konto wurde eine Anmeldemethode hinzugef",
        )
        .await;
    assert!(
        notice.contains("E-Mail-Adresse (a••••@contoso.example)"),
        "the method type in German words: {notice}"
    );
    assert!(!notice.contains("method_added"), "no code reaches the person: {notice}");
}

#[tokio::test]
async fn an_older_language_handled_late_does_not_replace_a_newer_one() {
    let app = spawn_app_with_smtp().await;
    let smtp = app.smtp.as_ref().expect("smtp sink");
    let adele = app.person(SignedIn::PasswordOnly);

    profile_language(&app, adele.id, "fr", 1).await;
    // Changed to German ten minutes before the French: a redelivery, or another relay's.
    profile_language(&app, adele.id, "de", 10).await;
    assert_eq!(known_language(&app, adele.id).await.as_deref(), Some("fr"));

    app.start_email(&adele, "adele@contoso.example").await.expect("started");
    smtp.wait_for("adele@contoso.example", "Votre code de v").await;
    assert!(
        smtp.messages().iter().all(|m| !m.contains("Bestätigungscode")),
        "the older German lost"
    );
}

#[tokio::test]
async fn the_language_a_person_was_created_with_counts_until_the_profile_changes() {
    let app = spawn_app_with_smtp().await;
    let smtp = app.smtp.as_ref().expect("smtp sink");
    let adele = app.person(SignedIn::PasswordOnly);
    let created = Uuid::now_v7().to_string();
    let event = UserCreated {
        user_id: adele.id.to_string(),
        user_principal_name: "adele@contoso.example".into(),
        home_organization_id: String::new(),
        time: Some(myaccount_proto::timestamp(Utc::now() - Duration::hours(1))),
        preferred_language: "fr-CA".into(),
    };
    app.publish(&created, &event).await;
    app.wait_until_processed("securityinfo_user_created", &created).await;
    assert_eq!(known_language(&app, adele.id).await.as_deref(), Some("fr-CA"));

    // An empty language is "none chosen": English.
    profile_language(&app, adele.id, "", 0).await;
    app.start_email(&adele, "adele@contoso.example").await.expect("started");
    smtp.wait_for("adele@contoso.example", "Your verification code is")
        .await;
}

#[tokio::test]
async fn the_language_goes_with_the_account() {
    let app = spawn_app_with_smtp().await;
    let adele = app.person(SignedIn::PasswordOnly);
    profile_language(&app, adele.id, "de", 5).await;
    assert_eq!(known_language(&app, adele.id).await.as_deref(), Some("de"));

    let deleted = app.user_deleted(adele.id).await;
    app.wait_until_processed("securityinfo_user_deleted", &deleted).await;
    assert_eq!(known_language(&app, adele.id).await, None, "erased");

    // A profile event of the erased account handled late brings nothing back.
    profile_language(&app, adele.id, "fr", 0).await;
    assert_eq!(known_language(&app, adele.id).await, None);
}
