//! Devices, recovery keys and their rules. No prost, no sqlx, no tonic here.

use chrono::{DateTime, Utc};
use platform::error::{FieldViolation, Violations, violation_reason};
use platform::personal_data::{DataCategory, HeldFor};
use uuid::Uuid;

const MAX_NAME: usize = 256;
const MAX_MAKE: usize = 128;
const MAX_OS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceType {
    Phone,
    Tablet,
    Laptop,
    Desktop,
    Other,
}

impl DeviceType {
    pub const ALL: [DeviceType; 5] = [
        DeviceType::Phone,
        DeviceType::Tablet,
        DeviceType::Laptop,
        DeviceType::Desktop,
        DeviceType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceType::Phone => "phone",
            DeviceType::Tablet => "tablet",
            DeviceType::Laptop => "laptop",
            DeviceType::Desktop => "desktop",
            DeviceType::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinType {
    /// A personal device its owner registered.
    Registered,
    /// Joined to and managed by the organization.
    OrganizationJoined,
}

impl JoinType {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinType::Registered => "registered",
            JoinType::OrganizationJoined => "organization_joined",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [JoinType::Registered, JoinType::OrganizationJoined]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeType {
    OperatingSystem,
    FixedData,
    RemovableData,
}

impl VolumeType {
    pub fn as_str(self) -> &'static str {
        match self {
            VolumeType::OperatingSystem => "operating_system",
            VolumeType::FixedData => "fixed_data",
            VolumeType::RemovableData => "removable_data",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            VolumeType::OperatingSystem,
            VolumeType::FixedData,
            VolumeType::RemovableData,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub display_name: String,
    pub manufacturer: String,
    pub model: String,
    pub operating_system: String,
    pub operating_system_version: String,
    pub device_type: DeviceType,
    pub join_type: JoinType,
    pub organization_id: Option<Uuid>,
    pub registered_at: DateTime<Utc>,
    pub last_activity_at: Option<DateTime<Utc>>,
    pub enabled: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub compliant: bool,
    pub managed: bool,
    pub recovery_key_count: i64,
}

/// The raw fields of a RegisterDevice request, before validation.
#[derive(Debug, Clone, Default)]
pub struct NewDeviceInput {
    pub display_name: String,
    pub manufacturer: String,
    pub model: String,
    pub operating_system: String,
    pub operating_system_version: String,
    /// `None` when unspecified or unknown.
    pub device_type: Option<DeviceType>,
    /// `None` means a personal device.
    pub join_type: Option<JoinType>,
    pub owner_user_id: String,
    pub organization_id: String,
    pub compliant: bool,
}

/// A validated device registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    pub owner_id: Uuid,
    pub display_name: String,
    pub manufacturer: String,
    pub model: String,
    pub operating_system: String,
    pub operating_system_version: String,
    pub device_type: DeviceType,
    pub join_type: JoinType,
    pub organization_id: Option<Uuid>,
    pub compliant: bool,
    pub managed: bool,
}

impl NewDeviceInput {
    pub fn join_type(&self) -> JoinType {
        self.join_type.unwrap_or(JoinType::Registered)
    }

    /// Checks every field; a personal device belongs to `caller`, an organization-joined one to
    /// the user the admin names.
    pub fn validate(self, caller: Uuid) -> Result<NewDevice, Vec<FieldViolation>> {
        let mut v = Violations::new();
        let join_type = self.join_type();
        let display_name = validate_display_name(&self.display_name, &mut v);
        let manufacturer = self.manufacturer.trim().to_owned();
        v.text("manufacturer", &manufacturer, MAX_MAKE);
        let model = self.model.trim().to_owned();
        v.text("model", &model, MAX_MAKE);
        let operating_system = self.operating_system.trim().to_owned();
        v.text("operating_system", &operating_system, MAX_OS);
        let operating_system_version = self.operating_system_version.trim().to_owned();
        v.text("operating_system_version", &operating_system_version, MAX_OS);
        if self.device_type.is_none() {
            v.add_with_reason(
                "device_type",
                violation_reason::UNKNOWN_VALUE,
                format!("must be one of {}", DeviceType::ALL.map(DeviceType::as_str).join(", ")),
            );
        }
        let mut owner_id = Some(caller);
        let mut organization_id = None;
        match join_type {
            JoinType::Registered => {
                if !self.owner_user_id.trim().is_empty() {
                    v.add_with_reason(
                        "owner_user_id",
                        violation_reason::NOT_ALLOWED,
                        "only for organization-joined devices; a personal device is the caller's",
                    );
                }
                if !self.organization_id.trim().is_empty() {
                    v.add_with_reason(
                        "organization_id",
                        violation_reason::NOT_ALLOWED,
                        "only for organization-joined devices",
                    );
                }
                if self.compliant {
                    v.add_with_reason(
                        "compliant",
                        violation_reason::NOT_ALLOWED,
                        "only the organization vouches for a device's compliance",
                    );
                }
            }
            JoinType::OrganizationJoined => {
                owner_id = match self.owner_user_id.trim() {
                    "" => {
                        v.add_with_reason(
                            "owner_user_id",
                            violation_reason::REQUIRED,
                            "is required for an organization-joined device",
                        );
                        None
                    }
                    raw => v.id("owner_user_id", raw),
                };
                organization_id = match self.organization_id.trim() {
                    "" => None,
                    raw => v.id("organization_id", raw),
                };
            }
        }
        v.into_result()?;
        match (owner_id, self.device_type) {
            (Some(owner_id), Some(device_type)) => Ok(NewDevice {
                owner_id,
                display_name,
                manufacturer,
                model,
                operating_system,
                operating_system_version,
                device_type,
                join_type,
                organization_id,
                compliant: join_type == JoinType::OrganizationJoined && self.compliant,
                managed: join_type == JoinType::OrganizationJoined,
            }),
            _ => Err(vec![FieldViolation {
                field: "device_type".into(),
                description: "is required".into(),
                reason: violation_reason::REQUIRED.into(),
            }]),
        }
    }
}

/// A display name: required, trimmed, at most 256 characters, no control characters.
pub fn validate_display_name(raw: &str, v: &mut Violations) -> String {
    let name = raw.trim().to_owned();
    v.required("display_name", &name);
    v.text("display_name", &name, MAX_NAME);
    name
}

/// A recovery key as listed: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryKey {
    pub id: Uuid,
    pub device_id: Uuid,
    pub volume_type: VolumeType,
    pub created_at: DateTime<Utc>,
    pub last_revealed_at: Option<DateTime<Utc>>,
}

/// What devices keeps about one person (ExportMyData): recovery keys without the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalData {
    pub user_id: Uuid,
    pub devices: Vec<Device>,
    pub recovery_keys: Vec<RecoveryKey>,
    pub exported_at: DateTime<Utc>,
}

/// A BitLocker recovery password: 48 digits in 8 blocks of 6, each block a multiple of 11 below
/// 720896 (the checksum that catches typos). Stored as `dddddd-dddddd-…`.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryPassword(String);

impl std::fmt::Debug for RecoveryPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryPassword(…)")
    }
}

