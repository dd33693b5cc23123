//! What devices publishes (through the platform outbox, in the transaction of the change) and
//! consumes: `myaccount.signin.v1.recorded`, the only source of a device's last activity,
//! identity's `user_created` (whose organization a person is in, for tenant-bound admins) and
//! `user_deleted` (erasure).

use chrono::{DateTime, Utc};
use myaccount_proto::events::v1::{
    DeviceDeleted, DeviceDisabled, DeviceEnabled, DeviceRegistered, DeviceRenamed, RecoveryKeyAdded,
    RecoveryKeyViewDenied, RecoveryKeyViewed, SignInRecorded, SignInStatus, UserCreated,
};
use myaccount_proto::parse_id;
use myaccount_proto::{id_or_empty, timestamp};
use platform::consumer::{Delivery, Handler, HandlerError};
use platform::events::Event;
use platform::outbox::{OutgoingEvent, publish_in_tx};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{Device, RecoveryKey};
use crate::store;

async fn publish<E: Event>(conn: &mut PgConnection, event: &E) -> Result<(), sqlx::Error> {
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), event)).await
}

pub async fn registered(conn: &mut PgConnection, device: &Device, actor: Uuid) -> Result<(), sqlx::Error> {
    let event = DeviceRegistered {
        user_id: device.owner_id.to_string(),
        device_id: device.id.to_string(),
        display_name: device.display_name.clone(),
        join_type: device.join_type.as_str().to_owned(),
        actor_user_id: actor.to_string(),
        time: Some(timestamp(device.registered_at)),
    };
    publish(conn, &event).await
}

pub async fn renamed(conn: &mut PgConnection, device: &Device, time: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let event = DeviceRenamed {
        user_id: device.owner_id.to_string(),
        device_id: device.id.to_string(),
        display_name: device.display_name.clone(),
        time: Some(timestamp(time)),
    };
    publish(conn, &event).await
}

pub async fn deleted(
    conn: &mut PgConnection,
    owner: Uuid,
    device_id: Uuid,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = DeviceDeleted {
        user_id: owner.to_string(),
        device_id: device_id.to_string(),
        time: Some(timestamp(time)),
    };
    publish(conn, &event).await
}

pub async fn disabled(
    conn: &mut PgConnection,
    device: &Device,
    actor: Uuid,
    actor_session: Option<Uuid>,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = DeviceDisabled {
        user_id: device.owner_id.to_string(),
        device_id: device.id.to_string(),
        actor_user_id: actor.to_string(),
        actor_session_id: id_or_empty(actor_session),
        time: Some(timestamp(time)),
    };
    publish(conn, &event).await
}

pub async fn enabled(
    conn: &mut PgConnection,
    device: &Device,
    actor: Uuid,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = DeviceEnabled {
        user_id: device.owner_id.to_string(),
        device_id: device.id.to_string(),
        actor_user_id: actor.to_string(),
        time: Some(timestamp(time)),
    };
    publish(conn, &event).await
}

pub async fn recovery_key_added(
    conn: &mut PgConnection,
    device: &Device,
    key: &RecoveryKey,
    actor: Uuid,
) -> Result<(), sqlx::Error> {
    let event = RecoveryKeyAdded {
        user_id: device.owner_id.to_string(),
        device_id: device.id.to_string(),
        recovery_key_id: key.id.to_string(),
        actor_user_id: actor.to_string(),
        time: Some(timestamp(key.created_at)),
    };
    publish(conn, &event).await
}

pub async fn recovery_key_viewed(
    conn: &mut PgConnection,
    device: &Device,
    key: &RecoveryKey,
    session: Option<Uuid>,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = RecoveryKeyViewed {
        user_id: device.owner_id.to_string(),
        device_id: device.id.to_string(),
        recovery_key_id: key.id.to_string(),
        session_id: id_or_empty(session),
        time: Some(timestamp(time)),
    };
    publish(conn, &event).await
}

/// Stable reason code of a refused reveal.
pub const REAUTHENTICATION_REQUIRED: &str = "reauthentication_required";

