//! The JSON shapes of the API (lowerCamelCase, RFC 3339 UTC timestamps, string ids) and their
//! conversion from the services' messages. Request bodies that carry a secret (a password, a
//! code, a token, a recovery key) do not derive `Debug`: a debug print is one log line from a leak.

use chrono::{DateTime, SecondsFormat, Utc};
use myaccount_proto::identity::v1 as identity;
use myaccount_proto::organizations::v1 as organizations;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn rfc3339(t: Option<&prost_types::Timestamp>) -> Option<String> {
    let t = t?;
    DateTime::<Utc>::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Millis, true))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SignInBody {
    pub username: String,
    pub password: String,
    /// Sign in to this guest organization instead of the home organization.
    #[serde(default)]
    pub organization_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub token_type: String,
}

impl From<identity::TokenSet> for Tokens {
    fn from(t: identity::TokenSet) -> Self {
        Self {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            expires_in: t.expires_in,
            token_type: t.token_type,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: String,
    pub given_name: String,
    pub surname: String,
    pub job_title: String,
    pub department: String,
    pub office_location: String,
    pub mobile_phone: String,
    pub business_phone: String,
    pub mail: String,
    /// The display language, a BCP 47 tag (`de`, `fr-CA`); empty: the browser's.
    pub preferred_language: String,
    /// How dates, times and numbers are written, a BCP 47 tag (`de-CH`); empty: as the display
    /// language writes them.
    pub regional_format: String,
    /// The IANA time zone dates and times are shown in (`Europe/Berlin`); empty: the device's.
    pub time_zone: String,
    pub home_organization_id: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// Which of these fields the person may change (the rest belong to the organization), as
    /// identity says.
    pub editable_fields: Vec<String>,
}

impl From<identity::Profile> for Profile {
    fn from(p: identity::Profile) -> Self {
        Self {
            created_at: rfc3339(p.created_at.as_ref()),
            updated_at: rfc3339(p.updated_at.as_ref()),
            id: p.id,
            user_principal_name: p.user_principal_name,
            display_name: p.display_name,
            given_name: p.given_name,
            surname: p.surname,
            job_title: p.job_title,
            department: p.department,
            office_location: p.office_location,
            mobile_phone: p.mobile_phone,
            business_phone: p.business_phone,
            mail: p.mail,
            preferred_language: p.preferred_language,
            regional_format: p.regional_format,
            time_zone: p.time_zone,
            home_organization_id: p.home_organization_id,
            editable_fields: p.editable_fields.iter().map(|field| camel(field)).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct List<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// One section of the overview: its data, or a marker that its service did not answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Section<T> {
    Available(T),
    Unavailable { status: &'static str },
}

impl<T> Section<T> {
    pub fn unavailable() -> Self {
        Section::Unavailable { status: "unavailable" }
    }
}

// --- organizations

/// How a membership or invitation shows an organization this service has not heard of yet.
pub const UNKNOWN_ORGANIZATION: &str = "unknown organization";

/// What a member or invitee is told about an organization's handling of their data.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationPrivacy {
    pub statement_url: Option<String>,
    pub contact_email: Option<String>,
}

/// An organization's terms of use: where to read them and their current version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TermsOfUse {
    pub url: String,
    /// The version members accept ("2026-11", "3").
    pub version: String,
}

impl TermsOfUse {
    /// The terms, when the organization has them (the service sets URL and version together).
    fn of(o: &organizations::Organization) -> Option<Self> {
        (!o.terms_of_use_url.is_empty() && !o.terms_of_use_version.is_empty()).then(|| Self {
            url: o.terms_of_use_url.clone(),
            version: o.terms_of_use_version.clone(),
        })
    }
}

/// An organization as its members and invitees see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationDetails {
    pub id: String,
    pub display_name: String,
    /// False while the organization is named (by identity) but not created yet.
    pub known: bool,
    pub verified_domains: Vec<String>,
    pub privacy: OrganizationPrivacy,
    pub technical_contact_email: Option<String>,
    pub mfa_required: bool,
    pub sign_in_retention_days: Option<i32>,
    /// Members whose home organization this is may delete their own account.
    pub allow_self_deletion: bool,
    /// Absent when the organization has no terms of use.
    pub terms_of_use: Option<TermsOfUse>,
}

fn non_empty(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

impl OrganizationDetails {
    fn of(id: String, o: Option<organizations::Organization>) -> Self {
        match o {
            Some(o) => Self {
                terms_of_use: TermsOfUse::of(&o),
                id,
                display_name: o.display_name,
                known: true,
                verified_domains: o.verified_domains,
                privacy: OrganizationPrivacy {
                    statement_url: non_empty(o.privacy_statement_url),
                    contact_email: non_empty(o.privacy_contact_email),
                },
                technical_contact_email: non_empty(o.technical_contact_email),
                mfa_required: o.mfa_required,
                sign_in_retention_days: Some(o.sign_in_retention_days),
                allow_self_deletion: o.allow_self_deletion,
            },
            None => Self {
                id,
                display_name: UNKNOWN_ORGANIZATION.into(),
                known: false,
                verified_domains: Vec::new(),
                privacy: OrganizationPrivacy {
                    statement_url: None,
                    contact_email: None,
                },
                technical_contact_email: None,
                mfa_required: false,
                sign_in_retention_days: None,
                allow_self_deletion: false,
                terms_of_use: None,
            },
        }
    }
}

/// One of my organizations: home or guest, with the organization's privacy details.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MyOrganization {
    #[serde(flatten)]
    pub organization: OrganizationDetails,
    /// `home` or `guest`.
    pub kind: &'static str,
    pub joined_at: Option<String>,
    /// Who invited me (guest memberships), by user principal name when known.
    pub invited_by: Option<String>,
    pub can_leave: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cannot_leave_reason: Option<String>,
    /// The version of the organization's terms of use I accepted last, and when (absent when I
    /// never accepted any).
    pub accepted_terms_version: Option<String>,
    pub terms_accepted_at: Option<String>,
    /// Whether I accepted the current version of the terms (false when there are none).
    pub accepted_current_terms: bool,
}

fn membership_kind(kind: i32) -> &'static str {
    match organizations::MembershipKind::try_from(kind) {
        Ok(organizations::MembershipKind::Home) => "home",
        _ => "guest",
    }
}

impl From<organizations::MyOrganization> for MyOrganization {
    fn from(m: organizations::MyOrganization) -> Self {
        Self {
            kind: membership_kind(m.kind),
            joined_at: rfc3339(m.joined_at.as_ref()),
            invited_by: non_empty(m.invited_by_user_principal_name).or(non_empty(m.invited_by)),
            can_leave: m.can_leave,
            cannot_leave_reason: non_empty(m.cannot_leave_reason),
            accepted_terms_version: non_empty(m.accepted_terms_version),
            terms_accepted_at: rfc3339(m.terms_accepted_at.as_ref()),
            accepted_current_terms: m.accepted_current_terms,
            organization: OrganizationDetails::of(m.organization_id, m.organization),
        }
    }
}

/// The version of an organization's terms of use I was shown and accept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AcceptTermsBody {
    pub version: String,
}

