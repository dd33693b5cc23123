//! Users, profiles, passwords and the sign-in rules. No prost, no sqlx, no tonic here.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use platform::error::{FieldViolation, Violations, violation_reason};
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
            violations.add_with_reason(field, violation_reason::REQUIRED, "is required");
            None
        } else if !valid {
            let reason = if value.chars().count() > MAX_NAME {
                violation_reason::TOO_LONG
            } else {
                identifier_violation::NOT_AN_ADDRESS
            };
            violations.add_with_reason(
                field,
                reason,
                "must look like name@domain.example (at most 256 characters)",
            );
            None
        } else {
            Some(Self(value))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Stable codes of the field violations of a user principal name or email address.
pub mod identifier_violation {
    /// Not `name@domain.example`.
    pub const NOT_AN_ADDRESS: &str = "NOT_AN_ADDRESS";
    /// A change of identifiers that names neither a new user principal name nor a new email.
    pub const NOTHING_TO_CHANGE: &str = "NOTHING_TO_CHANGE";
    /// The operator named an account (by its user principal name) that does not exist.
    pub const UNKNOWN_ACCOUNT: &str = "UNKNOWN_ACCOUNT";
}

/// An administrator's or the operator's change of a person's sign-in identifiers, checked: a
/// new user principal name, a new email address, or both (`None`: that one stays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierChange {
    pub user_principal_name: Option<UserPrincipalName>,
    pub email: Option<String>,
}

impl IdentifierChange {
    pub const NEW_USER_PRINCIPAL_NAME: &'static str = "new_user_principal_name";
    pub const NEW_EMAIL: &'static str = "new_email";

    /// Empty values leave their identifier alone; at least one must be given. An email address
    /// follows a user principal name's syntax, lower-cased, as `CreateUser` stores it.
    pub fn parse(new_user_principal_name: &str, new_email: &str) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Violations::new();
        let (new_user_principal_name, new_email) = (new_user_principal_name.trim(), new_email.trim());
        if new_user_principal_name.is_empty() && new_email.is_empty() {
            for field in [Self::NEW_USER_PRINCIPAL_NAME, Self::NEW_EMAIL] {
                violations.add_with_reason(
                    field,
                    identifier_violation::NOTHING_TO_CHANGE,
                    "give a new user principal name, a new email address, or both",
                );
            }
            return Err(violations.into_vec());
        }
        let user_principal_name = (!new_user_principal_name.is_empty())
            .then(|| UserPrincipalName::parse(Self::NEW_USER_PRINCIPAL_NAME, new_user_principal_name, &mut violations))
            .flatten();
        let email = (!new_email.is_empty())
            .then(|| UserPrincipalName::parse(Self::NEW_EMAIL, new_email, &mut violations))
            .flatten()
            .map(|address| address.as_str().to_owned());
        violations.into_result()?;
        Ok(Self {
            user_principal_name,
            email,
        })
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
    /// How dates, times and numbers are written (a BCP 47 tag such as `de-CH`); empty: as the
    /// display language writes them.
    pub regional_format: String,
    /// The IANA time zone dates and times are shown in (`Europe/Berlin`); empty: the device's.
    pub time_zone: String,
    pub home_organization_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Stable codes of the profile's own field violations (`FieldViolation::reason`).
pub mod profile_violation {
    pub const NOT_EDITABLE: &str = "NOT_EDITABLE";
    pub const LISTED_TWICE: &str = "LISTED_TWICE";
    pub const NOTHING_TO_CHANGE: &str = "NOTHING_TO_CHANGE";
    pub const INVALID_PHONE: &str = "INVALID_PHONE";
    pub const INVALID_LANGUAGE_TAG: &str = "INVALID_LANGUAGE_TAG";
    pub const INVALID_TIME_ZONE: &str = "INVALID_TIME_ZONE";
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
    RegionalFormat,
    TimeZone,
}

impl EditableField {
    pub const ALL: [EditableField; 9] = [
        EditableField::DisplayName,
        EditableField::GivenName,
        EditableField::Surname,
        EditableField::OfficeLocation,
        EditableField::MobilePhone,
        EditableField::BusinessPhone,
        EditableField::PreferredLanguage,
        EditableField::RegionalFormat,
        EditableField::TimeZone,
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
            EditableField::RegionalFormat => "regional_format",
            EditableField::TimeZone => "time_zone",
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
            EditableField::PreferredLanguage | EditableField::RegionalFormat => {
                validate_language(field, value, violations)
            }
            EditableField::TimeZone => validate_time_zone(field, value, violations),
        }
    }

