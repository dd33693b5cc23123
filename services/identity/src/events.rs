//! What identity publishes, built from domain values and written through the platform outbox.

use chrono::{DateTime, Utc};
use myaccount_proto::events::v1::{
    ProfileUpdated, ReportedLocation, SignInFailureReason, SignInRecorded, SignInStatus, UserCreated,
};
use platform::outbox::{OutgoingEvent, publish_in_tx};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{ClientLocation, FailureReason, Profile, RevocationReason, SignInAttempt};
use crate::store::Identifiers;

pub use myaccount_proto::timestamp;

/// Publishes how `r` ended: the session it opened or renewed, or why it failed.
pub async fn sign_in_recorded(
    conn: &mut PgConnection,
    r: &SignInAttempt,
    outcome: Result<Option<Uuid>, FailureReason>,
) -> Result<(), sqlx::Error> {
    let (status, reason, session_id) = match outcome {
        Ok(session) => (
            SignInStatus::Success,
            SignInFailureReason::Unspecified,
            session.map(|s| s.to_string()).unwrap_or_default(),
        ),
        Err(reason) => (SignInStatus::Failure, reason, String::new()),
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
        authentication_methods: r.amr.clone(),
        session_id,
        organization_id: r.organization_id.map(|o| o.to_string()).unwrap_or_default(),
        correlation_id: r.client.correlation_id.clone(),
        method: r.method.clone(),
        reported_location: r.client.location.as_ref().map(reported_location),
    };
    publish_in_tx(conn, &OutgoingEvent::new(r.id, &event)).await?;
    // Sign-in outcomes by reason (docs/OPERATIONS.md, "Metrics").
    let (outcome, reason) = match status {
        SignInStatus::Success => ("success", "none".to_owned()),
        _ => ("failure", reason.code().to_owned()),
    };
    metrics::counter!("myaccount_sign_ins_total", "outcome" => outcome, "reason" => reason, "method" => r.method.clone())
        .increment(1);
    Ok(())
}

fn reported_location(l: &ClientLocation) -> ReportedLocation {
    ReportedLocation {
        country: l.country.clone(),
        region: l.region.clone(),
        city: l.city.clone(),
        latitude: l.latitude,
        longitude: l.longitude,
    }
}

pub async fn user_created(conn: &mut PgConnection, profile: &Profile) -> Result<(), sqlx::Error> {
    let event = UserCreated {
        user_id: profile.id.to_string(),
        user_principal_name: profile.user_principal_name.clone(),
        home_organization_id: profile.home_organization_id.map(|o| o.to_string()).unwrap_or_default(),
        time: Some(timestamp(profile.created_at)),
        preferred_language: profile.preferred_language.clone(),
        time_zone: profile.time_zone.clone(),
        regional_format: profile.regional_format.clone(),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

/// `profile` is the profile after the change: its language, time zone and regional format
/// travel on every update, so a consumer's projection of them (the notification sender's) never
/// depends on which field changed.
pub async fn profile_updated(
    conn: &mut PgConnection,
    profile: &Profile,
    session_id: Option<Uuid>,
    changed_fields: Vec<String>,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = ProfileUpdated {
        user_id: profile.id.to_string(),
        changed_fields,
        time: Some(timestamp(time)),
        session_id: session_id.map(|s| s.to_string()).unwrap_or_default(),
        preferred_language: profile.preferred_language.clone(),
        time_zone: profile.time_zone.clone(),
        regional_format: profile.regional_format.clone(),
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

/// One session ended for `reason`; `actor_session_id` is the session that asked, if any, and
/// `cause_id` the act it is part of (shared by that act's other events).
#[allow(clippy::too_many_arguments)]
pub async fn session_revoked(
    conn: &mut PgConnection,
    user_id: Uuid,
    session_id: Uuid,
    device_id: &str,
    reason: RevocationReason,
    actor_session_id: Option<Uuid>,
    cause_id: Uuid,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = myaccount_proto::events::v1::SessionRevoked {
        user_id: user_id.to_string(),
        session_id: session_id.to_string(),
        device_id: device_id.to_owned(),
        reason: reason.code().to_owned(),
        actor_session_id: actor_session_id.map(|s| s.to_string()).unwrap_or_default(),
        time: Some(timestamp(time)),
        cause_id: cause_id.to_string(),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

/// `cause_id`: the act, shared with the `session_revoked` of the sessions it ended.
pub async fn password_changed(
    conn: &mut PgConnection,
    user_id: Uuid,
    session_id: Option<Uuid>,
    other_sessions_ended: usize,
    cause_id: Uuid,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = myaccount_proto::events::v1::PasswordChanged {
        user_id: user_id.to_string(),
        session_id: session_id.map(|s| s.to_string()).unwrap_or_default(),
        other_sessions_ended: i32::try_from(other_sessions_ended).unwrap_or(i32::MAX),
        time: Some(timestamp(time)),
        cause_id: cause_id.to_string(),
        ..Default::default()
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

/// The password was reset by proving `methods_proven` (their sign-in log names) instead of the
/// old password; `sessions_ended` sessions ended with it.
pub async fn password_reset(
    conn: &mut PgConnection,
    user_id: Uuid,
    sessions_ended: usize,
    methods_proven: Vec<String>,
    cause_id: Uuid,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = myaccount_proto::events::v1::PasswordChanged {
        user_id: user_id.to_string(),
        session_id: String::new(),
        other_sessions_ended: i32::try_from(sessions_ended).unwrap_or(i32::MAX),
        time: Some(timestamp(time)),
        reset: true,
        methods_proven,
        cause_id: cause_id.to_string(),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

/// An administrator or the operator (`by`) disabled the account; `cause_id` is shared with the
/// `session_revoked` of the sessions it ended.
pub async fn user_disabled(
    conn: &mut PgConnection,
    user_id: Uuid,
    by: &str,
    cause_id: Uuid,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = myaccount_proto::events::v1::UserDisabled {
        user_id: user_id.to_string(),
        time: Some(timestamp(time)),
        changed_by: by.to_owned(),
        cause_id: cause_id.to_string(),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

/// An administrator or the operator (`by`) enabled the account again.
pub async fn user_enabled(
    conn: &mut PgConnection,
    user_id: Uuid,
    by: &str,
    cause_id: Uuid,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = myaccount_proto::events::v1::UserEnabled {
        user_id: user_id.to_string(),
        time: Some(timestamp(time)),
        changed_by: by.to_owned(),
        cause_id: cause_id.to_string(),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

/// An administrator or the operator (`by`) changed the person's user principal name or email
/// address, or both, from `previous` to `current`.
pub async fn identifiers_changed(
    conn: &mut PgConnection,
    user_id: Uuid,
    previous: &Identifiers,
    current: &Identifiers,
    by: &str,
    cause_id: Uuid,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = myaccount_proto::events::v1::UserIdentifiersChanged {
        user_id: user_id.to_string(),
        old_user_principal_name: previous.user_principal_name.clone(),
        new_user_principal_name: current.user_principal_name.clone(),
        old_email: previous.mail.clone(),
        new_email: current.mail.clone(),
        changed_by: by.to_owned(),
        time: Some(timestamp(time)),
        cause_id: cause_id.to_string(),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}
