//! `/api/v1/auth/*`: sign-in (and its second step), step-up, refresh, sign-out, self-service
//! password reset, and whether the browser has a session. Every answer that issues tokens gives them in the body, or with
//! `X-MyAccount-Session: cookie` as the browser session's cookies (`crate::session`). Sign-in,
//! both MFA steps, step-up, refresh, the new password and every password reset step are rate
//! limited per client IP and per account or flow (`crate::ratelimit`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use myaccount_proto::identity::v1 as pb;

use crate::cookies::{SessionMode, unverified_claims};
use crate::extract::{ApiJson, ApiPath, Bearer, Client};
use crate::json::{
    MfaBody, MfaPrompt, MfaRegistrationCompleteBody, MfaStartBody, NewPasswordBody, PasskeyChallenge,
    PasskeySignInBody, PasswordResetFlow, PasswordResetMethodBody, PasswordResetPasswordBody, PasswordResetProgress,
    PasswordResetProofBody, PasswordResetStartBody, ReauthenticateBody, RefreshBody, SignInAnswer, SignInBody, Tokens,
};
use crate::problem::{FieldError, Problem};
use crate::ratelimit::AuthEndpoint;
use crate::session::{self, SessionStatus, TokenAnswer};
use crate::state::AppState;

/// Tokens, or `{"mfaRequired": true, "challengeId", "methods"}` when a second factor is due.
#[utoipa::path(
    post,
    path = "/auth/sign-in",
    tag = "auth",
    request_body = SignInBody,
    params(("X-MyAccount-Session" = Option<String>, Header, description = "`cookie`: set the browser session cookies instead of answering tokens")),
    responses(
        (status = 200, description = "Tokens; with `X-MyAccount-Session: cookie` `{\"signedIn\": true, \"expiresIn\"}` and the `myaccount_session` and `myaccount_csrf` cookies; or the step due first (`mfaRequired`, `mfaRegistrationRequired` with its `registrationToken`, `passwordChangeRequired`; no cookie yet)", body = SignInAnswer),
        (status = 401, description = "`unauthenticated`: wrong user name or password", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not a member of the organization asked for", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too-many-requests`: too many attempts from this address or for this account (the gateway's limit, or identity's throttle)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
pub async fn sign_in(
    State(state): State<AppState>,
    mode: SessionMode,
    Client(client): Client,
    ApiJson(body): ApiJson<SignInBody>,
) -> Result<Response, Problem> {
    state
        .limits
        .check(AuthEndpoint::SignIn, &client.ip_address, Some(&body.username))?;
    let response = state
        .identity()
        .sign_in(pb::SignInRequest {
            username: body.username,
            password: body.password,
            client: Some(client),
            organization_id: body.organization_id.unwrap_or_default(),
        })
        .await?
        .into_inner();
    answer(&state, mode, response)
}

/// Passwordless sign-in, first half: the options for `navigator.credentials.get()` (also with
/// `mediation: "conditional"`, the sign-in page's autofill), without an allow-list.
#[utoipa::path(
    post,
    path = "/auth/passkey/start",
    tag = "auth",
    responses(
        (status = 200, description = "`challengeId` (single use, 5 minutes) and `publicKey`: options with no `allowCredentials` and `userVerification` required", body = PasskeyChallenge),
        (status = 429, description = "`too-many-requests`: too many requests from this address", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
pub async fn start_passkey_sign_in(
    State(state): State<AppState>,
    Client(client): Client,
) -> Result<Json<PasskeyChallenge>, Problem> {
    state.limits.check(AuthEndpoint::Passkey, &client.ip_address, None)?;
    let challenge = state
        .identity()
        .start_passkey_sign_in(pb::StartPasskeySignInRequest { client: Some(client) })
        .await?
        .into_inner();
    PasskeyChallenge::from_response(challenge)
        .map(Json)
        .ok_or_else(|| Problem::from_status(&tonic::Status::internal("the passkey options are not WebAuthn options")))
}

/// Passwordless sign-in, second half: the passkey's assertion. A user-verified passkey is
/// multi-factor on its own, so it answers tokens (or the cookie session) like a finished
/// sign-in, recorded in "My sign-ins" with method `passkey`.
#[utoipa::path(
    post,
    path = "/auth/passkey",
    tag = "auth",
    request_body = PasskeySignInBody,
    params(("X-MyAccount-Session" = Option<String>, Header, description = "`cookie`: set the browser session cookies instead of answering tokens")),
    responses(
        (status = 200, description = "Tokens with `amr` `[\"hwk\",\"mfa\"]` (`swk` for a synced passkey), or with `X-MyAccount-Session: cookie` `{\"signedIn\": true, \"expiresIn\"}` and the cookies; or `passwordChangeRequired`", body = SignInAnswer),
        (status = 400, description = "`validation-error`: `challengeId` is not a challenge id, or `assertion` is empty, too large or not a WebAuthn assertion (the challenge stays unspent)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthenticated`: the passkey is not registered here, its answer does not verify, or the challenge is unknown, expired or already answered", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: the account is disabled, or the device named is disabled", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too-many-requests`: too many attempts from this address (the gateway's limit, or identity's throttle)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
pub async fn passkey_sign_in(
    State(state): State<AppState>,
    mode: SessionMode,
    Client(client): Client,
    ApiJson(body): ApiJson<PasskeySignInBody>,
) -> Result<Response, Problem> {
    state.limits.check(AuthEndpoint::Passkey, &client.ip_address, None)?;
    // A JSON string is taken as the assertion's text; anything else is sent as JSON.
    let assertion_json = match body.assertion {
        serde_json::Value::String(text) => text,
        other => other.to_string(),
    };
    let response = state
        .identity()
        .passkey_sign_in(pb::PasskeySignInRequest {
            challenge_id: body.challenge_id,
            assertion_json,
            client: Some(client),
        })
        .await?
        .into_inner();
    answer(&state, mode, response)
}

fn answer(state: &AppState, mode: SessionMode, mut response: pb::SignInResponse) -> Result<Response, Problem> {
    match response.result.take() {
        Some(pb::sign_in_response::Result::Tokens(tokens)) => session::issue(state, mode, tokens),
        result => {
            response.result = result;
            SignInAnswer::from_response(response)
                .map(|answer| Json(answer).into_response())
                .ok_or_else(|| Problem::from_status(&tonic::Status::internal("sign-in gave no result")))
        }
    }
}

/// Prepares the chosen second factor: a code is sent, or a security key's options returned.
#[utoipa::path(
    post,
    path = "/auth/mfa/start",
    tag = "auth",
    request_body = MfaStartBody,
    responses(
        (status = 200, description = "`sentTo` (a code went to the phone or email) or `publicKey` (options for `navigator.credentials.get()`)", body = MfaPrompt),
        (status = 401, description = "`unauthenticated`: the challenge is unknown, expired or used up", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too-many-requests`: too many requests from this address or for this challenge", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
pub async fn start_mfa(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<MfaStartBody>,
) -> Result<Json<MfaPrompt>, Problem> {
    // The challenge stands for the account: it belongs to one sign-in of one person.
    state
        .limits
        .check(AuthEndpoint::StartMfa, &client.ip_address, Some(&body.challenge_id))?;
    let prompt = state
        .identity()
        .start_mfa(pb::StartMfaRequest {
            challenge_id: body.challenge_id,
            method_id: body.method_id,
        })
        .await?
        .into_inner();
    Ok(Json(prompt.into()))
}

/// The second step of sign-in (or of a step-up): a code or a security key assertion.
#[utoipa::path(
    post,
    path = "/auth/mfa",
    tag = "auth",
    request_body = MfaBody,
    params(("X-MyAccount-Session" = Option<String>, Header, description = "`cookie`: set the browser session cookies instead of answering tokens")),
    responses(
        (status = 200, description = "Tokens (with `amr` such as `[\"pwd\",\"otp\",\"mfa\"]`), or with `X-MyAccount-Session: cookie` `{\"signedIn\": true, \"expiresIn\"}` and the cookies; or `passwordChangeRequired`", body = SignInAnswer),
        (status = 401, description = "`unauthenticated`: a wrong code or assertion, or a challenge that expired or took too many attempts", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too-many-requests`: too many attempts from this address or for this challenge", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
pub async fn complete_mfa(
    State(state): State<AppState>,
    mode: SessionMode,
    Client(client): Client,
    ApiJson(body): ApiJson<MfaBody>,
) -> Result<Response, Problem> {
    state
        .limits
        .check(AuthEndpoint::CompleteMfa, &client.ip_address, Some(&body.challenge_id))?;
    let proof = match (body.code, body.assertion) {
        (Some(code), None) => Some(pb::complete_mfa_request::Proof::Code(code)),
        (None, Some(assertion)) => Some(pb::complete_mfa_request::Proof::AssertionJson(assertion.to_string())),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(Problem::validation(vec![FieldError {
                field: "code".into(),
                message: "send either code or assertion, not both".into(),
                code: String::new(),
            }]));
        }
    };
    let response = state
        .identity()
        .complete_mfa(pb::CompleteMfaRequest {
            challenge_id: body.challenge_id,
            method_id: body.method_id,
            proof,
            client: Some(client),
        })
        .await?
        .into_inner();
    answer(&state, mode, response)
}

/// The last step of a sign-in answered with `passwordChangeRequired`: the new password, with
/// the ticket; answers tokens.
#[utoipa::path(
    post,
    path = "/auth/new-password",
    tag = "auth",
    request_body = NewPasswordBody,
    params(("X-MyAccount-Session" = Option<String>, Header, description = "`cookie`: set the browser session cookies instead of answering tokens")),
    responses(
        (status = 200, description = "Tokens, or with `X-MyAccount-Session: cookie` `{\"signedIn\": true, \"expiresIn\"}` and the cookies", body = TokenAnswer),
        (status = 401, description = "`unauthenticated`: the ticket is unknown, expired or spent", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too-many-requests`: too many requests from this address or with this ticket", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
pub async fn set_required_password(
    State(state): State<AppState>,
    mode: SessionMode,
    Client(client): Client,
    ApiJson(body): ApiJson<NewPasswordBody>,
) -> Result<Response, Problem> {
    state
        .limits
        .check(AuthEndpoint::NewPassword, &client.ip_address, Some(&body.change_ticket))?;
    let tokens = state
        .identity()
        .set_required_password(pb::SetRequiredPasswordRequest {
            change_ticket: body.change_ticket,
            new_password: body.new_password,
            client: Some(client),
        })
        .await?
        .into_inner();
    session::issue(&state, mode, tokens)
}

/// The last step of a sign-in answered with `mfaRegistrationRequired`: once a method added with
/// the registration token is verified, tokens whose `amr` names it.
#[utoipa::path(
    post,
    path = "/auth/mfa-registration/complete",
    tag = "auth",
    request_body = MfaRegistrationCompleteBody,
    params(("X-MyAccount-Session" = Option<String>, Header, description = "`cookie`: set the browser session cookies instead of answering tokens")),
    responses(
        (status = 200, description = "Tokens (with `amr` such as `[\"pwd\",\"otp\",\"mfa\"]`, naming the factor just registered), or with `X-MyAccount-Session: cookie` `{\"signedIn\": true, \"expiresIn\"}` and the cookies; or `passwordChangeRequired`", body = SignInAnswer),
        (status = 400, description = "`failed-precondition`: no method added with this registration token has been verified yet", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthenticated`: the registration token is unknown, expired or already used", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too-many-requests`: too many requests from this address or with this token", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
pub async fn complete_mfa_registration(
    State(state): State<AppState>,
    mode: SessionMode,
    Client(client): Client,
    ApiJson(body): ApiJson<MfaRegistrationCompleteBody>,
) -> Result<Response, Problem> {
    let token = Bearer(body.registration_token);
    let account = unverified_claims(&token.0).map(|c| c.sub);
    state
        .limits
        .check(AuthEndpoint::CompleteMfa, &client.ip_address, account.as_deref())?;
    let response = state
        .identity()
        .complete_mfa_registration(token.request(pb::CompleteMfaRegistrationRequest { client: Some(client) })?)
        .await?
        .into_inner();
    answer(&state, mode, response)
}

/// Step-up: the password again, then (when the person has one) a second factor through
/// `POST /auth/mfa`. The answer's tokens carry a fresh `auth_time`.
#[utoipa::path(
    post,
    path = "/auth/reauthenticate",
    tag = "auth",
    request_body = ReauthenticateBody,
    params(("X-MyAccount-Session" = Option<String>, Header, description = "`cookie`: set the browser session cookies instead of answering tokens")),
    responses(
        (status = 200, description = "Tokens for the same session with a fresh `auth_time`, or with `X-MyAccount-Session: cookie` `{\"signedIn\": true, \"expiresIn\"}` and new cookies (a new CSRF token too); or `mfaRequired`, finished by `POST /auth/mfa`", body = SignInAnswer),
        (status = 429, description = "`too-many-requests`: too many attempts from this address or for this account", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
pub async fn reauthenticate(
    State(state): State<AppState>,
    mode: SessionMode,
    bearer: Bearer,
    Client(client): Client,
    ApiJson(body): ApiJson<ReauthenticateBody>,
) -> Result<Response, Problem> {
    let account = unverified_claims(&bearer.0).map(|c| c.sub);
    state
        .limits
        .check(AuthEndpoint::Reauthenticate, &client.ip_address, account.as_deref())?;
    let response = state
        .identity()
        .reauthenticate(bearer.request(pb::ReauthenticateRequest {
            password: body.password,
            client: Some(client),
        })?)
        .await?
        .into_inner();
    answer(&state, mode, response)
}

/// A new token pair for a refresh token, which is spent. Browser sessions need not call this:
/// the gateway refreshes their cookie by itself.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "auth",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "A new token pair", body = Tokens),
        (status = 401, description = "`unauthenticated`: the refresh token is unknown, expired or spent (presenting a spent one ends its session)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too-many-requests`: too many refreshes from this address", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Json<Tokens>, Problem> {
    // A refresh token names no account and is good once, so only the address is limited.
    state.limits.check(AuthEndpoint::Refresh, &client.ip_address, None)?;
    let tokens = state
        .identity()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: body.refresh_token,
            client: Some(client),
        })
        .await?
        .into_inner();
    Ok(Json(tokens.into()))
}

/// Ends the session of the token (or of the session cookie, whose cookies are then cleared
/// with `Max-Age=0`).
#[utoipa::path(
    post,
    path = "/auth/sign-out",
    tag = "auth",
    responses((status = 204, description = "The session has ended; a cookie session's two cookies are cleared"))
)]
pub async fn sign_out(State(state): State<AppState>, bearer: Bearer) -> Result<StatusCode, Problem> {
    state
        .identity()
        .sign_out(bearer.request(pb::SignOutRequest {})?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the browser (its session cookie, refreshed when due) or the bearer token has a live
/// session; never 401, so a page can ask without an error in the console.
#[utoipa::path(
    get,
    path = "/auth/session",
    tag = "auth",
    security((), ("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "`{\"signedIn\": true, \"organizationId\"}` (the organization the session is in: the home one, or the guest one signed in to), or `{\"signedIn\": false}` (a cookie whose session has ended is cleared)", body = SessionStatus),
        (status = "5XX", description = "identity could not be asked", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn session(State(state): State<AppState>, parts: Parts) -> Result<Response, Problem> {
    session::status(&state, parts).await
}

/// "Forgot my password?": opens a 15-minute password reset flow for the user name. The answer is
/// the same whether or not the name is an account's (a name without one gets a flow that can
/// never complete), so it tells nobody which accounts exist.
#[utoipa::path(
    post,
    path = "/auth/password-reset",
    tag = "auth",
    request_body = PasswordResetStartBody,
    responses(
        (status = 200, description = "The flow: `flowId`, the `methods` to prove (`id`, `type`, `label`), `methodsRequired` (1 or 2) and `expiresAt`", body = PasswordResetFlow),
        (status = 429, description = "`too-many-requests`: too many password resets from this address or for this name", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
pub async fn start_password_reset(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<PasswordResetStartBody>,
) -> Result<Json<PasswordResetFlow>, Problem> {
    state
        .limits
        .check(AuthEndpoint::PasswordReset, &client.ip_address, Some(&body.username))?;
    let flow = state
        .identity()
        .start_password_reset(pb::StartPasswordResetRequest {
            username: body.username,
            client: Some(client),
        })
        .await?
        .into_inner();
    Ok(Json(flow.into()))
}

/// Prepares one of the flow's methods: a code goes to the phone or email address, or a security
/// key's options come back.
#[utoipa::path(
    post,
    path = "/auth/password-reset/{flowId}/start",
    tag = "auth",
    params(("flowId" = String, Path, description = "the `flowId` of the password reset")),
    request_body = PasswordResetMethodBody,
    responses(
        (status = 200, description = "`sentTo` (a code went to the phone or email address), `publicKey` (options for `navigator.credentials.get()`), or `{}` (an authenticator app or recovery code needs nothing sent)", body = MfaPrompt),
        (status = 400, description = "`bad-request` (malformed JSON, an unknown field); `validation-error`: `flowId` or `methodId` is not the flow's; `failed-precondition`: the flow has expired", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such password reset, or it is finished", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too-many-requests`: too many requests from this address or for this flow, or too many wrong answers to it", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
pub async fn begin_password_reset_method(
    State(state): State<AppState>,
    Client(client): Client,
    ApiPath(flow_id): ApiPath<String>,
    ApiJson(body): ApiJson<PasswordResetMethodBody>,
) -> Result<Json<MfaPrompt>, Problem> {
    state
        .limits
        .check(AuthEndpoint::PasswordReset, &client.ip_address, Some(&flow_id))?;
    let prompt = state
        .identity()
        .begin_password_reset_method(pb::BeginPasswordResetMethodRequest {
            flow_id,
            method_id: body.method_id,
            client: Some(client),
        })
        .await?
        .into_inner();
    Ok(Json(prompt.into()))
}

/// Proves one of the flow's methods with its code or the security key's assertion; answers how
/// many more are required.
#[utoipa::path(
    post,
    path = "/auth/password-reset/{flowId}/verify",
    tag = "auth",
    params(("flowId" = String, Path, description = "the `flowId` of the password reset")),
    request_body = PasswordResetProofBody,
    responses(
        (status = 200, description = "`methodsRequired`: how many more methods must be proven (0: choose the new password), and `provenMethodIds`", body = PasswordResetProgress),
        (status = 400, description = "`bad-request` (malformed JSON, an unknown field); `validation-error`: no code or assertion, both, or a `flowId` or `methodId` that is not the flow's; `failed-precondition`: the flow has expired", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthenticated`: the code or assertion is wrong, used or expired", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such password reset, or it is finished", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too-many-requests`: too many wrong answers to this flow, or for this account or address (the sign-in throttle)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
pub async fn verify_password_reset_method(
    State(state): State<AppState>,
    Client(client): Client,
    ApiPath(flow_id): ApiPath<String>,
    ApiJson(body): ApiJson<PasswordResetProofBody>,
) -> Result<Json<PasswordResetProgress>, Problem> {
    state
        .limits
        .check(AuthEndpoint::PasswordReset, &client.ip_address, Some(&flow_id))?;
    let proof = match (body.code, body.assertion) {
        (Some(code), None) => Some(pb::verify_password_reset_method_request::Proof::Code(code)),
        (None, Some(assertion)) => Some(pb::verify_password_reset_method_request::Proof::AssertionJson(
            assertion.to_string(),
        )),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(Problem::validation(vec![FieldError {
                field: "code".into(),
                message: "send either code or assertion, not both".into(),
                code: String::new(),
            }]));
        }
    };
    let progress = state
        .identity()
        .verify_password_reset_method(pb::VerifyPasswordResetMethodRequest {
            flow_id,
            method_id: body.method_id,
            proof,
            client: Some(client),
        })
        .await?
        .into_inner();
    Ok(Json(progress.into()))
}

/// Sets the new password once enough methods are proven. Every session of the person ends,
/// their app passwords are revoked and every registered email address is told.
#[utoipa::path(
    post,
    path = "/auth/password-reset/{flowId}/password",
    tag = "auth",
    params(("flowId" = String, Path, description = "the `flowId` of the password reset")),
    request_body = PasswordResetPasswordBody,
    responses(
        (status = 204, description = "The password is reset; sign in with it"),
        (status = 400, description = "`bad-request` (malformed JSON, an unknown field); `validation-error`: the new password breaks the password rules (or `flowId` is not a flow id); `failed-precondition`: not enough methods proven yet, or the flow has expired", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such password reset, or it is finished", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too-many-requests`: too many requests from this address or for this flow", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
pub async fn complete_password_reset(
    State(state): State<AppState>,
    Client(client): Client,
    ApiPath(flow_id): ApiPath<String>,
    ApiJson(body): ApiJson<PasswordResetPasswordBody>,
) -> Result<StatusCode, Problem> {
    state
        .limits
        .check(AuthEndpoint::PasswordReset, &client.ip_address, Some(&flow_id))?;
    state
        .identity()
        .complete_password_reset(pb::CompletePasswordResetRequest {
            flow_id,
            new_password: body.new_password,
            client: Some(client),
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
