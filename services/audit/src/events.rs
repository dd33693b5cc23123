//! What audit consumes: `myaccount.signin.v1.recorded` into the sign-in log.

use chrono::{DateTime, Utc};
use myaccount_proto::events::v1::{SignInFailureReason, SignInRecorded, SignInStatus};
use platform::consumer::{Delivery, Handler, HandlerError};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{FailureReason, SignIn, Status};
use crate::store;

pub struct SignInRecordedHandler;

impl Handler<SignInRecorded> for SignInRecordedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<SignInRecorded>) -> Result<(), HandlerError> {
        let sign_in = sign_in_from_event(&delivery.event).map_err(HandlerError::Rejected)?;
        store::insert_sign_in(conn, &sign_in).await?;
        Ok(())
    }
}

/// Checks and converts the event; an event that breaks the contract is rejected (dead-lettered).
pub fn sign_in_from_event(e: &SignInRecorded) -> Result<SignIn, String> {
    let id = Uuid::parse_str(&e.sign_in_id).map_err(|_| format!("sign_in_id {:?} is not a UUID", e.sign_in_id))?;
    let time = e.time.as_ref().ok_or("time is missing")?;
    let occurred_at = DateTime::<Utc>::from_timestamp(time.seconds, u32::try_from(time.nanos).unwrap_or(0))
        .ok_or("time is out of range")?;
    let user_id = match e.user_id.as_str() {
        "" => None,
        raw => Some(Uuid::parse_str(raw).map_err(|_| format!("user_id {raw:?} is not a UUID"))?),
    };
    let status = match SignInStatus::try_from(e.status) {
        Ok(SignInStatus::Success) => Status::Success,
        Ok(SignInStatus::Failure) => Status::Failure,
        _ => return Err(format!("unknown status {}", e.status)),
    };
    let failure_reason = match SignInFailureReason::try_from(e.failure_reason) {
        Ok(SignInFailureReason::Unspecified) => None,
        Ok(SignInFailureReason::UnknownUser) => Some(FailureReason::UnknownUser),
        Ok(SignInFailureReason::InvalidPassword) => Some(FailureReason::InvalidPassword),
        Ok(SignInFailureReason::AccountDisabled) => Some(FailureReason::AccountDisabled),
        Ok(SignInFailureReason::Throttled) => Some(FailureReason::Throttled),
        Err(_) => return Err(format!("unknown failure reason {}", e.failure_reason)),
    };
    Ok(SignIn {
        id,
        occurred_at,
        user_id,
        user_principal_name: truncate(&e.user_principal_name, 256),
        organization_id: truncate(&e.organization_id, 64),
        app_id: truncate(&e.app_id, 128),
        ip_address: truncate(&e.ip_address, 64),
        user_agent: truncate(&e.user_agent, 1024),
        device_id: truncate(&e.device_id, 128),
        status,
        failure_reason,
        authentication_methods: e.authentication_methods.iter().take(16).map(|m| truncate(m, 32)).collect(),
        session_id: truncate(&e.session_id, 64),
        correlation_id: truncate(&e.correlation_id, 128),
    })
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}