/// An invitation to become a guest of an organization.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub id: String,
    pub organization: OrganizationDetails,
    /// `pending`, `accepted` or `declined`.
    pub status: &'static str,
    pub created_at: Option<String>,
    pub responded_at: Option<String>,
}

impl From<organizations::Invitation> for Invitation {
    fn from(i: organizations::Invitation) -> Self {
        Self {
            organization: OrganizationDetails::of(i.organization_id, i.organization),
            status: match organizations::InvitationStatus::try_from(i.status) {
                Ok(organizations::InvitationStatus::Accepted) => "accepted",
                Ok(organizations::InvitationStatus::Declined) => "declined",
                _ => "pending",
            },
            created_at: rfc3339(i.created_at.as_ref()),
            responded_at: rfc3339(i.responded_at.as_ref()),
            id: i.id,
        }
    }
}

/// The overview's organizations section: my home organization and how many others.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationsOverview {
    pub home: Option<OrganizationName>,
    pub guest_count: usize,
    pub pending_invitation_count: i32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationName {
    pub id: String,
    pub display_name: String,
}

impl From<organizations::ListMyOrganizationsResponse> for OrganizationsOverview {
    fn from(r: organizations::ListMyOrganizationsResponse) -> Self {
        let (home, guests): (Vec<_>, Vec<_>) = r
            .organizations
            .into_iter()
            .partition(|o| o.kind == organizations::MembershipKind::Home as i32);
        Self {
            home: home.into_iter().next().map(|o| OrganizationName {
                display_name: o
                    .organization
                    .map(|o| o.display_name)
                    .unwrap_or_else(|| UNKNOWN_ORGANIZATION.into()),
                id: o.organization_id,
            }),
            guest_count: guests.len(),
            pending_invitation_count: r.pending_invitation_count,
        }
    }
}

