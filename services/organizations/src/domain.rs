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
/// A version of terms of use is a label ("2026-11", "3"), not a text.
pub const MAX_TERMS_VERSION: usize = 32;

/// Stable codes of organizations' own field violations (`FieldViolation.reason`).
pub mod terms_reason {
    /// A URL that is not https (or not a URL at all).
    pub const NOT_HTTPS_URL: &str = "NOT_HTTPS_URL";
    /// Terms of use without a version: members could not say what they accepted.
    pub const TERMS_VERSION_REQUIRED: &str = "TERMS_VERSION_REQUIRED";
    /// A version of terms of use without their URL: there is nothing to read and accept.
    pub const TERMS_URL_REQUIRED: &str = "TERMS_URL_REQUIRED";
}

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
    /// https URL of the terms of use; empty with the version when there are none.
    pub terms_of_use_url: String,
    pub terms_of_use_version: String,
}

/// An organization's terms of use, which its members are asked to accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsOfUse<'a> {
    pub url: &'a str,
    pub version: &'a str,
}

impl OrganizationSettings {
    /// The terms of use, when the organization has them (the URL and version are set together).
    pub fn terms_of_use(&self) -> Option<TermsOfUse<'_>> {
        (!self.terms_of_use_url.is_empty() && !self.terms_of_use_version.is_empty()).then(|| TermsOfUse {
            url: &self.terms_of_use_url,
            version: &self.terms_of_use_version,
        })
    }
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
    pub terms_of_use_url: String,
    pub terms_of_use_version: String,
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
    TermsOfUseUrl,
    TermsOfUseVersion,
}

impl SettingsField {
    pub const ALL: [SettingsField; 10] = [
        SettingsField::DisplayName,
        SettingsField::VerifiedDomains,
        SettingsField::PrivacyStatementUrl,
        SettingsField::PrivacyContactEmail,
        SettingsField::TechnicalContactEmail,
        SettingsField::MfaRequired,
        SettingsField::SignInRetentionDays,
        SettingsField::AllowSelfDeletion,
        SettingsField::TermsOfUseUrl,
        SettingsField::TermsOfUseVersion,
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
            SettingsField::TermsOfUseUrl => "terms_of_use_url",
            SettingsField::TermsOfUseVersion => "terms_of_use_version",
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
            terms_of_use_url: String::new(),
            terms_of_use_version: String::new(),
        };
        let mut terms_invalid = false;
        for field in SettingsField::ALL {
            if field == SettingsField::SignInRetentionDays && self.sign_in_retention_days.is_none() {
                continue;
            }
            terms_invalid |= self.apply(field, &mut settings, limit, &mut v) && field.is_terms();
        }
        if !terms_invalid {
            terms_complete(&settings, &mut v);
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
        let mut terms_invalid = false;
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
                    terms_invalid |= self.apply(field, &mut settings, limit, &mut v) && field.is_terms();
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
        // A change of one half of the terms is checked against the other half as it stands.
        if !terms_invalid && seen.iter().any(|f| f.is_terms()) {
            terms_complete(&settings, &mut v);
        }
        v.into_result().map(|()| settings)
    }

    /// Checks one field of this input and writes its normalised value into `settings`; true
    /// when the field's value was refused.
    fn apply(
        &self,
        field: SettingsField,
        settings: &mut OrganizationSettings,
        limit: RetentionLimit,
        v: &mut Violations,
    ) -> bool {
        let before = v.len();
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
            SettingsField::TermsOfUseUrl => {
                let value = self.terms_of_use_url.trim();
                if value.chars().count() > MAX_URL {
                    v.add_with_reason(
                        name,
                        violation_reason::TOO_LONG,
                        format!("at most {MAX_URL} characters"),
                    );
                } else if !value.is_empty() && !is_https_url(value) {
                    v.add_with_reason(
                        name,
                        terms_reason::NOT_HTTPS_URL,
                        "must be an https URL such as https://contoso.example/terms",
                    );
                }
                settings.terms_of_use_url = value.to_owned();
            }
            SettingsField::TermsOfUseVersion => {
                let value = self.terms_of_use_version.trim();
                v.text(name, value, MAX_TERMS_VERSION);
                settings.terms_of_use_version = value.to_owned();
            }
        }
        v.len() > before
    }
}

