//! What identity publishes, built from domain values and written through the platform outbox.

use chrono::{DateTime, Utc};
use myaccount_proto::events::v1::{
    ProfileUpdated, ReportedLocation, SignInFailureReason, SignInRecorded, SignInStatus, UserCreated,
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
    /// Where a proxy trusted by the gateway said the client is.
    pub location: Option<ReportedLocation>,
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
    /// The method that decided the attempt ("password", "app_password", "authenticator_app", ...).
    pub method: &'a str,
}

pub use myaccount_proto::timestamp;

pub async fn sign_in_recorded(conn: &mut PgConnection, r: &SignInAttemptRecord<'_>) -> Result<(), sqlx::Error> {
    let (status, reason, session_id) = match r.outcome {
        Ok(session) => (
            SignInStatus::Success,
            SignInFailureReason::Unspecified,
            session.to_string(),
        ),
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
        method: r.method.to_owned(),
        reported_location: r.client.location.clone(),
    };
    publish_in_tx(conn, &OutgoingEvent::new(r.id, &event)).await?;
    // Sign-in outcomes by reason (docs/OPERATIONS.md, "Metrics").
    let (outcome, reason) = match status {
        SignInStatus::Success => ("success", "none".to_owned()),
        _ => (
            "failure",
            reason
                .as_str_name()
                .trim_start_matches("SIGN_IN_FAILURE_REASON_")
                .to_ascii_lowercase(),
        ),
    };
    metrics::counter!("myaccount_sign_ins_total", "outcome" => outcome, "reason" => reason, "method" => r.method.to_owned())
        .increment(1);
    Ok(())
}

fn failure_reason(reason: FailureReason) -> SignInFailureReason {
    match reason {
        FailureReason::UnknownUser => SignInFailureReason::UnknownUser,
        FailureReason::InvalidPassword => SignInFailureReason::InvalidPassword,
        FailureReason::AccountDisabled => SignInFailureReason::AccountDisabled,
        FailureReason::Throttled => SignInFailureReason::Throttled,
        FailureReason::SecondFactorFailed => SignInFailureReason::SecondFactorFailed,
        FailureReason::MfaChallengeExpired => SignInFailureReason::MfaChallengeExpired,
        FailureReason::SecondFactorReplayed => SignInFailureReason::SecondFactorReplayed,
        FailureReason::MfaTooManyAttempts => SignInFailureReason::MfaTooManyAttempts,
        FailureReason::NotAMember => SignInFailureReason::NotAMember,
        FailureReason::PasswordChangeRequired => SignInFailureReason::PasswordChangeRequired,
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

pub async fn user_deleted(conn: &mut PgConnection, user_id: Uuid, time: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let event = myaccount_proto::events::v1::UserDeleted {
        user_id: user_id.to_string(),
        time: Some(timestamp(time)),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

// --- sessions: what identity publishes when sessions end, and its reaction to a disabled device

pub async fn session_revoked(
    conn: &mut PgConnection,
    user_id: Uuid,
    session: &crate::store::RevokedSession,
    reason: crate::sessions::RevocationReason,
    actor_session_id: Option<Uuid>,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = myaccount_proto::events::v1::SessionRevoked {
        user_id: user_id.to_string(),
        session_id: session.id.to_string(),
        device_id: session.device_id.clone(),
        reason: reason.as_str().to_owned(),
        actor_session_id: actor_session_id.map(|s| s.to_string()).unwrap_or_default(),
        time: Some(timestamp(time)),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

pub async fn password_changed(
    conn: &mut PgConnection,
    user_id: Uuid,
    session_id: Option<Uuid>,
    other_sessions_ended: usize,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = myaccount_proto::events::v1::PasswordChanged {
        user_id: user_id.to_string(),
        session_id: session_id.map(|s| s.to_string()).unwrap_or_default(),
        other_sessions_ended: i32::try_from(other_sessions_ended).unwrap_or(i32::MAX),
        time: Some(timestamp(time)),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

/// Consumes `myaccount.devices.v1.disabled`: ends every active session of the owner bound to the
/// device, publishing `session_revoked` for each in the same transaction. A redelivered event
/// finds nothing left to revoke (and is skipped as a duplicate before that).
pub struct DeviceDisabledHandler;

impl platform::consumer::Handler<myaccount_proto::events::v1::DeviceDisabled> for DeviceDisabledHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        delivery: &platform::consumer::Delivery<myaccount_proto::events::v1::DeviceDisabled>,
    ) -> Result<(), platform::consumer::HandlerError> {
        use platform::consumer::HandlerError;
        let event = &delivery.event;
        let user_id = Uuid::parse_str(&event.user_id)
            .map_err(|_| HandlerError::Rejected(format!("user_id {:?} is not a UUID", event.user_id)))?;
        if event.device_id.is_empty() {
            return Err(HandlerError::Rejected("device_id is empty".into()));
        }
        let now = Utc::now();
        let filter = crate::store::SessionFilter {
            device_id: Some(event.device_id.clone()),
            ..Default::default()
        };
        let reason = crate::sessions::RevocationReason::DeviceDisabled;
        let revoked = crate::store::revoke_sessions(conn, user_id, &filter, reason.as_str(), now)
            .await
            .map_err(|e| HandlerError::Transient(e.to_string()))?;
        for session in &revoked {
            session_revoked(conn, user_id, session, reason, None, now).await?;
        }
        tracing::info!(%user_id, device_id = %event.device_id, sessions = revoked.len(), "device disabled; its sessions ended");
        Ok(())
    }
}

/// Consumes `myaccount.signin.v1.flagged` (the person said "this wasn't me"): ends every active
/// session of theirs, so refresh tokens held by whoever signed in stop working at once, and
/// publishes `session_revoked` for each in the same transaction.
pub struct SignInFlaggedHandler;

impl platform::consumer::Handler<myaccount_proto::events::v1::SignInFlagged> for SignInFlaggedHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        delivery: &platform::consumer::Delivery<myaccount_proto::events::v1::SignInFlagged>,
    ) -> Result<(), platform::consumer::HandlerError> {
        use platform::consumer::HandlerError;
        let event = &delivery.event;
        let user_id = Uuid::parse_str(&event.user_id)
            .map_err(|_| HandlerError::Rejected(format!("user_id {:?} is not a UUID", event.user_id)))?;
        let now = Utc::now();
        // The password may be what let them in: the next sign-in must choose a new one.
        crate::store::require_password_change(conn, user_id)
            .await
            .map_err(|e| HandlerError::Transient(e.to_string()))?;
        let reason = crate::sessions::RevocationReason::ReportedNotMe;
        let revoked = crate::store::revoke_sessions(
            conn,
            user_id,
            &crate::store::SessionFilter::default(),
            reason.as_str(),
            now,
        )
        .await
        .map_err(|e| HandlerError::Transient(e.to_string()))?;
        for session in &revoked {
            session_revoked(conn, user_id, session, reason, None, now).await?;
        }
        tracing::warn!(%user_id, sign_in_id = %event.sign_in_id, sessions = revoked.len(), "sign-in reported as not me; every session ended");
        Ok(())
    }
}
