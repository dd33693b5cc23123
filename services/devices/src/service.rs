//! The devices use cases: register, list, rename, delete, disable a lost device, enable it again
//! (admins), and escrow, list and reveal recovery keys. Each change and its event commit together.

use std::time::Duration;

use chrono::Utc;
use platform::auth::Caller;
use platform::crypto::{CryptoError, Keyring};
use platform::error::{ErrorKind, FieldViolation, ServiceError, Violations, violation_reason};
use platform::idempotency::{IdempotencyError, Once};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{
    Device, JoinType, NewDeviceInput, PersonalData, RecoveryKey, RecoveryPassword, VolumeType, validate_display_name,
};
use crate::events;
use crate::store::{self, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum DevicesError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("device {0} not found")]
    DeviceNotFound(Uuid),
    #[error("organization {0} not found")]
    OrganizationNotFound(String),
    #[error("user {0} not found in your organization")]
    PersonNotFound(Uuid),
    #[error("recovery key {0} not found")]
    RecoveryKeyNotFound(Uuid),
    #[error("device {0} is managed by your organization; only the organization can remove it")]
    ManagedByOrganization(Uuid),
    #[error("device {0} is disabled")]
    DeviceDisabled(Uuid),
    #[error("{0}")]
    AdminOnly(String),
    #[error("user {0} has been deleted")]
    OwnerErased(Uuid),
    /// The step-up rule's own message (platform::auth), passed through.
    #[error("{0}")]
    ReauthenticationRequired(String),
    #[error("recovery key sealing failed")]
    Crypto(#[from] CryptoError),
    #[error("storage failed")]
    Store(#[from] StoreError),
    #[error("database failed")]
    Database(#[from] sqlx::Error),
    /// A keyed call: its key refused, or answered before by an attempt that committed first.
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
}

impl ServiceError for DevicesError {
    fn kind(&self) -> ErrorKind {
        match self {
            DevicesError::Invalid(v) => ErrorKind::InvalidArgument(v.clone()),
            DevicesError::DeviceNotFound(_)
            | DevicesError::RecoveryKeyNotFound(_)
            | DevicesError::OrganizationNotFound(_)
            | DevicesError::PersonNotFound(_) => ErrorKind::NotFound(self.to_string()),
            DevicesError::ManagedByOrganization(_) | DevicesError::DeviceDisabled(_) | DevicesError::OwnerErased(_) => {
                ErrorKind::FailedPrecondition(self.to_string())
            }
            DevicesError::AdminOnly(m) => ErrorKind::PermissionDenied(m.clone()),
            DevicesError::ReauthenticationRequired(m) => ErrorKind::ReauthenticationRequired(m.clone()),
            DevicesError::Idempotency(e) => e.kind(),
            DevicesError::Crypto(_) | DevicesError::Store(_) | DevicesError::Database(_) => ErrorKind::Internal,
        }
    }
}

fn admin_only(what: &str) -> DevicesError {
    DevicesError::AdminOnly(format!("{what} needs the {} scope", platform::auth::ADMIN_SCOPE))
}

/// The step-up rule's refusal (platform::auth), as this service's error.
fn step_up(caller: &Caller, max_age: Duration) -> Result<(), DevicesError> {
    caller
        .require_recent_mfa(max_age)
        .map_err(|refusal| DevicesError::ReauthenticationRequired(refusal.message().to_owned()))
}

/// Whether an admin may act on what belongs to `organization` (see `Caller::may_administer`).
/// Nothing known (a person identity has not told us about, with a personal device) is the
/// operator's alone: the empty id matches no tenant admin's organization.
fn administers(caller: &Caller, organization: Option<Uuid>) -> bool {
    caller.may_administer(&organization.map(|o| o.to_string()).unwrap_or_default())
}

pub struct Devices {
    pool: PgPool,
    keyring: Keyring,
    /// How recent a multi-factor sign-in must be to reveal a recovery key or act as an admin.
    step_up_max_age: Duration,
}

impl Devices {
    pub fn new(pool: PgPool, keyring: Keyring, step_up_max_age: Duration) -> Self {
        Self {
            pool,
            keyring,
            step_up_max_age,
        }
    }

    /// Where a keyed call's recorded answer is looked up.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A personal device of the caller, or (admin scope) an organization-joined device of the
    /// user the request names: one of the admin's organization's people, joined to it (naming
    /// no organization means the admin's own). A keyed call (`once`) records its answer with
    /// the device, so the same call sent again registers nothing more.
    pub async fn register(
        &self,
        caller: &Caller,
        mut input: NewDeviceInput,
        once: Option<&Once<'_, Device>>,
    ) -> Result<Device, DevicesError> {
        let organization_joined = input.join_type() == JoinType::OrganizationJoined;
        if organization_joined {
            if !caller.is_admin() {
                return Err(admin_only("registering an organization-joined device"));
            }
            if input.organization_id.trim().is_empty()
                && let Some(own) = caller.organization_id.as_deref().filter(|o| !o.is_empty())
            {
                input.organization_id = own.to_owned();
            }
        }
        let requested_organization = input.organization_id.trim().to_owned();
        let new = input.validate(caller.user_id).map_err(DevicesError::Invalid)?;
        if organization_joined {
            if !administers(caller, new.organization_id) {
                return Err(DevicesError::OrganizationNotFound(requested_organization));
            }
            let mut conn = self.pool.acquire().await?;
            let home = store::home_organization_of(&mut conn, new.owner_id).await?;
            // The operator (no organization) may enrol anyone; an organization's admin only
            // its own people.
            if caller.organization_id.as_deref().is_some_and(|o| !o.is_empty()) && !administers(caller, home) {
                return Err(DevicesError::PersonNotFound(new.owner_id));
            }
            drop(conn);
            step_up(caller, self.step_up_max_age)?;
        }
        let mut tx = self.pool.begin().await?;
        // An admin's enrolment, or an access token that outlives the account, may come after the
        // erasure: it must not bring a device back.
        if platform::erasure::is_erased(&mut tx, new.owner_id).await? {
            return Err(DevicesError::OwnerErased(new.owner_id));
        }
        let device = store::insert_device(&mut tx, Uuid::now_v7(), &new, Utc::now()).await?;
        events::registered(&mut tx, &device, caller.user_id).await?;
        let device = Ok::<_, DevicesError>(device);
        if let Some(once) = once {
            once.record(&mut tx, &device).await?;
        }
        let device = device?;
        tx.commit().await?;
        tracing::info!(device_id = %device.id, join_type = device.join_type.as_str(), "device registered");
        Ok(device)
    }

    pub async fn list_mine(&self, caller: &Caller) -> Result<Vec<Device>, DevicesError> {
        let mut conn = self.pool.acquire().await?;
        Ok(store::devices_of(&mut conn, caller.user_id).await?)
    }

    pub async fn get_mine(&self, caller: &Caller, id: Uuid) -> Result<Device, DevicesError> {
        let mut conn = self.pool.acquire().await?;
        mine(&mut conn, caller, id).await
    }

    pub async fn rename_mine(&self, caller: &Caller, id: Uuid, display_name: &str) -> Result<Device, DevicesError> {
        let mut v = Violations::new();
        let name = validate_display_name(display_name, &mut v);
        v.into_result().map_err(DevicesError::Invalid)?;
        let mut tx = self.pool.begin().await?;
        if !store::rename_device(&mut tx, caller.user_id, id, &name).await? {
            return Err(DevicesError::DeviceNotFound(id));
        }
        let device = store::device(&mut tx, id)
            .await?
            .ok_or(DevicesError::DeviceNotFound(id))?;
        events::renamed(&mut tx, &device, Utc::now()).await?;
        tx.commit().await?;
        Ok(device)
    }

    /// Removes a personal device and its recovery keys. Organization-joined devices stay.
    pub async fn delete_mine(&self, caller: &Caller, id: Uuid) -> Result<(), DevicesError> {
        let mut tx = self.pool.begin().await?;
        if !store::delete_personal_device(&mut tx, caller.user_id, id).await? {
            return Err(match store::device_of(&mut tx, caller.user_id, id).await? {
                Some(_) => DevicesError::ManagedByOrganization(id),
                None => DevicesError::DeviceNotFound(id),
            });
        }
        events::deleted(&mut tx, caller.user_id, id, Utc::now()).await?;
        tx.commit().await?;
        tracing::info!(device_id = %id, "device deleted");
        Ok(())
    }

    /// Disables a lost device: `devices.v1.disabled` makes identity end its sessions. Disabling
    /// a disabled device changes nothing. Only an admin enables it again.
    pub async fn disable_mine(&self, caller: &Caller, id: Uuid) -> Result<Device, DevicesError> {
        let mut tx = self.pool.begin().await?;
        let Some(device) = store::device_of(&mut tx, caller.user_id, id).await? else {
            return Err(DevicesError::DeviceNotFound(id));
        };
        let now = Utc::now();
        if !store::disable_device(&mut tx, id, now).await? {
            return Ok(device);
        }
        let device = store::device(&mut tx, id)
            .await?
            .ok_or(DevicesError::DeviceNotFound(id))?;
        events::disabled(&mut tx, &device, caller.user_id, caller.session_id, now).await?;
        tx.commit().await?;
        tracing::info!(device_id = %id, "device disabled by its owner");
        Ok(device)
    }

    /// Admin: enables a disabled device of the admin's organization (the sessions it lost stay
    /// ended).
    pub async fn enable(&self, caller: &Caller, id: Uuid) -> Result<Device, DevicesError> {
        if !caller.is_admin() {
            return Err(admin_only("enabling a device"));
        }
        let mut tx = self.pool.begin().await?;
        self.administered(&mut tx, caller, id).await?;
        let enabled = store::enable_device(&mut tx, id).await?;
        let device = store::device(&mut tx, id)
            .await?
            .ok_or(DevicesError::DeviceNotFound(id))?;
        if enabled {
            events::enabled(&mut tx, &device, caller.user_id, Utc::now()).await?;
            tx.commit().await?;
            tracing::info!(device_id = %id, "device enabled by an admin");
        }
        Ok(device)
    }

    /// A device an admin acts on: NOT_FOUND unless it belongs to the admin's organization (an
    /// organization-joined device's own, otherwise its owner's home organization), then the
    /// admin step-up, so nobody is sent to sign in again for a device they may not touch.
    async fn administered(&self, conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<Device, DevicesError> {
        let device = store::device(conn, id).await?.ok_or(DevicesError::DeviceNotFound(id))?;
        let organization = match device.organization_id {
            Some(organization) => Some(organization),
            None => store::home_organization_of(conn, device.owner_id).await?,
        };
        if !administers(caller, organization) {
            return Err(DevicesError::DeviceNotFound(id));
        }
        step_up(caller, self.step_up_max_age)?;
        Ok(device)
    }

    /// Escrows a recovery key, sealed at rest: the owner for their own enabled device, an admin
    /// for a device of their organization.
    pub async fn add_recovery_key(
        &self,
        caller: &Caller,
        device_id: Uuid,
        volume_type: Option<VolumeType>,
        key: &str,
    ) -> Result<RecoveryKey, DevicesError> {
        let mut conn = self.pool.acquire().await?;
        let own = store::device_of(&mut conn, caller.user_id, device_id).await?;
        let as_admin = own.is_none() && caller.is_admin();
        let device = match own {
            Some(device) => device,
            None if as_admin => self.administered(&mut conn, caller, device_id).await?,
            None => return Err(DevicesError::DeviceNotFound(device_id)),
        };
        drop(conn);
        let mut v = Violations::new();
        if volume_type.is_none() {
            v.add_with_reason(
                "volume_type",
                violation_reason::UNKNOWN_VALUE,
                "must be operating_system, fixed_data or removable_data",
            );
        }
        let password = RecoveryPassword::parse("key", key, &mut v);
        v.into_result().map_err(DevicesError::Invalid)?;
        let (Some(volume_type), Some(password)) = (volume_type, password) else {
            return Err(DevicesError::Invalid(Vec::new()));
        };
        if !device.enabled && !as_admin {
            return Err(DevicesError::DeviceDisabled(device_id));
        }
        let id = Uuid::now_v7();
        let sealed = self.keyring.encrypt(password.expose().as_bytes(), id.as_bytes())?;
        let mut tx = self.pool.begin().await?;
        let key = store::insert_recovery_key(&mut tx, id, device_id, volume_type, &sealed, Utc::now()).await?;
        events::recovery_key_added(&mut tx, &device, &key, caller.user_id).await?;
        tx.commit().await?;
        Ok(key)
    }

    /// Key ids and dates of the caller's device's recovery keys; never the keys.
    pub async fn list_recovery_keys(&self, caller: &Caller, device_id: Uuid) -> Result<Vec<RecoveryKey>, DevicesError> {
        let mut conn = self.pool.acquire().await?;
        mine(&mut conn, caller, device_id).await?;
        Ok(store::recovery_keys_of(&mut conn, device_id).await?)
    }

    /// Reveals a recovery key of the caller's device. Needs a recent multi-factor sign-in; a
    /// refused attempt is published (`recovery_key_view_denied`) just as a reveal is
    /// (`recovery_key_viewed`), so the activity log and admins see both.
    pub async fn reveal_recovery_key(
        &self,
        caller: &Caller,
        device_id: Uuid,
        key_id: Uuid,
    ) -> Result<(RecoveryKey, RecoveryPassword), DevicesError> {
        let mut conn = self.pool.acquire().await?;
        let device = mine(&mut conn, caller, device_id).await?;
        let (key, sealed) = store::sealed_recovery_key(&mut conn, device_id, key_id)
            .await?
            .ok_or(DevicesError::RecoveryKeyNotFound(key_id))?;
        // Released before the transactions below take their own.
        drop(conn);
        let now = Utc::now();
        if let Err(refusal) = caller.require_recent_mfa(self.step_up_max_age) {
            let mut tx = self.pool.begin().await?;
            events::recovery_key_view_denied(&mut tx, &device, &key, caller.session_id, now).await?;
            tx.commit().await?;
            tracing::info!(device_id = %device_id, recovery_key_id = %key_id, "recovery key reveal refused: step-up needed");
            return Err(DevicesError::ReauthenticationRequired(refusal.message().to_owned()));
        }
        let plain = self.keyring.decrypt(&sealed, key_id.as_bytes())?;
        let password = RecoveryPassword::from_stored(String::from_utf8(plain).map_err(|_| CryptoError::Malformed)?);
        let mut tx = self.pool.begin().await?;
        store::mark_revealed(&mut tx, key_id, now).await?;
        events::recovery_key_viewed(&mut tx, &device, &key, caller.session_id, now).await?;
        tx.commit().await?;
        tracing::info!(device_id = %device_id, recovery_key_id = %key_id, "recovery key revealed");
        let key = RecoveryKey {
            last_revealed_at: Some(now),
            ..key
        };
        Ok((key, password))
    }

    /// Everything kept about the person (ExportMyData): their devices, and their recovery keys'
    /// ids and dates, never a key.
    pub async fn export(&self, user_id: Uuid) -> Result<PersonalData, DevicesError> {
        let mut tx = self.pool.begin().await?;
        let devices = store::devices_of(&mut tx, user_id).await?;
        let recovery_keys = store::recovery_keys_of_owner(&mut tx, user_id).await?;
        tx.commit().await?;
        Ok(PersonalData {
            user_id,
            devices,
            recovery_keys,
            exported_at: Utc::now(),
        })
    }
}

/// The caller's own device; another person's is "not found".
async fn mine(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<Device, DevicesError> {
    store::device_of(conn, caller.user_id, id)
        .await?
        .ok_or(DevicesError::DeviceNotFound(id))
}