// --- devices and sessions

/// `2025-11-25T08:00:00.000Z`, or nothing for an unset timestamp.
fn optional_time(t: Option<&prost_types::Timestamp>) -> Option<String> {
    rfc3339(t)
}

fn some_text(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

pub fn device_type_name(t: i32) -> &'static str {
    use myaccount_proto::devices::v1::DeviceType;
    match DeviceType::try_from(t) {
        Ok(DeviceType::Phone) => "phone",
        Ok(DeviceType::Tablet) => "tablet",
        Ok(DeviceType::Laptop) => "laptop",
        Ok(DeviceType::Desktop) => "desktop",
        _ => "other",
    }
}

/// `phone`, `tablet`, `laptop`, `desktop`, `other`; anything else is left for the service to
/// refuse by name.
pub fn device_type_value(name: &str) -> i32 {
    use myaccount_proto::devices::v1::DeviceType;
    match name {
        "phone" => DeviceType::Phone,
        "tablet" => DeviceType::Tablet,
        "laptop" => DeviceType::Laptop,
        "desktop" => DeviceType::Desktop,
        "other" => DeviceType::Other,
        _ => DeviceType::Unspecified,
    }
    .into()
}

pub fn volume_type_name(t: i32) -> &'static str {
    use myaccount_proto::devices::v1::VolumeType;
    match VolumeType::try_from(t) {
        Ok(VolumeType::OperatingSystem) => "operating_system",
        Ok(VolumeType::FixedData) => "fixed_data",
        Ok(VolumeType::RemovableData) => "removable_data",
        _ => "unknown",
    }
}

pub fn volume_type_value(name: &str) -> i32 {
    use myaccount_proto::devices::v1::VolumeType;
    match name {
        "operating_system" => VolumeType::OperatingSystem,
        "fixed_data" => VolumeType::FixedData,
        "removable_data" => VolumeType::RemovableData,
        _ => VolumeType::Unspecified,
    }
    .into()
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub id: String,
    pub display_name: String,
    pub manufacturer: String,
    pub model: String,
    pub operating_system: String,
    pub operating_system_version: String,
    /// `phone`, `tablet`, `laptop`, `desktop` or `other`.
    pub device_type: &'static str,
    /// `registered` (personal) or `organization_joined`.
    pub join_type: &'static str,
    pub organization_id: Option<String>,
    pub registered_at: Option<String>,
    /// From sign-ins made on this device; null until the first one.
    pub last_activity_at: Option<String>,
    pub enabled: bool,
    pub disabled_at: Option<String>,
    pub compliant: bool,
    pub managed: bool,
    pub recovery_key_count: i32,
}

