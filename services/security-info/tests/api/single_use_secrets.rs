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
        .second_factors(adele.id, &app.identity_token())
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

/// A person with an authenticator app, signed in with it, and a fresh set of recovery codes.
async fn person_with_recovery_codes(app: &crate::helpers::TestApp) -> (crate::helpers::Person, pb::RecoveryCodes) {
    let adele = app.person(SignedIn::PasswordOnly);
    app.register_app(&adele, "Phone").await;
    let adele = app.again(&adele, SignedIn::WithMfa);
    let codes = app.recovery_codes(&adele).await.expect("codes");
    (adele, codes)
}

#[tokio::test]
async fn recovery_codes_carry_80_bits_and_are_stored_under_a_keyed_hash() {
    let app = spawn_app().await;
    let (adele, codes) = person_with_recovery_codes(&app).await;

    // Sixteen base32 symbols (5 bits each), in four groups of four for reading.
    for code in &codes.codes {
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 4, "{code}");
        assert!(
            groups
                .iter()
                .all(|g| g.len() == 4 && g.bytes().all(|b| b"0123456789abcdefghjkmnpqrstvwxyz".contains(&b))),
            "{code}"
        );
    }
    // Neither a plain digest of the code (with or without its owner) nor anything that can be
    // recomputed without the keyring: the stored hash names the keyring key it was made with.
    let stored: Vec<(Vec<u8>, Option<String>)> = sqlx::query_as("SELECT code_hash, key_id FROM recovery_codes")
        .fetch_all(&app.db)
        .await
        .expect("stored codes");
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|(_, key)| key.as_deref() == Some("k1")), "{stored:?}");
    let plain: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT sha256(decode(replace($1::text, '-', ''), 'hex') || convert_to(replace(c, '-', ''), 'UTF8')) \
         FROM unnest($2::text[]) AS c \
         UNION ALL SELECT sha256(convert_to(c, 'UTF8')) FROM unnest($2::text[]) AS c",
    )
    .bind(adele.id)
    .bind(&codes.codes)
    .fetch_all(&app.db)
    .await
    .expect("plain digests");
    assert!(stored.iter().all(|(hash, _)| !plain.contains(hash)));

    let set = codes.method.expect("method");
    let typed = codes.codes[2].to_uppercase().replace('-', " ");
    assert_eq!(
        app.check_code(adele.id, &set.id, &typed).await.outcome(),
        pb::VerificationOutcome::Verified,
        "case and spacing do not matter"
    );
}

#[tokio::test]
async fn recovery_codes_stored_before_keyed_hashes_keep_working_once() {
    let app = spawn_app().await;
    let (adele, codes) = person_with_recovery_codes(&app).await;
    let set = codes.method.expect("method");
    // A code of a set generated before: ten characters, SHA-256 of the owner's id and the code.
    let legacy = "abcde-fghjk";
    sqlx::query(
        "INSERT INTO recovery_codes (method_id, code_hash) \
         VALUES ($1, sha256(decode(replace($2::text, '-', ''), 'hex') || convert_to('abcdefghjk', 'UTF8')))",
    )
    .bind(set.id.parse::<uuid::Uuid>().expect("a uuid"))
    .bind(adele.id)
    .execute(&app.db)
    .await
    .expect("a code stored the old way");

    assert_eq!(
        app.check_code(adele.id, &set.id, &legacy.to_uppercase())
            .await
            .outcome(),
        pb::VerificationOutcome::Verified
    );
    assert_eq!(
        app.check_code(adele.id, &set.id, legacy).await.outcome(),
        pb::VerificationOutcome::Incorrect,
        "used once"
    );
    assert_eq!(
        app.check_code(adele.id, &set.id, &codes.codes[0]).await.outcome(),
        pb::VerificationOutcome::Verified,
        "the set's new codes work beside it"
    );
}
