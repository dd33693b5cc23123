//! Users, profiles, passwords and the sign-in rules. No prost, no sqlx, no tonic here.

use chrono::{DateTime, Utc};
use platform::error::{FieldViolation, Violations};
use platform::personal_data::{DataCategory, HeldFor};
use uuid::Uuid;

pub const ADMIN_ROLE: &str = "admin";
const MAX_NAME: usize = 256;
const MAX_SHORT: usize = 64;
const MAX_OFFICE: usize = 128;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A user principal name: `local@domain`, compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrincipalName(String);

impl UserPrincipalName {
    pub fn parse(field: &str, raw: &str, violations: &mut Violations) -> Option<Self> {
        let value = raw.trim().to_lowercase();
        let valid = value.chars().count() <= MAX_NAME
            && value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !value.chars().any(|c| c.is_whitespace() || c.is_control())
                    && value.matches('@').count() == 1
            });
        if value.is_empty() {
            violations.add(field, "is required");
            None
        } else if !valid {
            violations.add(field, "must look like name@domain.example (at most 256 characters)");
            None
        } else {
            Some(Self(value))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What identity stores about a person, minus credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: Uuid,
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
    pub preferred_language: String,
    pub home_organization_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a person may edit about themselves. Everything else (user principal name, mail,
/// job title, department, organization) belongs to the organization and only admins change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EditableField {
    DisplayName,
    GivenName,
    Surname,
    OfficeLocation,
    MobilePhone,
    BusinessPhone,
    PreferredLanguage,
}

impl EditableField {
    pub const ALL: [EditableField; 7] = [
        EditableField::DisplayName,
        EditableField::GivenName,
        EditableField::Surname,
        EditableField::OfficeLocation,
        EditableField::MobilePhone,
        EditableField::BusinessPhone,
        EditableField::PreferredLanguage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EditableField::DisplayName => "display_name",
            EditableField::GivenName => "given_name",
            EditableField::Surname => "surname",
            EditableField::OfficeLocation => "office_location",
            EditableField::MobilePhone => "mobile_phone",
            EditableField::BusinessPhone => "business_phone",
            EditableField::PreferredLanguage => "preferred_language",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Checks a new value for this field, adding violations under the field's name.
    pub fn validate(self, value: &str, violations: &mut Violations) {
        let field = self.name();
        match self {
            EditableField::DisplayName => {
                violations.required(field, value);
                violations.text(field, value, MAX_NAME);
            }
            EditableField::GivenName | EditableField::Surname => violations.text(field, value, MAX_SHORT),
            EditableField::OfficeLocation => violations.text(field, value, MAX_OFFICE),
            EditableField::MobilePhone | EditableField::BusinessPhone => validate_phone(field, value, violations),
            EditableField::PreferredLanguage => validate_language(field, value, violations),
        }
    }
}

/// A validated set of changes to a profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChanges(pub Vec<(EditableField, String)>);

impl ProfileChanges {
    /// Builds the change set from the field names to apply and a lookup of their new values.
    pub fn parse(paths: &[String], value_of: impl Fn(EditableField) -> String) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Violations::new();
        let mut changes = Vec::new();
        if paths.is_empty() {
            violations.add("update_mask", "name at least one field to change");
        }
        for path in paths {
            match EditableField::from_name(path) {
                Some(field) if changes.iter().any(|(f, _)| *f == field) => {
                    violations.add("update_mask", format!("{path} is listed twice"));
                }
                Some(field) => {
                    let value = value_of(field).trim().to_owned();
                    field.validate(&value, &mut violations);
                    changes.push((field, value));
                }
                None => violations.add(
                    "update_mask",
                    format!(
                        "{path:?} is not a field you can change; editable fields: {}",
                        EditableField::ALL.map(EditableField::name).join(", ")
                    ),
                ),
            }
        }
        violations.into_result().map(|()| Self(changes))
    }

    pub fn field_names(&self) -> Vec<String> {
        self.0.iter().map(|(f, _)| f.name().to_owned()).collect()
    }
}

fn validate_phone(field: &str, value: &str, violations: &mut Violations) {
    if value.is_empty() {
        return;
    }
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if value.chars().count() > MAX_SHORT || !allowed || !(4..=20).contains(&digits) {
        violations.add(field, "must be a phone number such as +1 425 555 0100");
    }
}

fn validate_language(field: &str, value: &str, violations: &mut Violations) {
    if value.is_empty() {
        return;
    }
    // BCP 47 shape: "en", "en-US", "zh-Hant-TW".
    let valid = value.len() <= 35
        && value.split('-').enumerate().all(|(i, part)| {
            let len_ok = if i == 0 {
                (2..=3).contains(&part.len())
            } else {
                (2..=8).contains(&part.len())
            };
            len_ok && part.chars().all(|c| c.is_ascii_alphanumeric())
        })
        && value.chars().take_while(|c| *c != '-').all(|c| c.is_ascii_alphabetic());
    if !valid {
        violations.add(field, "must be a language tag such as en-US");
    }
}

/// A new user as an admin describes it.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_principal_name: UserPrincipalName,
    pub password: String,
    pub display_name: String,
    pub given_name: String,
    pub surname: String,
    pub job_title: String,
    pub department: String,
    pub office_location: String,
    pub mobile_phone: String,
    pub business_phone: String,
    pub mail: String,
    pub preferred_language: String,
    pub home_organization_id: Option<Uuid>,
    pub roles: Vec<String>,
}

