use myaccount_proto::securityinfo::v1 as pb;
use prost::Message;
use tonic::{Code, Request};
use uuid::Uuid;

use crate::helpers::{AuthenticatorApp, Person, SignedIn, TestApp, assert_status, software_key, spawn_app};

/// A person with one method of every kind, a chosen default, a used recovery code, a pending
/// email address, and sign-ins started with the phone and the security key.
struct Registered {
    person: Person,
    authenticator_app: pb::Method,
    phone: pb::Method,
    security_key: pb::Method,
    app_password: pb::Method,
    app_password_secret: String,
    recovery_codes: pb::Method,
    pending_email: pb::PendingMethod,
    /// Everything the person was shown or sent once: the TOTP secret, codes, passwords, the
    /// security key's sign-in challenge.
    secrets: Vec<String>,
}

async fn register_everything(app: &TestApp, phone_number: &str, email: &str) -> Registered {
    let person = app.person(SignedIn::PasswordOnly);
    let started = app.start_app(&person, "Authenticator").await.expect("started");
    let totp = AuthenticatorApp::from_base32(&started.secret);
    let authenticator_app = app
        .verify(
            &person,
            &started.method_id,
            &totp.code_at_step(AuthenticatorApp::current_step()),
        )
        .await
        .expect("the current code registers the app");
    let mut secrets = vec![started.secret.clone(), started.otpauth_uri.clone()];
    let person = app.again(&person, SignedIn::WithMfa);

    let pending = app
        .start_phone(&person, pb::PhoneType::Mobile, phone_number)
        .await
        .expect("started");
    let code = app.code_sent_to(phone_number, 0).await;
    let phone = app.verify(&person, &pending.method_id, &code).await.expect("verified");
    secrets.push(code);

    let mut key = software_key();
    let security_key = app
        .register_security_key(&person, &mut key, "YubiKey")
        .await
        .expect("registered");

    let created = app.create_app_password(&person, "Mail").await.expect("created");
    let app_password_secret = created.password;
    secrets.push(app_password_secret.clone());
    let app_password = created.method.expect("method");

    let codes = app.recovery_codes(&person).await.expect("generated");
    let recovery_codes = codes.method.expect("method");
    let used = app.check_code(person.id, &recovery_codes.id, &codes.codes[0]).await;
    assert_eq!(used.outcome(), pb::VerificationOutcome::Verified);
    secrets.extend(codes.codes);

    app.set_default(&person, &phone.id)
        .await
        .expect("the phone is the default");

    // Sign-ins started and not finished: a challenge issued, a code sent.
    let prompt = app.begin_factor(person.id, &security_key.id).await;
    let options: serde_json::Value = serde_json::from_str(&prompt.request_options_json).expect("options");
    let challenge = options["publicKey"]["challenge"].as_str().expect("a challenge");
    secrets.push(challenge.to_owned());
    app.begin_factor(person.id, &phone.id).await;
    secrets.push(app.code_sent_to(phone_number, 1).await);

    let pending_email = app.start_email(&person, email).await.expect("started");
    secrets.push(app.code_sent_to(email, 0).await);

    Registered {
        person,
        authenticator_app,
        phone,
        security_key,
        app_password,
        app_password_secret,
        recovery_codes,
        pending_email,
        secrets,
    }
}