    /// The value as it is stored: language tags in their canonical casing (`de-ch` -> `de-CH`),
    /// everything else as given. Only called on values that passed [`EditableField::validate`].
    fn canonical(self, value: String) -> String {
        match self {
            EditableField::PreferredLanguage | EditableField::RegionalFormat if !value.is_empty() => {
                language_tag(&value).map_or(value, |tag| tag.to_string())
            }
            _ => value,
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
            violations.add_with_reason(
                "update_mask",
                profile_violation::NOTHING_TO_CHANGE,
                "name at least one field to change",
            );
        }
        for path in paths {
            match EditableField::from_name(path) {
                Some(field) if changes.iter().any(|(f, _)| *f == field) => {
                    violations.add_with_reason(
                        "update_mask",
                        profile_violation::LISTED_TWICE,
                        format!("{path} is listed twice"),
                    );
                }
                Some(field) => {
                    let value = value_of(field).trim().to_owned();
                    let before = violations.len();
                    field.validate(&value, &mut violations);
                    let value = if violations.len() == before {
                        field.canonical(value)
                    } else {
                        value
                    };
                    changes.push((field, value));
                }
                None => violations.add_with_reason(
                    "update_mask",
                    profile_violation::NOT_EDITABLE,
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
        violations.add_with_reason(
            field,
            profile_violation::INVALID_PHONE,
            "must be a phone number such as +1 425 555 0100",
        );
    }
}

/// A BCP 47 language tag (language, script, region, variants: `en`, `de-CH`, `zh-Hant-TW`),
/// written with hyphens only; `None` for anything else.
fn language_tag(value: &str) -> Option<unic_langid::LanguageIdentifier> {
    if value.len() > 35 || value.contains('_') {
        return None;
    }
    let tag = unic_langid::LanguageIdentifier::from_str(value).ok()?;
    // "und" parses (the undetermined language) but says nothing a page could use; 5 to 8
    // letters are reserved by BCP 47 and no language is registered so ("english").
    let language = tag.language.as_str();
    (language != "und" && (2..=3).contains(&language.len())).then_some(tag)
}

fn validate_language(field: &str, value: &str, violations: &mut Violations) {
    if !value.is_empty() && language_tag(value).is_none() {
        violations.add_with_reason(
            field,
            profile_violation::INVALID_LANGUAGE_TAG,
            "must be a language tag such as en-US",
        );
    }
}

/// An IANA time zone name from the tz database (`Europe/Berlin`, `UTC`), as chrono-tz knows it.
fn validate_time_zone(field: &str, value: &str, violations: &mut Violations) {
    if !value.is_empty() && chrono_tz::Tz::from_str(value).is_err() {
        violations.add_with_reason(
            field,
            profile_violation::INVALID_TIME_ZONE,
            "must be an IANA time zone such as Europe/Berlin",
        );
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
                reason: String::new(),
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

/// Why a sign-in failed: the shared vocabulary's reasons (stable codes, one table of words).
pub use myaccount_proto::events::v1::SignInFailureReason as FailureReason;

/// A second factor a sign-in may be completed with, as security-info describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactor {
    pub method_id: String,
    /// "authenticator_app", "phone", "email", "security_key", "recovery_codes".
    pub kind: String,
    pub label: String,
    pub is_default: bool,
    /// The interrupted sign-in it was registered in ("more information required"), if any.
    pub registration_id: Option<Uuid>,
    /// RFC 8176 values it proves and its name in the sign-in log.
    pub amr: Vec<String>,
    pub method: String,
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

/// A passwordless sign-in's options for `navigator.credentials.get()`, answered with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyOptions {
    pub challenge_id: String,
    pub request_options_json: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What security-info concluded about a passwordless sign-in's assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasskeyCheck {
    /// The passkey of `user_id` signed, user-verified; the RFC 8176 values it proves.
    Verified {
        user_id: Uuid,
        amr: Vec<String>,
    },
    /// A passkey of `user_id` was offered, but its answer did not verify (or its counter went
    /// backwards).
    Incorrect {
        user_id: Uuid,
    },
    /// No account has this passkey.
    UnknownCredential,
    /// The challenge is unknown, or was answered before.
    ChallengeInvalid,
    ChallengeExpired,
}

/// What the second step shows after a factor is chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MfaPrompt {
    pub sent_to: String,
    pub request_options_json: String,
}

/// A self-service password reset as the person sees it when it opens.
#[derive(Debug, Clone)]
pub struct PasswordResetFlow {
    pub flow_id: Uuid,
    pub methods: Vec<ResetMethodView>,
    pub methods_required: i32,
    pub expires_at: DateTime<Utc>,
}

/// A method a password reset offers, under the flow's own id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetMethodView {
    pub id: Uuid,
    /// "authenticator_app", "phone", "email", "security_key", "recovery_codes".
    pub kind: String,
    pub label: String,
}

/// How far a password reset has come: how many more methods are due, and which are proven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetProgress {
    pub methods_required: i32,
    pub proven_method_ids: Vec<Uuid>,
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

/// Failed-attempt throttling: exponential backoff per counter (an account name as typed, so it
/// behaves the same whether or not the account exists, scoped to where the attempt comes from;
/// and a client address across accounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed before any delay.
    pub free_failures: i32,
    pub base_delay_ms: i64,
    pub max_delay_ms: i64,
    /// Failures older than this are forgotten.
    pub window_secs: i64,
    /// Attempts that may run at once beyond the failures still free, while the counter has
    /// not used them up: room for a morning rush of right passwords behind one office address.
    /// Past the free failures it is one attempt at a time again, so what a guesser gains is one
    /// burst of this many per window.
    pub burst_allowance: i32,
}

impl ThrottlePolicy {
    /// One account from its familiar places, or from one unfamiliar address.
    pub const ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        free_failures: 4,
        base_delay_ms: 1_000,
        max_delay_ms: 15 * 60 * 1_000,
        window_secs: 3_600,
        burst_allowance: 0,
    };
    /// One account from every unfamiliar place together: bounds what many addresses (a botnet)
    /// can guess, each of them locked out after [`ThrottlePolicy::ACCOUNT`]'s free failures.
    pub const UNFAMILIAR_PLACES: ThrottlePolicy = ThrottlePolicy {
        free_failures: 20,
        base_delay_ms: 1_000,
        max_delay_ms: 15 * 60 * 1_000,
        window_secs: 3_600,
        burst_allowance: 0,
    };
    /// One client address across every account (password spraying). Its burst allowance lets
    /// 85 people behind one NAT sign in at once while the address has free failures left (each
    /// account's own counters still allow only its free failures at once).
    pub const IP: ThrottlePolicy = ThrottlePolicy {
        free_failures: 20,
        base_delay_ms: 1_000,
        max_delay_ms: 15 * 60 * 1_000,
        window_secs: 3_600,
        burst_allowance: 64,
    };

