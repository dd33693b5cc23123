//! The JSON shapes of the API (lowerCamelCase, RFC 3339 UTC timestamps, string ids) and their
//! conversion from the services' messages.

use chrono::{DateTime, SecondsFormat, Utc};
use myaccount_proto::audit::v1 as audit;
use myaccount_proto::events::v1::{SignInFailureReason, SignInStatus};
use myaccount_proto::identity::v1 as identity;
use serde::{Deserialize, Serialize};

pub fn rfc3339(t: Option<&prost_types::Timestamp>) -> Option<String> {
    let t = t?;
    DateTime::<Utc>::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Millis, true))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub token_type: String,
}

impl From<identity::TokenSet> for Tokens {
    fn from(t: identity::TokenSet) -> Self {
        Self {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            expires_in: t.expires_in,
            token_type: t.token_type,
        }
    }
}

/// Profile fields a person may edit, in JSON casing, with their proto field names.
pub const EDITABLE_PROFILE_FIELDS: [(&str, &str); 7] = [
    ("displayName", "display_name"),
    ("givenName", "given_name"),
    ("surname", "surname"),
    ("officeLocation", "office_location"),
    ("mobilePhone", "mobile_phone"),
    ("businessPhone", "business_phone"),
    ("preferredLanguage", "preferred_language"),
];

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: String,
    pub given_name: String,
    pub surname: String,
    pub job_title: String,
    pub department: String,
    pub office_location: String,
    pub mobile_phone: String,
    pub business_phone: String,
    pub mail: String,
    pub preferred_language: String,
    pub home_organization_id: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// Which of these fields the person may change (the rest belong to the organization).
    pub editable_fields: Vec<&'static str>,
}

impl From<identity::Profile> for Profile {
    fn from(p: identity::Profile) -> Self {
        Self {
            created_at: rfc3339(p.created_at.as_ref()),
            updated_at: rfc3339(p.updated_at.as_ref()),
            id: p.id,
            user_principal_name: p.user_principal_name,
            display_name: p.display_name,
            given_name: p.given_name,
            surname: p.surname,
            job_title: p.job_title,
            department: p.department,
            office_location: p.office_location,
            mobile_phone: p.mobile_phone,
            business_phone: p.business_phone,
            mail: p.mail,
            preferred_language: p.preferred_language,
            home_organization_id: p.home_organization_id,
            editable_fields: EDITABLE_PROFILE_FIELDS.iter().map(|(json, _)| *json).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    pub id: String,
    pub time: Option<String>,
    pub user_principal_name: String,
    pub app_id: String,
    pub ip_address: String,
    pub user_agent: String,
    pub device_id: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<&'static str>,
    pub authentication_methods: Vec<String>,
    pub session_id: String,
    pub correlation_id: String,
}

impl From<audit::SignIn> for SignIn {
    fn from(s: audit::SignIn) -> Self {
        let status = match SignInStatus::try_from(s.status) {
            Ok(SignInStatus::Success) => "success",
            _ => "failure",
        };
        let reason = match SignInFailureReason::try_from(s.failure_reason) {
            Ok(SignInFailureReason::UnknownUser) => Some(("unknown_user", "No account has this user name.")),
            Ok(SignInFailureReason::InvalidPassword) => Some(("invalid_password", "The password was wrong.")),
            Ok(SignInFailureReason::AccountDisabled) => Some(("account_disabled", "The account is disabled.")),
            Ok(SignInFailureReason::Throttled) => {
                Some(("throttled", "Blocked for a while after too many failed attempts."))
            }
            _ => None,
        };
        Self {
            time: rfc3339(s.time.as_ref()),
            id: s.id,
            user_principal_name: s.user_principal_name,
            app_id: s.app_id,
            ip_address: s.ip_address,
            user_agent: s.user_agent,
            device_id: s.device_id,
            status,
            failure_reason: reason.map(|r| r.0),
            failure_message: reason.map(|r| r.1),
            authentication_methods: s.authentication_methods,
            session_id: s.session_id,
            correlation_id: s.correlation_id,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct List<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SignInsQuery {
    pub page_size: Option<i32>,
    pub page_token: Option<String>,
    pub status: Option<String>,
}

/// One section of the overview: its data, or a marker that its service did not answer.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Section<T> {
    Available(T),
    Unavailable { status: &'static str },
}

impl<T> Section<T> {
    pub fn unavailable() -> Self {
        Section::Unavailable { status: "unavailable" }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    pub profile: Section<Profile>,
    pub recent_sign_ins: Section<List<SignIn>>,
}