impl From<myaccount_proto::devices::v1::Device> for Device {
    fn from(d: myaccount_proto::devices::v1::Device) -> Self {
        use myaccount_proto::devices::v1::JoinType;
        Self {
            device_type: device_type_name(d.device_type),
            join_type: match JoinType::try_from(d.join_type) {
                Ok(JoinType::OrganizationJoined) => "organization_joined",
                _ => "registered",
            },
            organization_id: some_text(d.organization_id),
            registered_at: optional_time(d.registered_at.as_ref()),
            last_activity_at: optional_time(d.last_activity_at.as_ref()),
            disabled_at: optional_time(d.disabled_at.as_ref()),
            id: d.id,
            display_name: d.display_name,
            manufacturer: d.manufacturer,
            model: d.model,
            operating_system: d.operating_system,
            operating_system_version: d.operating_system_version,
            enabled: d.enabled,
            compliant: d.compliant,
            managed: d.managed,
            recovery_key_count: d.recovery_key_count,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub created_at: Option<String>,
    pub last_activity_at: Option<String>,
    pub ip_address: String,
    /// Approximate location; null while no geolocation source is configured.
    pub location: Option<String>,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub operating_system: Option<String>,
    pub operating_system_version: Option<String>,
    /// `pc`, `smartphone`, `mobilephone`, `appliance`, `crawler`, `misc`.
    pub device_category: Option<String>,
    pub device_id: Option<String>,
    /// The session of this request's access token.
    pub current: bool,
    pub authentication_methods: Vec<String>,
}

impl From<identity::Session> for Session {
    fn from(s: identity::Session) -> Self {
        Self {
            created_at: optional_time(s.created_at.as_ref()),
            last_activity_at: optional_time(s.last_activity_at.as_ref()),
            location: some_text(s.location),
            browser: some_text(s.browser),
            browser_version: some_text(s.browser_version),
            operating_system: some_text(s.operating_system),
            operating_system_version: some_text(s.operating_system_version),
            device_category: some_text(s.device_category),
            device_id: some_text(s.device_id),
            id: s.id,
            ip_address: s.ip_address,
            current: s.current,
            authentication_methods: s.authentication_methods,
        }
    }
}

/// A registered device with the sessions signed in on it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceWithSessions {
    #[serde(flatten)]
    pub device: Device,
    pub sessions: Vec<Session>,
}

/// Sessions on devices that are not registered, grouped by browser and operating system.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnregisteredDevice {
    pub browser: Option<String>,
    pub operating_system: Option<String>,
    pub sessions: Vec<Session>,
}

/// `GET /me/devices`: every registered device with its sessions, then the sessions on
/// unregistered devices.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DevicesView {
    pub items: Vec<DeviceWithSessions>,
    pub unregistered_devices: Vec<UnregisteredDevice>,
    /// Present when the person has more sessions than the page joined here: the `pageToken`
    /// of `GET /me/sessions` that lists the older ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions_next_page_token: Option<String>,
}

