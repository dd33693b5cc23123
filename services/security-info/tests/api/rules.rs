use myaccount_proto::events::v1::{SecurityMethodAdded, SecurityMethodRemoved};
use myaccount_proto::securityinfo::v1 as pb;
use platform::events::Stream;
use prost::Message;
use tonic::Code;

use crate::helpers::{SignedIn, assert_reauthentication_required, assert_status, spawn_app};

#[tokio::test]
async fn changes_need_a_recent_multi_factor_sign_in() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let (method, _, _) = app.register_app(&adele, "Phone").await;

    // Now that Adele has a second factor, a password-only or old sign-in is not enough.
    for how in [SignedIn::PasswordOnly, SignedIn::WithMfaLongAgo] {
        let weak = app.again(&adele, how);
        assert_reauthentication_required(&app.start_app(&weak, "Another").await.unwrap_err());
        assert_reauthentication_required(&app.remove(&weak, &method.id).await.unwrap_err());
        assert_reauthentication_required(&app.set_default(&weak, &method.id).await.unwrap_err());
        assert_reauthentication_required(&app.create_app_password(&weak, "Mail").await.unwrap_err());
        assert_reauthentication_required(&app.recovery_codes(&weak).await.unwrap_err());
        assert_reauthentication_required(&app.start_email(&weak, "adele@contoso.example").await.unwrap_err());
    }
    assert_eq!(app.method_rows(adele.id).await, 1, "nothing changed");

    // Someone without any second factor needs a recent sign-in to add the first one.
    let bob = app.person(SignedIn::WithMfaLongAgo);
    assert_reauthentication_required(&app.start_app(&bob, "Phone").await.unwrap_err());

    let strong = app.again(&adele, SignedIn::WithMfa);
    app.remove(&strong, &method.id)
        .await
        .expect("removed with a fresh MFA sign-in");
}

#[tokio::test]
async fn another_persons_method_is_not_found_and_untouched() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let (method, _, _) = app.register_app(&adele, "Phone").await;
    let mallory = app.person(SignedIn::WithMfa);
    let expected = format!("method {} not found", method.id);
    assert_status(
        &app.remove(&mallory, &method.id).await.unwrap_err(),
        Code::NotFound,
        &expected,
    );
    assert_status(
        &app.set_default(&mallory, &method.id).await.unwrap_err(),
        Code::NotFound,
        &expected,
    );
    assert_status(
        &app.verify(&mallory, &method.id, "123456").await.unwrap_err(),
        Code::NotFound,
        &expected,
    );
    assert_eq!(app.security_info(&adele).await.methods.len(), 1);
    // Nor can identity be tricked into checking it for someone else.
    let wrong_user = app.check_code(mallory.id, &method.id, "123456").await;
    assert_eq!(wrong_user.outcome(), pb::VerificationOutcome::UnknownMethod);
}

#[tokio::test]
async fn the_last_second_factor_stays_while_the_organization_requires_mfa() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let (method, _, _) = app.register_app(&adele, "Phone").await;
    let adele = app.again(&adele, SignedIn::WithMfa);
    let codes = app.recovery_codes(&adele).await.expect("codes").method.expect("method");
    app.organization_changed(&adele.organization_id, true).await;

    let refused = app.remove(&adele, &method.id).await.unwrap_err();
    assert_status(
        &refused,
        Code::FailedPrecondition,
        &format!(
            "method {} is your last second factor and your organization requires multi-factor authentication; add another method before removing this one",
            method.id
        ),
    );
    let info = app.security_info(&adele).await;
    assert!(info.mfa_required);
    assert_eq!(info.methods.len(), 2, "nothing was removed");
    // Recovery codes are not a second factor: removing them is fine.
    app.remove(&adele, &codes.id).await.expect("recovery codes removed");

    // Once the organization relaxes, the last factor can go.
    app.organization_changed(&adele.organization_id, false).await;
    app.remove(&adele, &method.id).await.expect("removed");
    assert!(!app.security_info(&adele).await.mfa_registered);
}