impl SettingsField {
    fn is_terms(self) -> bool {
        matches!(self, SettingsField::TermsOfUseUrl | SettingsField::TermsOfUseVersion)
    }
}

/// Terms of use are a URL and a version together, or nothing: a URL alone leaves members unable
/// to say what they accepted, a version alone gives them nothing to read.
fn terms_complete(settings: &OrganizationSettings, v: &mut Violations) {
    match (
        settings.terms_of_use_url.is_empty(),
        settings.terms_of_use_version.is_empty(),
    ) {
        (false, true) => v.add_with_reason(
            SettingsField::TermsOfUseVersion.name(),
            terms_reason::TERMS_VERSION_REQUIRED,
            "is required with terms_of_use_url: the version members accept, such as 2026-11",
        ),
        (true, false) => v.add_with_reason(
            SettingsField::TermsOfUseUrl.name(),
            terms_reason::TERMS_URL_REQUIRED,
            "is required with terms_of_use_version: the https URL where the terms can be read",
        ),
        _ => {}
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
    /// The terms of use of the organization the member accepted last, if any.
    pub terms_accepted: Option<TermsAcceptance>,
}

/// Which version of an organization's terms of use a member accepted, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsAcceptance {
    pub version: String,
    pub accepted_at: DateTime<Utc>,
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

impl MyOrganization {
    /// Whether the member accepted the organization's current terms of use. An acceptance of an
    /// earlier version does not count: a new version must be accepted again.
    pub fn accepted_current_terms(&self) -> bool {
        let current = self
            .organization
            .as_ref()
            .and_then(|o| o.settings.terms_of_use())
            .map(|t| t.version);
        let accepted = self.membership.terms_accepted.as_ref().map(|a| a.version.as_str());
        current.is_some() && current == accepted
    }
}

/// What a member's acceptance of terms of use comes to, given the version they were shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermsDecision {
    /// A first acceptance of this version: record it.
    Accept,
    /// The member had accepted this very version already: nothing changes.
    AlreadyAccepted,
    /// The organization has no terms of use.
    NoTerms,
    /// The version shown is not the current one: the terms changed since.
    Changed { current: String },
}

