//! What security-info publishes (method and default changes, notification requests) through the
//! platform outbox, and what it consumes: the organization and membership projections,
//! identity's `password_changed` and audit's `signin.v1.flagged` (both revoke the person's app
//! passwords; a password reset also notifies every verified email address), identity's
//! `user_created` and `profile_updated` (the person's preferred language, which notifications
//! are written in) and identity's `user_deleted` (erasure).

use chrono::{DateTime, Utc};
use myaccount_proto::events::v1::{
    DefaultMethodChanged, MemberJoined, MemberLeft, MemberRemoved, NotificationChannel, NotificationRequested,
    OrganizationChanged, PasswordChanged, ProfileUpdated, SecondFactors, SecurityMethodAdded, SecurityMethodRemoved,
    SignInFlagged, UserCreated,
};
use platform::consumer::{Delivery, Handler, HandlerError};
use platform::crypto::{CryptoError, Keyring};
use platform::outbox::{OutgoingEvent, publish_in_tx};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{Channel, Method, Notification};
use crate::notifications;
use crate::store;

use myaccount_proto::timestamp;

/// When a consumed event happened: its own time, else its CloudEvents time, else now.
fn event_time(time: Option<&prost_types::Timestamp>, delivered: Option<DateTime<Utc>>) -> DateTime<Utc> {
    time.and_then(myaccount_proto::datetime)
        .or(delivered)
        .unwrap_or_else(Utc::now)
}

fn id(session_id: Option<Uuid>) -> String {
    session_id.map(|s| s.to_string()).unwrap_or_default()
}

/// The second factors among `methods`, for signals' assurance level of the person's sign-ins.
fn second_factors(methods: &[Method]) -> SecondFactors {
    SecondFactors {
        method_types: methods
            .iter()
            .filter(|m| m.is_second_factor())
            .map(|m| m.kind.as_str().to_owned())
            .collect(),
    }
}