/// What the database keeps secret for `user_id`: the sealed TOTP secret, hashes of the app
/// password, recovery codes and one-time codes, the security key's credential id and passkey,
/// and the state of the WebAuthn ceremonies.
async fn stored_secrets(app: &TestApp, user_id: Uuid) -> Vec<Vec<u8>> {
    let mut stored: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT s FROM methods m, LATERAL (VALUES (m.totp_secret), (m.secret_hash), (m.credential_id), \
         (convert_to(m.passkey::text, 'UTF8'))) AS v(s) WHERE m.user_id = $1 AND s IS NOT NULL \
         UNION ALL SELECT r.code_hash FROM recovery_codes r JOIN methods m ON m.id = r.method_id WHERE m.user_id = $1 \
         UNION ALL SELECT c.code_hash FROM one_time_codes c JOIN methods m ON m.id = c.method_id WHERE m.user_id = $1 \
         UNION ALL SELECT convert_to(w.state::text, 'UTF8') FROM webauthn_ceremonies w \
         JOIN methods m ON m.id = w.method_id WHERE m.user_id = $1",
    )
    .bind(user_id)
    .fetch_all(&app.db)
    .await
    .expect("read the stored secrets");
    let credential_ids: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT credential_id FROM methods WHERE user_id = $1 AND credential_id IS NOT NULL")
            .bind(user_id)
            .fetch_all(&app.db)
            .await
            .expect("read credential ids");
    // The credential id as the browser and webauthn-rs write it, too.
    stored.extend(credential_ids.iter().map(|id| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id).into_bytes()
    }));
    stored
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Neither what the person was shown once nor what the database keeps secret is in `export`.
/// Checked on the encoded message: there, timestamps are binary, so a six-digit code cannot
/// match one by chance.
#[track_caller]
fn assert_no_secret(export: &pb::SecurityInfoExport, secrets: &[String], stored: &[Vec<u8>]) {
    let bytes = export.encode_to_vec();
    for secret in secrets {
        assert!(!contains(&bytes, secret.as_bytes()), "{secret} is in the export");
    }
    for secret in stored {
        assert!(!contains(&bytes, secret), "a stored secret is in the export");
    }
}

fn ids(methods: &[pb::Method]) -> Vec<&str> {
    methods.iter().map(|m| m.id.as_str()).collect()
}

#[tokio::test]
async fn my_export_lists_every_method_and_verification_but_no_secret() {
    let app = spawn_app().await;
    let adele = register_everything(&app, "+14255550109", "adele@contoso.example").await;
    let bob = register_everything(&app, "+14255550110", "bob@contoso.example").await;

    let export = app.export(&adele.person).await.expect("exported");

    assert_eq!(export.user_id, adele.person.id.to_string());
    assert!(export.exported_at.is_some());
    assert_eq!(
        export.methods,
        app.security_info(&adele.person).await.methods,
        "every active method, as the page lists them"
    );
    assert_eq!(
        ids(&export.methods),
        [
            &adele.authenticator_app.id,
            &adele.phone.id,
            &adele.security_key.id,
            &adele.app_password.id,
            &adele.recovery_codes.id
        ]
    );
    let phone = &export.methods[1];
    assert_eq!(phone.phone_number, "+14255550109");
    assert!(phone.is_default);
    assert_eq!(export.methods[2].name, "YubiKey");
    assert!(export.methods[2].last_used_at.is_none());
    assert_eq!(export.default_method_id, adele.phone.id);
    assert!(export.default_method_chosen_at.is_some(), "adele chose it");
    assert_eq!(export.unused_recovery_codes, 9);

    assert_eq!(export.pending_registrations.len(), 1);
    let pending = &export.pending_registrations[0];
    let pending_method = pending.method.as_ref().expect("the method");
    assert_eq!(pending_method.id, adele.pending_email.method_id);
    assert_eq!(pending_method.email, "adele@contoso.example");
    assert_eq!(pending.expires_at, adele.pending_email.expires_at);

    use pb::{VerificationKind as Kind, VerificationPurpose as Purpose};
    let verifications: Vec<(&str, Kind, Purpose, bool)> = export
        .verifications
        .iter()
        .map(|v| (v.method_id.as_str(), v.kind(), v.purpose(), v.consumed_at.is_some()))
        .collect();
    assert_eq!(
        verifications,
        [
            (adele.phone.id.as_str(), Kind::OneTimeCode, Purpose::Registration, true),
            (adele.phone.id.as_str(), Kind::OneTimeCode, Purpose::SignIn, false),
            (
                adele.pending_email.method_id.as_str(),
                Kind::OneTimeCode,
                Purpose::Registration,
                false
            ),
            (
                adele.security_key.id.as_str(),
                Kind::SecurityKeyChallenge,
                Purpose::SignIn,
                false
            ),
        ]
    );
    assert!(export.verifications.iter().all(|v| v.expires_at.is_some()));
    assert_eq!(export.verifications[0].attempts, 1, "the right code, tried once");

    let stored = stored_secrets(&app, adele.person.id).await;
    // The TOTP secret, the app password hash, the credential id (twice) and passkey, ten
    // recovery code hashes, three one-time code hashes and one ceremony.
    assert_eq!(stored.len(), 19, "every stored secret is checked");
    assert_no_secret(&export, &adele.secrets, &stored);
    let bytes = export.encode_to_vec();
    for id in [
        bob.person.id.to_string(),
        bob.phone.id.clone(),
        bob.pending_email.method_id.clone(),
    ] {
        assert!(!contains(&bytes, id.as_bytes()), "nothing of bob's");
    }
    assert!(!contains(&bytes, b"+14255550110") && !contains(&bytes, b"bob@contoso.example"));

    let stranger = app.export(&app.person(SignedIn::PasswordOnly)).await.expect("exported");
    assert!(
        stranger.methods.is_empty() && stranger.verifications.is_empty() && stranger.pending_registrations.is_empty()
    );
    assert_eq!(
        (stranger.default_method_id.as_str(), stranger.unused_recovery_codes),
        ("", 0)
    );
}