/// Decides an acceptance of `seen_version` of the terms of `organization` (`None`: not known
/// here yet, so it has no terms) by a member whose last acceptance is `accepted`.
pub fn decide_terms(
    organization: Option<&Organization>,
    accepted: Option<&TermsAcceptance>,
    seen_version: &str,
) -> TermsDecision {
    match organization.and_then(|o| o.settings.terms_of_use()) {
        None => TermsDecision::NoTerms,
        Some(terms) if terms.version != seen_version => TermsDecision::Changed {
            current: terms.version.to_owned(),
        },
        Some(terms) if accepted.is_some_and(|a| a.version == terms.version) => TermsDecision::AlreadyAccepted,
        Some(_) => TermsDecision::Accept,
    }
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
        DataCategory::new(
            "the terms of use you accepted (version and time)",
            "until your account is deleted",
            HomeOrganization,
        ),
        DataCategory::new(
            "the terms of use you accepted (version and time)",
            "until you leave or are removed",
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
            terms_of_use_url: "https://contoso.example/terms".into(),
            terms_of_use_version: " 2026-11 ".into(),
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
            terms_of_use_url: "http://contoso.example/terms".into(),
            terms_of_use_version: "x".repeat(MAX_TERMS_VERSION + 1),
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
                "sign_in_retention_days",
                "terms_of_use_url",
                "terms_of_use_version"
            ]
        );
    }

    fn reasons(violations: &[FieldViolation]) -> Vec<(&str, &str)> {
        violations
            .iter()
            .map(|v| (v.field.as_str(), v.reason.as_str()))
            .collect()
    }

    #[test]
    fn terms_of_use_are_a_url_and_a_version_together() {
        let current = input().validate_new(LIMIT).expect("valid");
        assert_eq!(
            current.terms_of_use(),
            Some(TermsOfUse {
                url: "https://contoso.example/terms",
                version: "2026-11"
            })
        );

        let url_only = SettingsInput {
            terms_of_use_url: "https://fabrikam.example/terms".into(),
            ..input()
        }
        .apply_to(
            &OrganizationSettings {
                terms_of_use_url: String::new(),
                terms_of_use_version: String::new(),
                ..current.clone()
            },
            &["terms_of_use_url".into()],
            LIMIT,
        )
        .expect_err("a URL without a version");
        assert_eq!(
            reasons(&url_only),
            [("terms_of_use_version", terms_reason::TERMS_VERSION_REQUIRED)]
        );

        let version_only = SettingsInput {
            terms_of_use_version: "3".into(),
            ..Default::default()
        }
        .validate_new(LIMIT)
        .expect_err("a version without a URL");
        let version_only: Vec<_> = reasons(&version_only)
            .into_iter()
            .filter(|(field, _)| field.starts_with("terms"))
            .collect();
        assert_eq!(version_only, [("terms_of_use_url", terms_reason::TERMS_URL_REQUIRED)]);

        let bad = SettingsInput {
            terms_of_use_url: "http://contoso.example/terms".into(),
            terms_of_use_version: "v".repeat(MAX_TERMS_VERSION + 1),
            ..Default::default()
        }
        .apply_to(
            &current,
            &["terms_of_use_url".into(), "terms_of_use_version".into()],
            LIMIT,
        )
        .expect_err("not https, too long");
        assert_eq!(
            reasons(&bad),
            [
                ("terms_of_use_url", terms_reason::NOT_HTTPS_URL),
                ("terms_of_use_version", violation_reason::TOO_LONG)
            ]
        );

        let new_version = SettingsInput {
            terms_of_use_version: "2027-01".into(),
            ..Default::default()
        }
        .apply_to(&current, &["terms_of_use_version".into()], LIMIT)
        .expect("a new version of the same terms");
        assert_eq!(new_version.terms_of_use_url, "https://contoso.example/terms");
        assert_eq!(new_version.terms_of_use_version, "2027-01");

        let removed = SettingsInput::default()
            .apply_to(
                &current,
                &["terms_of_use_url".into(), "terms_of_use_version".into()],
                LIMIT,
            )
            .expect("no terms any more");
        assert_eq!(removed.terms_of_use(), None);
    }

    #[test]
    fn only_the_current_version_can_be_accepted_and_only_once() {
        let organization = Organization {
            id: Uuid::now_v7(),
            settings: input().validate_new(LIMIT).expect("valid"),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let accepted = |version: &str| TermsAcceptance {
            version: version.into(),
            accepted_at: Utc::now(),
        };
        assert_eq!(decide_terms(None, None, "2026-11"), TermsDecision::NoTerms);
        assert_eq!(
            decide_terms(Some(&organization), None, "2026-10"),
            TermsDecision::Changed {
                current: "2026-11".into()
            }
        );
        assert_eq!(
            decide_terms(Some(&organization), None, "2026-11"),
            TermsDecision::Accept
        );
        assert_eq!(
            decide_terms(Some(&organization), Some(&accepted("2026-10")), "2026-11"),
            TermsDecision::Accept
        );
        assert_eq!(
            decide_terms(Some(&organization), Some(&accepted("2026-11")), "2026-11"),
            TermsDecision::AlreadyAccepted
        );
        let mut without = organization.clone();
        without.settings.terms_of_use_url.clear();
        without.settings.terms_of_use_version.clear();
        assert_eq!(decide_terms(Some(&without), None, ""), TermsDecision::NoTerms);
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
            terms_accepted: None,
        };
        assert_eq!(m.cannot_leave_reason(), Some(HOME_CANNOT_BE_LEFT));
        m.kind = MembershipKind::Guest;
        assert_eq!(m.cannot_leave_reason(), None);
    }
}
