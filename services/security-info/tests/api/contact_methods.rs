use myaccount_proto::securityinfo::v1 as pb;
use platform::events::Stream;
use tonic::Code;

use crate::helpers::{SignedIn, assert_status, code_in, spawn_app, spawn_app_with_smtp, violated_fields};

#[tokio::test]
async fn a_phone_is_active_once_the_texted_code_comes_back() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);

    let pending = app
        .start_phone(&adele, pb::PhoneType::Mobile, "+1 (425) 555-0109")
        .await
        .expect("a valid number");
    assert_eq!(pending.sent_to, "+1••••••0109");
    let code = app.code_sent_to("+14255550109", 0).await;
    let notification = app.notifications().await.into_iter().next().expect("a notification");
    assert_eq!(notification.template, "verification_code");
    assert_eq!(notification.secret_parameters, ["code"]);

    // Stored hashed: the code is nowhere in the database.
    let hashes: Vec<Vec<u8>> = sqlx::query_scalar("SELECT code_hash FROM one_time_codes")
        .fetch_all(&app.db)
        .await
        .expect("codes");
    assert_eq!(hashes.len(), 1);
    assert!(!hashes[0].windows(6).any(|w| w == code.as_bytes()));

    let method = app
        .verify(&adele, &pending.method_id, &code)
        .await
        .expect("the right code");
    assert_eq!(method.phone_number, "+14255550109");
    assert_eq!(method.phone_type(), pb::PhoneType::Mobile);
    assert_eq!(method.phone_delivery(), pb::PhoneDelivery::Sms);

    // The code is single-use.
    let adele = app.again(&adele, SignedIn::WithMfa);
    let reused = app.verify(&adele, &pending.method_id, &code).await.unwrap_err();
    assert_eq!(reused.code(), Code::FailedPrecondition);

    // A sign-in code is another code, and answers with "sms".
    app.begin_factor(adele.id, &method.id).await;
    let sign_in_code = app.code_sent_to("+14255550109", 1).await;
    let verified = app.check_code(adele.id, &method.id, &sign_in_code).await;
    assert_eq!(verified.outcome(), pb::VerificationOutcome::Verified);
    assert_eq!(verified.amr, ["sms"]);
    assert_eq!(verified.method, "phone_sms");
    assert_eq!(
        app.check_code(adele.id, &method.id, &sign_in_code).await.outcome(),
        pb::VerificationOutcome::Expired,
        "spent"
    );
}

#[tokio::test]
async fn no_code_travels_in_clear_in_the_outbox_or_on_any_stream() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let phone = app
        .start_phone(&adele, pb::PhoneType::Mobile, "+1 425 555 0110")
        .await
        .expect("a valid number");
    let email = app
        .start_email(&adele, "adele@contoso.example")
        .await
        .expect("a valid address");
    let mut codes = vec![
        app.code_sent_to("+14255550110", 0).await,
        app.code_sent_to("adele@contoso.example", 0).await,
    ];
    // Sign-in codes too, once the methods are verified.
    let adele = app.again(&adele, SignedIn::WithMfa);
    app.verify(&adele, &phone.method_id, &codes[0])
        .await
        .expect("phone verified");
    app.verify(&adele, &email.method_id, &codes[1])
        .await
        .expect("email verified");
    app.begin_factor(adele.id, &phone.method_id).await;
    codes.push(app.code_sent_to("+14255550110", 1).await);
    app.begin_factor(adele.id, &email.method_id).await;
    codes.push(app.code_sent_to("adele@contoso.example", 1).await);

    let contains = |haystack: &[u8], code: &str| haystack.windows(code.len()).any(|w| w == code.as_bytes());
    let rows: Vec<(Vec<u8>, String)> = sqlx::query_as("SELECT payload, coalesce(subject, '') FROM platform.outbox")
        .fetch_all(&app.db)
        .await
        .expect("outbox rows");
    assert!(rows.len() >= 4, "the notifications went through the outbox");
    let mut messages = 0;
    for stream in Stream::ALL {
        for (subject, payload) in app.messages(stream).await {
            messages += 1;
            for code in &codes {
                assert!(!contains(&payload, code), "{subject} carries a code in clear");
            }
        }
    }
    assert!(messages >= 4, "the notifications reached the stream");
    for (payload, subject) in rows {
        for code in &codes {
            assert!(
                !contains(&payload, code),
                "an outbox row of {subject} holds a code in clear"
            );
        }
    }
}