    /// This policy with another first lock-out (`SIGN_IN_LOCKOUT_BASE`).
    pub fn with_base_delay(self, base_delay_ms: i64) -> Self {
        Self { base_delay_ms, ..self }
    }

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

    /// Whether one more attempt may verify a password against this counter now. Attempts in
    /// flight count as failures to come: at most as many run at once as failures may still be
    /// recorded before the next lock-out (and always one, so a counter past its free failures
    /// takes one attempt at a time between lock-outs). Attempts beyond that wait for a place
    /// rather than being refused: they may be the owner's right passwords.
    pub fn admission(&self, state: &ThrottleState, now: DateTime<Utc>) -> Admission {
        if let Some(until) = state.blocked_until.filter(|until| *until > now) {
            return Admission::Blocked(until);
        }
        let failures = if state.last_failure_at < now - chrono::Duration::seconds(self.window_secs) {
            0
        } else {
            state.failures
        };
        let in_flight = state.in_flight_at(now);
        let allowance = if failures < self.free_failures {
            self.burst_allowance
        } else {
            0
        };
        if in_flight == 0 || failures + in_flight <= self.free_failures + allowance {
            Admission::Admitted
        } else {
            Admission::Busy
        }
    }
}

/// A reservation older than this is taken to belong to a process that died before settling it.
pub const RESERVATION_STALE_SECS: i64 = 60;