/// The raw fields of a CreateUser request, before validation.
#[derive(Debug, Clone, Default)]
pub struct NewUserInput {
    pub user_principal_name: String,
    pub password: String,
    pub display_name: String,
    pub given_name: String,
    pub surname: String,
    pub job_title: String,
    pub department: String,
    pub office_location: String,
    pub mobile_phone: String,
    pub business_phone: String,
    pub mail: String,
    pub preferred_language: String,
    pub home_organization_id: String,
    pub roles: Vec<String>,
}

impl NewUserInput {
    pub fn validate(self) -> Result<NewUser, Vec<FieldViolation>> {
        let mut v = Violations::new();
        let upn = UserPrincipalName::parse("user_principal_name", &self.user_principal_name, &mut v);
        let trimmed = |s: String| s.trim().to_owned();
        let display_name = trimmed(self.display_name);
        EditableField::DisplayName.validate(&display_name, &mut v);
        let given_name = trimmed(self.given_name);
        EditableField::GivenName.validate(&given_name, &mut v);
        let surname = trimmed(self.surname);
        EditableField::Surname.validate(&surname, &mut v);
        let office_location = trimmed(self.office_location);
        EditableField::OfficeLocation.validate(&office_location, &mut v);
        let mobile_phone = trimmed(self.mobile_phone);
        EditableField::MobilePhone.validate(&mobile_phone, &mut v);
        let business_phone = trimmed(self.business_phone);
        EditableField::BusinessPhone.validate(&business_phone, &mut v);
        let preferred_language = trimmed(self.preferred_language);
        EditableField::PreferredLanguage.validate(&preferred_language, &mut v);
        let job_title = trimmed(self.job_title);
        v.text("job_title", &job_title, MAX_OFFICE);
        let department = trimmed(self.department);
        v.text("department", &department, MAX_OFFICE);
        let mail = trimmed(self.mail).to_lowercase();
        if !mail.is_empty() {
            UserPrincipalName::parse("mail", &mail, &mut v);
        }
        let home_organization_id = match self.home_organization_id.trim() {
            "" => None,
            raw => match Uuid::parse_str(raw) {
                Ok(id) => Some(id),
                Err(_) => {
                    v.add("home_organization_id", "must be an organization id (UUID)");
                    None
                }
            },
        };
        for role in &self.roles {
            if role != ADMIN_ROLE {
                v.add("roles", format!("unknown role {role:?}; known roles: {ADMIN_ROLE}"));
            }
        }
        let inputs = [
            upn.as_ref().map(|u| u.as_str()).unwrap_or(""),
            display_name.as_str(),
            mail.as_str(),
        ];
        check_password("password", &self.password, &inputs, &mut v);
        match (v.into_result(), upn) {
            (Ok(()), Some(user_principal_name)) => Ok(NewUser {
                user_principal_name,
                password: self.password,
                display_name,
                given_name,
                surname,
                job_title,
                department,
                office_location,
                mobile_phone,
                business_phone,
                mail,
                preferred_language,
                home_organization_id,
                roles: self.roles,
            }),
            (Err(violations), _) => Err(violations),
            (Ok(()), None) => Err(vec![FieldViolation {
                field: "user_principal_name".into(),
                description: "is required".into(),
            }]),
        }
    }
}

