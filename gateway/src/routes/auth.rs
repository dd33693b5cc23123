//! `/api/v1/auth/*`: sign-in (and its second step), step-up, refresh, sign-out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use myaccount_proto::identity::v1 as pb;

use crate::AppState;
use crate::extract::{ApiJson, Bearer, Client};
use crate::json::{
    MfaBody, MfaPrompt, MfaStartBody, ReauthenticateBody, RefreshBody, SignInAnswer, SignInBody, Tokens,
};
use crate::problem::{FieldError, Problem};

/// Tokens, or `{"mfaRequired": true, "challengeId", "methods"}` when a second factor is due.
pub async fn sign_in(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<SignInBody>,
) -> Result<Json<SignInAnswer>, Problem> {
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
    answer(response)
}

fn answer(response: pb::SignInResponse) -> Result<Json<SignInAnswer>, Problem> {
    SignInAnswer::from_response(response)
        .map(Json)
        .ok_or_else(|| Problem::from_status(&tonic::Status::internal("sign-in gave no result")))
}

/// Prepares the chosen second factor: a code is sent, or a security key's options returned.
pub async fn start_mfa(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<MfaStartBody>,
) -> Result<Json<MfaPrompt>, Problem> {
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
pub async fn complete_mfa(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<MfaBody>,
) -> Result<Json<Tokens>, Problem> {
    let proof = match (body.code, body.assertion) {
        (Some(code), None) => Some(pb::complete_mfa_request::Proof::Code(code)),
        (None, Some(assertion)) => Some(pb::complete_mfa_request::Proof::AssertionJson(assertion.to_string())),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(Problem::validation(vec![FieldError {
                field: "code".into(),
                message: "send either code or assertion, not both".into(),
            }]));
        }
    };
    let tokens = state
        .identity()
        .complete_mfa(pb::CompleteMfaRequest {
            challenge_id: body.challenge_id,
            method_id: body.method_id,
            proof,
            client: Some(client),
        })
        .await?
        .into_inner();
    Ok(Json(tokens.into()))
}

/// Step-up: the password again, then (when the person has one) a second factor through
/// `POST /auth/mfa`. The answer's tokens carry a fresh `auth_time`.
pub async fn reauthenticate(
    State(state): State<AppState>,
    bearer: Bearer,
    Client(client): Client,
    ApiJson(body): ApiJson<ReauthenticateBody>,
) -> Result<Json<SignInAnswer>, Problem> {
    let response = state
        .identity()
        .reauthenticate(bearer.request(pb::ReauthenticateRequest {
            password: body.password,
            client: Some(client),
        })?)
        .await?
        .into_inner();
    answer(response)
}

pub async fn refresh(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Json<Tokens>, Problem> {
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

pub async fn sign_out(State(state): State<AppState>, bearer: Bearer) -> Result<StatusCode, Problem> {
    state
        .identity()
        .sign_out(bearer.request(pb::SignOutRequest {})?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