#[tokio::test]
async fn an_export_without_a_token_is_unauthenticated() {
    let app = spawn_app().await;
    let status = app
        .client
        .clone()
        .export_my_data(Request::new(pb::ExportMyDataRequest {}))
        .await
        .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn a_deleted_account_is_erased_once_and_stays_erased() {
    let app = spawn_app().await;
    let adele = register_everything(&app, "+14255550109", "adele@contoso.example").await;
    let bob = register_everything(&app, "+14255550110", "bob@contoso.example").await;
    let bob_before = app.export(&bob.person).await.expect("exported");

    let deleted = app.user_deleted(adele.person.id).await;
    app.wait_until_processed("securityinfo_user_deleted", &deleted).await;

    let p = &adele.person;
    let info = app.security_info(p).await;
    assert!(info.methods.is_empty() && info.default_method_id.is_empty() && !info.mfa_registered);
    let export = app.export(p).await.expect("exported");
    assert!(
        export.methods.is_empty() && export.pending_registrations.is_empty() && export.verifications.is_empty(),
        "{export:?}"
    );
    assert_eq!(
        (export.default_method_id.as_str(), export.unused_recovery_codes),
        ("", 0)
    );
    for method_id in [&adele.phone.id, &adele.security_key.id, &adele.app_password.id] {
        let not_found = format!("method {method_id} not found");
        assert_status(
            &app.remove(p, method_id).await.expect_err("gone"),
            Code::NotFound,
            &not_found,
        );
        assert_status(
            &app.set_default(p, method_id).await.expect_err("gone"),
            Code::NotFound,
            &not_found,
        );
    }
    let email_id = &adele.pending_email.method_id;
    assert_status(
        &app.verify(p, email_id, "123456").await.expect_err("gone"),
        Code::NotFound,
        &format!("method {email_id} not found"),
    );
    // What identity asks during a sign-in knows nothing of adele either.
    let factors = app.second_factors(p.id, &app.identity_token()).await.expect("listed");
    assert!(factors.factors.is_empty());
    assert_eq!(
        app.check_code(p.id, &adele.authenticator_app.id, "123456")
            .await
            .outcome(),
        pb::VerificationOutcome::UnknownMethod
    );
    assert!(!app.check_app_password(p.id, &adele.app_password_secret).await);
    assert_eq!(app.method_rows(p.id).await, 0);
    assert!(
        stored_secrets(&app, p.id).await.is_empty(),
        "no secret of adele's is left"
    );

    let mut bob_now = app.export(&bob.person).await.expect("exported");
    bob_now.exported_at = bob_before.exported_at;
    assert_eq!(bob_now, bob_before, "bob's security info is untouched");

    // Delivered again (the same event, then another one), or a registration with adele's token,
    // which outlives the account: nothing comes back.
    let counts = app.row_counts().await;
    assert_eq!(counts.erased_users, 1);
    let event = myaccount_proto::events::v1::UserDeleted {
        user_id: p.id.to_string(),
        time: None,
    };
    app.publish(&deleted, &event).await;
    let again = app.user_deleted(p.id).await;
    app.wait_until_processed("securityinfo_user_deleted", &again).await;
    let gone = format!("user {} has been deleted", p.id);
    let status = app
        .start_phone(p, pb::PhoneType::Mobile, "+14255550109")
        .await
        .expect_err("the account is gone");
    assert_status(&status, Code::FailedPrecondition, &gone);
    let status = app
        .create_app_password(p, "Mail")
        .await
        .expect_err("the account is gone");
    assert_status(&status, Code::FailedPrecondition, &gone);
    assert_eq!(app.row_counts().await, counts, "nothing changed");
    assert_eq!(app.method_rows(p.id).await, 0);
}
