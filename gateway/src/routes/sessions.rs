//! `/api/v1/me/sessions*` and `/api/v1/me/password`: my sessions, ending one, all others
//! ("sign out everywhere else") or all ("sign out everywhere"), and changing my password with
//! the offer to end the other sessions.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use myaccount_proto::identity::v1 as pb;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{ApiJson, ApiPath, ApiQuery, Bearer};
use crate::json::{ChangePasswordBody, List, PasswordChanged, RevokedSessions, Session};
use crate::problem::Problem;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_my_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(revoke_other_sessions))
        .routes(routes!(sign_out_everywhere))
        .routes(routes!(change_password))
}

/// A page of the sessions list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SessionsQuery {
    /// Sessions on one page: 50 when absent, at most 100.
    pub page_size: Option<i32>,
    /// `nextPageToken` of the previous page.
    pub page_token: Option<String>,
}

/// Most recently used first, a page at a time; `current` marks the session of this request.
#[utoipa::path(
    get,
    path = "/me/sessions",
    tag = "sessions",
    params(SessionsQuery),
    responses((status = 200, description = "My sessions, most recently used first, a page at a time (`nextPageToken` while there are more); `current` marks this one", body = List<Session>))
)]
pub async fn list_my_sessions(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiQuery(query): ApiQuery<SessionsQuery>,
) -> Result<Json<List<Session>>, Problem> {
    let page = state
        .identity()
        .list_my_sessions(bearer.request(pb::ListMySessionsRequest {
            page_size: query.page_size.unwrap_or(0),
            page_token: query.page_token.unwrap_or_default(),
        })?)
        .await?
        .into_inner();
    Ok(Json(List {
        items: page.sessions.into_iter().map(Session::from).collect(),
        next_page_token: Some(page.next_page_token).filter(|t| !t.is_empty()),
    }))
}

#[utoipa::path(
    delete,
    path = "/me/sessions/{id}",
    tag = "sessions",
    params(("id" = String, Path, description = "the session id")),
    responses((status = 204, description = "The session has ended"), (status = 404, description = "`not-found`: no such session of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"))
)]
pub async fn revoke_session(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, Problem> {
    state
        .identity()
        .revoke_my_session(bearer.request(pb::RevokeMySessionRequest { session_id: id })?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// "Sign out everywhere else": this session stays.
#[utoipa::path(
    post,
    path = "/me/sessions/revoke-others",
    tag = "sessions",
    responses((status = 200, description = "Signed out everywhere else; this session stays", body = RevokedSessions))
)]
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
#[utoipa::path(
    post,
    path = "/me/sessions/revoke-all",
    tag = "sessions",
    responses((status = 200, description = "Signed out everywhere, this session too (its cookies, if any, are cleared)", body = RevokedSessions))
)]
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
#[utoipa::path(
    post,
    path = "/me/password",
    tag = "sessions",
    request_body = ChangePasswordBody,
    responses(
        (status = 200, description = "Changed; how many other sessions ended", body = PasswordChanged),
        (status = 429, description = "`too-many-requests`: too many wrong current passwords (they count towards the sign-in throttle)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
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
