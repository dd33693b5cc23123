//! The gRPC edge of audit: proto <-> domain conversion and error -> Status, nothing else.

use chrono::{DateTime, Utc};
use myaccount_proto::audit::v1 as pb;
use myaccount_proto::audit::v1::audit_service_server::AuditService;
use myaccount_proto::events::v1::{SignInFailureReason, SignInStatus};
use platform::auth::Caller;
use platform::error::{FieldViolation, Violations, to_status, violation_reason};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::{
    ACTIVITY_RETENTION, Activity, DataRetention, KEPT_AFTER_ERASURE, PageRequest, PersonalData, SignIn, SignInFilter,
    SignInQuery, Verdict,
};
use crate::service::{Audit, AuditError};
use crate::store::Scope;
use myaccount_proto::timestamp;

fn status(e: AuditError) -> Status {
    to_status(e)
}

pub struct AuditApi {
    audit: Audit,
    /// How recent an admin's multi-factor sign-in must be.
    step_up_max_age: std::time::Duration,
}

impl AuditApi {
    pub fn new(audit: Audit, step_up_max_age: std::time::Duration) -> Self {
        Self { audit, step_up_max_age }
    }
}

fn sign_in(s: SignIn) -> pb::SignIn {
    pb::SignIn {
        id: s.id.to_string(),
        time: Some(timestamp(s.occurred_at)),
        user_principal_name: s.user_principal_name.clone(),
        app_id: s.app_id.clone(),
        ip_address: s.ip_address.clone(),
        user_agent: s.user_agent.clone(),
        device_id: s.device_id.clone(),
        status: match s.status {
            crate::domain::Status::Success => SignInStatus::Success,
            crate::domain::Status::Failure => SignInStatus::Failure,
        }
        .into(),
        failure_reason: s.failure_reason.unwrap_or(SignInFailureReason::Unspecified).into(),
        authentication_methods: s.authentication_methods.clone(),
        session_id: s.session_id.clone(),
        correlation_id: s.correlation_id.clone(),
        user_id: s.user_id.map(|u| u.to_string()).unwrap_or_default(),
        client_app: s.client_app.as_str().into(),
        interactive: s.interactive,
        location: Some(pb::Location {
            city: s.location.city.clone(),
            region: s.location.region.clone(),
            country: s.location.country.clone(),
        }),
        device: Some(pb::Device {
            id: s.device_id.clone(),
            operating_system: s.operating_system.clone(),
            browser: s.browser.clone(),
        }),
        authentication_requirement: s.authentication_requirement().into(),
        authentication_steps: s
            .authentication_steps
            .iter()
            .map(|step| pb::AuthenticationStep {
                method: step.method.clone(),
                succeeded: step.succeeded,
                detail: step.detail.clone(),
            })
            .collect(),
        risk_level: s.risk.level().as_str().into(),
        risk_reasons: s.risk.reasons.iter().map(|r| r.code().to_owned()).collect(),
        review_state: s.review_state.as_str().into(),
        reviewed_at: s.reviewed_at.map(timestamp),
        organization_id: s.organization_id,
    }
}

fn activity(a: Activity) -> pb::Activity {
    pb::Activity {
        id: a.id.to_string(),
        time: Some(timestamp(a.occurred_at)),
        category: a.category,
        activity: a.activity,
        summary: a.summary,
        details: a.details.into_iter().collect(),
    }
}

fn export(d: PersonalData) -> pb::AuditExport {
    pb::AuditExport {
        user_id: d.user_id.to_string(),
        sign_ins: d.sign_ins.into_iter().map(sign_in).collect(),
        activities: d.activities.into_iter().map(activity).collect(),
        exported_at: Some(timestamp(d.exported_at)),
    }
}

fn retention(r: DataRetention) -> pb::DataRetention {
    pb::DataRetention {
        sign_in_retention_days: r.sign_in_retention_days,
        organization_id: r.organization_id.unwrap_or_default(),
        activity_retention: ACTIVITY_RETENTION.into(),
        kept_after_erasure: KEPT_AFTER_ERASURE.into(),
    }
}

