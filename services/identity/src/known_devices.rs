//! What identity knows of registered devices, from devices' events: whose each is and whether
//! it is disabled, so a sign-in binds its session only to the person's own device and refuses a
//! disabled one (`store::device_standing`). Every event carries its time; an older one never
//! overwrites a newer state, so redelivery and reordering are harmless.

use chrono::{DateTime, Utc};
use myaccount_proto::events::v1::{DeviceDeleted, DeviceDisabled, DeviceEnabled, DeviceRegistered};
use platform::consumer::{Delivery, Handler, HandlerError};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::store;

/// The device's owner and id and the event's time; a malformed event is rejected.
fn identify(
    user_id: &str,
    device_id: &str,
    time: Option<&prost_types::Timestamp>,
    fallback: Option<DateTime<Utc>>,
) -> Result<(Uuid, Uuid, DateTime<Utc>), HandlerError> {
    let owner = myaccount_proto::parse_id("user_id", user_id).map_err(|e| HandlerError::Rejected(e.to_string()))?;
    let device =
        myaccount_proto::parse_id("device_id", device_id).map_err(|e| HandlerError::Rejected(e.to_string()))?;
    // An event without a time is taken as of now: the newest word on the device.
    let at = myaccount_proto::optional_datetime(time)
        .or(fallback)
        .unwrap_or_else(Utc::now);
    Ok((owner, device, at))
}

/// Records a device's new state: `disabled` `None` keeps what was known.
pub async fn project(
    conn: &mut PgConnection,
    (owner, device, at): (Uuid, Uuid, DateTime<Utc>),
    disabled: Option<bool>,
    deleted: bool,
) -> Result<(), HandlerError> {
    Ok(store::project_device(conn, device, owner, disabled, deleted, at).await?)
}

pub struct DeviceRegisteredHandler;

impl Handler<DeviceRegistered> for DeviceRegisteredHandler {
    async fn handle(&self, conn: &mut PgConnection, d: &Delivery<DeviceRegistered>) -> Result<(), HandlerError> {
        let e = &d.event;
        let known = identify(&e.user_id, &e.device_id, e.time.as_ref(), d.time)?;
        project(conn, known, Some(false), false).await
    }
}

pub struct DeviceEnabledHandler;

impl Handler<DeviceEnabled> for DeviceEnabledHandler {
    async fn handle(&self, conn: &mut PgConnection, d: &Delivery<DeviceEnabled>) -> Result<(), HandlerError> {
        let e = &d.event;
        let known = identify(&e.user_id, &e.device_id, e.time.as_ref(), d.time)?;
        project(conn, known, Some(false), false).await
    }
}

pub struct DeviceDeletedHandler;

impl Handler<DeviceDeleted> for DeviceDeletedHandler {
    async fn handle(&self, conn: &mut PgConnection, d: &Delivery<DeviceDeleted>) -> Result<(), HandlerError> {
        let e = &d.event;
        let known = identify(&e.user_id, &e.device_id, e.time.as_ref(), d.time)?;
        project(conn, known, None, true).await
    }
}

/// The disabled state, as the sessions' handler of `devices.v1.disabled` records it.
pub async fn disabled(conn: &mut PgConnection, d: &Delivery<DeviceDisabled>) -> Result<(), HandlerError> {
    let e = &d.event;
    let known = identify(&e.user_id, &e.device_id, e.time.as_ref(), d.time)?;
    project(conn, known, Some(true), false).await
}