/// NIST SP 800-63B: a minimum length, a generous maximum, no composition rules, and a check
/// against common, guessable and context-specific passwords (zxcvbn's dictionaries, with the
/// user's own names as extra inputs).
pub fn check_password(field: &str, password: &str, user_inputs: &[&str], violations: &mut Violations) {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        violations.add(field, format!("at least {MIN_PASSWORD_CHARS} characters"));
        return;
    }
    if chars > MAX_PASSWORD_CHARS {
        violations.add(field, format!("at most {MAX_PASSWORD_CHARS} characters"));
        return;
    }
    // zxcvbn matches user inputs only as whole dictionary words, so "adele.vance@contoso.example"
    // alone does not catch "adele.vance2024": add the local part and every word of each input.
    let mut words: Vec<&str> = Vec::new();
    for input in user_inputs {
        words.push(input);
        if let Some((local, _)) = input.split_once('@') {
            words.push(local);
        }
        words.extend(
            input
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 3),
        );
    }
    let entropy = zxcvbn::zxcvbn(password, &words);
    if u8::from(entropy.score()) < 3 {
        let hint = entropy
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .unwrap_or_else(|| "it is too easy to guess".to_owned());
        violations.add(field, format!("choose a less common password: {hint}"));
    }
}

/// Why a sign-in attempt failed; the stable codes of `myaccount.signin.v1.recorded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    UnknownUser,
    InvalidPassword,
    AccountDisabled,
    Throttled,
    SecondFactorFailed,
    MfaChallengeExpired,
    SecondFactorReplayed,
    MfaTooManyAttempts,
    /// The password was right but the person is not a member of the organization asked for.
    NotAMember,
    /// Proven, but a new password is due first.
    PasswordChangeRequired,
}

/// A second factor a sign-in may be completed with, as security-info describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactor {
    pub method_id: String,
    /// "authenticator_app", "phone", "email", "security_key", "recovery_codes".
    pub kind: String,
    pub label: String,
    pub is_default: bool,
}

/// What the person answered the second step with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MfaProof {
    Code(String),
    Assertion(String),
}

/// What security-info concluded about a proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorCheck {
    /// `amr` values proven, and the method's stable name for the sign-in log.
    Verified {
        amr: Vec<String>,
        method: String,
    },
    Incorrect {
        method: String,
    },
    Replayed {
        method: String,
    },
    Expired {
        method: String,
    },
    TooManyAttempts {
        method: String,
    },
    UnknownMethod,
}

/// What the second step shows after a factor is chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MfaPrompt {
    pub sent_to: String,
    pub request_options_json: String,
}

/// How long the second step stays open, and how many wrong answers it takes.
#[derive(Debug, Clone, Copy)]
pub struct MfaPolicy {
    pub challenge_ttl_secs: i64,
    pub max_attempts: i32,
}

impl Default for MfaPolicy {
    fn default() -> Self {
        Self {
            challenge_ttl_secs: 300,
            max_attempts: 5,
        }
    }
}

/// Failed-attempt throttling: exponential backoff per account name (as typed, so it behaves the
/// same whether or not the account exists) and per client IP.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures allowed before any delay.
    pub free_failures: i32,
    pub base_delay_ms: i64,
    pub max_delay_ms: i64,
    /// Failures older than this are forgotten.
    pub window_secs: i64,
}

impl ThrottlePolicy {
    pub const ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        free_failures: 4,
        base_delay_ms: 1_000,
        max_delay_ms: 15 * 60 * 1_000,
        window_secs: 3_600,
    };
    pub const IP: ThrottlePolicy = ThrottlePolicy {
        free_failures: 20,
        base_delay_ms: 1_000,
        max_delay_ms: 15 * 60 * 1_000,
        window_secs: 3_600,
    };

    /// The lock-out after the `failures`-th consecutive failure.
    pub fn delay_ms(&self, failures: i32) -> i64 {
        let over = failures - self.free_failures;
        if over <= 0 {
            return 0;
        }
        let exponent = u32::try_from(over - 1).unwrap_or(0).min(30);
        self.base_delay_ms
            .saturating_mul(1i64 << exponent)
            .min(self.max_delay_ms)
    }
}