fn time(t: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    let t = t?;
    DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
}

/// Reads the filter, with the older top-level `status` field as a fallback.
fn filter(legacy_status: i32, filter: Option<pb::SignInFilter>, v: &mut Violations) -> SignInFilter {
    let filter = filter.unwrap_or_default();
    let (raw_status, status_field) = if filter.status != 0 {
        (filter.status, "filter.status")
    } else {
        (legacy_status, "status")
    };
    let status = match SignInStatus::try_from(raw_status) {
        Ok(SignInStatus::Unspecified) => None,
        Ok(SignInStatus::Success) => Some(crate::domain::Status::Success),
        Ok(SignInStatus::Failure) => Some(crate::domain::Status::Failure),
        Err(_) => {
            v.add_with_reason(
                status_field,
                violation_reason::UNKNOWN_VALUE,
                "must be SUCCESS, FAILURE or unspecified",
            );
            None
        }
    };
    SignInFilter {
        status,
        from: time(filter.from_time.as_ref()),
        to: time(filter.to_time.as_ref()),
        app_id: Some(filter.app_id).filter(|a| !a.is_empty()),
        risky_only: filter.risky_only,
    }
}

fn query(
    page_size: i32,
    page_token: &str,
    legacy_status: i32,
    f: Option<pb::SignInFilter>,
) -> Result<SignInQuery, Status> {
    let mut v = Violations::new();
    let filter = filter(legacy_status, f, &mut v);
    let query = SignInQuery::parse(page_size, page_token, filter);
    match (v.into_result(), query) {
        (Ok(()), Ok(q)) => Ok(q),
        (Err(mut a), Err(b)) => {
            a.extend(b);
            Err(status(AuditError::Invalid(a)))
        }
        (Err(a), _) | (_, Err(a)) => Err(status(AuditError::Invalid(a))),
    }
}

