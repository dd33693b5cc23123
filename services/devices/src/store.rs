//! Every SQL statement of the devices service.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::domain::{Device, DeviceType, JoinType, NewDevice, RecoveryKey, VolumeType};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored value {value:?} of {column} is not one this service writes")]
    Corrupt { column: &'static str, value: String },
}

/// In a consumer: a database failure is the infrastructure's (retried for as long as it takes),
/// a corrupt row a failure of the event's own.
impl From<StoreError> for platform::consumer::HandlerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Database(e) => e.into(),
            other => Self::Transient(other.to_string()),
        }
    }
}

const DEVICE_COLUMNS: &str = "d.id, d.owner_id, d.display_name, d.manufacturer, d.model, d.operating_system, \
     d.operating_system_version, d.device_type, d.join_type, d.organization_id, d.registered_at, d.last_activity_at, \
     d.enabled, d.disabled_at, d.compliant, d.managed, \
     (SELECT count(*) FROM recovery_keys k WHERE k.device_id = d.id) AS recovery_key_count";

#[derive(FromRow)]
struct DeviceRow {
    id: Uuid,
    owner_id: Uuid,
    display_name: String,
    manufacturer: String,
    model: String,
    operating_system: String,
    operating_system_version: String,
    device_type: String,
    join_type: String,
    organization_id: Option<Uuid>,
    registered_at: DateTime<Utc>,
    last_activity_at: Option<DateTime<Utc>>,
    enabled: bool,
    disabled_at: Option<DateTime<Utc>>,
    compliant: bool,
    managed: bool,
    recovery_key_count: i64,
}

impl TryFrom<DeviceRow> for Device {
    type Error = StoreError;

    fn try_from(r: DeviceRow) -> Result<Self, StoreError> {
        let device_type = DeviceType::parse(&r.device_type).ok_or_else(|| StoreError::Corrupt {
            column: "device_type",
            value: r.device_type.clone(),
        })?;
        let join_type = JoinType::parse(&r.join_type).ok_or_else(|| StoreError::Corrupt {
            column: "join_type",
            value: r.join_type.clone(),
        })?;
        Ok(Device {
            id: r.id,
            owner_id: r.owner_id,
            display_name: r.display_name,
            manufacturer: r.manufacturer,
            model: r.model,
            operating_system: r.operating_system,
            operating_system_version: r.operating_system_version,
            device_type,
            join_type,
            organization_id: r.organization_id,
            registered_at: r.registered_at,
            last_activity_at: r.last_activity_at,
            enabled: r.enabled,
            disabled_at: r.disabled_at,
            compliant: r.compliant,
            managed: r.managed,
            recovery_key_count: r.recovery_key_count,
        })
    }
}

fn one(row: Option<DeviceRow>) -> Result<Option<Device>, StoreError> {
    row.map(Device::try_from).transpose()
}

