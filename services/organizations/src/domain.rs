//! Organizations, memberships and invitations, and their rules. No prost, sqlx or tonic here.

use chrono::{DateTime, Utc};
use platform::error::{FieldViolation, Violations, violation_reason};
use platform::personal_data::{DataCategory, HeldFor};
use uuid::Uuid;

/// Sign-in log retention of a new organization when the admin does not choose one.
pub const DEFAULT_SIGN_IN_RETENTION_DAYS: i32 = 30;
/// The platform's maximum when not configured.
pub const DEFAULT_MAX_SIGN_IN_RETENTION_DAYS: i32 = 365;
pub const MAX_VERIFIED_DOMAINS: usize = 50;
const MAX_NAME: usize = 256;
const MAX_URL: usize = 2048;
const MAX_UPN: usize = 256;

/// Why the home organization cannot be left; also shown next to it in "my organizations".
pub const HOME_CANNOT_BE_LEFT: &str =
    "this is your home organization: your account belongs to it, so you cannot leave it";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: Uuid,
    pub settings: OrganizationSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an admin sets about an organization, validated and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationSettings {
    pub display_name: String,
    /// Lower-case, in the order given, without repeats.
    pub verified_domains: Vec<String>,
    pub privacy_statement_url: String,
    pub privacy_contact_email: String,
    pub technical_contact_email: String,
    pub mfa_required: bool,
    pub sign_in_retention_days: i32,
    /// Members whose home organization this is may delete their own account.
    pub allow_self_deletion: bool,
}

/// The settings as an admin sent them, before validation.
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    pub display_name: String,
    pub verified_domains: Vec<String>,
    pub privacy_statement_url: String,
    pub privacy_contact_email: String,
    pub technical_contact_email: String,
    pub mfa_required: bool,
    pub sign_in_retention_days: Option<i32>,
    pub allow_self_deletion: bool,
}

/// The settings that an update mask can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsField {
    DisplayName,
    VerifiedDomains,
    PrivacyStatementUrl,
    PrivacyContactEmail,
    TechnicalContactEmail,
    MfaRequired,
    SignInRetentionDays,
    AllowSelfDeletion,
}

impl SettingsField {
    pub const ALL: [SettingsField; 8] = [
        SettingsField::DisplayName,
        SettingsField::VerifiedDomains,
        SettingsField::PrivacyStatementUrl,
        SettingsField::PrivacyContactEmail,
        SettingsField::TechnicalContactEmail,
        SettingsField::MfaRequired,
        SettingsField::SignInRetentionDays,
        SettingsField::AllowSelfDeletion,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SettingsField::DisplayName => "display_name",
            SettingsField::VerifiedDomains => "verified_domains",
            SettingsField::PrivacyStatementUrl => "privacy_statement_url",
            SettingsField::PrivacyContactEmail => "privacy_contact_email",
            SettingsField::TechnicalContactEmail => "technical_contact_email",
            SettingsField::MfaRequired => "mfa_required",
            SettingsField::SignInRetentionDays => "sign_in_retention_days",
            SettingsField::AllowSelfDeletion => "allow_self_deletion",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// The platform's bounds on sign-in log retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionLimit {
    pub max_days: i32,
}

impl RetentionLimit {
    /// The default for a new organization, never above the maximum.
    pub fn default_days(self) -> i32 {
        DEFAULT_SIGN_IN_RETENTION_DAYS.min(self.max_days)
    }
}

impl SettingsInput {
    /// Settings of a new organization: every field is checked; retention defaults.
    pub fn validate_new(self, limit: RetentionLimit) -> Result<OrganizationSettings, Vec<FieldViolation>> {
        let mut v = Violations::new();
        let mut settings = OrganizationSettings {
            display_name: String::new(),
            verified_domains: Vec::new(),
            privacy_statement_url: String::new(),
            privacy_contact_email: String::new(),
            technical_contact_email: String::new(),
            mfa_required: false,
            sign_in_retention_days: limit.default_days(),
            allow_self_deletion: false,
        };
        for field in SettingsField::ALL {
            if field == SettingsField::SignInRetentionDays && self.sign_in_retention_days.is_none() {
                continue;
            }
            self.apply(field, &mut settings, limit, &mut v);
        }
        v.into_result().map(|()| settings)
    }