/// One failure counter as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ThrottleState {
    pub failures: i32,
    pub last_failure_at: DateTime<Utc>,
    pub blocked_until: Option<DateTime<Utc>>,
    /// Attempts that reserved a place and have not settled it yet.
    pub in_flight: i32,
    pub reserved_at: Option<DateTime<Utc>>,
}

impl ThrottleState {
    /// The attempts in flight, forgetting stale reservations.
    pub fn in_flight_at(&self, now: DateTime<Utc>) -> i32 {
        match self.reserved_at {
            Some(at) if at >= now - chrono::Duration::seconds(RESERVATION_STALE_SECS) => self.in_flight.max(0),
            _ => 0,
        }
    }
}

/// What a counter says to one more attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    /// As many attempts are in flight as may still fail before the next lock-out: wait for one.
    Busy,
    /// Locked out until then.
    Blocked(DateTime<Utc>),
}

impl Admission {
    /// What all of an attempt's counters say together: locked out if any is (until the latest),
    /// else busy if any is.
    pub fn all(admissions: impl IntoIterator<Item = Admission>) -> Admission {
        admissions.into_iter().fold(Admission::Admitted, |a, b| match (a, b) {
            (Admission::Blocked(x), Admission::Blocked(y)) => Admission::Blocked(x.max(y)),
            (Admission::Blocked(x), _) | (_, Admission::Blocked(x)) => Admission::Blocked(x),
            (Admission::Busy, _) | (_, Admission::Busy) => Admission::Busy,
            _ => Admission::Admitted,
        })
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
            "addresses you signed in from (so guesses from elsewhere cannot lock you out)",
            "the time of your last sign-in from each, until your account is deleted",
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

/// How long until a throttled key may try again (at least a second, so clients never spin).
pub fn retry_after(until: DateTime<Utc>, now: DateTime<Utc>) -> std::time::Duration {
    (until - now).to_std().unwrap_or(std::time::Duration::from_secs(1))
}

/// The failure counters one sign-in attempt answers to (see [`ThrottlePolicy`]).
///
/// Smart lockout: an account's failures are counted apart for its familiar places (an address
/// the person signed in from recently, their registered device) and for each unfamiliar
/// address, so an attacker guessing from elsewhere locks out only themselves while the owner
/// still signs in from home; every unfamiliar place together has a counter too, and every
/// client address one across accounts.
#[derive(Debug, Clone, Default)]
pub struct Throttle {
    /// Counters a wrong answer adds to, each with its policy.
    pub counted: Vec<(String, ThrottlePolicy)>,
    /// Counters a proven credential resets.
    pub cleared: Vec<String>,
    /// The attempt holds a place on every counted counter, which its record settles.
    pub reserved: bool,
}

impl Throttle {
    /// The counter of an account name (as typed, lower-cased), whether or not the account
    /// exists, from its familiar places.
    pub fn account_key(user_principal_name: &str) -> String {
        format!("account:{}", user_principal_name.to_lowercase())
    }

    /// The account's counters for an attempt from `ip_address` (empty when the gateway did not
    /// say) that is `familiar` or not: the first one is the one a proven credential resets.
    fn account_counters(user_principal_name: &str, ip_address: &str, familiar: bool) -> Vec<(String, ThrottlePolicy)> {
        let account = Self::account_key(user_principal_name);
        if familiar {
            return vec![(account, ThrottlePolicy::ACCOUNT)];
        }
        let place = if ip_address.is_empty() { "unknown" } else { ip_address };
        vec![
            (format!("{account}:from:{place}"), ThrottlePolicy::ACCOUNT),
            (format!("{account}:unfamiliar"), ThrottlePolicy::UNFAMILIAR_PLACES),
        ]
    }

    /// The first step: the account's counters for the place and, when the gateway said where
    /// the client is, the client address's. A right password forgets the failures of the
    /// account from this place (not those of every unfamiliar place together: the owner's
    /// success says nothing about the others).
    pub fn first_step(user_principal_name: &str, ip_address: &str, familiar: bool) -> Self {
        let mut counted = Self::account_counters(user_principal_name, ip_address, familiar);
        let cleared = vec![counted[0].0.clone()];
        if !ip_address.is_empty() {
            counted.push((format!("ip:{ip_address}"), ThrottlePolicy::IP));
        }
        Self {
            counted,
            cleared,
            reserved: false,
        }
    }

    /// The same counters with every policy's first lock-out set to `base_delay_ms`.
    pub fn with_lockout_base(mut self, base_delay_ms: i64) -> Self {
        for (_, policy) in &mut self.counted {
            *policy = policy.with_base_delay(base_delay_ms);
        }
        self
    }

    /// The second step: wrong answers count against the account (from the first step's place)
    /// like wrong passwords, so a stolen password cannot be paired with unlimited guesses over
    /// many challenges.
    pub fn second_step(user_principal_name: &str, ip_address: &str, familiar: bool) -> Self {
        let counted = Self::account_counters(user_principal_name, ip_address, familiar);
        let cleared = vec![counted[0].0.clone()];
        Self {
            counted,
            cleared,
            reserved: false,
        }
    }

    /// A passwordless sign-in: no account name is typed, so a wrong answer (a passkey that does
    /// not verify, an unknown one, a spent challenge) counts against the client address, the
    /// password-spraying counter; nothing is cleared by a right one. A passkey cannot be guessed
    /// the way a password is, and the account's own counters guard its password, which a
    /// passkey sign-in never uses.
    pub fn passkey(ip_address: &str) -> Self {
        let counted = if ip_address.is_empty() {
            Vec::new()
        } else {
            vec![(format!("ip:{ip_address}"), ThrottlePolicy::IP)]
        };
        Self {
            counted,
            cleared: Vec::new(),
            reserved: false,
        }
    }

    /// A password reset's proof of a registered method: a wrong answer counts against the account
    /// name (from the place) and the client address, as a wrong password does, whether or not
    /// the account exists; a right one clears nothing (it says nothing about password guesses).
    pub fn password_reset(user_principal_name: &str, ip_address: &str, familiar: bool) -> Self {
        let mut counted = Self::account_counters(user_principal_name, ip_address, familiar);
        if !ip_address.is_empty() {
            counted.push((format!("ip:{ip_address}"), ThrottlePolicy::IP));
        }
        Self {
            counted,
            cleared: Vec::new(),
            reserved: false,
        }
    }

    /// A step-up inside a session: a wrong password counts against the account from the place;
    /// a right one leaves the counters as they are.
    pub fn step_up(user_principal_name: &str, ip_address: &str, familiar: bool) -> Self {
        Self {
            counted: Self::account_counters(user_principal_name, ip_address, familiar),
            cleared: Vec::new(),
            reserved: false,
        }
    }

    /// The counters that can hold the attempt back.
    pub fn keys(&self) -> Vec<String> {
        self.counted.iter().map(|(key, _)| key.clone()).collect()
    }

    /// The policy of a counted counter.
    pub fn policy_of(&self, key: &str) -> Option<ThrottlePolicy> {
        self.counted.iter().find(|(k, _)| k == key).map(|(_, p)| *p)
    }
}

/// Where a proxy trusted by the gateway said the client is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientLocation {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub region: String,
    pub city: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// The client a request came from, as the gateway reported it.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip_address: String,
    pub user_agent: String,
    pub device_id: String,
    pub app_id: String,
    pub correlation_id: String,
    pub location: Option<ClientLocation>,
}

/// One sign-in attempt (a first step, a second step, a step-up or the last step after a
/// required password change): who (as typed, then the account and organization once known),
/// how (the deciding method and the methods proven), from where, and which failure counters it
/// answers to. It is recorded once, with its [`Verdict`], when it ends.
#[derive(Debug, Clone)]
pub struct SignInAttempt {
    pub id: Uuid,
    pub time: DateTime<Utc>,
    pub typed_user_principal_name: String,
    pub user_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    /// The method that decided the attempt ("password", "app_password", "authenticator_app", ...).
    pub method: String,
    pub amr: Vec<String>,
    pub client: ClientInfo,
    pub throttle: Throttle,
}

impl SignInAttempt {
    pub fn new(
        time: DateTime<Utc>,
        typed_user_principal_name: &str,
        method: &str,
        client: ClientInfo,
        throttle: Throttle,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            time,
            typed_user_principal_name: typed_user_principal_name.to_owned(),
            user_id: None,
            organization_id: None,
            method: method.to_owned(),
            amr: Vec::new(),
            client,
            throttle,
        }
    }
}

