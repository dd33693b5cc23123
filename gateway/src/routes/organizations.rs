//! `/api/v1/me/organizations` and `/api/v1/me/invitations`: the organizations I belong to (home
//! first), leaving a guest organization, and answering invitations.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use myaccount_proto::organizations::v1 as pb;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{ApiJson, ApiPath, Bearer};
use crate::json::{AcceptTermsBody, Invitation, List, MyOrganization};
use crate::problem::Problem;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_my_organizations))
        .routes(routes!(leave))
        .routes(routes!(accept_terms))
        .routes(routes!(list_my_invitations))
        .routes(routes!(accept))
        .routes(routes!(decline))
}

#[utoipa::path(
    get,
    path = "/me/organizations",
    tag = "organizations",
    responses((status = 200, description = "My home organization first, then guest organizations", body = List<MyOrganization>))
)]
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
#[utoipa::path(
    post,
    path = "/me/organizations/{id}/leave",
    tag = "organizations",
    params(("id" = String, Path, description = "the organization id")),
    responses((status = 204, description = "I have left the organization"), (status = 400, description = "`failed-precondition`: the home organization cannot be left", body = Problem, content_type = "application/problem+json"), (status = 403, description = "`reauthentication-required`: needs a sign-in with a second factor in the last 10 minutes (`POST /auth/reauthenticate`)", body = Problem, content_type = "application/problem+json"), (status = 404, description = "`not-found`: no such membership of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"))
)]
pub async fn leave(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, Problem> {
    state
        .organizations()
        .leave_organization(bearer.request(pb::LeaveOrganizationRequest { organization_id: id })?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accepts the current terms of use of one of my organizations, naming the version I was shown;
/// answers the organization as `GET /me/organizations` shows it. Accepting the version I already
/// accepted changes nothing.
#[utoipa::path(
    post,
    path = "/me/organizations/{id}/terms/accept",
    tag = "organizations",
    params(("id" = String, Path, description = "the organization id")),
    request_body = AcceptTermsBody,
    responses((status = 200, description = "The organization, with the version I accepted and when", body = MyOrganization), (status = 400, description = "`validation-error`: the id or version is not valid; `failed-precondition`: the version is no longer the current one (the terms changed), or the organization has no terms of use", body = Problem, content_type = "application/problem+json"), (status = 404, description = "`not-found`: no such membership of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"))
)]
pub async fn accept_terms(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AcceptTermsBody>,
) -> Result<Json<MyOrganization>, Problem> {
    let accepted = state
        .organizations()
        .accept_my_organization_terms(bearer.request(pb::AcceptMyOrganizationTermsRequest {
            organization_id: id,
            version: body.version,
        })?)
        .await?
        .into_inner();
    Ok(Json(accepted.into()))
}

#[utoipa::path(
    get,
    path = "/me/invitations",
    tag = "organizations",
    responses((status = 200, description = "Invitations waiting for my answer", body = List<Invitation>))
)]
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
#[utoipa::path(
    post,
    path = "/me/invitations/{id}/accept",
    tag = "organizations",
    params(("id" = String, Path, description = "the invitation id")),
    responses((status = 200, description = "The organization I joined", body = MyOrganization), (status = 404, description = "`not-found`: no such invitation of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"))
)]
pub async fn accept(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MyOrganization>, Problem> {
    let joined = state
        .organizations()
        .accept_invitation(bearer.request(pb::AcceptInvitationRequest { invitation_id: id })?)
        .await?
        .into_inner();
    Ok(Json(joined.into()))
}

#[utoipa::path(
    post,
    path = "/me/invitations/{id}/decline",
    tag = "organizations",
    params(("id" = String, Path, description = "the invitation id")),
    responses((status = 200, description = "The declined invitation", body = Invitation), (status = 404, description = "`not-found`: no such invitation of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"))
)]
pub async fn decline(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Invitation>, Problem> {
    let declined = state
        .organizations()
        .decline_invitation(bearer.request(pb::DeclineInvitationRequest { invitation_id: id })?)
        .await?
        .into_inner();
    Ok(Json(declined.into()))
}