/// `after`: the person's active methods once `m` is active.
pub async fn method_added(
    conn: &mut PgConnection,
    m: &Method,
    after: &[Method],
    session_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = SecurityMethodAdded {
        user_id: m.user_id.to_string(),
        method_id: m.id.to_string(),
        method_type: m.kind.as_str().into(),
        label: m.label(),
        time: Some(timestamp(now)),
        session_id: id(session_id),
        fido2_aaguid: m.aaguid.map(|a| a.to_string()),
        second_factors_after: Some(second_factors(after)),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

/// `after`: the person's active methods once `m` is gone.
pub async fn method_removed(
    conn: &mut PgConnection,
    m: &Method,
    after: &[Method],
    session_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = SecurityMethodRemoved {
        user_id: m.user_id.to_string(),
        method_id: m.id.to_string(),
        method_type: m.kind.as_str().into(),
        label: m.label(),
        time: Some(timestamp(now)),
        session_id: id(session_id),
        fido2_aaguid: m.aaguid.map(|a| a.to_string()),
        second_factors_after: Some(second_factors(after)),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

pub async fn default_changed(
    conn: &mut PgConnection,
    user_id: Uuid,
    new: Option<&Method>,
    previous: Option<Uuid>,
    session_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = DefaultMethodChanged {
        user_id: user_id.to_string(),
        method_id: new.map(|m| m.id.to_string()).unwrap_or_default(),
        previous_method_id: previous.map(|p| p.to_string()).unwrap_or_default(),
        method_type: new.map(|m| m.kind.as_str().to_owned()).unwrap_or_default(),
        time: Some(timestamp(now)),
        session_id: id(session_id),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

/// Why a notification could not be written to the outbox.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error(transparent)]
    Outbox(#[from] sqlx::Error),
    #[error(transparent)]
    Seal(#[from] CryptoError),
}

/// Requests a notification. Its secret parameters (one-time codes) are sealed with `keyring`
/// for the notification sender: the outbox row, the stream and every subscriber see only the
/// ciphertext.
pub async fn notification_requested(
    conn: &mut PgConnection,
    keyring: &Keyring,
    n: &Notification,
    now: DateTime<Utc>,
) -> Result<(), NotificationError> {
    let id = Uuid::now_v7();
    let parameters =
        notifications::seal_secret_parameters(keyring, &id.to_string(), &n.parameters, &n.secret_parameters)?;
    let event = NotificationRequested {
        notification_id: id.to_string(),
        user_id: n.user_id.to_string(),
        recipient: n.recipient.clone(),
        channel: match n.channel {
            Channel::Email => NotificationChannel::Email,
            Channel::Sms => NotificationChannel::Sms,
            Channel::Voice => NotificationChannel::Voice,
        }
        .into(),
        template: n.template.into(),
        parameters,
        secret_parameters: n.secret_parameters.clone(),
        time: Some(timestamp(now)),
    };
    Ok(publish_in_tx(conn, &OutgoingEvent::new(id, &event)).await?)
}

/// Keeps `organization_policies` in step with `myaccount.organizations.v1.changed`.
pub struct OrganizationChangedHandler;

impl Handler<OrganizationChanged> for OrganizationChangedHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        delivery: &Delivery<OrganizationChanged>,
    ) -> Result<(), HandlerError> {
        let e = &delivery.event;
        if e.organization_id.trim().is_empty() {
            return Err(HandlerError::Rejected("organization_id is empty".into()));
        }
        let changed_at = e
            .time
            .as_ref()
            .and_then(myaccount_proto::datetime)
            .or(delivery.time)
            .ok_or_else(|| HandlerError::Rejected("time is missing".into()))?;
        store::upsert_organization_policy(conn, e.organization_id.trim(), e.mfa_required, changed_at).await?;
        Ok(())
    }
}

/// Revokes every app password of the person whose password changed (by them, or the new
/// password a "this wasn't me" demanded) or who said a sign-in was not theirs: an app password
/// outlives neither the password it was made under nor a suspected compromise (as Google's
/// app passwords do not outlive a password change).
pub struct AppPasswordRevoker;

impl AppPasswordRevoker {
    async fn revoke(
        conn: &mut PgConnection,
        user_id: &str,
        time: Option<DateTime<Utc>>,
        why: &'static str,
    ) -> Result<(), HandlerError> {
        let user_id = Uuid::parse_str(user_id.trim())
            .map_err(|_| HandlerError::Rejected(format!("user_id {user_id:?} is not a user id")))?;
        let now = time.unwrap_or_else(Utc::now);
        let removed = store::delete_app_passwords(conn, user_id, now).await?;
        if !removed.is_empty() {
            let after = store::lock_active_methods(conn, user_id).await?;
            for method in &removed {
                method_removed(conn, method, &after, None, now).await?;
            }
        }
        if !removed.is_empty() {
            tracing::info!(%user_id, count = removed.len(), why, "app passwords revoked");
        }
        Ok(())
    }
}

fn member<'a>(user_id: &str, organization_id: &'a str) -> Result<(Uuid, &'a str), HandlerError> {
    let user_id = myaccount_proto::parse_id("user_id", user_id)?;
    let organization_id = organization_id.trim();
    if organization_id.is_empty() {
        return Err(HandlerError::Rejected("organization_id is empty".into()));
    }
    Ok((user_id, organization_id))
}

/// `member_joined` (home or guest): the person now belongs to that organization, and its MFA
/// requirement holds their last second factor.
pub struct MemberJoinedHandler;

impl Handler<MemberJoined> for MemberJoinedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<MemberJoined>) -> Result<(), HandlerError> {
        let e = &delivery.event;
        let (user_id, organization_id) = member(&e.user_id, &e.organization_id)?;
        // An account erased meanwhile gets no membership back.
        if platform::erasure::is_erased(conn, user_id).await? {
            return Ok(());
        }
        let time = event_time(e.time.as_ref(), delivery.time);
        store::membership_joined(conn, user_id, organization_id, time).await?;
        Ok(())
    }
}

/// `password_changed`: the app passwords go with the old password ([`AppPasswordRevoker`]);
/// after a self-service reset every verified email address is told too, in the same
/// transaction, so the owner hears of a reset that was not theirs.
pub struct PasswordChangedHandler {
    pub keyring: Keyring,
}

impl Handler<PasswordChanged> for PasswordChangedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<PasswordChanged>) -> Result<(), HandlerError> {
        let event = &delivery.event;
        let time = event
            .time
            .as_ref()
            .and_then(myaccount_proto::datetime)
            .or(delivery.time);
        AppPasswordRevoker::revoke(conn, &event.user_id, time, "password changed").await?;
        if !event.reset {
            return Ok(());
        }
        let user_id = myaccount_proto::parse_id("user_id", &event.user_id)?;
        let now = time.unwrap_or_else(Utc::now);
        let methods = store::active_methods(conn, user_id).await?;
        for notification in Notification::password_reset(user_id, &methods, &event.methods_proven) {
            notification_requested(conn, &self.keyring, &notification, now)
                .await
                .map_err(|e| match e {
                    NotificationError::Outbox(e) => HandlerError::from(e),
                    NotificationError::Seal(e) => HandlerError::Rejected(format!("cannot seal the notice: {e}")),
                })?;
        }
        Ok(())
    }
}

