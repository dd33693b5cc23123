use myaccount_proto::securityinfo::v1 as pb;
use tonic::Code;

use crate::helpers::{AuthenticatorApp, SignedIn, assert_status, bearer, spawn_app, violated_fields};

#[tokio::test]
async fn an_authenticator_app_is_registered_by_proving_a_current_code() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);

    let started = app.start_app(&adele, "Work phone").await.expect("registration starts");
    assert!(
        started
            .otpauth_uri
            .starts_with("otpauth://totp/MyAccount:Work%20phone?secret="),
        "{}",
        started.otpauth_uri
    );
    assert!(
        started
            .otpauth_uri
            .contains(&format!("secret={}&issuer=MyAccount", started.secret))
    );
    // Not usable yet: a started registration is not a method.
    assert!(app.security_info(&adele).await.methods.is_empty());

    // The secret is sealed at rest, with the key id beside it.
    let (sealed, key_id): (Vec<u8>, String) =
        sqlx::query_as("SELECT totp_secret, totp_key_id FROM methods WHERE id = $1::uuid")
            .bind(&started.method_id)
            .fetch_one(&app.db)
            .await
            .expect("the pending row");
    let secret = data_encoding::BASE32_NOPAD
        .decode(started.secret.as_bytes())
        .expect("base32");
    assert_eq!(key_id, "k1");
    assert!(
        !sealed.windows(secret.len()).any(|w| w == secret.as_slice()),
        "the secret is not stored in the clear"
    );

    // A wrong code is refused by name and changes nothing.
    let authenticator = AuthenticatorApp::from_base32(&started.secret);
    let step = AuthenticatorApp::current_step();
    let wrong = app
        .verify(&adele, &started.method_id, &authenticator.code_at_step(step + 5))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&wrong), ["code"]);
    assert!(app.security_info(&adele).await.methods.is_empty());

    let method = app
        .verify(&adele, &started.method_id, &authenticator.code_at_step(step))
        .await
        .expect("the current code registers the app");
    assert_eq!(method.r#type(), pb::MethodType::AuthenticatorApp);
    assert_eq!(method.name, "Work phone");
    assert!(method.is_second_factor);

    let info = app.security_info(&adele).await;
    assert!(info.mfa_registered);
    assert_eq!(
        info.default_method_id, method.id,
        "the first second factor becomes the default"
    );
    assert_eq!(
        app.security_events(adele.id, 2).await,
        [
            "myaccount.securityinfo.v1.method_added",
            "myaccount.securityinfo.v1.default_changed"
        ]
    );

    // Verified once; a second verification is refused.
    let adele = app.again(&adele, SignedIn::WithMfa);
    let again = app
        .verify(&adele, &started.method_id, &authenticator.code_at_step(step + 1))
        .await
        .unwrap_err();
    assert_status(
        &again,
        Code::FailedPrecondition,
        &format!("method {} is already verified", method.id),
    );
}

#[tokio::test]
async fn a_code_answers_a_sign_in_once_within_one_step_either_side() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let (method, authenticator, registered_at) = app.register_app(&adele, "Phone").await;

    let next = authenticator.code_at_step(registered_at + 1);
    let verified = app.check_code(adele.id, &method.id, &next).await;
    assert_eq!(verified.outcome(), pb::VerificationOutcome::Verified);
    assert_eq!(verified.amr, ["otp"]);
    assert_eq!(verified.method, "authenticator_app");

    // The same code again, or an older one: replays.
    assert_eq!(
        app.check_code(adele.id, &method.id, &next).await.outcome(),
        pb::VerificationOutcome::Replayed
    );
    let old = authenticator.code_at_step(registered_at);
    assert_eq!(
        app.check_code(adele.id, &method.id, &old).await.outcome(),
        pb::VerificationOutcome::Replayed
    );
    // Far from now: wrong.
    let far = authenticator.code_at_step(registered_at + 10);
    assert_eq!(
        app.check_code(adele.id, &method.id, &far).await.outcome(),
        pb::VerificationOutcome::Incorrect
    );
    assert_eq!(
        app.check_code(adele.id, &method.id, "12345").await.outcome(),
        pb::VerificationOutcome::Incorrect
    );
}

