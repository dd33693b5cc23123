//! `/api/v1/me/organizations` and `/api/v1/me/invitations`: the organizations I belong to (home
//! first), leaving a guest organization, and answering invitations.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use myaccount_proto::organizations::v1 as pb;

use crate::AppState;
use crate::extract::Bearer;
use crate::json::{Invitation, List, MyOrganization};
use crate::problem::Problem;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/organizations", get(list_my_organizations))
        .route("/me/organizations/{id}/leave", post(leave))
        .route("/me/invitations", get(list_my_invitations))
        .route("/me/invitations/{id}/accept", post(accept))
        .route("/me/invitations/{id}/decline", post(decline))
}

pub async fn list_my_organizations(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<Json<List<MyOrganization>>, Problem> {
    let response = state
        .organizations()
        .list_my_organizations(bearer.request(pb::ListMyOrganizationsRequest {})?)
        .await?
        .into_inner();
    Ok(Json(List {
        items: response.organizations.into_iter().map(MyOrganization::from).collect(),
        next_page_token: None,
    }))
}

/// Leaves a guest organization for good. Needs a recent multi-factor sign-in (403
/// `reauthentication-required` otherwise); the home organization cannot be left.
pub async fn leave(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state
        .organizations()
        .leave_organization(bearer.request(pb::LeaveOrganizationRequest { organization_id: id })?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_my_invitations(
    State(state): State<AppState>,
    bearer: Bearer,
) -> Result<Json<List<Invitation>>, Problem> {
    let response = state
        .organizations()
        .list_my_invitations(bearer.request(pb::ListMyInvitationsRequest {})?)
        .await?
        .into_inner();
    Ok(Json(List {
        items: response.invitations.into_iter().map(Invitation::from).collect(),
        next_page_token: None,
    }))
}

/// Accepts an invitation addressed to me; answers the organization I joined.
pub async fn accept(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<MyOrganization>, Problem> {
    let joined = state
        .organizations()
        .accept_invitation(bearer.request(pb::AcceptInvitationRequest { invitation_id: id })?)
        .await?
        .into_inner();
    Ok(Json(joined.into()))
}

pub async fn decline(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<Invitation>, Problem> {
    let declined = state
        .organizations()
        .decline_invitation(bearer.request(pb::DeclineInvitationRequest { invitation_id: id })?)
        .await?
        .into_inner();
    Ok(Json(declined.into()))
}