impl Handler<SignInFlagged> for AppPasswordRevoker {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<SignInFlagged>) -> Result<(), HandlerError> {
        let time = delivery.event.time.as_ref().and_then(myaccount_proto::datetime);
        Self::revoke(conn, &delivery.event.user_id, time.or(delivery.time), "sign-in flagged").await
    }
}

/// `member_left`: the person left a guest organization; its rule no longer holds them.
pub struct MemberLeftHandler;

impl Handler<MemberLeft> for MemberLeftHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<MemberLeft>) -> Result<(), HandlerError> {
        let e = &delivery.event;
        let (user_id, organization_id) = member(&e.user_id, &e.organization_id)?;
        let time = event_time(e.time.as_ref(), delivery.time);
        store::membership_ended(conn, user_id, organization_id, time).await?;
        Ok(())
    }
}

/// `member_removed`: as `member_left`.
pub struct MemberRemovedHandler;

impl Handler<MemberRemoved> for MemberRemovedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<MemberRemoved>) -> Result<(), HandlerError> {
        let e = &delivery.event;
        let (user_id, organization_id) = member(&e.user_id, &e.organization_id)?;
        let time = event_time(e.time.as_ref(), delivery.time);
        store::membership_ended(conn, user_id, organization_id, time).await?;
        Ok(())
    }
}

/// Keeps `preferred_languages` (language, time zone, regional format) in step with identity:
/// those a person was created with (`user_created`) and those their profile has after each
/// change (`profile_updated`). The event's time decides between two of them, so an older event
/// handled late changes nothing.
pub struct ReadingPreferencesHandler;

impl ReadingPreferencesHandler {
    async fn record(
        conn: &mut PgConnection,
        user_id: &str,
        preferences: store::ReadingPreferences,
        time: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let user_id = myaccount_proto::parse_id("user_id", user_id)?;
        // An account erased meanwhile gets no row back.
        if platform::erasure::is_erased(conn, user_id).await? {
            return Ok(());
        }
        store::set_reading_preferences(conn, user_id, &preferences, time).await?;
        Ok(())
    }
}

impl Handler<UserCreated> for ReadingPreferencesHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<UserCreated>) -> Result<(), HandlerError> {
        let e = &delivery.event;
        let time = event_time(e.time.as_ref(), delivery.time);
        let preferences = store::ReadingPreferences {
            language: e.preferred_language.clone(),
            time_zone: e.time_zone.clone(),
            regional_format: e.regional_format.clone(),
        };
        Self::record(conn, &e.user_id, preferences, time).await
    }
}

impl Handler<ProfileUpdated> for ReadingPreferencesHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<ProfileUpdated>) -> Result<(), HandlerError> {
        let e = &delivery.event;
        let time = event_time(e.time.as_ref(), delivery.time);
        let preferences = store::ReadingPreferences {
            language: e.preferred_language.clone(),
            time_zone: e.time_zone.clone(),
            regional_format: e.regional_format.clone(),
        };
        Self::record(conn, &e.user_id, preferences, time).await
    }
}
