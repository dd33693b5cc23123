use myaccount_proto::securityinfo::v1 as pb;

use crate::helpers::{SignedIn, spawn_app};

#[tokio::test]
async fn app_passwords_are_shown_once_work_until_revoked() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let created = app
        .create_app_password(&adele, "Mail on old phone")
        .await
        .expect("created");
    assert_eq!(created.password.len(), 24);
    let method = created.method.expect("method");
    assert!(!method.is_second_factor, "an app password is not a second factor");

    let info = app.security_info(&adele).await;
    assert_eq!(info.methods.len(), 1);
    assert!(!format!("{info:?}").contains(&created.password), "never shown again");
    assert!(!info.mfa_registered);

    assert!(app.check_app_password(adele.id, &created.password).await);
    assert!(
        app.check_app_password(adele.id, &created.password.to_uppercase()).await,
        "case and dashes do not matter"
    );
    assert!(!app.check_app_password(adele.id, "not-the-app-password-xxxx").await);
    let bob = app.person(SignedIn::PasswordOnly);
    assert!(
        !app.check_app_password(bob.id, &created.password).await,
        "another person's app password"
    );

    app.remove(&adele, &method.id).await.expect("revoked");
    assert!(!app.check_app_password(adele.id, &created.password).await);
}

#[tokio::test]
async fn recovery_codes_are_single_use_and_regenerating_replaces_them_all() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let (totp, _, _) = app.register_app(&adele, "Phone").await;
    let adele = app.again(&adele, SignedIn::WithMfa);
    let first = app.recovery_codes(&adele).await.expect("codes");
    assert_eq!(first.codes.len(), 10);
    let set = first.method.expect("method");
    assert_eq!(set.remaining_codes, 10);

    // Offered last, after the real factors.
    let factors = app
        .second_factors(adele.id, &app.service_token())
        .await
        .expect("factors")
        .factors;
    assert_eq!(
        factors.iter().map(|f| f.method_id.as_str()).collect::<Vec<_>>(),
        [totp.id.as_str(), set.id.as_str()]
    );

    let used = app.check_code(adele.id, &set.id, &first.codes[3]).await;
    assert_eq!(used.outcome(), pb::VerificationOutcome::Verified);
    assert_eq!(used.method, "recovery_code");
    assert_eq!(
        app.check_code(adele.id, &set.id, &first.codes[3]).await.outcome(),
        pb::VerificationOutcome::Incorrect,
        "used once"
    );
    let info = app.security_info(&adele).await;
    let remaining = info
        .methods
        .iter()
        .find(|m| m.id == set.id)
        .expect("listed")
        .remaining_codes;
    assert_eq!(remaining, 9);

    let second = app.recovery_codes(&adele).await.expect("new codes");
    let new_set = second.method.expect("method");
    assert_eq!(
        app.check_code(adele.id, &set.id, &first.codes[4]).await.outcome(),
        pb::VerificationOutcome::UnknownMethod
    );
    assert_eq!(
        app.check_code(adele.id, &new_set.id, &first.codes[4]).await.outcome(),
        pb::VerificationOutcome::Incorrect,
        "old codes are gone"
    );
    assert_eq!(
        app.check_code(adele.id, &new_set.id, &second.codes[0]).await.outcome(),
        pb::VerificationOutcome::Verified
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM recovery_codes")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(stored, 10, "only the new set is stored");
}