fn sign_in_id(raw: &str) -> Result<Uuid, Status> {
    // A malformed id cannot name anyone's sign-in: not found, like another user's.
    Uuid::parse_str(raw).map_err(|_| status(AuditError::SignInNotFound(raw.chars().take(64).collect())))
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_my_sign_ins(
        &self,
        request: Request<pb::ListMySignInsRequest>,
    ) -> Result<Response<pb::ListMySignInsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let q = query(r.page_size, &r.page_token, r.status, r.filter)?;
        let page = self
            .audit
            .sign_ins(&Scope::User(caller.user_id), &q)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ListMySignInsResponse {
            sign_ins: page.items.into_iter().map(sign_in).collect(),
            next_page_token: page.next.map(|c| c.encode()).unwrap_or_default(),
        }))
    }

    async fn get_my_sign_in(&self, request: Request<pb::GetMySignInRequest>) -> Result<Response<pb::SignIn>, Status> {
        let caller = Caller::of(&request)?;
        let id = sign_in_id(&request.get_ref().id)?;
        let s = self.audit.sign_in_of(caller.user_id, id).await.map_err(status)?;
        Ok(Response::new(sign_in(s)))
    }

    async fn review_my_sign_in(
        &self,
        request: Request<pb::ReviewMySignInRequest>,
    ) -> Result<Response<pb::ReviewMySignInResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let id = sign_in_id(&r.id)?;
        let verdict = match pb::ReviewVerdict::try_from(r.verdict) {
            Ok(pb::ReviewVerdict::Me) => Verdict::Me,
            Ok(pb::ReviewVerdict::NotMe) => Verdict::NotMe,
            _ => {
                return Err(status(AuditError::Invalid(vec![FieldViolation {
                    field: "verdict".into(),
                    description: "must be ME or NOT_ME".into(),
                    reason: violation_reason::UNKNOWN_VALUE.into(),
                }])));
            }
        };
        let s = self.audit.review(caller.user_id, id, verdict).await.map_err(status)?;
        // `message` and `next_steps` stay empty: the gateway words them in the caller's language.
        Ok(Response::new(pb::ReviewMySignInResponse {
            sign_in: Some(sign_in(s)),
            ..Default::default()
        }))
    }

    async fn list_my_activity(
        &self,
        request: Request<pb::ListMyActivityRequest>,
    ) -> Result<Response<pb::ListMyActivityResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let mut v = Violations::new();
        let page = PageRequest::parse(r.page_size, &r.page_token, &mut v);
        v.text("category", &r.category, 32);
        v.into_result().map_err(|v| status(AuditError::Invalid(v)))?;
        let category = Some(r.category.as_str()).filter(|c| !c.is_empty());
        let page = self
            .audit
            .activities(caller.user_id, page, category)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ListMyActivityResponse {
            activities: page.items.into_iter().map(activity).collect(),
            next_page_token: page.next.map(|c| c.encode()).unwrap_or_default(),
        }))
    }

    async fn list_organization_sign_ins(
        &self,
        request: Request<pb::ListOrganizationSignInsRequest>,
    ) -> Result<Response<pb::ListMySignInsResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require_admin()?;
        let r = request.into_inner();
        if r.organization_id.trim().is_empty() {
            return Err(status(AuditError::Invalid(vec![FieldViolation {
                field: "organization_id".into(),
                description: "is required".into(),
                reason: violation_reason::REQUIRED.into(),
            }])));
        }
        if !caller.may_administer(&r.organization_id) {
            return Err(status(AuditError::OrganizationNotFound(
                r.organization_id.trim().to_owned(),
            )));
        }
        caller.require_recent_mfa(self.step_up_max_age)?;
        let user = match r.user_id.as_str() {
            "" => None,
            raw => Some(Uuid::parse_str(raw).map_err(|_| {
                status(AuditError::Invalid(vec![FieldViolation {
                    field: "user_id".into(),
                    description: "must be a user id".into(),
                    reason: violation_reason::INVALID_ID.into(),
                }]))
            })?),
        };
        let q = query(r.page_size, &r.page_token, 0, r.filter)?;
        let scope = Scope::Organization {
            id: r.organization_id,
            user,
        };
        let page = self.audit.sign_ins(&scope, &q).await.map_err(status)?;
        Ok(Response::new(pb::ListMySignInsResponse {
            sign_ins: page.items.into_iter().map(sign_in).collect(),
            next_page_token: page.next.map(|c| c.encode()).unwrap_or_default(),
        }))
    }

    async fn export_my_data(
        &self,
        request: Request<pb::ExportMyDataRequest>,
    ) -> Result<Response<pb::AuditExport>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let data = self.audit.export(caller.user_id).await.map_err(status)?;
        Ok(Response::new(export(data)))
    }

    async fn describe_my_personal_data(
        &self,
        request: Request<myaccount_proto::privacy::v1::DescribeMyPersonalDataRequest>,
    ) -> Result<Response<myaccount_proto::privacy::v1::PersonalDataDescription>, Status> {
        let caller = Caller::of(&request)?;
        let retention = self
            .audit
            .retention(caller.organization_id.as_deref())
            .await
            .map_err(status)?;
        // Depends on the person's organization's retention: theirs to reuse for a while.
        Ok(platform::personal_data::private_answer(
            platform::personal_data::description(crate::domain::personal_data_held(retention.sign_in_retention_days)),
        ))
    }

    async fn get_my_data_retention(
        &self,
        request: Request<pb::GetMyDataRetentionRequest>,
    ) -> Result<Response<pb::DataRetention>, Status> {
        let caller = Caller::of(&request)?;
        let r = self
            .audit
            .retention(caller.organization_id.as_deref())
            .await
            .map_err(status)?;
        Ok(platform::personal_data::private_answer(retention(r)))
    }
}
