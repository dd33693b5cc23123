//! identity takes sign-ins and a person's client context from the gateway alone: every method
//! that is public or carries a client context refuses a caller without the gateway's workload
//! token, and one whose token is forged, expired, meant for another service or another
//! workload's. A refused call changes nothing.

use std::time::Duration;

use chrono::Utc;
use myaccount_proto::identity::v1 as pb;
use platform::testing::{assert_status, bearer, row_count, with_workload_token};
use platform::workload::{GATEWAY, IDENTITY, TrustedCallers, WORKLOAD_TOKEN_TTL, WorkloadKey};
use tonic::{Code, Request, Status};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// What identity's refusal of a caller without the gateway's token says for `method`.
fn only_the_gateway(method: &str) -> String {
    format!(
        "{method} accepts calls only from the gateway workload: present its workload token in the myaccount-workload-token metadata"
    )
}

/// `message`, with the person's `access_token` and a `workload_token` when given.
fn request<T>(message: T, access_token: Option<&str>, workload_token: Option<&str>) -> Request<T> {
    let request = match access_token {
        Some(token) => bearer(message, token),
        None => Request::new(message),
    };
    match workload_token {
        Some(token) => with_workload_token(request, token),
        None => request,
    }
}

/// Every gateway-only method, called on a client without the gateway's signing layer, with
/// `workload_token` when given (and the person's `access_token` where a method needs one);
/// their refusals by method name.
async fn call_every_gateway_only_method(
    app: &TestApp,
    access_token: &str,
    workload_token: Option<&str>,
) -> Vec<(&'static str, Status)> {
    let mut client = app.direct_client();
    let sign_in = pb::SignInRequest {
        username: crate::helpers::ADMIN_UPN.into(),
        password: crate::helpers::ADMIN_PASSWORD.into(),
        client: Some(forged_context()),
        ..Default::default()
    };
    vec![
        (
            "SignIn",
            client
                .sign_in(request(sign_in, None, workload_token))
                .await
                .expect_err("refused"),
        ),
        (
            "RefreshToken",
            client
                .refresh_token(request(
                    pb::RefreshTokenRequest {
                        refresh_token: "mart_anything".into(),
                        client: Some(forged_context()),
                    },
                    None,
                    workload_token,
                ))
                .await
                .expect_err("refused"),
        ),
        (
            "StartMfa",
            client
                .start_mfa(request(
                    pb::StartMfaRequest {
                        challenge_id: uuid::Uuid::new_v4().to_string(),
                        method_id: uuid::Uuid::new_v4().to_string(),
                    },
                    None,
                    workload_token,
                ))
                .await
                .expect_err("refused"),
        ),
        (
            "CompleteMfa",
            client
                .complete_mfa(request(
                    pb::CompleteMfaRequest {
                        challenge_id: uuid::Uuid::new_v4().to_string(),
                        method_id: uuid::Uuid::new_v4().to_string(),
                        proof: Some(pb::complete_mfa_request::Proof::Code("123456".into())),
                        client: Some(forged_context()),
                    },
                    None,
                    workload_token,
                ))
                .await
                .expect_err("refused"),
        ),
        (
            "SetRequiredPassword",
            client
                .set_required_password(request(
                    pb::SetRequiredPasswordRequest {
                        change_ticket: uuid::Uuid::new_v4().to_string(),
                        new_password: "an entirely new lively walrus".into(),
                        client: Some(forged_context()),
                    },
                    None,
                    workload_token,
                ))
                .await
                .expect_err("refused"),
        ),
        (
            "CompleteMfaRegistration",
            client
                .complete_mfa_registration(request(
                    pb::CompleteMfaRegistrationRequest {
                        client: Some(forged_context()),
                    },
                    Some(access_token),
                    workload_token,
                ))
                .await
                .expect_err("refused"),
        ),
        (
            "Reauthenticate",
            client
                .reauthenticate(request(
                    pb::ReauthenticateRequest {
                        password: crate::helpers::ADMIN_PASSWORD.into(),
                        client: Some(forged_context()),
                    },
                    Some(access_token),
                    workload_token,
                ))
                .await
                .expect_err("refused"),
        ),
        (
            "StartPasswordReset",
            client
                .start_password_reset(request(
                    pb::StartPasswordResetRequest {
                        username: crate::helpers::ADMIN_UPN.into(),
                        client: Some(forged_context()),
                    },
                    None,
                    workload_token,
                ))
                .await
                .expect_err("refused"),
        ),
        (
            "BeginPasswordResetMethod",
            client
                .begin_password_reset_method(request(
                    pb::BeginPasswordResetMethodRequest {
                        flow_id: uuid::Uuid::new_v4().to_string(),
                        method_id: uuid::Uuid::new_v4().to_string(),
                        client: Some(forged_context()),
                    },
                    None,
                    workload_token,
                ))
                .await
                .expect_err("refused"),
        ),
        (
            "VerifyPasswordResetMethod",
            client
                .verify_password_reset_method(request(
                    pb::VerifyPasswordResetMethodRequest {
                        flow_id: uuid::Uuid::new_v4().to_string(),
                        method_id: uuid::Uuid::new_v4().to_string(),
                        proof: Some(pb::verify_password_reset_method_request::Proof::Code("123456".into())),
                        client: Some(forged_context()),
                    },
                    None,
                    workload_token,
                ))
                .await
                .expect_err("refused"),
        ),
        (
            "CompletePasswordReset",
            client
                .complete_password_reset(request(
                    pb::CompletePasswordResetRequest {
                        flow_id: uuid::Uuid::new_v4().to_string(),
                        new_password: "an entirely new lively walrus".into(),
                        client: Some(forged_context()),
                    },
                    None,
                    workload_token,
                ))
                .await
                .expect_err("refused"),
        ),
    ]
}