/// How a sign-in attempt ended, as its record and its failure counters see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A session opened, or the one being stepped up was renewed.
    SignedIn { session_id: Uuid },
    /// Every credential asked so far is right and a second factor is due: the attempt is
    /// recorded when the second step is answered.
    SecondFactorDue,
    /// The credentials are right, but the attempt stops here (not a member of the organization
    /// asked for, a new password is due).
    StoppedAfterProof(FailureReason),
    /// Refused whatever was answered (throttled, disabled account, challenge expired or used up).
    Refused(FailureReason),
    /// A wrong password or second-factor answer: counts towards throttling.
    WrongAnswer(FailureReason),
    /// A self-service password reset set the new password: a success that opens no session.
    PasswordReset,
}

impl Verdict {
    /// What `myaccount.signin.v1.recorded` says: a success (with the session it opened, if it
    /// opened one), or why not; `None` while the attempt goes on.
    pub fn recorded_outcome(self) -> Option<Result<Option<Uuid>, FailureReason>> {
        match self {
            Verdict::SignedIn { session_id } => Some(Ok(Some(session_id))),
            Verdict::PasswordReset => Some(Ok(None)),
            Verdict::SecondFactorDue => None,
            Verdict::StoppedAfterProof(reason) | Verdict::Refused(reason) | Verdict::WrongAnswer(reason) => {
                Some(Err(reason))
            }
        }
    }