impl RecoveryPassword {
    pub fn parse(field: &str, raw: &str, v: &mut Violations) -> Option<Self> {
        let digits: String = raw.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
        let shape_ok = digits.len() == 48 && digits.chars().all(|c| c.is_ascii_digit());
        if raw.trim().is_empty() {
            v.add_with_reason(field, violation_reason::REQUIRED, "is required");
            return None;
        }
        if !shape_ok || raw.chars().count() > 64 {
            v.add_with_reason(
                field,
                violation_reason::INVALID_RECOVERY_KEY,
                "must be 48 digits in 8 blocks of 6, e.g. 111111-222222-…",
            );
            return None;
        }
        let blocks: Vec<&str> = (0..8).map(|i| &digits[i * 6..i * 6 + 6]).collect();
        let checksum_ok = blocks
            .iter()
            .all(|b| b.parse::<u32>().is_ok_and(|n| n % 11 == 0 && n < 720_896));
        if !checksum_ok {
            v.add_with_reason(
                field,
                violation_reason::RECOVERY_KEY_CHECKSUM,
                "is not a valid recovery key (a block fails its checksum); check for typos",
            );
            return None;
        }
        Some(Self(blocks.join("-")))
    }

    /// Only for values this service sealed itself (decrypted from storage).
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// What devices keeps about a person, for the Privacy page.
pub fn personal_data_held() -> Vec<DataCategory> {
    use HeldFor::HomeOrganization;
    vec![
        DataCategory::new(
            "devices",
            "until the device is removed or your account is deleted",
            HomeOrganization,
        ),
        DataCategory::new(
            "BitLocker recovery keys (encrypted)",
            "as long as their device",
            HomeOrganization,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn personal(name: &str) -> NewDeviceInput {
        NewDeviceInput {
            display_name: name.into(),
            device_type: Some(DeviceType::Laptop),
            ..Default::default()
        }
    }

    #[test]
    fn a_personal_device_belongs_to_the_caller_and_is_not_managed() {
        let caller = Uuid::new_v4();
        let device = personal("  Adele's laptop ").validate(caller).unwrap();
        assert_eq!(device.owner_id, caller);
        assert_eq!(device.display_name, "Adele's laptop");
        assert_eq!(device.join_type, JoinType::Registered);
        assert!(!device.managed && !device.compliant);
    }

    #[test]
    fn every_bad_field_is_named() {
        let input = NewDeviceInput {
            display_name: " ".into(),
            model: "m".repeat(200),
            device_type: None,
            owner_user_id: Uuid::new_v4().to_string(),
            compliant: true,
            ..Default::default()
        };
        let fields: Vec<String> = input
            .validate(Uuid::new_v4())
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            ["display_name", "model", "device_type", "owner_user_id", "compliant"]
        );
    }

    #[test]
    fn an_organization_device_names_its_owner() {
        let owner = Uuid::new_v4();
        let input = NewDeviceInput {
            join_type: Some(JoinType::OrganizationJoined),
            owner_user_id: owner.to_string(),
            compliant: true,
            ..personal("CONTOSO-LT-042")
        };
        let device = input.validate(Uuid::new_v4()).unwrap();
        assert_eq!(device.owner_id, owner);
        assert!(device.managed && device.compliant);
        let missing = NewDeviceInput {
            join_type: Some(JoinType::OrganizationJoined),
            ..personal("CONTOSO-LT-042")
        };
        assert_eq!(missing.validate(owner).unwrap_err()[0].field, "owner_user_id");
    }

    #[test]
    fn recovery_passwords_are_checked_and_normalised() {
        let mut v = Violations::new();
        let key =
            RecoveryPassword::parse("key", "111111 222222 333333 444444 555555 666666 000000 010010", &mut v).unwrap();
        assert_eq!(key.expose(), "111111-222222-333333-444444-555555-666666-000000-010010");
        assert!(v.is_empty());
        assert!(
            RecoveryPassword::parse("key", "123456-222222-333333-444444-555555-666666-000000-010010", &mut v).is_none()
        );
        assert!(RecoveryPassword::parse("key", "111111-222222", &mut v).is_none());
        assert!(RecoveryPassword::parse("key", "", &mut v).is_none());
        assert_eq!(v.into_vec().len(), 3);
        assert_eq!(format!("{key:?}"), "RecoveryPassword(…)", "never in logs");
    }
}