    /// `current` with the fields named in `paths` replaced by the checked values of this input.
    pub fn apply_to(
        self,
        current: &OrganizationSettings,
        paths: &[String],
        limit: RetentionLimit,
    ) -> Result<OrganizationSettings, Vec<FieldViolation>> {
        let mut v = Violations::new();
        let mut settings = current.clone();
        let mut seen = Vec::new();
        if paths.is_empty() {
            v.add_with_reason(
                "update_mask",
                violation_reason::NOTHING_TO_CHANGE,
                "name at least one setting to change",
            );
        }
        for path in paths {
            match SettingsField::from_name(path) {
                Some(field) if seen.contains(&field) => v.add_with_reason(
                    "update_mask",
                    violation_reason::LISTED_TWICE,
                    format!("{path} is listed twice"),
                ),
                Some(field) => {
                    seen.push(field);
                    self.apply(field, &mut settings, limit, &mut v);
                }
                None => v.add_with_reason(
                    "update_mask",
                    violation_reason::NOT_EDITABLE,
                    format!(
                        "{path:?} is not an organization setting; settings: {}",
                        SettingsField::ALL.map(SettingsField::name).join(", ")
                    ),
                ),
            }
        }
        v.into_result().map(|()| settings)
    }

    /// Checks one field of this input and writes its normalised value into `settings`.
    fn apply(
        &self,
        field: SettingsField,
        settings: &mut OrganizationSettings,
        limit: RetentionLimit,
        v: &mut Violations,
    ) {
        let name = field.name();
        match field {
            SettingsField::DisplayName => {
                let value = self.display_name.trim();
                v.required(name, value);
                v.text(name, value, MAX_NAME);
                settings.display_name = value.to_owned();
            }
            SettingsField::VerifiedDomains => {
                settings.verified_domains = verified_domains(name, &self.verified_domains, v);
            }
            SettingsField::PrivacyStatementUrl => {
                let value = self.privacy_statement_url.trim();
                if !value.is_empty() && !is_https_url(value) {
                    v.add_with_reason(
                        name,
                        violation_reason::INVALID_URL,
                        "must be an https URL such as https://contoso.example/privacy",
                    );
                }
                settings.privacy_statement_url = value.to_owned();
            }
            SettingsField::PrivacyContactEmail => {
                settings.privacy_contact_email = optional_email(name, &self.privacy_contact_email, v);
            }
            SettingsField::TechnicalContactEmail => {
                settings.technical_contact_email = optional_email(name, &self.technical_contact_email, v);
            }
            SettingsField::MfaRequired => settings.mfa_required = self.mfa_required,
            SettingsField::AllowSelfDeletion => settings.allow_self_deletion = self.allow_self_deletion,
            SettingsField::SignInRetentionDays => match self.sign_in_retention_days {
                Some(days) if (1..=limit.max_days).contains(&days) => settings.sign_in_retention_days = days,
                Some(_) => v.add_with_reason(
                    name,
                    violation_reason::OUT_OF_RANGE,
                    format!("must be between 1 and {} days", limit.max_days),
                ),
                None => v.add_with_reason(
                    name,
                    violation_reason::REQUIRED,
                    "is required when named in the update mask",
                ),
            },
        }
    }
}

fn verified_domains(field: &str, raw: &[String], v: &mut Violations) -> Vec<String> {
    if raw.len() > MAX_VERIFIED_DOMAINS {
        v.add_with_reason(
            field,
            violation_reason::TOO_MANY,
            format!("at most {MAX_VERIFIED_DOMAINS} domains"),
        );
        return Vec::new();
    }
    let mut domains: Vec<String> = Vec::with_capacity(raw.len());
    for value in raw {
        let domain = value.trim().to_lowercase();
        if !is_domain_name(&domain) {
            v.add_with_reason(
                field,
                violation_reason::INVALID_DOMAIN,
                format!("{:?} is not a domain name such as contoso.example", truncate(value, 64)),
            );
        } else if domains.contains(&domain) {
            v.add_with_reason(
                field,
                violation_reason::LISTED_TWICE,
                format!("{domain} is listed twice"),
            );
        } else {
            domains.push(domain);
        }
    }
    domains
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// `contoso.example`, `mail.fabrikam.co.uk`: letters, digits and hyphens, two labels at least.
pub fn is_domain_name(value: &str) -> bool {
    let labels: Vec<&str> = value.split('.').collect();
    value.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_lowercase()))
}

fn is_https_url(value: &str) -> bool {
    value.chars().count() <= MAX_URL
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && url::Url::parse(value).is_ok_and(|u| {
            u.scheme() == "https" && u.host_str().is_some_and(|h| h.contains('.')) && u.username().is_empty()
        })
}

