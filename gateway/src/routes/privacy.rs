//! `/api/v1/me/privacy`, `/api/v1/me/export` and `DELETE /api/v1/me`: what each organization
//! holds about me and how long, a download of everything every service keeps about me, and
//! deleting my account.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use myaccount_proto::audit::v1 as audit;
use myaccount_proto::devices::v1 as devices;
use myaccount_proto::identity::v1 as identity;
use myaccount_proto::organizations::v1 as organizations;
use myaccount_proto::privacy::v1 as privacy;
use myaccount_proto::securityinfo::v1 as security_info;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::extract::{ApiJson, Bearer};
use crate::json::{Device, Invitation, MyOrganization, Profile, RecoveryKey, SecurityMethod, Session, rfc3339};
use crate::problem::Problem;
use crate::routes::sign_ins::{Activity, SignIn};
use crate::state::AppState;

/// The version of the export document's shape; raised on any incompatible change.
pub const EXPORT_SCHEMA_VERSION: u32 = 1;

/// Each service gets this long to assemble its part of an export.
const EXPORT_DEADLINE: Duration = Duration::from_secs(30);

// --- the privacy view

/// Which service keeps which categories of my data, for one organization, as that service says.
#[derive(Debug, Serialize, Clone, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataHeld {
    pub service: &'static str,
    /// Each category with how long it is kept: "sessions (until your account is deleted)".
    pub categories: Vec<String>,
}

/// What one service answered about the data it keeps on me.
struct ServiceAnswer {
    service: &'static str,
    categories: Vec<privacy::PersonalDataCategory>,
}

impl ServiceAnswer {
    fn new(service: &'static str, categories: Vec<privacy::PersonalDataCategory>) -> Self {
        Self { service, categories }
    }
}

