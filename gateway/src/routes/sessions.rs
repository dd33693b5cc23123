//! `/api/v1/me/sessions*` and `/api/v1/me/password`: my sessions, ending one, all others
//! ("sign out everywhere else") or all ("sign out everywhere"), and changing my password with
//! the offer to end the other sessions.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use myaccount_proto::identity::v1 as pb;

use crate::AppState;
use crate::extract::{ApiJson, Bearer};
use crate::json::{ChangePasswordBody, List, PasswordChanged, RevokedSessions, Session};
use crate::problem::Problem;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/sessions", get(list_my_sessions))
        .route("/me/sessions/{id}", delete(revoke_session))
        .route("/me/sessions/revoke-others", post(revoke_other_sessions))
        .route("/me/sessions/revoke-all", post(sign_out_everywhere))
        .route("/me/password", post(change_password))
}

/// Most recently used first; `current` marks the session of this request.
pub async fn list_my_sessions(State(state): State<AppState>, bearer: Bearer) -> Result<Json<List<Session>>, Problem> {
    let sessions = state
        .identity()
        .list_my_sessions(bearer.request(pb::ListMySessionsRequest {})?)
        .await?
        .into_inner()
        .sessions;
    Ok(Json(List {
        items: sessions.into_iter().map(Session::from).collect(),
        next_page_token: None,
    }))
}

pub async fn revoke_session(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state
        .identity()
        .revoke_my_session(bearer.request(pb::RevokeMySessionRequest { session_id: id })?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// "Sign out everywhere else": this session stays.
pub async fn revoke_other_sessions(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<Json<RevokedSessions>, Problem> {
    let response = state
        .identity()
        .revoke_my_other_sessions(bearer.request(pb::RevokeMyOtherSessionsRequest {})?)
        .await?
        .into_inner();
    Ok(Json(RevokedSessions {
        revoked_count: response.revoked_count,
    }))
}

/// "Sign out everywhere": this session ends too.
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<Json<RevokedSessions>, Problem> {
    let response = state
        .identity()
        .sign_out_everywhere(bearer.request(pb::SignOutEverywhereRequest {})?)
        .await?
        .into_inner();
    Ok(Json(RevokedSessions {
        revoked_count: response.revoked_count,
    }))
}

/// Needs the current password; `endOtherSessions` signs every other session out.
pub async fn change_password(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> Result<Json<PasswordChanged>, Problem> {
    let response = state
        .identity()
        .change_my_password(bearer.request(pb::ChangeMyPasswordRequest {
            current_password: body.current_password,
            new_password: body.new_password,
            end_other_sessions: body.end_other_sessions,
        })?)
        .await?
        .into_inner();
    Ok(Json(PasswordChanged {
        other_sessions_ended: response.other_sessions_ended,
    }))
}
