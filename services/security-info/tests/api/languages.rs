//! Notifications in the person's language, time zone and regional format: identity's
//! `profile_updated` and `user_created` carry them, security-info keeps the newest, and the
//! sender writes in them.

use chrono::{Duration, Utc};
use myaccount_proto::events::v1::{NotificationChannel, NotificationRequested, ProfileUpdated, UserCreated};
use uuid::Uuid;

use crate::helpers::{SignedIn, TestApp, code_in, spawn_app_with_smtp};

/// identity says the person's profile language is `language` as of `minutes_ago`; waits until
/// security-info has it.
async fn profile_language(app: &TestApp, user_id: Uuid, language: &str, minutes_ago: i64) {
    profile_updated(
        app,
        ProfileUpdated {
            user_id: user_id.to_string(),
            changed_fields: vec!["preferred_language".into()],
            time: Some(myaccount_proto::timestamp(Utc::now() - Duration::minutes(minutes_ago))),
            preferred_language: language.into(),
            ..Default::default()
        },
    )
    .await;
}

/// identity publishes `event`; waits until security-info has handled it.
async fn profile_updated(app: &TestApp, event: ProfileUpdated) {
    let id = Uuid::now_v7().to_string();
    app.publish(&id, &event).await;
    app.wait_until_processed("securityinfo_profile_updated", &id).await;
}

/// audit asks for an "unusual sign-in" mail to `recipient` about a sign-in at `time`.
async fn unusual_sign_in(app: &TestApp, user_id: Uuid, recipient: &str, time: &str) {
    let notification_id = Uuid::now_v7().to_string();
    let event = NotificationRequested {
        notification_id: notification_id.clone(),
        user_id: user_id.to_string(),
        recipient: recipient.into(),
        channel: NotificationChannel::Email.into(),
        template: "unusual_sign_in".into(),
        parameters: [
            ("time", time),
            ("ip_address", "203.0.113.7"),
            ("location", "Lyon, FR"),
            ("reasons", "new_country"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        ..Default::default()
    };
    app.publish(&notification_id, &event).await;
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
        ..Default::default()
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

#[tokio::test]
async fn an_unusual_sign_in_is_dated_in_the_person_s_time_zone_and_format() {
    let app = spawn_app_with_smtp().await;
    let smtp = app.smtp.as_ref().expect("smtp sink");
    let adele = app.person(SignedIn::PasswordOnly);
    profile_updated(
        &app,
        ProfileUpdated {
            user_id: adele.id.to_string(),
            changed_fields: vec!["time_zone".into(), "regional_format".into()],
            time: Some(myaccount_proto::timestamp(Utc::now())),
            preferred_language: "de".into(),
            time_zone: "America/New_York".into(),
            regional_format: "en-US".into(),
            ..Default::default()
        },
    )
    .await;
    unusual_sign_in(&app, adele.id, "adele@contoso.example", "2026-12-06T11:44:15Z").await;
    let mail = smtp.wait_for("adele@contoso.example", "Wann:").await;
    assert!(
        mail.contains("Wann: 12/6/2026, 6:44 AM EST"),
        "German words, the time in New York in the US order: {mail}"
    );

    // A zone identity never told (an account from before, or none chosen): UTC, in the order
    // of the language.
    let megan = app.person(SignedIn::PasswordOnly);
    profile_language(&app, megan.id, "fr", 0).await;
    unusual_sign_in(&app, megan.id, "megan@contoso.example", "2026-12-06T11:44:15Z").await;
    let mail = smtp.wait_for("megan@contoso.example", "Quand :").await;
    assert!(mail.contains("Quand : 06/12/2026 11:44 UTC"), "{mail}");

    // Nobody identity knows: English words, an ISO date in UTC.
    let stranger = Uuid::new_v4();
    unusual_sign_in(&app, stranger, "stranger@contoso.example", "2026-12-06T11:44:15Z").await;
    let mail = smtp.wait_for("stranger@contoso.example", "When:").await;
    assert!(mail.contains("When: 2026-12-06 11:44 UTC"), "{mail}");
}

#[tokio::test]
async fn the_zone_and_format_go_with_the_account() {
    let app = spawn_app_with_smtp().await;
    let adele = app.person(SignedIn::PasswordOnly);
    profile_updated(
        &app,
        ProfileUpdated {
            user_id: adele.id.to_string(),
            time: Some(myaccount_proto::timestamp(Utc::now())),
            time_zone: "Europe/Paris".into(),
            regional_format: "fr-FR".into(),
            ..Default::default()
        },
    )
    .await;
    let stored = || async {
        sqlx::query_as::<_, (String, String)>(
            "SELECT time_zone, regional_format FROM preferred_languages WHERE user_id = $1",
        )
        .bind(adele.id)
        .fetch_optional(&app.db)
        .await
        .expect("preferred_languages")
    };
    assert_eq!(stored().await, Some(("Europe/Paris".to_owned(), "fr-FR".to_owned())));
    let deleted = app.user_deleted(adele.id).await;
    app.wait_until_processed("securityinfo_user_deleted", &deleted).await;
    assert_eq!(stored().await, None, "erased");
}