#[tokio::test]
async fn the_default_is_chosen_among_second_factors_and_falls_back_when_removed() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let pending = app
        .start_phone(&adele, pb::PhoneType::Mobile, "+14255550109")
        .await
        .expect("started");
    let code = app.code_sent_to("+14255550109", 0).await;
    let phone = app.verify(&adele, &pending.method_id, &code).await.expect("phone");
    let adele = app.again(&adele, SignedIn::WithMfa);
    let (totp, _, _) = app.register_app(&adele, "Phone app").await;
    let password = app
        .create_app_password(&adele, "Mail")
        .await
        .expect("app password")
        .method
        .expect("method");

    // The phone came first; an authenticator app does not take the default by itself... but
    // the system-preferred order ranks it higher when nothing was chosen.
    assert_eq!(app.security_info(&adele).await.default_method_id, totp.id);
    let first_offered =
        |factors: pb::SecondFactors| factors.factors.first().map(|f| (f.method_id.clone(), f.is_default));
    let factors = app
        .second_factors(adele.id, &app.identity_token())
        .await
        .expect("factors");
    assert_eq!(first_offered(factors), Some((totp.id.clone(), true)));
    let info = app.set_default(&adele, &phone.id).await.expect("default set");
    assert_eq!(info.default_method_id, phone.id);
    assert!(info.methods.iter().any(|m| m.id == phone.id && m.is_default));
    // A sign-in's second step offers the chosen default first.
    let factors = app
        .second_factors(adele.id, &app.identity_token())
        .await
        .expect("factors");
    assert_eq!(first_offered(factors), Some((phone.id.clone(), true)));

    let refused = app.set_default(&adele, &password.id).await.unwrap_err();
    assert_status(
        &refused,
        Code::FailedPrecondition,
        &format!(
            "method {} cannot be the default: only authenticator apps, phones, email addresses and security keys can",
            password.id
        ),
    );

    app.remove(&adele, &phone.id).await.expect("removed");
    assert_eq!(
        app.security_info(&adele).await.default_method_id,
        totp.id,
        "back to the preferred order"
    );
    let events = app.security_events(adele.id, 8).await;
    assert_eq!(
        events,
        [
            "myaccount.securityinfo.v1.method_added",
            "myaccount.securityinfo.v1.default_changed",
            "myaccount.securityinfo.v1.method_added",
            "myaccount.securityinfo.v1.default_changed",
            "myaccount.securityinfo.v1.method_added",
            "myaccount.securityinfo.v1.default_changed",
            "myaccount.securityinfo.v1.method_removed",
            "myaccount.securityinfo.v1.default_changed",
        ]
    );
    // Each method event names the person's second factors after it (signals' assurance
    // level): the app password is none, and the phone removed leaves the app.
    let second_factors_after: Vec<Vec<String>> = app
        .messages(Stream::SecurityInfo)
        .await
        .into_iter()
        .filter_map(|(subject, payload)| {
            let after = match subject.as_str() {
                "myaccount.securityinfo.v1.method_added" => SecurityMethodAdded::decode(payload.as_slice())
                    .ok()
                    .filter(|e| e.user_id == adele.id.to_string())
                    .map(|e| e.second_factors_after),
                "myaccount.securityinfo.v1.method_removed" => SecurityMethodRemoved::decode(payload.as_slice())
                    .ok()
                    .filter(|e| e.user_id == adele.id.to_string())
                    .map(|e| e.second_factors_after),
                _ => None,
            }?;
            Some(after.expect("second_factors_after is set").method_types)
        })
        .collect();
    assert_eq!(
        second_factors_after,
        [
            vec!["phone".to_owned()],
            vec!["phone".to_owned(), "authenticator_app".to_owned()],
            vec!["phone".to_owned(), "authenticator_app".to_owned()],
            vec!["authenticator_app".to_owned()],
        ]
    );
}