fn optional_email(field: &str, raw: &str, v: &mut Violations) -> String {
    let value = raw.trim().to_lowercase();
    if !value.is_empty() && !is_address(&value) {
        v.add_with_reason(
            field,
            violation_reason::INVALID_EMAIL,
            "must be an email address such as privacy@contoso.example",
        );
    }
    value
}

/// `local@domain.example`, lower-case: the shape of user principal names and contact addresses.
fn is_address(value: &str) -> bool {
    value.chars().count() <= MAX_UPN
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && value
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !local.contains('@') && is_domain_name(domain))
}

/// A user principal name as identity stores it: trimmed, lower-case, `local@domain`.
pub fn user_principal_name(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    let value = raw.trim().to_lowercase();
    if value.is_empty() {
        v.required(field, &value);
        None
    } else if !is_address(&value) {
        v.add_with_reason(
            field,
            violation_reason::INVALID_EMAIL,
            "must look like name@domain.example (at most 256 characters)",
        );
        None
    } else {
        Some(value)
    }
}

/// An id sent by a client; `what` names it in the message: `an organization id`.
pub fn id(field: &str, what: &str, raw: &str, v: &mut Violations) -> Option<Uuid> {
    let raw = raw.trim();
    if raw.is_empty() {
        v.required(field, raw);
        return None;
    }
    match Uuid::parse_str(raw) {
        Ok(id) => Some(id),
        Err(_) => {
            v.add_with_reason(field, violation_reason::INVALID_ID, format!("must be {what} (a UUID)"));
            None
        }
    }
}

/// One id, alone in its request.
pub fn parse_id(field: &str, what: &str, raw: &str) -> Result<Uuid, Vec<FieldViolation>> {
    let mut v = Violations::new();
    let parsed = id(field, what, raw, &mut v);
    v.into_result()?;
    parsed.ok_or_else(Vec::new)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipKind {
    Home,
    Guest,
}

impl MembershipKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipKind::Home => "home",
            MembershipKind::Guest => "guest",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "home" => Some(MembershipKind::Home),
            "guest" => Some(MembershipKind::Guest),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub user_id: Uuid,
    pub organization_id: Uuid,
    pub kind: MembershipKind,
    pub joined_at: DateTime<Utc>,
    pub invited_by: Option<Uuid>,
    pub invitation_id: Option<Uuid>,
}

impl Membership {
    /// Why the member may not leave, if they may not. Only guest memberships can be left: every
    /// account belongs to exactly one home organization.
    pub fn cannot_leave_reason(&self) -> Option<&'static str> {
        match self.kind {
            MembershipKind::Home => Some(HOME_CANNOT_BE_LEFT),
            MembershipKind::Guest => None,
        }
    }
}

/// A membership as its member sees it: with the organization (unless it is not known yet) and
/// the user principal name of whoever invited them (when known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyOrganization {
    pub membership: Membership,
    pub organization: Option<Organization>,
    pub invited_by_user_principal_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Declined => "declined",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(InvitationStatus::Pending),
            "accepted" => Some(InvitationStatus::Accepted),
            "declined" => Some(InvitationStatus::Declined),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub user_principal_name: String,
    pub status: InvitationStatus,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub responded_at: Option<DateTime<Utc>>,
}

/// An invitation with the organization it invites to, as the invitee sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationView {
    pub invitation: Invitation,
    pub organization: Option<Organization>,
}

/// What organizations keeps about one person (ExportMyData).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalData {
    pub user_id: Uuid,
    pub user_principal_name: Option<String>,
    pub memberships: Vec<MyOrganization>,
    pub invitations: Vec<InvitationView>,
    pub exported_at: DateTime<Utc>,
}

/// The current time as Postgres keeps it (microseconds), so what a call answers equals what a
/// later read returns.
pub fn now() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// Sorts memberships for display: the home organization first, then guests by join date.
pub fn home_first(organizations: &mut [MyOrganization]) {
    organizations.sort_by_key(|o| {
        (
            o.membership.kind != MembershipKind::Home,
            o.membership.joined_at,
            o.membership.organization_id,
        )
    });
}

