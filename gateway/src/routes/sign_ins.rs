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
use crate::i18n::Catalog;
use crate::json::{List, rfc3339};
use crate::localize::{AcceptLanguage, InLanguage};
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
    /// What happened, in the language `Accept-Language` asks for (`Content-Language` says which).
    pub message: String,
    /// What to do next, in the same language; none after `me`.
    pub next_steps: Vec<String>,
}

impl Review {
    /// The answer to `verdict`, worded in `catalog`'s language: the gateway owns these
    /// sentences (audit answers only the sign-in).
    fn worded(sign_in: Option<SignIn>, verdict: audit::ReviewVerdict, catalog: &Catalog) -> Self {
        let (message, next_steps): (&str, &[&str]) = match verdict {
            audit::ReviewVerdict::NotMe => (
                "sign-in-review-not-me",
                &[
                    "sign-in-review-step-new-password",
                    "sign-in-review-step-security-info",
                    "sign-in-review-step-devices",
                ],
            ),
            _ => ("sign-in-review-me", &[]),
        };
        Self {
            sign_in,
            message: catalog.text(message, &[]),
            next_steps: next_steps.iter().map(|id| catalog.text(id, &[])).collect(),
        }
    }
}

#[utoipa::path(
    post,
    path = "/me/sign-ins/{id}/review",
    tag = "sign-ins",
    params(("id" = String, Path, description = "the sign-in id")),
    request_body = ReviewBody,
    responses(
        (status = 200, description = "What happened and what to do next, in the language `Accept-Language` asks for (English, German or French; `Content-Language` says which); `not_me` signs me out everywhere and requires a new password", body = Review),
        (status = 404, description = "`not-found`: no such sign-in of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn review(
    State(state): State<AppState>,
    AcceptLanguage(catalog): AcceptLanguage,
    bearer: Bearer,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<InLanguage<Json<Review>>, Problem> {
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
    let review = Review::worded(answer.sign_in.map(SignIn::from), verdict, catalog);
    Ok(InLanguage(catalog, Json(review)))
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
    /// In words: in the language `Accept-Language` asks for where the gateway knows the
    /// activity, else in audit's English.
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

impl Activity {
    /// The activity with its summary in `catalog`'s language when the catalog words it; audit's
    /// English summary otherwise (and in English, audit's, which says more).
    fn worded(a: audit::Activity, catalog: &Catalog) -> Self {
        let summary = if catalog.is_fallback() {
            None
        } else {
            activity_summary(&a, catalog)
        };
        let mut activity = Self::from(a);
        if let Some(summary) = summary {
            activity.summary = summary;
        }
        activity
    }
}

/// An activity in a catalog's words, from its name, category and details (as the portal's
/// `activityText` words it); `None` when the catalog does not know it.
fn activity_summary(a: &audit::Activity, catalog: &Catalog) -> Option<String> {
    let detail = |name: &str| a.details.get(name).map(String::as_str).filter(|v| !v.is_empty());
    match (a.activity.as_str(), detail("changed_fields")) {
        ("profile_updated", Some(fields)) => {
            let fields = fields
                .split(',')
                .filter(|f| !f.is_empty())
                .map(|f| catalog.message(&format!("profile-field-{}", f.replace('_', "-")), &[]))
                .collect::<Option<Vec<_>>>()?;
            return Some(catalog.text("activity-profile-updated", &[("fields", &in_a_list(&fields, catalog))]));
        }
        ("password_changed", _) if detail("reset") == Some("true") => {
            return Some(catalog.text("activity-password-reset", &[]));
        }
        ("terms_accepted", _) => {
            let (organization, version) = (detail("organization_name")?, detail("version")?);
            let args = [("organization", organization), ("version", version)];
            return Some(catalog.text("activity-terms-accepted", &args));
        }
        _ => {}
    }
    let id = match (a.category.as_str(), a.activity.as_str()) {
        ("devices", "registered") => "activity-device-registered",
        ("devices", "renamed") => "activity-device-renamed",
        ("devices", "deleted") => "activity-device-deleted",
        ("devices", "disabled") => "activity-device-disabled",
        ("devices", "enabled") => "activity-device-enabled",
        (_, "password_changed") => "activity-password-changed",
        (_, "session_revoked") => "activity-session-revoked",
        (_, "method_added") => "activity-method-added",
        (_, "method_removed") => "activity-method-removed",
        (_, "default_changed") => "activity-default-changed",
        (_, "recovery_key_added") => "activity-recovery-key-added",
        (_, "recovery_key_viewed") => "activity-recovery-key-viewed",
        (_, "recovery_key_view_denied") => "activity-recovery-key-view-denied",
        (_, "member_joined") => "activity-member-joined",
        (_, "member_left") => "activity-member-left",
        (_, "member_removed") => "activity-member-removed",
        (_, "invitation_created") => "activity-invitation-created",
        (_, "invitation_declined") => "activity-invitation-declined",
        (_, "flagged") => "activity-flagged",
        (_, "data_exported") => "activity-data-exported",
        (_, "user_created") => "activity-account-created",
        (_, "user_disabled") => "activity-account-disabled",
        (_, "user_enabled") => "activity-account-enabled",
        _ => return None,
    };
    catalog.message(id, &[])
}

/// Items in a sentence: "a", "a und b", "a, b und c".
fn in_a_list(items: &[String], catalog: &Catalog) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [first, second] => catalog.text("list-two", &[("first", first), ("second", second)]),
        [rest @ .., last] => catalog.text("list-more", &[("rest", &rest.join(", ")), ("last", last)]),
    }
}

#[utoipa::path(
    get,
    path = "/me/activity",
    tag = "sign-ins",
    params(ActivityQuery),
    responses((status = 200, description = "Changes to my account, newest first, a page at a time; each summary in the language `Accept-Language` asks for where the gateway words that activity (`Content-Language` says which)", body = List<Activity>))
)]
pub async fn activity(
    State(state): State<AppState>,
    AcceptLanguage(catalog): AcceptLanguage,
    bearer: Bearer,
    ApiQuery(query): ApiQuery<ActivityQuery>,
) -> Result<InLanguage<Json<List<Activity>>>, Problem> {
    let page = state
        .audit()
        .list_my_activity(bearer.request(audit::ListMyActivityRequest {
            page_size: query.page_size.unwrap_or(0),
            page_token: query.page_token.unwrap_or_default(),
            category: query.category.unwrap_or_default(),
        })?)
        .await?
        .into_inner();
    let items = page
        .activities
        .into_iter()
        .map(|a| Activity::worded(a, catalog))
        .collect();
    Ok(InLanguage(
        catalog,
        Json(List {
            items,
            next_page_token: Some(page.next_page_token).filter(|t| !t.is_empty()),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::catalogs;

    fn activity(category: &str, name: &str, details: &[(&str, &str)]) -> audit::Activity {
        audit::Activity {
            id: "a1".into(),
            category: category.into(),
            activity: name.into(),
            summary: "audit's English".into(),
            details: details.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
            ..Default::default()
        }
    }

    fn summary(language: &str, a: audit::Activity) -> String {
        Activity::worded(a, catalogs().get(language)).summary
    }

    #[test]
    fn activities_are_worded_in_the_language_asked_for() {
        let fields = [("changed_fields", "preferred_language,regional_format,time_zone")];
        assert_eq!(
            summary("de", activity("profile", "profile_updated", &fields)),
            "Profil geändert: Anzeigesprache, Regionales Format und Zeitzone"
        );
        assert_eq!(
            summary(
                "fr",
                activity("profile", "profile_updated", &[("changed_fields", "surname,time_zone")])
            ),
            "Profil modifié : Nom de famille et Fuseau horaire"
        );
        assert_eq!(summary("de", activity("devices", "disabled", &[])), "Gerät deaktiviert");
        assert_eq!(
            summary("fr", activity("password", "password_changed", &[("reset", "true")])),
            "Mot de passe réinitialisé avec « Mot de passe oublié ? » ; toutes les sessions ont été fermées"
        );
        let terms = [("organization_name", "Contoso"), ("version", "3")];
        assert_eq!(
            summary("de", activity("organizations", "terms_accepted", &terms)),
            "Nutzungsbedingungen von Contoso (Version 3) akzeptiert"
        );
    }

    #[test]
    fn what_the_catalog_does_not_know_keeps_audit_s_english() {
        // An activity newer than the catalog, a profile field it has no word for, terms
        // without their details, and English itself.
        for (language, a) in [
            ("de", activity("account", "quota_raised", &[])),
            (
                "fr",
                activity("profile", "profile_updated", &[("changed_fields", "shoe_size")]),
            ),
            ("de", activity("organizations", "terms_accepted", &[("version", "3")])),
            ("en", activity("devices", "disabled", &[])),
        ] {
            assert_eq!(summary(language, a), "audit's English", "{language}");
        }
    }

    #[test]
    fn a_review_is_answered_in_the_language_asked_for() {
        let not_me = Review::worded(None, audit::ReviewVerdict::NotMe, catalogs().get("de"));
        assert_eq!(
            not_me.message,
            "Wir melden Sie überall ab. Bei Ihrer nächsten Anmeldung müssen Sie ein neues Kennwort wählen."
        );
        assert_eq!(not_me.next_steps.len(), 3);
        assert!(not_me.next_steps.iter().all(|s| !s.is_empty()));
        let me = Review::worded(None, audit::ReviewVerdict::Me, catalogs().get("fr"));
        assert_eq!(
            me.message,
            "Merci de votre confirmation. Vous n’avez rien d’autre à faire."
        );
        assert!(me.next_steps.is_empty());
        let english = Review::worded(None, audit::ReviewVerdict::Me, catalogs().get("en"));
        assert_eq!(english.message, "Thanks for confirming. Nothing else to do.");
    }
}