    /// Whether the credentials were proven, which resets the attempt's failure counters.
    pub fn proven(self) -> bool {
        matches!(
            self,
            Verdict::SignedIn { .. }
                | Verdict::SecondFactorDue
                | Verdict::StoppedAfterProof(_)
                | Verdict::PasswordReset
        )
    }
}

/// Tokens handed to a client after sign-in or refresh.
#[derive(Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: std::time::Duration,
}

/// Why a session ended by itself, as a refresh finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionExpiry {
    /// Not used (refreshed) for longer than the idle timeout.
    IdleTimeout,
    /// Older than the absolute lifetime, however busy.
    MaxLifetime,
}

impl SessionExpiry {
    /// The stable code clients tell the two apart by.
    pub fn code(self) -> &'static str {
        match self {
            SessionExpiry::IdleTimeout => "idle_timeout",
            SessionExpiry::MaxLifetime => "max_lifetime",
        }
    }
}

/// Never shows the tokens: a `?` in a log line must not hand out a session.
impl std::fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// The second step a sign-in (or step-up) waits for.
#[derive(Debug, Clone)]
pub struct MfaChallenge {
    pub challenge_id: Uuid,
    pub factors: Vec<SecondFactor>,
    pub expires_at: DateTime<Utc>,
}

/// The credential of the last step after a required password change, and until when it works.
#[derive(Debug, Clone)]
pub struct ChangeTicket {
    pub ticket_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// A sign-in step's answer: tokens, or what is still due.
#[derive(Debug, Clone)]
pub enum SignInOutcome {
    Tokens(IssuedTokens),
    MfaRequired(MfaChallenge),
    /// Proven, but a new password is due before a session opens.
    PasswordChangeRequired(ChangeTicket),
    /// Proven, but the organization requires multi-factor authentication and the person has no
    /// second factor: they register one with this token before a session opens.
    MfaRegistrationRequired(RegistrationTicket),
}

/// The token of a sign-in interrupted by "more information required".
#[derive(Debug, Clone)]
pub struct RegistrationTicket {
    pub registration_token: String,
    pub expires_at: DateTime<Utc>,
}

/// Why sessions ended: the platform's stable codes, shared with every service's revocation feed.
pub use platform::revocation::RevocationReason;

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
    fn attempts_count_against_the_account_name_from_the_place_and_the_client_address() {
        let familiar = Throttle::first_step("Adele.Vance@Contoso.Example", "203.0.113.7", true);
        assert_eq!(
            familiar.keys(),
            ["account:adele.vance@contoso.example", "ip:203.0.113.7"]
        );
        assert_eq!(familiar.cleared, ["account:adele.vance@contoso.example"]);
        let unfamiliar = Throttle::first_step("adele.vance@contoso.example", "198.51.100.66", false);
        assert_eq!(
            unfamiliar.keys(),
            [
                "account:adele.vance@contoso.example:from:198.51.100.66",
                "account:adele.vance@contoso.example:unfamiliar",
                "ip:198.51.100.66"
            ]
        );
        assert_eq!(
            unfamiliar.cleared,
            ["account:adele.vance@contoso.example:from:198.51.100.66"]
        );
        let unknown_address = Throttle::first_step("adele.vance@contoso.example", "", false);
        assert_eq!(
            unknown_address.keys(),
            [
                "account:adele.vance@contoso.example:from:unknown",
                "account:adele.vance@contoso.example:unfamiliar"
            ]
        );
        let step_up = Throttle::step_up("adele.vance@contoso.example", "203.0.113.7", true);
        assert_eq!(step_up.keys(), ["account:adele.vance@contoso.example"]);
        assert!(step_up.cleared.is_empty());
    }

