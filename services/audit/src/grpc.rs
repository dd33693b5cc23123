//! The gRPC edge of audit: proto <-> domain conversion and error -> Status, nothing else.

use myaccount_proto::audit::v1 as pb;
use myaccount_proto::audit::v1::audit_service_server::AuditService;
use myaccount_proto::events::v1::{SignInFailureReason, SignInStatus};
use platform::auth::Caller;
use platform::error::{ErrorKind, FieldViolation, ServiceError, to_status};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::domain::{FailureReason, SignIn, SignInQuery};
use crate::store;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("database failed")]
    Database(#[from] sqlx::Error),
}

impl ServiceError for AuditError {
    fn kind(&self) -> ErrorKind {
        match self {
            AuditError::Invalid(v) => ErrorKind::InvalidArgument(v.clone()),
            AuditError::Database(_) => ErrorKind::Internal,
        }
    }
}

pub struct AuditApi {
    pool: PgPool,
}

impl AuditApi {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

fn timestamp(t: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn sign_in(s: SignIn) -> pb::SignIn {
    pb::SignIn {
        id: s.id.to_string(),
        time: Some(timestamp(s.occurred_at)),
        user_principal_name: s.user_principal_name,
        app_id: s.app_id,
        ip_address: s.ip_address,
        user_agent: s.user_agent,
        device_id: s.device_id,
        status: match s.status {
            crate::domain::Status::Success => SignInStatus::Success,
            crate::domain::Status::Failure => SignInStatus::Failure,
        }
        .into(),
        failure_reason: match s.failure_reason {
            None => SignInFailureReason::Unspecified,
            Some(FailureReason::UnknownUser) => SignInFailureReason::UnknownUser,
            Some(FailureReason::InvalidPassword) => SignInFailureReason::InvalidPassword,
            Some(FailureReason::AccountDisabled) => SignInFailureReason::AccountDisabled,
            Some(FailureReason::Throttled) => SignInFailureReason::Throttled,
        }
        .into(),
        authentication_methods: s.authentication_methods,
        session_id: s.session_id,
        correlation_id: s.correlation_id,
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_my_sign_ins(&self, request: Request<pb::ListMySignInsRequest>) -> Result<Response<pb::ListMySignInsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let status = match SignInStatus::try_from(r.status) {
            Ok(SignInStatus::Unspecified) => None,
            Ok(SignInStatus::Success) => Some(crate::domain::Status::Success),
            Ok(SignInStatus::Failure) => Some(crate::domain::Status::Failure),
            Err(_) => {
                return Err(to_status(AuditError::Invalid(vec![FieldViolation {
                    field: "status".into(),
                    description: "must be SUCCESS, FAILURE or unspecified".into(),
                }])));
            }
        };
        let query = SignInQuery::parse(r.page_size, &r.page_token, status).map_err(|v| to_status(AuditError::Invalid(v)))?;
        let page = store::sign_ins_of(&self.pool, caller.user_id, &query)
            .await
            .map_err(|e| to_status(AuditError::from(e)))?;
        Ok(Response::new(pb::ListMySignInsResponse {
            sign_ins: page.items.into_iter().map(sign_in).collect(),
            next_page_token: page.next.map(|c| c.encode()).unwrap_or_default(),
        }))
    }
}