/// For one organization, every service that keeps something for it and what: the services'
/// own answers, in the order they were asked.
fn data_held(answers: &[ServiceAnswer], holder: privacy::DataHolder) -> Vec<DataHeld> {
    answers
        .iter()
        .map(|answer| DataHeld {
            service: answer.service,
            categories: answer
                .categories
                .iter()
                .filter(|c| c.held_for() == holder)
                .map(|c| match c.retention.as_str() {
                    "" => c.name.clone(),
                    retention => format!("{} ({retention})", c.name),
                })
                .collect(),
        })
        .filter(|held| !held.categories.is_empty())
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationDataView {
    #[serde(flatten)]
    pub organization: MyOrganization,
    pub data_held: Vec<DataHeld>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetentionView {
    /// How long my sign-ins are kept, in days (my organization's setting, or the default).
    pub sign_in_retention_days: i32,
    pub activity_retention: String,
    /// What is still kept after my account is deleted.
    pub kept_after_erasure: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelfDeletion {
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The terms of use of one of my organizations and whether I accepted them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TermsOfUseStatus {
    pub organization_id: String,
    pub organization_name: String,
    pub url: String,
    /// The current version.
    pub version: String,
    /// The version I accepted last, and when; absent when I never accepted any.
    pub accepted_version: Option<String>,
    pub accepted_at: Option<String>,
    /// Whether I accepted the current version (an earlier version does not count).
    pub accepted: bool,
}

impl TermsOfUseStatus {
    /// The terms of a membership's organization, when it has some.
    fn of(m: &organizations::MyOrganization) -> Option<Self> {
        let o = m.organization.as_ref()?;
        if o.terms_of_use_url.is_empty() || o.terms_of_use_version.is_empty() {
            return None;
        }
        Some(Self {
            organization_id: m.organization_id.clone(),
            organization_name: o.display_name.clone(),
            url: o.terms_of_use_url.clone(),
            version: o.terms_of_use_version.clone(),
            accepted_version: non_empty(m.accepted_terms_version.clone()),
            accepted_at: rfc3339(m.terms_accepted_at.as_ref()),
            accepted: m.accepted_current_terms,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivacyView {
    /// Home first, then guest organizations.
    pub organizations: Vec<OrganizationDataView>,
    /// The terms of use of my organizations that have them, in the same order.
    pub terms_of_use: Vec<TermsOfUseStatus>,
    pub retention: RetentionView,
    pub self_deletion: SelfDeletion,
}

#[utoipa::path(
    get,
    path = "/me/privacy",
    tag = "privacy",
    responses((status = 200, description = "Per organization (home first) its privacy statement, contacts and which service keeps which of my data; the terms of use of my organizations that have them and whether I accepted the current version; retention; whether I may delete my account", body = PrivacyView))
)]
pub async fn privacy(State(state): State<AppState>, bearer: Bearer) -> Result<Json<PrivacyView>, Problem> {
    let describe = || bearer.request(privacy::DescribeMyPersonalDataRequest {});
    let (identity_request, security_info_request, devices_request, organizations_request, audit_request) =
        (describe()?, describe()?, describe()?, describe()?, describe()?);
    let memberships_request = bearer.request(organizations::ListMyOrganizationsRequest {})?;
    let retention_request = bearer.request(audit::GetMyDataRetentionRequest {})?;
    let deletion_request = bearer.request(identity::GetMyAccountDeletionPolicyRequest {})?;
    let mut identity_client = state.identity();
    let mut deletion_client = state.identity();
    let mut security_info_client = state.security_info();
    let mut devices_client = state.devices();
    let mut organizations_client = state.organizations();
    let mut memberships_client = state.organizations();
    let mut audit_client = state.audit();
    let mut retention_client = state.audit();
    // Answers the services marked reusable come from memory; the memberships are always asked
    // for, so a revoked token fails the page at once.
    let (catalogue, token) = (&state.personal_data, bearer.0.as_str());
    let (identity, security_info, devices, organizations, audit, memberships, retention, deletion) = tokio::try_join!(
        catalogue.answer("identity", token, || identity_client
            .describe_my_personal_data(identity_request)),
        catalogue.answer("security-info", token, || security_info_client
            .describe_my_personal_data(security_info_request)),
        catalogue.answer("devices", token, || devices_client
            .describe_my_personal_data(devices_request)),
        catalogue.answer("organizations", token, || organizations_client
            .describe_my_personal_data(organizations_request)),
        catalogue.answer("audit", token, || audit_client.describe_my_personal_data(audit_request)),
        memberships_client.list_my_organizations(memberships_request),
        state.retention.answer("retention", token, || retention_client
            .get_my_data_retention(retention_request)),
        state
            .deletion_policy
            .answer("deletion-policy", token, || deletion_client
                .get_my_account_deletion_policy(deletion_request)),
    )?;
    let answers = [
        ServiceAnswer::new("identity", identity.categories),
        ServiceAnswer::new("security-info", security_info.categories),
        ServiceAnswer::new("devices", devices.categories),
        ServiceAnswer::new("organizations", organizations.categories),
        ServiceAnswer::new("audit", audit.categories),
    ];
    let memberships = memberships.into_inner().organizations;
    let terms_of_use = memberships.iter().filter_map(TermsOfUseStatus::of).collect();
    let organizations = memberships
        .into_iter()
        .map(|m| {
            let holder = if m.kind == organizations::MembershipKind::Home as i32 {
                privacy::DataHolder::HomeOrganization
            } else {
                privacy::DataHolder::GuestOrganization
            };
            OrganizationDataView {
                data_held: data_held(&answers, holder),
                organization: m.into(),
            }
        })
        .collect();
    Ok(Json(PrivacyView {
        organizations,
        terms_of_use,
        retention: RetentionView {
            sign_in_retention_days: retention.sign_in_retention_days,
            activity_retention: retention.activity_retention,
            kept_after_erasure: retention.kept_after_erasure,
        },
        self_deletion: SelfDeletion {
            allowed: deletion.allowed,
            reason: non_empty(deletion.reason),
        },
    }))
}

// --- the export

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportedSession {
    #[serde(flatten)]
    pub session: Option<Session>,
    pub organization_id: Option<String>,
    pub auth_time: Option<String>,
    pub ended_at: Option<String>,
    pub end_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySection {
    pub profile: Option<Profile>,
    pub password_changed_at: Option<String>,
    pub sessions: Vec<ExportedSession>,
    pub guest_organization_ids: Vec<String>,
    /// The addresses I signed in from successfully, most recent first (so that guesses from
    /// elsewhere cannot lock me out).
    pub familiar_addresses: Vec<FamiliarAddress>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FamiliarAddress {
    pub ip_address: String,
    pub last_signed_in_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingRegistration {
    pub method: Option<SecurityMethod>,
    pub expires_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub method_id: String,
    /// `one_time_code` or `security_key_challenge`.
    pub kind: &'static str,
    /// `registration` or `sign_in`.
    pub purpose: &'static str,
    pub created_at: Option<String>,
    pub expires_at: Option<String>,
    pub consumed_at: Option<String>,
    pub attempts: i32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityInfoSection {
    pub methods: Vec<SecurityMethod>,
    pub default_method_id: Option<String>,
    pub default_method_chosen_at: Option<String>,
    pub unused_recovery_codes: i32,
    pub pending_registrations: Vec<PendingRegistration>,
    pub verifications: Vec<Verification>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DevicesSection {
    pub devices: Vec<Device>,
    pub recovery_keys: Vec<RecoveryKey>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationsSection {
    pub user_principal_name: Option<String>,
    pub memberships: Vec<MyOrganization>,
    pub invitations: Vec<Invitation>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditSection {
    pub sign_ins: Vec<SignIn>,
    pub activity: Vec<Activity>,
}

/// Everything every service keeps about me, in one document.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub schema_version: u32,
    pub exported_at: String,
    pub user_id: String,
    pub identity: IdentitySection,
    pub security_info: SecurityInfoSection,
    pub devices: DevicesSection,
    pub organizations: OrganizationsSection,
    pub audit: AuditSection,
}

/// Which service failed to give its part; the whole export fails rather than leave it out.
fn section_failed(section: &'static str) -> impl FnOnce(tonic::Status) -> Problem {
    move |status| {
        let problem = Problem::from_status(&status);
        if problem.status().is_client_error() {
            return problem;
        }
        tracing::warn!(section, code = ?status.code(), "export section failed");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "export-incomplete",
            format!(
                "the {section} part of your data could not be read, so nothing was exported rather than an incomplete copy; try again shortly"
            ),
        )
    }
}

fn with_deadline<T>(mut request: tonic::Request<T>) -> tonic::Request<T> {
    request.set_timeout(EXPORT_DEADLINE);
    request
}

/// A download of everything held about me. Every service's part or none: a failing part
/// fails the export (503) instead of silently leaving data out.
#[utoipa::path(
    post,
    path = "/me/export",
    tag = "privacy",
    responses(
        (status = 200, description = "One JSON download of everything every service keeps about me (`Content-Disposition: attachment`); recorded in my activity", body = Export, headers(("Content-Disposition" = String, description = "attachment; filename=\"myaccount-export-<date>.json\""))),
        (status = 503, description = "`export-incomplete`: a part could not be read, so nothing was exported", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn export(State(state): State<AppState>, bearer: Bearer) -> Result<Response, Problem> {
    let identity_request = with_deadline(bearer.request(identity::ExportMyDataRequest {})?);
    let security_info_request = with_deadline(bearer.request(security_info::ExportMyDataRequest {})?);
    let devices_request = with_deadline(bearer.request(devices::ExportMyDataRequest {})?);
    let organizations_request = with_deadline(bearer.request(organizations::ExportMyDataRequest {})?);
    let audit_request = with_deadline(bearer.request(audit::ExportMyDataRequest {})?);
    let mut identity_client = state.identity();
    let mut security_info_client = state.security_info();
    let mut devices_client = state.devices();
    let mut organizations_client = state.organizations();
    let mut audit_client = state.audit();
    let (identity, security_info, devices, organizations, audit) = tokio::try_join!(
        async {
            identity_client
                .export_my_data(identity_request)
                .await
                .map_err(section_failed("identity"))
        },
        async {
            security_info_client
                .export_my_data(security_info_request)
                .await
                .map_err(section_failed("security info"))
        },
        async {
            devices_client
                .export_my_data(devices_request)
                .await
                .map_err(section_failed("devices"))
        },
        async {
            organizations_client
                .export_my_data(organizations_request)
                .await
                .map_err(section_failed("organizations"))
        },
        async {
            audit_client
                .export_my_data(audit_request)
                .await
                .map_err(section_failed("sign-in log"))
        },
    )?;
    let identity = identity.into_inner();
    let now = Utc::now();
    let document = Export {
        schema_version: EXPORT_SCHEMA_VERSION,
        exported_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        user_id: identity.user_id.clone(),
        identity: identity_section(identity),
        security_info: security_info_section(security_info.into_inner()),
        devices: {
            let d = devices.into_inner();
            DevicesSection {
                devices: d.devices.into_iter().map(Into::into).collect(),
                recovery_keys: d.recovery_keys.into_iter().map(Into::into).collect(),
            }
        },
        organizations: {
            let o = organizations.into_inner();
            OrganizationsSection {
                user_principal_name: Some(o.user_principal_name).filter(|u| !u.is_empty()),
                memberships: o.memberships.into_iter().map(Into::into).collect(),
                invitations: o.invitations.into_iter().map(Into::into).collect(),
            }
        },
        audit: {
            let a = audit.into_inner();
            AuditSection {
                sign_ins: a.sign_ins.into_iter().map(Into::into).collect(),
                activity: a.activities.into_iter().map(Into::into).collect(),
            }
        },
    };
    let filename = format!("myaccount-export-{}.json", now.format("%Y-%m-%d"));
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        )],
        Json(document),
    )
        .into_response())
}

fn non_empty(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

fn identity_section(e: identity::IdentityExport) -> IdentitySection {
    IdentitySection {
        profile: e.profile.map(Into::into),
        password_changed_at: rfc3339(e.password_changed_at.as_ref()),
        sessions: e
            .sessions
            .into_iter()
            .map(|s| ExportedSession {
                session: s.session.map(Into::into),
                organization_id: non_empty(s.organization_id),
                auth_time: rfc3339(s.auth_time.as_ref()),
                ended_at: rfc3339(s.ended_at.as_ref()),
                end_reason: non_empty(s.end_reason),
            })
            .collect(),
        guest_organization_ids: e.guest_organization_ids,
        familiar_addresses: e
            .familiar_addresses
            .into_iter()
            .map(|a| FamiliarAddress {
                ip_address: a.ip_address,
                last_signed_in_at: rfc3339(a.last_signed_in_at.as_ref()),
            })
            .collect(),
    }
}

fn security_info_section(e: security_info::SecurityInfoExport) -> SecurityInfoSection {
    SecurityInfoSection {
        methods: e.methods.into_iter().map(Into::into).collect(),
        default_method_id: non_empty(e.default_method_id),
        default_method_chosen_at: rfc3339(e.default_method_chosen_at.as_ref()),
        unused_recovery_codes: e.unused_recovery_codes,
        pending_registrations: e
            .pending_registrations
            .into_iter()
            .map(|p| PendingRegistration {
                method: p.method.map(Into::into),
                expires_at: rfc3339(p.expires_at.as_ref()),
            })
            .collect(),
        verifications: e
            .verifications
            .into_iter()
            .map(|v| Verification {
                kind: match security_info::VerificationKind::try_from(v.kind) {
                    Ok(security_info::VerificationKind::SecurityKeyChallenge) => "security_key_challenge",
                    _ => "one_time_code",
                },
                purpose: match security_info::VerificationPurpose::try_from(v.purpose) {
                    Ok(security_info::VerificationPurpose::SignIn) => "sign_in",
                    _ => "registration",
                },
                created_at: rfc3339(v.created_at.as_ref()),
                expires_at: rfc3339(v.expires_at.as_ref()),
                consumed_at: rfc3339(v.consumed_at.as_ref()),
                attempts: v.attempts,
                method_id: v.method_id,
            })
            .collect(),
    }
}

// --- deleting my account

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeleteAccountBody {
    /// My user name, typed again to confirm.
    pub confirm_user_principal_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedAccount {
    pub user_id: String,
    pub deleted_at: Option<String>,
}

/// Deletes my account for good, where my organization allows it (400 `failed-precondition`
/// otherwise). Needs a
/// recent (multi-factor) sign-in; every service then erases what it keeps about me.
#[utoipa::path(
    delete,
    path = "/me",
    tag = "privacy",
    request_body = DeleteAccountBody,
    responses(
        (status = 200, description = "My account is deleted; every service erases me (the session cookies, if any, are cleared)", body = DeletedAccount),
        (status = 400, description = "`failed-precondition`: my home organization does not let members delete their own account, or the name typed is not mine", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`reauthentication-required`: needs a sign-in with a second factor in the last 10 minutes (`POST /auth/reauthenticate`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_my_account(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<DeleteAccountBody>,
) -> Result<Json<DeletedAccount>, Problem> {
    let deleted = state
        .identity()
        .delete_my_account(bearer.request(identity::DeleteMyAccountRequest {
            confirm_user_principal_name: body.confirm_user_principal_name,
        })?)
        .await?
        .into_inner();
    Ok(Json(DeletedAccount {
        user_id: deleted.user_id,
        deleted_at: rfc3339(deleted.deleted_at.as_ref()),
    }))
}
