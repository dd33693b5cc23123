//! `/api/v1/me*`: the signed-in person's own account.

use std::future::Future;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use myaccount_proto::audit::v1 as audit;
use myaccount_proto::devices::v1 as devices;
use myaccount_proto::identity::v1 as identity;
use myaccount_proto::organizations::v1 as organizations;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::extract::{ApiJson, Bearer};
use crate::json::{DevicesOverview, List, OrganizationsOverview, Profile, Section, SecurityInfoSummary};
use crate::problem::{FieldError, Problem};
use crate::routes::sign_ins::SignIn;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    pub profile: Section<Profile>,
    pub recent_sign_ins: Section<List<SignIn>>,
    /// My home organization and how many guest organizations and pending invitations I have.
    pub organizations: Section<OrganizationsOverview>,
    /// How many devices I have and when the newest activity on any of them was.
    pub devices: Section<DevicesOverview>,
    /// How many sign-in methods I have, the default one, and whether MFA is registered.
    pub security_info: Section<SecurityInfoSummary>,
}

/// Sign-ins shown on the overview.
const RECENT_SIGN_INS: i32 = 5;

/// The overview: every section fetched concurrently, each within its own deadline. A section
/// whose service fails or is slow is marked unavailable; the rest still answers 200. An
/// invalid token is the exception: that is the caller's problem, not a section's.
#[utoipa::path(
    get,
    path = "/me",
    tag = "me",
    responses((status = 200, description = "The overview; each section is its data or `{\"status\": \"unavailable\"}` when its service did not answer within the section deadline", body = Overview))
)]
pub async fn overview(State(state): State<AppState>, bearer: Bearer) -> Result<Json<Overview>, Problem> {
    let deadline = state.settings.section_deadline;
    let mut profile_request = bearer.request(identity::GetMyProfileRequest {})?;
    profile_request.set_timeout(deadline);
    let mut sign_ins_request = bearer.request(audit::ListMySignInsRequest {
        page_size: RECENT_SIGN_INS,
        ..Default::default()
    })?;
    sign_ins_request.set_timeout(deadline);
    let mut organizations_request = bearer.request(organizations::ListMyOrganizationsRequest {})?;
    organizations_request.set_timeout(deadline);
    let mut devices_request = bearer.request(devices::ListMyDevicesRequest {})?;
    devices_request.set_timeout(deadline);
    let mut security_info_request = bearer.request(myaccount_proto::securityinfo::v1::GetMySecurityInfoRequest {})?;
    security_info_request.set_timeout(deadline);

    let mut identity_client = state.identity();
    let mut audit_client = state.audit();
    let mut organizations_client = state.organizations();
    let mut devices_client = state.devices();
    let mut security_info_client = state.security_info();
    let (profile, sign_ins, organizations, devices, security_info) = tokio::join!(
        section(deadline, async move {
            identity_client.get_my_profile(profile_request).await
        }),
        section(deadline, async move {
            audit_client.list_my_sign_ins(sign_ins_request).await
        }),
        section(deadline, async move {
            organizations_client.list_my_organizations(organizations_request).await
        }),
        section(deadline, async move {
            devices_client.list_my_devices(devices_request).await
        }),
        section(deadline, async move {
            security_info_client.get_my_security_info(security_info_request).await
        }),
    );
    Ok(Json(Overview {
        profile: profile?
            .map(|p| Section::Available(p.into()))
            .unwrap_or_else(Section::unavailable),
        recent_sign_ins: sign_ins?
            .map(|l| {
                Section::Available(List {
                    items: l.sign_ins.into_iter().map(SignIn::from).collect(),
                    next_page_token: None,
                })
            })
            .unwrap_or_else(Section::unavailable),
        organizations: organizations?
            .map(|o| Section::Available(o.into()))
            .unwrap_or_else(Section::unavailable),
        devices: devices?
            .map(|d| Section::Available(d.into()))
            .unwrap_or_else(Section::unavailable),
        security_info: security_info?
            .map(|s| Section::Available(s.into()))
            .unwrap_or_else(Section::unavailable),
    }))
}