    fn state(failures: i32, in_flight: i32, now: DateTime<Utc>) -> ThrottleState {
        ThrottleState {
            failures,
            last_failure_at: now - chrono::Duration::seconds(10),
            blocked_until: None,
            in_flight,
            reserved_at: Some(now - chrono::Duration::seconds(1)),
        }
    }

    #[test]
    fn attempts_in_flight_count_as_failures_to_come() {
        let p = ThrottlePolicy::ACCOUNT;
        let now = Utc::now();
        // Five may fail before the lock-out: five run at once, the sixth waits.
        assert_eq!(p.admission(&state(0, 4, now), now), Admission::Admitted);
        assert_eq!(p.admission(&state(0, 5, now), now), Admission::Busy);
        assert_eq!(p.admission(&state(3, 1, now), now), Admission::Admitted);
        assert_eq!(p.admission(&state(3, 2, now), now), Admission::Busy);
        // Past the free failures, one at a time between lock-outs.
        assert_eq!(p.admission(&state(7, 0, now), now), Admission::Admitted);
        assert_eq!(p.admission(&state(7, 1, now), now), Admission::Busy);
        // Failures out of the window and stale reservations are forgotten.
        let mut old = state(7, 1, now);
        old.last_failure_at = now - chrono::Duration::seconds(p.window_secs + 1);
        assert_eq!(p.admission(&old, now), Admission::Admitted);
        let mut stale = state(4, 3, now);
        stale.reserved_at = Some(now - chrono::Duration::seconds(RESERVATION_STALE_SECS + 1));
        assert_eq!(p.admission(&stale, now), Admission::Admitted);
        let mut blocked = state(5, 0, now);
        let until = now + chrono::Duration::seconds(1);
        // An address may run a burst beyond its free failures while it has not used them up
        // (a NAT's morning rush), and one at a time once it has.
        let ip = ThrottlePolicy::IP;
        assert_eq!(ip.admission(&state(0, 84, now), now), Admission::Admitted);
        assert_eq!(ip.admission(&state(0, 85, now), now), Admission::Busy);
        assert_eq!(ip.admission(&state(19, 65, now), now), Admission::Admitted);
        assert_eq!(ip.admission(&state(19, 66, now), now), Admission::Busy);
        assert_eq!(ip.admission(&state(20, 1, now), now), Admission::Busy);
        assert_eq!(ip.admission(&state(25, 0, now), now), Admission::Admitted);
        blocked.blocked_until = Some(until);
        assert_eq!(p.admission(&blocked, now), Admission::Blocked(until));
        assert_eq!(
            Admission::all([Admission::Busy, Admission::Blocked(until), Admission::Admitted]),
            Admission::Blocked(until)
        );
        assert_eq!(Admission::all([Admission::Admitted, Admission::Busy]), Admission::Busy);
    }