#[tokio::test]
async fn at_most_five_authenticator_apps() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    app.register_app(&adele, "App 1").await;
    let adele = app.again(&adele, SignedIn::WithMfa);
    for n in 2..=5 {
        app.register_app(&adele, &format!("App {n}")).await;
    }
    let sixth = app.start_app(&adele, "App 6").await.unwrap_err();
    assert_status(
        &sixth,
        Code::FailedPrecondition,
        "you can register at most 5 authenticator apps; remove one first",
    );
    assert_eq!(app.method_rows(adele.id).await, 5, "the refused start stored nothing");
}

#[tokio::test]
async fn names_are_required_and_checked() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    for name in ["", "   ", &"x".repeat(65), "tab\there"] {
        let err = app.start_app(&adele, name).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{name:?}");
        assert_eq!(violated_fields(&err), ["name"], "{name:?}");
    }
    assert_eq!(app.method_rows(adele.id).await, 0);
}

#[tokio::test]
async fn internal_calls_are_identitys_alone() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::WithMfa);
    let (method, _, _) = app.register_app(&adele, "Phone").await;
    let only_identity = |method: &str| {
        format!(
            "{method} accepts calls only from the identity workload: present its workload token in the myaccount-workload-token metadata"
        )
    };
    // A person's token, even a fresh multi-factor one, is no workload's.
    let refused = app.second_factors_as_person(adele.id, &adele.token).await.unwrap_err();
    assert_status(&refused, Code::Unauthenticated, &only_identity("ListSecondFactors"));
    let mut c = app.direct();
    let begin = c
        .begin_second_factor(bearer(
            pb::BeginSecondFactorRequest {
                user_id: adele.id.to_string(),
                method_id: method.id.clone(),
            },
            &adele.token,
        ))
        .await
        .unwrap_err();
    assert_status(&begin, Code::Unauthenticated, &only_identity("BeginSecondFactor"));
    let verify = c
        .verify_second_factor(bearer(
            pb::VerifySecondFactorRequest {
                user_id: adele.id.to_string(),
                method_id: method.id.clone(),
                proof: Some(pb::verify_second_factor_request::Proof::Code("123456".into())),
            },
            &adele.token,
        ))
        .await
        .unwrap_err();
    assert_status(&verify, Code::Unauthenticated, &only_identity("VerifySecondFactor"));
    let app_password = c
        .verify_app_password(tonic::Request::new(pb::VerifyAppPasswordRequest {
            user_id: adele.id.to_string(),
            password: "abcd efgh ijkl mnop".into(),
        }))
        .await
        .unwrap_err();
    assert_status(
        &app_password,
        Code::Unauthenticated,
        &only_identity("VerifyAppPassword"),
    );

    // The gateway, trusted for a person's calls, is not identity.
    let gateways = app
        .second_factors(adele.id, &app.gateway.key.token_for("security-info").expect("signed"))
        .await
        .unwrap_err();
    assert_status(
        &gateways,
        Code::PermissionDenied,
        "ListSecondFactors accepts calls only from the identity workload, not from gateway",
    );
    // A workload nobody trusts, or a token of identity's meant for identity, or one signed by a
    // key that is not identity's: refused too.
    let stranger = platform::workload::WorkloadKey::generate("demo");
    let forger = platform::workload::WorkloadKey::generate("identity");
    for (token, message) in [
        (
            stranger.token_for("security-info").expect("signed"),
            "the workload token is from \"demo\", a workload this service does not trust",
        ),
        (
            app.identity_key.token_for("identity").expect("signed"),
            "the workload token is meant for \"identity\", not this service",
        ),
        (
            forger.token_for("security-info").expect("signed"),
            "the workload token is not valid: bad signature",
        ),
    ] {
        let refused = app.second_factors(adele.id, &token).await.unwrap_err();
        assert_status(&refused, Code::Unauthenticated, message);
    }

    let factors = app
        .second_factors(adele.id, &app.identity_token())
        .await
        .expect("identity may ask");
    assert_eq!(factors.factors.len(), 1, "{factors:?}");
}