pub async fn recovery_key_view_denied(
    conn: &mut PgConnection,
    device: &Device,
    key: &RecoveryKey,
    session: Option<Uuid>,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = RecoveryKeyViewDenied {
        user_id: device.owner_id.to_string(),
        device_id: device.id.to_string(),
        recovery_key_id: key.id.to_string(),
        session_id: id_or_empty(session),
        reason: REAUTHENTICATION_REQUIRED.to_owned(),
        time: Some(timestamp(time)),
    };
    publish(conn, &event).await
}

/// Consumes `myaccount.signin.v1.recorded`: a successful sign-in that carries the id of a device
/// of the signed-in user moves that device's last activity forward. Unknown device ids, other
/// people's devices and failed attempts change nothing: a client cannot claim activity for a
/// device it does not own.
pub struct SignInRecordedHandler;

impl Handler<SignInRecorded> for SignInRecordedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<SignInRecorded>) -> Result<(), HandlerError> {
        let Some(activity) = activity_of(&delivery.event) else {
            return Ok(());
        };
        let moved = store::record_activity(conn, activity.user_id, activity.device_id, activity.at).await?;
        if !moved {
            tracing::debug!(device_id = %activity.device_id, "sign-in names no device of its user; ignored");
        }
        Ok(())
    }

    /// Most sign-ins name no device (a browser) or failed: nothing to move, no transaction.
    fn concerns(&self, event: &SignInRecorded) -> bool {
        activity_of(event).is_some()
    }
}

/// `myaccount.identity.v1.user_created`: remembers the person's home organization, the one
/// whose admins may act on their devices. An erased account is not brought back.
pub struct UserCreatedHandler;

impl Handler<UserCreated> for UserCreatedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<UserCreated>) -> Result<(), HandlerError> {
        let e = &delivery.event;
        let user_id = parse_id("user_id", &e.user_id)?;
        let home = match e.home_organization_id.trim() {
            "" => None,
            raw => Some(parse_id("home_organization_id", raw)?),
        };
        if platform::erasure::is_erased(conn, user_id).await? {
            tracing::info!(%user_id, "user_created of an erased account ignored");
            return Ok(());
        }
        store::remember_person(conn, user_id, home, Utc::now()).await?;
        Ok(())
    }
}

/// A device's activity as a sign-in event tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub user_id: Uuid,
    pub device_id: Uuid,
    pub at: DateTime<Utc>,
}

/// `None` for anything that says nothing about a device of a known user.
pub fn activity_of(e: &SignInRecorded) -> Option<Activity> {
    if SignInStatus::try_from(e.status) != Ok(SignInStatus::Success) {
        return None;
    }
    let user_id = Uuid::parse_str(&e.user_id).ok()?;
    let device_id = Uuid::parse_str(e.device_id.trim()).ok()?;
    let at = myaccount_proto::optional_datetime(e.time.as_ref())?;
    Some(Activity { user_id, device_id, at })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_successful_sign_ins_with_a_device_id_count() {
        let device = Uuid::new_v4();
        let user = Uuid::new_v4();
        let ok = SignInRecorded {
            user_id: user.to_string(),
            device_id: device.to_string(),
            status: SignInStatus::Success as i32,
            time: Some(prost_types::Timestamp {
                seconds: 1_764_000_000,
                nanos: 0,
            }),
            ..Default::default()
        };
        assert_eq!(activity_of(&ok).map(|a| (a.user_id, a.device_id)), Some((user, device)));
        let failed = SignInRecorded {
            status: SignInStatus::Failure as i32,
            ..ok.clone()
        };
        assert_eq!(activity_of(&failed), None);
        let no_device = SignInRecorded {
            device_id: "my-phone".into(),
            ..ok.clone()
        };
        assert_eq!(activity_of(&no_device), None);
        let no_user = SignInRecorded {
            user_id: String::new(),
            ..ok
        };
        assert_eq!(activity_of(&no_user), None);
    }
}