    #[test]
    fn finished_attempts_are_published_and_proven_ones_reset_the_counters() {
        let session_id = Uuid::now_v7();
        let wrong = Verdict::WrongAnswer(FailureReason::InvalidPassword);
        assert_eq!(
            Verdict::SignedIn { session_id }.recorded_outcome(),
            Some(Ok(Some(session_id)))
        );
        assert_eq!(Verdict::PasswordReset.recorded_outcome(), Some(Ok(None)));
        assert!(Verdict::PasswordReset.proven());
        assert_eq!(Verdict::SecondFactorDue.recorded_outcome(), None);
        assert_eq!(wrong.recorded_outcome(), Some(Err(FailureReason::InvalidPassword)));
        assert!(Verdict::SecondFactorDue.proven());
        assert!(Verdict::StoppedAfterProof(FailureReason::NotAMember).proven());
        assert!(!Verdict::Refused(FailureReason::Throttled).proven());
        assert!(!wrong.proven());
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
    fn an_identifier_change_names_one_or_both_new_identifiers_and_checks_them() {
        let both = IdentifierChange::parse(" New.Name@Contoso.Example ", "New.Mail@Contoso.Example").expect("valid");
        assert_eq!(
            both.user_principal_name.as_ref().map(UserPrincipalName::as_str),
            Some("new.name@contoso.example")
        );
        assert_eq!(both.email.as_deref(), Some("new.mail@contoso.example"));
        let email_only = IdentifierChange::parse("  ", "mail@contoso.example").expect("valid");
        assert_eq!(
            (email_only.user_principal_name, email_only.email.is_some()),
            (None, true)
        );

        let reasons = |upn: &str, email: &str| -> Vec<(String, String)> {
            IdentifierChange::parse(upn, email)
                .unwrap_err()
                .into_iter()
                .map(|v| (v.field, v.reason))
                .collect()
        };
        let pair = |field: &str, reason: &str| (field.to_owned(), reason.to_owned());
        assert_eq!(
            reasons("", " "),
            [
                pair("new_user_principal_name", identifier_violation::NOTHING_TO_CHANGE),
                pair("new_email", identifier_violation::NOTHING_TO_CHANGE),
            ]
        );
        assert_eq!(
            reasons("no-at-sign", &format!("{}@contoso.example", "a".repeat(300))),
            [
                pair("new_user_principal_name", identifier_violation::NOT_AN_ADDRESS),
                pair("new_email", violation_reason::TOO_LONG),
            ]
        );
        assert_eq!(
            reasons("ok@contoso.example", "two words@contoso.example"),
            [pair("new_email", identifier_violation::NOT_AN_ADDRESS)]
        );
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

    #[test]
    fn language_tags_and_time_zones_are_checked_and_tags_stored_canonically() {
        let paths = ["preferred_language", "regional_format", "time_zone"].map(String::from);
        let ok = ProfileChanges::parse(&paths, |f| match f {
            EditableField::PreferredLanguage => "de".into(),
            EditableField::RegionalFormat => "de-ch".into(),
            _ => "Europe/Zurich".into(),
        })
        .unwrap();
        assert_eq!(
            ok.0,
            [
                (EditableField::PreferredLanguage, "de".to_owned()),
                (EditableField::RegionalFormat, "de-CH".to_owned()),
                (EditableField::TimeZone, "Europe/Zurich".to_owned()),
            ]
        );
        for (language, zone) in [
            ("english", "Mars/Olympus"),
            ("en_US", "CET+1"),
            ("und", "europe berlin"),
        ] {
            let err = ProfileChanges::parse(&paths, |f| match f {
                EditableField::TimeZone => zone.into(),
                _ => language.into(),
            })
            .unwrap_err();
            let reasons: Vec<_> = err.iter().map(|v| (v.field.as_str(), v.reason.as_str())).collect();
            assert_eq!(
                reasons,
                [
                    ("preferred_language", profile_violation::INVALID_LANGUAGE_TAG),
                    ("regional_format", profile_violation::INVALID_LANGUAGE_TAG),
                    ("time_zone", profile_violation::INVALID_TIME_ZONE),
                ],
                "{language} / {zone}"
            );
        }
        let cleared = ProfileChanges::parse(&paths, |_| String::new()).unwrap();
        assert!(cleared.0.iter().all(|(_, v)| v.is_empty()));
    }
}
