//! What identity publishes, built from domain values and written through the platform outbox.

use chrono::{DateTime, Utc};
use myaccount_proto::events::v1::{
    ProfileUpdated, SignInFailureReason, SignInRecorded, SignInStatus, UserCreated,
};
use platform::outbox::{OutgoingEvent, publish_in_tx};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{FailureReason, Profile};

/// The client a request came from, as the gateway reported it.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip_address: String,
    pub user_agent: String,
    pub device_id: String,
    pub app_id: String,
    pub correlation_id: String,
}

/// One sign-in attempt, successful or not.
#[derive(Debug, Clone)]
pub struct SignInAttemptRecord<'a> {
    pub id: Uuid,
    pub time: DateTime<Utc>,
    pub user_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub typed_user_principal_name: &'a str,
    pub client: &'a ClientInfo,
    pub outcome: Result<Uuid, FailureReason>,
    pub amr: &'a [String],
}

pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub async fn sign_in_recorded(conn: &mut PgConnection, r: &SignInAttemptRecord<'_>) -> Result<(), sqlx::Error> {
    let (status, reason, session_id) = match r.outcome {
        Ok(session) => (SignInStatus::Success, SignInFailureReason::Unspecified, session.to_string()),
        Err(reason) => (SignInStatus::Failure, failure_reason(reason), String::new()),
    };
    let event = SignInRecorded {
        sign_in_id: r.id.to_string(),
        time: Some(timestamp(r.time)),
        user_id: r.user_id.map(|u| u.to_string()).unwrap_or_default(),
        user_principal_name: r.typed_user_principal_name.chars().take(256).collect(),
        app_id: r.client.app_id.clone(),
        ip_address: r.client.ip_address.clone(),
        user_agent: r.client.user_agent.clone(),
        device_id: r.client.device_id.clone(),
        status: status.into(),
        failure_reason: reason.into(),
        authentication_methods: r.amr.to_vec(),
        session_id,
        organization_id: r.organization_id.map(|o| o.to_string()).unwrap_or_default(),
        correlation_id: r.client.correlation_id.clone(),
    };
    publish_in_tx(conn, &OutgoingEvent::new(r.id, &event)).await
}

fn failure_reason(reason: FailureReason) -> SignInFailureReason {
    match reason {
        FailureReason::UnknownUser => SignInFailureReason::UnknownUser,
        FailureReason::InvalidPassword => SignInFailureReason::InvalidPassword,
        FailureReason::AccountDisabled => SignInFailureReason::AccountDisabled,
        FailureReason::Throttled => SignInFailureReason::Throttled,
    }
}

pub async fn user_created(conn: &mut PgConnection, profile: &Profile) -> Result<(), sqlx::Error> {
    let event = UserCreated {
        user_id: profile.id.to_string(),
        user_principal_name: profile.user_principal_name.clone(),
        home_organization_id: profile.home_organization_id.map(|o| o.to_string()).unwrap_or_default(),
        time: Some(timestamp(profile.created_at)),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

pub async fn profile_updated(
    conn: &mut PgConnection,
    user_id: Uuid,
    session_id: Option<Uuid>,
    changed_fields: Vec<String>,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = ProfileUpdated {
        user_id: user_id.to_string(),
        changed_fields,
        time: Some(timestamp(time)),
        session_id: session_id.map(|s| s.to_string()).unwrap_or_default(),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}