pub async fn insert_device(
    conn: &mut PgConnection,
    id: Uuid,
    d: &NewDevice,
    now: DateTime<Utc>,
) -> Result<Device, StoreError> {
    sqlx::query(
        "INSERT INTO devices (id, owner_id, display_name, manufacturer, model, operating_system, \
         operating_system_version, device_type, join_type, organization_id, registered_at, compliant, managed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(id)
    .bind(d.owner_id)
    .bind(&d.display_name)
    .bind(&d.manufacturer)
    .bind(&d.model)
    .bind(&d.operating_system)
    .bind(&d.operating_system_version)
    .bind(d.device_type.as_str())
    .bind(d.join_type.as_str())
    .bind(d.organization_id)
    .bind(now)
    .bind(d.compliant)
    .bind(d.managed)
    .execute(&mut *conn)
    .await?;
    device(&mut *conn, id)
        .await?
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
}

/// Any device by id (admin operations).
pub async fn device(conn: &mut PgConnection, id: Uuid) -> Result<Option<Device>, StoreError> {
    let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices d WHERE d.id = $1");
    one(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// The device if `owner_id` owns it; another person's device is indistinguishable from none.
pub async fn device_of(conn: &mut PgConnection, owner_id: Uuid, id: Uuid) -> Result<Option<Device>, StoreError> {
    let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices d WHERE d.id = $1 AND d.owner_id = $2");
    one(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(owner_id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// The owner's devices: most recently active first, never-active ones last (newest first).
pub async fn devices_of(conn: &mut PgConnection, owner_id: Uuid) -> Result<Vec<Device>, StoreError> {
    let sql = format!(
        "SELECT {DEVICE_COLUMNS} FROM devices d WHERE d.owner_id = $1 \
         ORDER BY d.last_activity_at DESC NULLS LAST, d.registered_at DESC, d.id DESC"
    );
    let rows: Vec<DeviceRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(owner_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(Device::try_from).collect()
}

/// Renames an owned device; false when the owner has no such device.
pub async fn rename_device(
    conn: &mut PgConnection,
    owner_id: Uuid,
    id: Uuid,
    display_name: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE devices SET display_name = $3 WHERE id = $1 AND owner_id = $2")
        .bind(id)
        .bind(owner_id)
        .bind(display_name)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes an owned personal device (and its recovery keys); false when there is no such
/// personal device of the owner.
pub async fn delete_personal_device(conn: &mut PgConnection, owner_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM devices WHERE id = $1 AND owner_id = $2 AND join_type = 'registered'")
        .bind(id)
        .bind(owner_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Disables an enabled device; false when it is not (already disabled, or missing).
pub async fn disable_device(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE devices SET enabled = false, disabled_at = $2 WHERE id = $1 AND enabled")
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Enables a disabled device; false when it is not disabled (or missing).
pub async fn enable_device(conn: &mut PgConnection, id: Uuid) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE devices SET enabled = true, disabled_at = NULL WHERE id = $1 AND NOT enabled")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves the device's last activity forward to `at` (never backwards: events may arrive out of
/// order or twice) when the device exists and belongs to `owner_id`. False otherwise.
pub async fn record_activity(
    conn: &mut PgConnection,
    owner_id: Uuid,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE devices SET last_activity_at = GREATEST(COALESCE(last_activity_at, $3), $3) \
         WHERE id = $1 AND owner_id = $2",
    )
    .bind(id)
    .bind(owner_id)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

// --- recovery keys

#[derive(FromRow)]
struct RecoveryKeyRow {
    id: Uuid,
    device_id: Uuid,
    volume_type: String,
    created_at: DateTime<Utc>,
    last_revealed_at: Option<DateTime<Utc>>,
}

impl TryFrom<RecoveryKeyRow> for RecoveryKey {
    type Error = StoreError;

    fn try_from(r: RecoveryKeyRow) -> Result<Self, StoreError> {
        Ok(RecoveryKey {
            volume_type: VolumeType::parse(&r.volume_type).ok_or_else(|| StoreError::Corrupt {
                column: "volume_type",
                value: r.volume_type.clone(),
            })?,
            id: r.id,
            device_id: r.device_id,
            created_at: r.created_at,
            last_revealed_at: r.last_revealed_at,
        })
    }
}

pub async fn insert_recovery_key(
    conn: &mut PgConnection,
    id: Uuid,
    device_id: Uuid,
    volume_type: VolumeType,
    ciphertext: &[u8],
    now: DateTime<Utc>,
) -> Result<RecoveryKey, StoreError> {
    let row: RecoveryKeyRow = sqlx::query_as(
        "INSERT INTO recovery_keys (id, device_id, volume_type, ciphertext, created_at) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id, device_id, volume_type, created_at, last_revealed_at",
    )
    .bind(id)
    .bind(device_id)
    .bind(volume_type.as_str())
    .bind(ciphertext)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    row.try_into()
}

/// The device's recovery keys, newest first, without the keys.
pub async fn recovery_keys_of(conn: &mut PgConnection, device_id: Uuid) -> Result<Vec<RecoveryKey>, StoreError> {
    let rows: Vec<RecoveryKeyRow> = sqlx::query_as(
        "SELECT id, device_id, volume_type, created_at, last_revealed_at FROM recovery_keys \
         WHERE device_id = $1 ORDER BY created_at DESC, id DESC",
    )
    .bind(device_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(RecoveryKey::try_from).collect()
}

/// The recovery keys of every device of `owner_id`, newest first, without the keys.
pub async fn recovery_keys_of_owner(conn: &mut PgConnection, owner_id: Uuid) -> Result<Vec<RecoveryKey>, StoreError> {
    let rows: Vec<RecoveryKeyRow> = sqlx::query_as(
        "SELECT k.id, k.device_id, k.volume_type, k.created_at, k.last_revealed_at FROM recovery_keys k \
         JOIN devices d ON d.id = k.device_id WHERE d.owner_id = $1 ORDER BY k.created_at DESC, k.id DESC",
    )
    .bind(owner_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(RecoveryKey::try_from).collect()
}

/// One recovery key of the device with its sealed key.
pub async fn sealed_recovery_key(
    conn: &mut PgConnection,
    device_id: Uuid,
    id: Uuid,
) -> Result<Option<(RecoveryKey, Vec<u8>)>, StoreError> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        key: RecoveryKeyRow,
        ciphertext: Vec<u8>,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, device_id, volume_type, created_at, last_revealed_at, ciphertext FROM recovery_keys \
         WHERE id = $1 AND device_id = $2",
    )
    .bind(id)
    .bind(device_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| Ok((r.key.try_into()?, r.ciphertext))).transpose()
}

pub async fn mark_revealed(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query("UPDATE recovery_keys SET last_revealed_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// --- whose organization a person is in (projection of identity's user_created)

/// Records a person's home organization (`None`: the installation's operator, who has none).
pub async fn remember_person(
    conn: &mut PgConnection,
    user_id: Uuid,
    home_organization_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO people (user_id, home_organization_id, learnt_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET home_organization_id = EXCLUDED.home_organization_id, learnt_at = EXCLUDED.learnt_at",
    )
    .bind(user_id)
    .bind(home_organization_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The person's home organization; `None` when they have none or are not known (yet).
pub async fn home_organization_of(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    let home: Option<Option<Uuid>> = sqlx::query_scalar("SELECT home_organization_id FROM people WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(home.flatten())
}

// --- erasure

/// Erases what is kept about a person: every device they own, personal or organization-joined,
/// with its recovery keys (ON DELETE CASCADE). The platform leaves the tombstone that keeps a
/// registration arriving later from bringing anything back; a later sign-in only ever updates
/// an existing device, so it finds none. Their home organization is forgotten too.
pub struct Erasure;

impl platform::erasure::Erasure for Erasure {
    async fn erase_user(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
        _now: DateTime<Utc>,
    ) -> Result<u64, sqlx::Error> {
        let deleted = sqlx::query("DELETE FROM devices WHERE owner_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        let forgotten = sqlx::query("DELETE FROM people WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        Ok(deleted.rows_affected() + forgotten.rows_affected())
    }
}