impl DevicesView {
    /// Joins the devices service's devices with identity's sessions. Sessions come most recently
    /// used first, and stay in that order within each device and group; groups are ordered by
    /// their most recent session.
    pub fn join(devices: Vec<myaccount_proto::devices::v1::Device>, sessions: Vec<identity::Session>) -> Self {
        let sessions: Vec<Session> = sessions.into_iter().map(Session::from).collect();
        let items: Vec<DeviceWithSessions> = devices
            .into_iter()
            .map(|d| {
                let on_it = sessions
                    .iter()
                    .filter(|s| s.device_id.as_deref() == Some(d.id.as_str()))
                    .cloned()
                    .collect();
                DeviceWithSessions {
                    device: d.into(),
                    sessions: on_it,
                }
            })
            .collect();
        let mut unregistered_devices: Vec<UnregisteredDevice> = Vec::new();
        for s in sessions {
            let registered = s
                .device_id
                .as_deref()
                .is_some_and(|id| items.iter().any(|d| d.device.id == id));
            if registered {
                continue;
            }
            match unregistered_devices
                .iter_mut()
                .find(|g| g.browser == s.browser && g.operating_system == s.operating_system)
            {
                Some(group) => group.sessions.push(s),
                None => unregistered_devices.push(UnregisteredDevice {
                    browser: s.browser.clone(),
                    operating_system: s.operating_system.clone(),
                    sessions: vec![s],
                }),
            }
        }
        Self {
            items,
            unregistered_devices,
            sessions_next_page_token: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegisterDeviceBody {
    pub display_name: String,
    pub device_type: String,
    #[serde(default)]
    pub manufacturer: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub operating_system: String,
    #[serde(default)]
    pub operating_system_version: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RenameDeviceBody {
    pub display_name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AddRecoveryKeyBody {
    /// `operating_system`, `fixed_data` or `removable_data`.
    pub volume_type: String,
    pub key: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryKey {
    pub id: String,
    pub device_id: String,
    pub volume_type: &'static str,
    pub created_at: Option<String>,
    pub last_revealed_at: Option<String>,
}

impl From<myaccount_proto::devices::v1::RecoveryKey> for RecoveryKey {
    fn from(k: myaccount_proto::devices::v1::RecoveryKey) -> Self {
        Self {
            volume_type: volume_type_name(k.volume_type),
            created_at: optional_time(k.created_at.as_ref()),
            last_revealed_at: optional_time(k.last_revealed_at.as_ref()),
            id: k.id,
            device_id: k.device_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevealedRecoveryKey {
    #[serde(flatten)]
    pub recovery_key: RecoveryKey,
    pub key: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokedSessions {
    pub revoked_count: i32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChangePasswordBody {
    pub current_password: String,
    pub new_password: String,
    /// End every other session (this one stays signed in).
    #[serde(default)]
    pub end_other_sessions: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChanged {
    pub other_sessions_ended: i32,
}

/// The overview's devices section.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DevicesOverview {
    pub count: usize,
    /// The most recent activity of any of my devices; null when none has signed in yet.
    pub newest_activity_at: Option<String>,
}

impl From<myaccount_proto::devices::v1::ListMyDevicesResponse> for DevicesOverview {
    fn from(r: myaccount_proto::devices::v1::ListMyDevicesResponse) -> Self {
        let newest = r
            .devices
            .iter()
            .filter_map(|d| d.last_activity_at.as_ref())
            .max_by_key(|t| (t.seconds, t.nanos));
        Self {
            count: r.devices.len(),
            newest_activity_at: optional_time(newest),
        }
    }
}

// --- security info and multi-factor sign-in

use myaccount_proto::securityinfo::v1 as security_info;

/// What sign-in (and step-up) answers: tokens (or, with `X-MyAccount-Session: cookie`, the
/// session cookies and `signedIn`), or the step that is due first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SignInAnswer {
    Tokens(Tokens),
    SignedIn(SignedIn),
    MfaRequired(MfaRequired),
    PasswordChangeRequired(PasswordChangeRequired),
    MfaRegistrationRequired(MfaRegistrationRequired),
}

/// "More information required": the organization requires multi-factor authentication and the
/// person has no second factor. The token is the bearer of `POST /me/security-info/methods`
/// and `.../methods/{id}/verify` only (every other operation answers 401 with it);
/// `POST /auth/mfa-registration/complete` then finishes the sign-in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MfaRegistrationRequired {
    /// Always true: tells the answers apart.
    pub mfa_registration_required: bool,
    pub registration_token: String,
    pub expires_at: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MfaRegistrationCompleteBody {
    pub registration_token: String,
}

/// Answer of a cookie sign-in: the tokens are in the session cookie, not in the body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedIn {
    /// Always true.
    pub signed_in: bool,
    /// Seconds until the access token expires (the gateway refreshes it by itself).
    pub expires_in: i64,
}

/// The sign-in was proven but a new password is due first; `POST /auth/new-password` with the
/// ticket finishes it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChangeRequired {
    /// Always true: tells the answers apart.
    pub password_change_required: bool,
    pub change_ticket: String,
    pub expires_at: Option<String>,
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewPasswordBody {
    pub change_ticket: String,
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MfaRequired {
    /// Always true: tells the two answers apart.
    pub mfa_required: bool,
    pub challenge_id: String,
    pub methods: Vec<MfaMethod>,
    pub expires_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MfaMethod {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub label: String,
    pub is_default: bool,
}

impl SignInAnswer {
    /// `None` when identity answered neither tokens nor a challenge.
    pub fn from_response(r: identity::SignInResponse) -> Option<Self> {
        match r.result? {
            identity::sign_in_response::Result::Tokens(t) => Some(SignInAnswer::Tokens(t.into())),
            identity::sign_in_response::Result::MfaRequired(c) => Some(SignInAnswer::MfaRequired(MfaRequired {
                mfa_required: true,
                expires_at: rfc3339(c.expires_at.as_ref()),
                challenge_id: c.challenge_id,
                methods: c
                    .methods
                    .into_iter()
                    .map(|m| MfaMethod {
                        id: m.method_id,
                        kind: camel(&m.r#type),
                        label: m.label,
                        is_default: m.is_default,
                    })
                    .collect(),
            })),
            identity::sign_in_response::Result::PasswordChangeRequired(p) => {
                Some(SignInAnswer::PasswordChangeRequired(PasswordChangeRequired {
                    password_change_required: true,
                    expires_at: rfc3339(p.expires_at.as_ref()),
                    change_ticket: p.change_ticket,
                    reason: p.reason,
                }))
            }
            identity::sign_in_response::Result::MfaRegistrationRequired(r) => {
                Some(SignInAnswer::MfaRegistrationRequired(MfaRegistrationRequired {
                    mfa_registration_required: true,
                    expires_at: rfc3339(r.expires_at.as_ref()),
                    registration_token: r.registration_token,
                }))
            }
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MfaStartBody {
    pub challenge_id: String,
    pub method_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MfaPrompt {
    /// Phone or email: where the code went, partly hidden.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_to: Option<String>,
    /// Security key: the options for `navigator.credentials.get()`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<serde_json::Value>,
}

impl From<identity::MfaPrompt> for MfaPrompt {
    fn from(p: identity::MfaPrompt) -> Self {
        Self {
            sent_to: Some(p.sent_to).filter(|s| !s.is_empty()),
            public_key: public_key(&p.request_options_json),
        }
    }
}

/// The `publicKey` member of webauthn options JSON (`{"publicKey": {...}}`).
fn public_key(options_json: &str) -> Option<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_str(options_json).ok()?;
    value.get("publicKey").cloned()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MfaBody {
    pub challenge_id: String,
    pub method_id: String,
    pub code: Option<String>,
    /// The `PublicKeyCredential` from `navigator.credentials.get()`.
    pub assertion: Option<serde_json::Value>,
}

/// `POST /auth/passkey/start`: the options of a passwordless sign-in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyChallenge {
    /// Single use, for `POST /auth/passkey`; 5 minutes.
    pub challenge_id: String,
    /// The options for `navigator.credentials.get()`: no `allowCredentials` (the authenticator
    /// offers its discoverable credentials), `userVerification` required.
    #[schema(value_type = Object)]
    pub public_key: serde_json::Value,
    pub expires_at: Option<String>,
}

impl PasskeyChallenge {
    pub fn from_response(c: identity::PasskeySignInChallenge) -> Option<Self> {
        Some(Self {
            public_key: public_key(&c.request_options_json)?,
            expires_at: rfc3339(c.expires_at.as_ref()),
            challenge_id: c.challenge_id,
        })
    }
}

/// `POST /auth/passkey`: the assertion answering a passwordless sign-in's challenge.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasskeySignInBody {
    pub challenge_id: String,
    /// The `PublicKeyCredential` from `navigator.credentials.get()`, with its `userHandle`.
    #[schema(value_type = Object)]
    pub assertion: serde_json::Value,
}

/// `PATCH /me/security-info/methods/{id}`: a new name.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RenameMethodBody {
    /// 1 to 64 characters.
    pub name: String,
}

/// `POST /auth/password-reset`: the user name of the account whose password was forgotten.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordResetStartBody {
    pub username: String,
}

/// A password reset flow: alike whether or not the name is an account's.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordResetFlow {
    /// The credential of the flow's later steps (15 minutes).
    pub flow_id: String,
    /// The registered methods to prove, under ids of this flow only.
    pub methods: Vec<PasswordResetMethod>,
    /// How many different methods must be proven before the new password is accepted (1 or 2).
    pub methods_required: i32,
    pub expires_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordResetMethod {
    pub id: String,
    /// `authenticatorApp`, `phone`, `email`, `securityKey`, `recoveryCodes`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Partly hidden (phones, email addresses) or the method's name.
    pub label: String,
}

impl From<identity::PasswordResetFlow> for PasswordResetFlow {
    fn from(f: identity::PasswordResetFlow) -> Self {
        Self {
            flow_id: f.flow_id,
            expires_at: rfc3339(f.expires_at.as_ref()),
            methods: f
                .methods
                .into_iter()
                .map(|m| PasswordResetMethod {
                    id: m.method_id,
                    kind: camel(&m.r#type),
                    label: m.label,
                })
                .collect(),
            methods_required: f.methods_required,
        }
    }
}

/// `POST /auth/password-reset/{flowId}/start`: the method to prepare.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordResetMethodBody {
    pub method_id: String,
}

/// `POST /auth/password-reset/{flowId}/verify`: a code, or a security key's assertion.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordResetProofBody {
    pub method_id: String,
    pub code: Option<String>,
    /// The `PublicKeyCredential` from `navigator.credentials.get()`.
    pub assertion: Option<serde_json::Value>,
}

/// How far a password reset has come.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordResetProgress {
    /// How many more methods must be proven; 0: the new password may be set.
    pub methods_required: i32,
    /// The flow's methods proven so far.
    pub proven_method_ids: Vec<String>,
}

impl From<identity::PasswordResetProgress> for PasswordResetProgress {
    fn from(p: identity::PasswordResetProgress) -> Self {
        Self {
            methods_required: p.methods_required,
            proven_method_ids: p.proven_method_ids,
        }
    }
}

/// `POST /auth/password-reset/{flowId}/password`: the new password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordResetPasswordBody {
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReauthenticateBody {
    pub password: String,
}

/// `authenticator_app` -> `authenticatorApp`.
pub fn camel(snake: &str) -> String {
    crate::problem::camel_case_path(snake)
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityMethod {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_delivery: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transports: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_codes: Option<i32>,
    pub is_default: bool,
    pub is_second_factor: bool,
    pub created_at: Option<String>,
    pub last_used_at: Option<String>,
    /// Security keys and passkeys: the authenticator's AAGUID, when it told one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aaguid: Option<String>,
    /// Security keys and passkeys: the provider's name for the AAGUID ("Google Password
    /// Manager", "YubiKey 5 Series"), from the maintained AAGUID list; absent when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_name: Option<String>,
    /// Security keys and passkeys: whether it signs in on its own, without a user name or
    /// password (a discoverable credential). Keys registered before passwordless sign-in
    /// usually are not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discoverable: Option<bool>,
}

pub fn method_type(t: security_info::MethodType) -> &'static str {
    match t {
        security_info::MethodType::AuthenticatorApp => "authenticatorApp",
        security_info::MethodType::Phone => "phone",
        security_info::MethodType::Email => "email",
        security_info::MethodType::SecurityKey => "securityKey",
        security_info::MethodType::AppPassword => "appPassword",
        security_info::MethodType::RecoveryCodes => "recoveryCodes",
        security_info::MethodType::Unspecified => "unknown",
    }
}

impl From<security_info::Method> for SecurityMethod {
    fn from(m: security_info::Method) -> Self {
        let kind = m.r#type();
        let phone_type = match m.phone_type() {
            security_info::PhoneType::Mobile => Some("mobile"),
            security_info::PhoneType::AlternateMobile => Some("alternateMobile"),
            security_info::PhoneType::Office => Some("office"),
            security_info::PhoneType::Unspecified => None,
        };
        let phone_delivery = match m.phone_delivery() {
            security_info::PhoneDelivery::Sms => Some("sms"),
            security_info::PhoneDelivery::Voice => Some("voice"),
            security_info::PhoneDelivery::Unspecified => None,
        };
        Self {
            kind: method_type(kind),
            phone_type,
            phone_delivery,
            created_at: rfc3339(m.created_at.as_ref()),
            last_used_at: rfc3339(m.last_used_at.as_ref()),
            phone_number: Some(m.phone_number).filter(|p| !p.is_empty()),
            email: Some(m.email).filter(|e| !e.is_empty()),
            remaining_codes: (kind == security_info::MethodType::RecoveryCodes).then_some(m.remaining_codes),
            id: m.id,
            name: m.name,
            transports: m.transports,
            is_default: m.is_default,
            is_second_factor: m.is_second_factor,
            aaguid: Some(m.aaguid).filter(|a| !a.is_empty()),
            provider_name: Some(m.provider_name).filter(|p| !p.is_empty()),
            discoverable: (kind == security_info::MethodType::SecurityKey).then_some(m.discoverable),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityInfo {
    pub methods: Vec<SecurityMethod>,
    pub default_method_id: Option<String>,
    pub mfa_registered: bool,
    pub mfa_required: bool,
    /// Whether codes can reach a phone: false when the deployment has no SMS or voice
    /// provider, and then adding a phone answers 400 `failed-precondition`.
    pub phone_available: bool,
}

impl From<security_info::SecurityInfo> for SecurityInfo {
    fn from(s: security_info::SecurityInfo) -> Self {
        Self {
            methods: s.methods.into_iter().map(SecurityMethod::from).collect(),
            default_method_id: Some(s.default_method_id).filter(|d| !d.is_empty()),
            mfa_registered: s.mfa_registered,
            mfa_required: s.mfa_required,
            phone_available: s.phone_available,
        }
    }
}

/// The overview's security-info section.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityInfoSummary {
    pub methods_count: usize,
    pub default_method: Option<DefaultMethod>,
    pub mfa_registered: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefaultMethod {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub label: String,
}

impl From<security_info::SecurityInfo> for SecurityInfoSummary {
    fn from(s: security_info::SecurityInfo) -> Self {
        let default_method = s
            .methods
            .iter()
            .find(|m| m.id == s.default_method_id)
            .map(|m| DefaultMethod {
                id: m.id.clone(),
                kind: method_type(m.r#type()),
                label: if m.name.is_empty() {
                    [m.phone_number.as_str(), m.email.as_str()].concat()
                } else {
                    m.name.clone()
                },
            });
        Self {
            methods_count: s.methods.len(),
            default_method,
            mfa_registered: s.mfa_registered,
        }
    }
}

/// `POST /me/security-info/methods`: which method to add, by `type`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum AddMethodBody {
    AuthenticatorApp {
        name: String,
    },
    #[serde(rename_all = "camelCase")]
    Phone {
        phone_type: String,
        number: String,
        delivery: Option<String>,
    },
    Email {
        address: String,
    },
    SecurityKey {
        name: String,
    },
    AppPassword {
        name: String,
    },
    RecoveryCodes {},
}

/// The answer to adding a method: what the next step needs, or secrets shown this once.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddedMethod {
    pub method_id: String,
    /// `pending` until verified (apps, phones, email, keys), or `active`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otpauth_uri: Option<String>,
    /// Authenticator app: `otpauthUri` as a QR code to scan, a `data:image/svg+xml;base64,` URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_to: Option<String>,
    /// Security key: the options for `navigator.credentials.create()`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<serde_json::Value>,
    /// App password: shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Recovery codes: shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

impl AddedMethod {
    pub fn options(json: &str) -> Option<serde_json::Value> {
        public_key(json)
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyMethodBody {
    pub code: Option<String>,
    /// Security key: the `PublicKeyCredential` from `navigator.credentials.create()`.
    pub credential: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DefaultMethodBody {
    pub method_id: String,
}