/// Runs one section's call: `Ok(None)` when it is unavailable, `Err` only when the caller is
/// not authenticated (every section would say the same).
async fn section<T>(
    deadline: Duration,
    call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<Option<T>, Problem> {
    match tokio::time::timeout(deadline, call).await {
        Ok(Ok(response)) => Ok(Some(response.into_inner())),
        Ok(Err(status)) if status.code() == tonic::Code::Unauthenticated => Err(status.into()),
        Ok(Err(status)) => {
            tracing::warn!(code = ?status.code(), message = %status.message(), "overview section unavailable");
            Ok(None)
        }
        Err(_) => {
            tracing::warn!(?deadline, "overview section timed out");
            Ok(None)
        }
    }
}

/// The body of `PATCH /me/profile`, for the OpenAPI document only: the handler reads a map, to
/// tell an absent field from a null one and to name every field it refuses.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ProfilePatch {
    display_name: Option<String>,
    given_name: Option<String>,
    surname: Option<String>,
    office_location: Option<String>,
    mobile_phone: Option<String>,
    business_phone: Option<String>,
    preferred_language: Option<String>,
    regional_format: Option<String>,
    time_zone: Option<String>,
}

#[utoipa::path(
    get,
    path = "/me/profile",
    tag = "me",
    responses((status = 200, description = "My profile, with the fields I may change in `editableFields`", body = Profile))
)]
pub async fn get_profile(State(state): State<AppState>, bearer: Bearer) -> Result<Json<Profile>, Problem> {
    let profile = state
        .identity()
        .get_my_profile(bearer.request(identity::GetMyProfileRequest {})?)
        .await?
        .into_inner();
    Ok(Json(profile.into()))
}

/// The fields of identity's `ProfileChanges` by their JSON name, and where each value goes: the
/// shape of the contract, not a rule. Which of them the person may change is identity's to say
/// (the profile's `editableFields`); identity refuses the others by name.
type SetChange = fn(&mut identity::ProfileChanges, String);
const PROFILE_CHANGES: [(&str, &str, SetChange); 9] = [
    ("displayName", "display_name", |c, v| c.display_name = v),
    ("givenName", "given_name", |c, v| c.given_name = v),
    ("surname", "surname", |c, v| c.surname = v),
    ("officeLocation", "office_location", |c, v| c.office_location = v),
    ("mobilePhone", "mobile_phone", |c, v| c.mobile_phone = v),
    ("businessPhone", "business_phone", |c, v| c.business_phone = v),
    ("preferredLanguage", "preferred_language", |c, v| {
        c.preferred_language = v
    }),
    ("regionalFormat", "regional_format", |c, v| c.regional_format = v),
    ("timeZone", "time_zone", |c, v| c.time_zone = v),
];

/// JSON merge-patch style: the fields present are changed, the others are left alone. Fields
/// that do not exist or that the person may not edit are refused by name.
#[utoipa::path(
    patch,
    path = "/me/profile",
    tag = "me",
    request_body(content = ProfilePatch, description = "Merge-patch style: the editable fields to change, each a string or null to clear it; any other field is refused by name"),
    responses((status = 200, description = "The changed profile", body = Profile))
)]
pub async fn patch_profile(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<Profile>, Problem> {
    let mut changes = identity::ProfileChanges::default();
    let mut paths = Vec::new();
    let mut errors = Vec::new();
    for (key, value) in &body {
        let Some((_, field, set)) = PROFILE_CHANGES.iter().find(|(json, _, _)| json == key) else {
            errors.push(FieldError {
                field: key.clone(),
                message: "not a field you can change; the profile's editableFields names those you can".into(),
                code: "NOT_EDITABLE".into(),
            });
            continue;
        };
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            _ => {
                errors.push(FieldError {
                    field: key.clone(),
                    message: "must be a string (or null to clear it)".into(),
                    code: "NOT_A_STRING".into(),
                });
                continue;
            }
        };
        set(&mut changes, text);
        paths.push((*field).to_owned());
    }
    if body.is_empty() {
        return Err(Problem::bad_request("send at least one field to change"));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let profile = state
        .identity()
        .update_my_profile(bearer.request(identity::UpdateMyProfileRequest {
            profile: Some(changes),
            update_mask: Some(prost_types::FieldMask { paths }),
        })?)
        .await?
        .into_inner();
    Ok(Json(profile.into()))
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;
    use utoipa::openapi::{RefOr, Schema};

    use super::*;

    #[test]
    fn the_documented_patch_names_exactly_the_fields_of_a_profile_change() {
        let RefOr::T(Schema::Object(schema)) = ProfilePatch::schema() else {
            panic!("an object schema");
        };
        let documented: Vec<&str> = schema.properties.keys().map(String::as_str).collect();
        let changeable: Vec<&str> = PROFILE_CHANGES.iter().map(|(json, _, _)| *json).collect();
        assert_eq!(documented, changeable);
    }
}
