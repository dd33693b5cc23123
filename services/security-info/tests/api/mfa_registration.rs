//! "More information required": identity's registration token registers a first method here
//! and nothing else; and the last-factor rule counts every organization a person belongs to.

use myaccount_proto::events::v1::OrganizationMembershipKind;
use myaccount_proto::securityinfo::v1 as pb;
use platform::auth::Claims;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{Person, SignedIn, assert_status, bearer, spawn_app};

const REFUSED: &str =
    "this token only registers a first sign-in method and finishes that sign-in; finish signing in first";

/// The `sid` of a token: the interrupted sign-in it stands for.
fn sid_of(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).expect("base64");
    let claims: Claims = serde_json::from_slice(&bytes).expect("claims");
    claims.sid.expect("a sid")
}

#[tokio::test]
async fn a_registration_token_registers_a_first_method_and_does_nothing_else() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::ForMfaRegistration);

    // Everything but registering a first method answers UNAUTHENTICATED, and changes nothing.
    let mut c = app.c();
    let refusals = [
        c.get_my_security_info(bearer(pb::GetMySecurityInfoRequest {}, &adele.token))
            .await
            .map(|_| ())
            .unwrap_err(),
        c.create_app_password(bearer(
            pb::CreateAppPasswordRequest { name: "Mail".into() },
            &adele.token,
        ))
        .await
        .map(|_| ())
        .unwrap_err(),
        c.generate_recovery_codes(bearer(pb::GenerateRecoveryCodesRequest {}, &adele.token))
            .await
            .map(|_| ())
            .unwrap_err(),
        c.remove_method(bearer(
            pb::RemoveMethodRequest {
                method_id: Uuid::new_v4().to_string(),
            },
            &adele.token,
        ))
        .await
        .map(|_| ())
        .unwrap_err(),
        c.set_default_method(bearer(
            pb::SetDefaultMethodRequest {
                method_id: Uuid::new_v4().to_string(),
            },
            &adele.token,
        ))
        .await
        .map(|_| ())
        .unwrap_err(),
        c.export_my_data(bearer(pb::ExportMyDataRequest {}, &adele.token))
            .await
            .map(|_| ())
            .unwrap_err(),
    ];
    for refusal in &refusals {
        assert_status(refusal, Code::Unauthenticated, REFUSED);
    }
    // Nor the internal calls, which are identity's alone.
    let internal = app.second_factors_as_person(adele.id, &adele.token).await.unwrap_err();
    assert_eq!(internal.code(), Code::Unauthenticated, "{internal:?}");
    assert_eq!(app.method_rows(adele.id).await, 0, "nothing was added");

    // An authenticator app registers and verifies with it, and names the interrupted sign-in.
    let (method, _, _) = app.register_app(&adele, "Phone").await;
    let factors = app
        .second_factors(adele.id, &app.identity_token())
        .await
        .expect("identity lists the factors");
    let registered = factors
        .factors
        .iter()
        .find(|f| f.method_id == method.id)
        .expect("the new app is a second factor");
    assert_eq!(registered.registration_id, sid_of(&adele.token));
    assert_eq!(registered.amr, ["otp"]);
    assert_eq!(registered.method, "authenticator_app");

    // Having a second factor now, the same token cannot add another: that needs a multi-factor
    // sign-in like any change.
    let again = app.start_app(&adele, "Another").await.unwrap_err();
    assert_eq!(again.code(), Code::PermissionDenied, "{again:?}");
    assert!(platform::error::is_reauthentication_required(&again));

    // A method added with an ordinary session names no registration.
    let bob = app.person(SignedIn::PasswordOnly);
    let (bobs, _, _) = app.register_app(&bob, "Phone").await;
    let bobs_factors = app.second_factors(bob.id, &app.identity_token()).await.expect("listed");
    let bobs = bobs_factors
        .factors
        .iter()
        .find(|f| f.method_id == bobs.id)
        .expect("listed");
    assert_eq!(bobs.registration_id, "");
}

#[tokio::test]
async fn a_registration_token_can_register_a_phone() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::ForMfaRegistration);
    let pending = app
        .start_phone(&adele, pb::PhoneType::Mobile, "+14255550123")
        .await
        .expect("the phone registration starts");
    let code = app.code_sent_to("+14255550123", 0).await;
    let phone = app
        .verify(&adele, &pending.method_id, &code)
        .await
        .expect("the code proves the phone");
    let factors = app
        .second_factors(adele.id, &app.identity_token())
        .await
        .expect("listed");
    let factor = factors
        .factors
        .iter()
        .find(|f| f.method_id == phone.id)
        .expect("the phone is a second factor");
    assert_eq!(factor.registration_id, sid_of(&adele.token));
    assert_eq!(factor.amr, ["sms"]);
    assert_eq!(factor.method, "phone_sms");
}

#[tokio::test]
async fn the_last_factor_rule_counts_every_organization_the_person_belongs_to() {
    let app = spawn_app().await;
    let adele = app.person(SignedIn::PasswordOnly);
    let (method, _, _) = app.register_app(&adele, "Phone").await;
    // Adele's home organization requires MFA; she signs in to a guest organization that does not.
    let home = adele.organization_id.clone();
    let guest = Uuid::new_v4().to_string();
    app.organization_changed(&home, true).await;
    app.organization_changed(&guest, false).await;
    app.member_joined(adele.id, &home, OrganizationMembershipKind::Home)
        .await;
    app.member_joined(adele.id, &guest, OrganizationMembershipKind::Guest)
        .await;
    let in_guest = app.token(adele.id, &guest, SignedIn::WithMfa);
    let adele_in_guest = Person {
        token: in_guest,
        organization_id: guest.clone(),
        ..adele.clone()
    };

    let refused = app.remove(&adele_in_guest, &method.id).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("last second factor"), "{refused:?}");
    assert!(app.security_info(&adele_in_guest).await.mfa_required);
    assert_eq!(app.method_rows(adele.id).await, 1, "nothing was removed");

    // A guest organization that requires MFA holds it too, while she belongs to it.
    app.organization_changed(&home, false).await;
    app.organization_changed(&guest, true).await;
    let at_home = app.again(&adele, SignedIn::WithMfa);
    let refused = app.remove(&at_home, &method.id).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");

    // Once she has left it, nothing requires a second factor of her any more.
    app.member_left(adele.id, &guest).await;
    app.remove(&at_home, &method.id).await.expect("removed");
}

#[tokio::test]
async fn a_registration_token_claiming_more_scopes_is_still_refused() {
    // A registration token is refused as firmly when it also claims other scopes.
    let app = spawn_app().await;
    let mut claims = app.issuer.claims_for(Uuid::new_v4());
    claims.scope = Some(format!("{} myaccount.admin", platform::auth::MFA_REGISTRATION_SCOPE));
    let token = app.issuer.sign(&claims);
    let refused = app
        .c()
        .get_my_security_info(bearer(pb::GetMySecurityInfoRequest {}, &token))
        .await
        .unwrap_err();
    assert_status(&refused, Code::Unauthenticated, REFUSED);
}