/// A client context nobody should believe: a fresh address and a far-away place.
fn forged_context() -> pb::ClientContext {
    pb::ClientContext {
        ip_address: "203.0.113.77".into(),
        user_agent: "forger/1.0".into(),
        location: Some(pb::ClientLocation {
            country: "AQ".into(),
            city: "McMurdo".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Rows that any sign-in, refresh or step-up would have written.
async fn footprint(app: &TestApp) -> (i64, i64, i64) {
    (
        row_count(&app.db, "sessions").await,
        row_count(&app.db, "platform.outbox").await,
        row_count(&app.db, "sign_in_throttle").await,
    )
}

#[tokio::test]
async fn a_direct_caller_is_refused_on_every_public_and_client_context_method() {
    let app = spawn_app().await;
    // The admin's password-only session: a real person's token does not make a caller the
    // gateway.
    let access_token = app.admin_token().await;
    let before = footprint(&app).await;

    let refusals = call_every_gateway_only_method(&app, &access_token, None).await;
    assert_eq!(refusals.len(), myaccount_identity::grpc::GATEWAY_ONLY_METHODS.len());
    for (method, status) in &refusals {
        assert_status(status, Code::Unauthenticated, &only_the_gateway(method));
    }
    assert_eq!(footprint(&app).await, before, "a refused call changes nothing");

    // The same sign-in through the gateway succeeds, so the refusal was the caller's.
    app.sign_in(crate::helpers::ADMIN_UPN, crate::helpers::ADMIN_PASSWORD)
        .await
        .expect("the gateway signs the admin in");
}

#[tokio::test]
async fn forged_expired_misdirected_and_foreign_workload_tokens_are_refused() {
    let app = spawn_app().await;
    let access_token = app.admin_token().await;
    let before = footprint(&app).await;
    let now = Utc::now().timestamp();
    let forger = WorkloadKey::generate(GATEWAY);
    let stranger = WorkloadKey::generate("demo");
    let cases = [
        (
            "forged: another key under the gateway's name",
            forger.token_for(IDENTITY).expect("signed"),
            "the workload token is not valid: bad signature",
        ),
        (
            "expired",
            app.gateway_key
                .token_with(IDENTITY, now - 600, WORKLOAD_TOKEN_TTL)
                .expect("signed"),
            "the workload token has expired",
        ),
        (
            "meant for another service",
            app.gateway_key.token_for("security-info").expect("signed"),
            "the workload token is meant for \"security-info\", not this service",
        ),
        (
            "minted for an hour",
            app.gateway_key
                .token_with(IDENTITY, now, Duration::from_secs(3600))
                .expect("signed"),
            "the workload token is not valid: a workload token may live at most 120 s",
        ),
        (
            "from a workload identity does not trust",
            stranger.token_for(IDENTITY).expect("signed"),
            "the workload token is from \"demo\", a workload this service does not trust",
        ),
        (
            "a person's access token in its place",
            access_token.clone(),
            "the workload token is not valid: expected an EdDSA token of type myaccount-workload+jwt",
        ),
    ];
    for (case, token, message) in &cases {
        let refusals = call_every_gateway_only_method(&app, &access_token, Some(token)).await;
        for (method, status) in &refusals {
            assert_eq!(status.code(), Code::Unauthenticated, "{case}, {method}: {status:?}");
            assert_eq!(status.message(), *message, "{case}, {method}");
        }
    }
    // A bad workload token is refused on any method, not ignored where none is required.
    let profile = app
        .direct_client()
        .get_my_profile(with_workload_token(
            bearer(pb::GetMyProfileRequest {}, &access_token),
            &forger.token_for(IDENTITY).expect("signed"),
        ))
        .await
        .expect_err("refused");
    assert_status(
        &profile,
        Code::Unauthenticated,
        "the workload token is not valid: bad signature",
    );
    assert_eq!(footprint(&app).await, before, "a refused call changes nothing");
}

#[tokio::test]
async fn another_trusted_workload_may_not_call_the_gateways_methods() {
    // identity trusting a second workload (for methods of its own, some day) still takes
    // sign-ins from the gateway alone.
    let organizations = WorkloadKey::generate("organizations");
    let trusted = organizations.clone();
    let app = spawn_app_with(move |settings| {
        settings.service.trusted_callers = settings.service.trusted_callers.clone().with_key(&trusted);
    })
    .await;
    let access_token = app.admin_token().await;
    let before = footprint(&app).await;
    let token = organizations.token_for(IDENTITY).expect("signed");
    let refusals = call_every_gateway_only_method(&app, &access_token, Some(&token)).await;
    for (method, status) in &refusals {
        assert_status(
            status,
            Code::PermissionDenied,
            &format!("{method} accepts calls only from the gateway workload, not from organizations"),
        );
    }
    assert_eq!(footprint(&app).await, before, "a refused call changes nothing");
}

#[tokio::test]
async fn identity_refuses_to_start_without_the_gateways_key() {
    let result = std::panic::AssertUnwindSafe(spawn_app_with(|settings| {
        settings.service.trusted_callers = TrustedCallers::new();
    }));
    let outcome = futures::FutureExt::catch_unwind(result).await;
    let panic = outcome.err().expect("identity does not start");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("IDENTITY_TRUSTED_CALLERS"), "{message}");
    assert!(message.contains("myaccount workload-keys"), "{message}");
}

#[tokio::test]
async fn a_persons_token_alone_reaches_none_of_their_methods_but_probes_need_none() {
    let app = spawn_app().await;
    let access_token = app.admin_token().await;
    // A stolen bearer token taken straight to identity, around the gateway's limits.
    let direct = app
        .direct_client()
        .get_my_profile(bearer(pb::GetMyProfileRequest {}, &access_token))
        .await
        .expect_err("refused");
    assert_status(&direct, Code::Unauthenticated, &only_the_gateway("GetMyProfile"));
    let elsewhere = app
        .direct_client()
        .get_my_profile(with_workload_token(
            bearer(pb::GetMyProfileRequest {}, &access_token),
            &app.gateway_key.token_for("devices").expect("signed"),
        ))
        .await
        .expect_err("refused");
    assert_status(
        &elsewhere,
        Code::Unauthenticated,
        "the workload token is meant for \"devices\", not this service",
    );
    // The gateway's path works.
    app.identity
        .clone()
        .get_my_profile(bearer(pb::GetMyProfileRequest {}, &access_token))
        .await
        .expect("the gateway reads the profile");
    // Health answers a probe that carries no token at all.
    assert!(
        platform::testing::grpc_serving(app.channel.clone())
            .await
            .expect("health answers without a token")
    );
}