/// What organizations keeps about a person, for the Privacy page.
pub fn personal_data_held() -> Vec<DataCategory> {
    use HeldFor::{GuestOrganization, HomeOrganization};
    vec![
        DataCategory::new("membership", "until your account is deleted", HomeOrganization),
        DataCategory::new("invitations to you", "until your account is deleted", HomeOrganization),
        DataCategory::new("membership", "until you leave or are removed", GuestOrganization),
        DataCategory::new(
            "the invitation you accepted",
            "until your account is deleted",
            GuestOrganization,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: RetentionLimit = RetentionLimit { max_days: 365 };

    fn input() -> SettingsInput {
        SettingsInput {
            display_name: "  Contoso  ".into(),
            verified_domains: vec!["Contoso.Example".into(), "contoso.co.uk".into()],
            privacy_statement_url: "https://contoso.example/privacy".into(),
            privacy_contact_email: "Privacy@Contoso.Example".into(),
            technical_contact_email: "it@contoso.example".into(),
            mfa_required: true,
            sign_in_retention_days: None,
            allow_self_deletion: false,
        }
    }

    #[test]
    fn new_settings_are_normalised_and_retention_defaults() {
        let s = input().validate_new(LIMIT).expect("valid");
        assert_eq!(s.display_name, "Contoso");
        assert_eq!(s.verified_domains, ["contoso.example", "contoso.co.uk"]);
        assert_eq!(s.privacy_contact_email, "privacy@contoso.example");
        assert_eq!(s.sign_in_retention_days, 30);
        assert_eq!(RetentionLimit { max_days: 7 }.default_days(), 7);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = SettingsInput {
            display_name: " ".into(),
            verified_domains: vec!["not a domain".into(), "a.example".into(), "A.example".into()],
            privacy_statement_url: "http://contoso.example/privacy".into(),
            privacy_contact_email: "nobody".into(),
            technical_contact_email: "a@b".into(),
            mfa_required: false,
            sign_in_retention_days: Some(366),
            allow_self_deletion: false,
        };
        let fields: Vec<String> = bad
            .validate_new(LIMIT)
            .expect_err("invalid")
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "display_name",
                "verified_domains",
                "verified_domains",
                "privacy_statement_url",
                "privacy_contact_email",
                "technical_contact_email",
                "sign_in_retention_days"
            ]
        );
    }

    #[test]
    fn updates_change_only_the_masked_fields() {
        let current = input().validate_new(LIMIT).expect("valid");
        let change = SettingsInput {
            display_name: "ignored".into(),
            mfa_required: false,
            sign_in_retention_days: Some(90),
            ..Default::default()
        };
        let updated = change
            .apply_to(
                &current,
                &["mfa_required".into(), "sign_in_retention_days".into()],
                LIMIT,
            )
            .expect("valid");
        assert_eq!(updated.display_name, "Contoso");
        assert!(!updated.mfa_required);
        assert_eq!(updated.sign_in_retention_days, 90);

        let err = SettingsInput::default()
            .apply_to(&current, &["created_at".into(), "sign_in_retention_days".into()], LIMIT)
            .expect_err("invalid");
        let fields: Vec<_> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["update_mask", "sign_in_retention_days"]);
        assert!(SettingsInput::default().apply_to(&current, &[], LIMIT).is_err());
    }

    #[test]
    fn domains_urls_and_names() {
        assert!(is_domain_name("contoso.example"));
        assert!(is_domain_name("xn--bcher-kva.example"));
        assert!(!is_domain_name("contoso"));
        assert!(!is_domain_name("-contoso.example"));
        assert!(!is_domain_name("contoso.123"));
        assert!(is_https_url("https://contoso.example/privacy?lang=en"));
        assert!(!is_https_url("javascript:alert(1)"));
        assert!(!is_https_url("https://user@contoso.example/"));
        let mut v = Violations::new();
        assert_eq!(
            user_principal_name("upn", " Adele.Vance@Contoso.Example ", &mut v).as_deref(),
            Some("adele.vance@contoso.example")
        );
        assert_eq!(user_principal_name("upn", "a@b@c.example", &mut v), None);
        assert_eq!(id("user_id", "a user id", "x", &mut v), None);
        let messages: Vec<_> = v.into_vec().into_iter().map(|v| v.description).collect();
        assert_eq!(messages[1], "must be a user id (a UUID)");
    }

    #[test]
    fn only_guest_memberships_can_be_left() {
        let mut m = Membership {
            user_id: Uuid::now_v7(),
            organization_id: Uuid::now_v7(),
            kind: MembershipKind::Home,
            joined_at: Utc::now(),
            invited_by: None,
            invitation_id: None,
        };
        assert_eq!(m.cannot_leave_reason(), Some(HOME_CANNOT_BE_LEFT));
        m.kind = MembershipKind::Guest;
        assert_eq!(m.cannot_leave_reason(), None);
    }
}
