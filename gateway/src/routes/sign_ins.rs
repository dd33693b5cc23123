//! `/api/v1/me/sign-ins` and `/api/v1/me/activity`: the person's sign-in log, its details, the
//! "this was me" / "this wasn't me" review, and the account activity log.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use myaccount_proto::audit::v1 as audit;
use myaccount_proto::events::v1::{SignInFailureReason, SignInStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::extract::{ApiJson, ApiPath, ApiQuery, Bearer};
use crate::json::{List, rfc3339};
use crate::problem::{FieldError, Problem};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub city: String,
    pub region: String,
    pub country: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
/// The device a sign-in came from (not a registered device: see `Device`).
pub struct SignInDevice {
    pub id: String,
    pub operating_system: String,
    pub browser: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationStep {
    pub method: String,
    pub succeeded: bool,
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Risk {
    pub level: String,
    pub reasons: Vec<String>,
}

/// A sign-in as the person sees it, modelled on the Microsoft Graph signIn resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    pub id: String,
    pub time: Option<String>,
    pub user_principal_name: String,
    pub app_id: String,
    pub client_app: String,
    pub interactive: bool,
    pub ip_address: String,
    pub location: Option<Location>,
    pub device: SignInDevice,
    pub user_agent: String,
    pub device_id: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<&'static str>,
    pub authentication_requirement: String,
    pub authentication_methods: Vec<String>,
    pub authentication_steps: Vec<AuthenticationStep>,
    pub session_id: String,
    pub correlation_id: String,
    pub risk: Risk,
    pub review_state: String,
    /// When the person said whether it was them; null while unreviewed.
    pub reviewed_at: Option<String>,
}

/// The stable code and a sentence a person understands, from the shared vocabulary.
fn failure(reason: i32) -> Option<(&'static str, &'static str)> {
    match SignInFailureReason::try_from(reason) {
        Ok(SignInFailureReason::Unspecified) | Err(_) => None,
        Ok(reason) => Some((reason.code(), reason.description())),
    }
}

impl From<audit::SignIn> for SignIn {
    fn from(s: audit::SignIn) -> Self {
        let status = match SignInStatus::try_from(s.status) {
            Ok(SignInStatus::Success) => "success",
            _ => "failure",
        };
        let reason = failure(s.failure_reason);
        let device = s.device.unwrap_or_default();
        Self {
            time: rfc3339(s.time.as_ref()),
            id: s.id,
            user_principal_name: s.user_principal_name,
            app_id: s.app_id,
            client_app: s.client_app,
            interactive: s.interactive,
            ip_address: s.ip_address,
            location: s
                .location
                .filter(|l| !l.country.is_empty() || !l.city.is_empty())
                .map(|l| Location {
                    city: l.city,
                    region: l.region,
                    country: l.country,
                }),
            device: SignInDevice {
                id: device.id,
                operating_system: device.operating_system,
                browser: device.browser,
            },
            user_agent: s.user_agent,
            device_id: s.device_id,
            status,
            failure_reason: reason.map(|r| r.0),
            failure_message: reason.map(|r| r.1),
            authentication_requirement: s.authentication_requirement,
            authentication_methods: s.authentication_methods,
            authentication_steps: s
                .authentication_steps
                .into_iter()
                .map(|st| AuthenticationStep {
                    method: st.method,
                    succeeded: st.succeeded,
                    detail: st.detail,
                })
                .collect(),
            session_id: s.session_id,
            correlation_id: s.correlation_id,
            risk: Risk {
                level: s.risk_level,
                reasons: s.risk_reasons,
            },
            review_state: s.review_state,
            reviewed_at: rfc3339(s.reviewed_at.as_ref()),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SignInsQuery {
    pub page_size: Option<i32>,
    pub page_token: Option<String>,
    /// `success` or `failure`.
    pub status: Option<String>,
    /// RFC 3339; inclusive.
    pub from: Option<String>,
    /// RFC 3339; exclusive.
    pub to: Option<String>,
    pub app_id: Option<String>,
    /// Only sign-ins flagged as risky.
    pub risky: Option<bool>,
}

fn timestamp(field: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<prost_types::Timestamp> {
    let raw = raw.filter(|r| !r.is_empty())?;
    match DateTime::parse_from_rfc3339(raw) {
        Ok(t) => {
            let t = t.with_timezone(&Utc);
            Some(prost_types::Timestamp {
                seconds: t.timestamp(),
                nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
            })
        }
        Err(_) => {
            errors.push(FieldError {
                field: field.into(),
                message: "must be an RFC 3339 time such as 2026-11-25T08:00:00Z".into(),
                code: String::new(),
            });
            None
        }
    }
}

#[utoipa::path(
    get,
    path = "/me/sign-ins",
    tag = "sign-ins",
    params(SignInsQuery),
    responses((status = 200, description = "My sign-ins, newest first, a page at a time (`nextPageToken` while there are more)", body = List<SignIn>))
)]
pub async fn list(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiQuery(query): ApiQuery<SignInsQuery>,
) -> Result<Json<List<SignIn>>, Problem> {
    let mut errors = Vec::new();
    let status = match query.status.as_deref() {
        None | Some("") => SignInStatus::Unspecified,
        Some("success") => SignInStatus::Success,
        Some("failure") => SignInStatus::Failure,
        Some(_) => {
            errors.push(FieldError {
                field: "status".into(),
                message: "must be success or failure".into(),
                code: String::new(),
            });
            SignInStatus::Unspecified
        }
    };
    let filter = audit::SignInFilter {
        status: status.into(),
        from_time: timestamp("from", query.from.as_deref(), &mut errors),
        to_time: timestamp("to", query.to.as_deref(), &mut errors),
        app_id: query.app_id.unwrap_or_default(),
        risky_only: query.risky.unwrap_or(false),
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let page = state
        .audit()
        .list_my_sign_ins(bearer.request(audit::ListMySignInsRequest {
            page_size: query.page_size.unwrap_or(0),
            page_token: query.page_token.unwrap_or_default(),
            filter: Some(filter),
            ..Default::default()
        })?)
        .await?
        .into_inner();
    Ok(Json(List {
        items: page.sign_ins.into_iter().map(SignIn::from).collect(),
        next_page_token: Some(page.next_page_token).filter(|t| !t.is_empty()),
    }))
}

#[utoipa::path(
    get,
    path = "/me/sign-ins/{id}",
    tag = "sign-ins",
    params(("id" = String, Path, description = "the sign-in id")),
    responses(
        (status = 200, description = "One sign-in in detail", body = SignIn),
        (status = 404, description = "`not-found`: no such sign-in of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SignIn>, Problem> {
    let sign_in = state
        .audit()
        .get_my_sign_in(bearer.request(audit::GetMySignInRequest { id })?)
        .await?
        .into_inner();
    Ok(Json(sign_in.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// `me` or `not_me`.
    pub verdict: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub sign_in: Option<SignIn>,
    pub message: String,
    pub next_steps: Vec<String>,
}

#[utoipa::path(
    post,
    path = "/me/sign-ins/{id}/review",
    tag = "sign-ins",
    params(("id" = String, Path, description = "the sign-in id")),
    request_body = ReviewBody,
    responses(
        (status = 200, description = "What happened and what to do next; `not_me` signs me out everywhere and requires a new password", body = Review),
        (status = 404, description = "`not-found`: no such sign-in of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn review(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<Json<Review>, Problem> {
    let verdict = match body.verdict.as_str() {
        "me" => audit::ReviewVerdict::Me,
        "not_me" => audit::ReviewVerdict::NotMe,
        _ => {
            return Err(Problem::validation(vec![FieldError {
                field: "verdict".into(),
                message: "must be \"me\" or \"not_me\"".into(),
                code: String::new(),
            }]));
        }
    };
    let answer = state
        .audit()
        .review_my_sign_in(bearer.request(audit::ReviewMySignInRequest {
            id,
            verdict: verdict.into(),
        })?)
        .await?
        .into_inner();
    Ok(Json(Review {
        sign_in: answer.sign_in.map(SignIn::from),
        message: answer.message,
        next_steps: answer.next_steps,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ActivityQuery {
    pub page_size: Option<i32>,
    pub page_token: Option<String>,
    pub category: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    pub id: String,
    pub time: Option<String>,
    pub category: String,
    pub activity: String,
    pub summary: String,
    pub details: std::collections::BTreeMap<String, String>,
}

impl From<audit::Activity> for Activity {
    fn from(a: audit::Activity) -> Self {
        Self {
            time: rfc3339(a.time.as_ref()),
            id: a.id,
            category: a.category,
            activity: a.activity,
            summary: a.summary,
            details: a.details.into_iter().collect(),
        }
    }
}

#[utoipa::path(
    get,
    path = "/me/activity",
    tag = "sign-ins",
    params(ActivityQuery),
    responses((status = 200, description = "Changes to my account, newest first, a page at a time", body = List<Activity>))
)]
pub async fn activity(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiQuery(query): ApiQuery<ActivityQuery>,
) -> Result<Json<List<Activity>>, Problem> {
    let page = state
        .audit()
        .list_my_activity(bearer.request(audit::ListMyActivityRequest {
            page_size: query.page_size.unwrap_or(0),
            page_token: query.page_token.unwrap_or_default(),
            category: query.category.unwrap_or_default(),
        })?)
        .await?
        .into_inner();
    Ok(Json(List {
        items: page.activities.into_iter().map(Activity::from).collect(),
        next_page_token: Some(page.next_page_token).filter(|t| !t.is_empty()),
    }))
}
