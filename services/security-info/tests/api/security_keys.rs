use myaccount_proto::securityinfo::v1 as pb;
use myaccount_proto::securityinfo::v1::verify_second_factor_request::Proof;
use tonic::Code;

use crate::helpers::{SignedIn, origin, software_key, spawn_app, violated_fields};

#[tokio::test]
async fn a_security_key_registers_and_signs_in_with_real_signatures() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let mut key = software_key();

    let method = app
        .register_security_key(&adele, &mut key, "YubiKey")
        .await
        .expect("registered");
    assert_eq!(method.r#type(), pb::MethodType::SecurityKey);
    assert_eq!(method.name, "YubiKey");
    let (credential_id, counter): (Vec<u8>, i64) =
        sqlx::query_as("SELECT credential_id, sign_count FROM methods WHERE id = $1::uuid")
            .bind(&method.id)
            .fetch_one(&app.db)
            .await
            .expect("stored key");
    assert!(!credential_id.is_empty());
    assert_eq!(counter, 0);

    // Sign-in: the service's challenge, the key's signature.
    let prompt = app.begin_factor(adele.id, &method.id).await;
    let options = serde_json::from_str(&prompt.request_options_json).expect("request options");
    let assertion = key.do_authentication(origin(), options).expect("the key signs");
    let verified = app
        .check(
            adele.id,
            &method.id,
            Proof::AssertionJson(serde_json::to_string(&assertion).expect("json")),
        )
        .await;
    assert_eq!(verified.outcome(), pb::VerificationOutcome::Verified);
    assert_eq!(verified.amr, ["hwk"]);
    let counter: i64 = sqlx::query_scalar("SELECT sign_count FROM methods WHERE id = $1::uuid")
        .bind(&method.id)
        .fetch_one(&app.db)
        .await
        .expect("counter");
    assert!(counter > 0, "the signature counter is kept");

    // The same assertion again: its challenge is spent.
    let replay = app
        .check(
            adele.id,
            &method.id,
            Proof::AssertionJson(serde_json::to_string(&assertion).expect("json")),
        )
        .await;
    assert_eq!(replay.outcome(), pb::VerificationOutcome::Expired);
}

#[tokio::test]
async fn a_counter_that_goes_backwards_is_refused_as_a_possible_clone() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let mut key = software_key();
    let method = app
        .register_security_key(&adele, &mut key, "Key")
        .await
        .expect("registered");
    // The original key has been used 1000 times since; this one is behind: a copy.
    sqlx::query("UPDATE methods SET passkey = jsonb_set(passkey, '{cred,counter}', '1000') WHERE id = $1::uuid")
        .bind(&method.id)
        .execute(&app.db)
        .await
        .expect("move the stored counter");
    let prompt = app.begin_factor(adele.id, &method.id).await;
    let assertion = key
        .do_authentication(
            origin(),
            serde_json::from_str(&prompt.request_options_json).expect("options"),
        )
        .expect("signs");
    let outcome = app
        .check(
            adele.id,
            &method.id,
            Proof::AssertionJson(serde_json::to_string(&assertion).expect("json")),
        )
        .await;
    assert_eq!(outcome.outcome(), pb::VerificationOutcome::PossibleClone);
}

#[tokio::test]
async fn another_keys_signature_or_a_forged_answer_does_not_verify() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let mut key = software_key();
    let method = app
        .register_security_key(&adele, &mut key, "Key")
        .await
        .expect("registered");
    let prompt = app.begin_factor(adele.id, &method.id).await;
    // A different authenticator cannot answer for this credential.
    let mut stranger = software_key();
    assert!(
        stranger
            .do_authentication(
                origin(),
                serde_json::from_str(&prompt.request_options_json).expect("options")
            )
            .is_err(),
        "a key without the credential cannot sign"
    );
    let garbage = app
        .check(adele.id, &method.id, Proof::AssertionJson("{\"id\":\"x\"}".into()))
        .await;
    assert_eq!(garbage.outcome(), pb::VerificationOutcome::Incorrect);

    // A registration answer that is not JSON is refused by field and registers nothing.
    let started = app
        .client
        .clone()
        .start_security_key_registration(crate::helpers::bearer(
            pb::StartSecurityKeyRegistrationRequest { name: "Other".into() },
            &app.again(&adele, SignedIn::WithMfa).token,
        ))
        .await
        .expect("started")
        .into_inner();
    let err = app
        .client
        .clone()
        .complete_security_key_registration(crate::helpers::bearer(
            pb::CompleteSecurityKeyRegistrationRequest {
                method_id: started.method_id,
                credential_json: "not json".into(),
            },
            &app.again(&adele, SignedIn::WithMfa).token,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["credential"]);
    assert_eq!(app.security_info(&adele).await.methods.len(), 1);
}