#[tokio::test]
async fn invalid_numbers_and_addresses_are_listed_and_store_nothing() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    for number in ["425 555 0109", "+0425550109", "+1 425", "call me", ""] {
        let err = app
            .start_phone(&adele, pb::PhoneType::Mobile, number)
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&err), ["phone_number"], "{number:?}");
    }
    let no_type = app
        .start_phone(&adele, pb::PhoneType::Unspecified, "nope")
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&no_type), ["phone_type", "phone_number"]);
    let office_sms = app
        .client
        .clone()
        .start_phone_registration(crate::helpers::bearer(
            pb::StartPhoneRegistrationRequest {
                phone_type: pb::PhoneType::Office.into(),
                phone_number: "+14255550100".into(),
                delivery: pb::PhoneDelivery::Sms.into(),
            },
            &adele.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&office_sms), ["delivery"]);
    for email in ["adele", "adele@contoso", "a b@contoso.example"] {
        let err = app.start_email(&adele, email).await.unwrap_err();
        assert_eq!(violated_fields(&err), ["email"], "{email:?}");
    }
    assert_eq!(app.method_rows(adele.id).await, 0);
    assert!(app.notifications().await.is_empty());
}

#[tokio::test]
async fn wrong_codes_are_limited_and_expired_codes_refused() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let pending = app
        .start_phone(&adele, pb::PhoneType::Mobile, "+14255550109")
        .await
        .expect("started");
    let code = app.code_sent_to("+14255550109", 0).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let err = app.verify(&adele, &pending.method_id, wrong).await.unwrap_err();
        assert_eq!(violated_fields(&err), ["code"]);
    }
    let locked = app.verify(&adele, &pending.method_id, &code).await.unwrap_err();
    assert_status(
        &locked,
        Code::ResourceExhausted,
        &format!(
            "too many incorrect codes for method {}; request a new one",
            pending.method_id
        ),
    );
    assert!(
        app.security_info(&adele).await.methods.is_empty(),
        "still not registered"
    );

    let other = app
        .start_phone(&adele, pb::PhoneType::AlternateMobile, "+14255550110")
        .await
        .expect("started");
    let code = app.code_sent_to("+14255550110", 0).await;
    sqlx::query("UPDATE one_time_codes SET expires_at = now() - interval '1 second' WHERE method_id = $1::uuid")
        .bind(&other.method_id)
        .execute(&app.db)
        .await
        .expect("age the code");
    let expired = app.verify(&adele, &other.method_id, &code).await.unwrap_err();
    assert_status(
        &expired,
        Code::FailedPrecondition,
        &format!("the code for method {} has expired; request a new one", other.method_id),
    );
    assert!(app.security_info(&adele).await.methods.is_empty());
}

#[tokio::test]
async fn email_codes_and_change_notices_arrive_by_smtp_including_at_the_removed_address() {
    let app = spawn_app_with_smtp().await;
    let smtp = app.smtp.as_ref().expect("smtp sink");
    let adele = app.person(SignedIn::PasswordOnly);

    let pending = app.start_email(&adele, "Adele@Contoso.Example").await.expect("started");
    assert_eq!(pending.sent_to, "a••••@contoso.example");
    let mail = smtp.wait_for("adele@contoso.example", "verification code").await;
    let email = app
        .verify(&adele, &pending.method_id, &code_in(&mail))
        .await
        .expect("the mailed code");
    assert_eq!(email.email, "adele@contoso.example");
    smtp.wait_for(
        "adele@contoso.example",
        "A sign-in method was added to your account: email address",
    )
    .await;

    // With MFA now, add an authenticator app: the verified address hears about it.
    let adele = app.again(&adele, SignedIn::WithMfa);
    app.register_app(&adele, "Phone").await;
    smtp.wait_for("adele@contoso.example", "authenticator app (Phone)")
        .await;

    // Removing the address tells that address.
    app.remove(&adele, &email.id).await.expect("removed");
    smtp.wait_for(
        "adele@contoso.example",
        "A sign-in method was removed from your account",
    )
    .await;
    // Codes never reach the log sender's output in this mode, and never the events' labels.
    assert!(
        smtp.messages()
            .iter()
            .all(|m| m.contains("From: MyAccount <no-reply@contoso.example>"))
    );
}

#[tokio::test]
async fn one_phone_of_each_type() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let pending = app
        .start_phone(&adele, pb::PhoneType::Mobile, "+14255550109")
        .await
        .expect("started");
    let code = app.code_sent_to("+14255550109", 0).await;
    app.verify(&adele, &pending.method_id, &code).await.expect("registered");
    let adele = app.again(&adele, SignedIn::WithMfa);
    let second = app
        .start_phone(&adele, pb::PhoneType::Mobile, "+14255550111")
        .await
        .unwrap_err();
    assert_status(&second, Code::AlreadyExists, "a mobile phone is already registered");
}
