//! `/api/v1/auth/*`: sign-in, refresh, sign-out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use myaccount_proto::identity::v1 as pb;

use crate::AppState;
use crate::extract::{ApiJson, Bearer, Client};
use crate::json::{RefreshBody, SignInBody, Tokens};
use crate::problem::Problem;

pub async fn sign_in(State(state): State<AppState>, Client(client): Client, ApiJson(body): ApiJson<SignInBody>) -> Result<Json<Tokens>, Problem> {
    let response = state
        .identity()
        .sign_in(pb::SignInRequest {
            username: body.username,
            password: body.password,
            client: Some(client),
        })
        .await?
        .into_inner();
    match response.result {
        Some(pb::sign_in_response::Result::Tokens(tokens)) => Ok(Json(tokens.into())),
        None => Err(Problem::from_status(&tonic::Status::internal("sign-in gave no result"))),
    }
}

pub async fn refresh(State(state): State<AppState>, Client(client): Client, ApiJson(body): ApiJson<RefreshBody>) -> Result<Json<Tokens>, Problem> {
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
    state.identity().sign_out(bearer.request(pb::SignOutRequest {})?).await?;
    Ok(StatusCode::NO_CONTENT)
}