/// What identity keeps about a person, for the Privacy page.
pub fn personal_data_held() -> Vec<DataCategory> {
    use HeldFor::{GuestOrganization, HomeOrganization};
    vec![
        DataCategory::new("profile", "until your account is deleted", HomeOrganization),
        DataCategory::new(
            "password (hashed)",
            "the current one, until your account is deleted",
            HomeOrganization,
        ),
        DataCategory::new(
            "sessions",
            "ended ones too, until your account is deleted",
            HomeOrganization,
        ),
        DataCategory::new(
            "guest organizations you belong to",
            "until you leave them or your account is deleted",
            HomeOrganization,
        ),
        DataCategory::new(
            "sessions signed in to this organization",
            "ended ones too, until your account is deleted",
            GuestOrganization,
        ),
    ]
}

/// Whether a person may delete their own account: their home organization decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfDeletion {
    Allowed,
    NotAllowedByOrganization,
    /// identity has not heard the home organization's settings yet.
    OrganizationUnknown,
}

impl SelfDeletion {
    /// From the home organization's setting, `None` while it is unknown here.
    pub fn from_setting(home_organization_allows: Option<bool>) -> Self {
        match home_organization_allows {
            Some(true) => SelfDeletion::Allowed,
            Some(false) => SelfDeletion::NotAllowedByOrganization,
            None => SelfDeletion::OrganizationUnknown,
        }
    }

    /// Why the person may not, in their words; `None` when they may.
    pub fn refusal(self) -> Option<&'static str> {
        match self {
            SelfDeletion::Allowed => None,
            SelfDeletion::NotAllowedByOrganization => {
                Some("your organization does not let members delete their own account; ask its administrator")
            }
            SelfDeletion::OrganizationUnknown => Some("your home organization is not known yet; ask its administrator"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_after_the_free_failures_and_is_capped() {
        let p = ThrottlePolicy::ACCOUNT;
        assert_eq!(p.delay_ms(4), 0);
        assert_eq!(p.delay_ms(5), 1_000);
        assert_eq!(p.delay_ms(6), 2_000);
        assert_eq!(p.delay_ms(8), 8_000);
        assert_eq!(p.delay_ms(60), 15 * 60 * 1_000);
    }

    #[test]
    fn user_principal_names_are_normalised_and_checked() {
        let mut v = Violations::new();
        assert_eq!(
            UserPrincipalName::parse("upn", " Adele.Vance@Contoso.Example ", &mut v).map(|u| u.0),
            Some("adele.vance@contoso.example".into())
        );
        assert!(UserPrincipalName::parse("upn", "no-at-sign", &mut v).is_none());
        assert!(UserPrincipalName::parse("upn", "a@b@c.d", &mut v).is_none());
        assert!(UserPrincipalName::parse("upn", "a b@c.d", &mut v).is_none());
        assert_eq!(v.into_vec().len(), 3);
    }

    #[test]
    fn passwords_follow_nist_rules() {
        let mut v = Violations::new();
        check_password("password", "short", &[], &mut v);
        check_password("password", "password123", &[], &mut v);
        check_password("password", "adele.vance2024", &["adele.vance@contoso.example"], &mut v);
        let problems = v.into_vec();
        assert_eq!(problems.len(), 3, "{problems:?}");
        let mut ok = Violations::new();
        // Long and unusual, no composition rules needed.
        check_password("password", "correct horse battery staple orbit", &[], &mut ok);
        assert!(ok.is_empty(), "{ok:?}");
    }

    #[test]
    fn only_editable_fields_can_change_and_values_are_checked() {
        let paths = vec![
            "display_name".to_string(),
            "mail".to_string(),
            "mobile_phone".to_string(),
        ];
        let err = ProfileChanges::parse(&paths, |f| match f {
            EditableField::DisplayName => "  ".into(),
            EditableField::MobilePhone => "call me".into(),
            _ => String::new(),
        })
        .unwrap_err();
        let fields: Vec<_> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["display_name", "update_mask", "mobile_phone"]);
        let ok = ProfileChanges::parse(&["preferred_language".into()], |_| "en-GB".into()).unwrap();
        assert_eq!(ok.field_names(), ["preferred_language"]);
    }
}
