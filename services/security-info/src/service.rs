//! Security info's use cases: a person's own methods (each change behind the step-up rule), and
//! the internal checks identity makes during a multi-factor sign-in.

use std::time::Duration;

use chrono::{DateTime, Utc};
use platform::auth::Caller;
use platform::crypto::{CryptoError, Keyring};
use platform::error::{ErrorKind, FieldViolation, ServiceError, Violations, violation_reason};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;
use webauthn_rs::Webauthn;
use webauthn_rs::prelude::{
    AuthenticationResult, CredentialID, DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, WebauthnError,
};

use crate::domain::{
    self, CODE_TTL_SECS, MAX_APP_PASSWORDS, MAX_AUTHENTICATOR_APPS, MAX_CODE_ATTEMPTS, MAX_SECURITY_KEYS, Method,
    MethodKind, MethodStatus, Notification, PENDING_TTL_SECS, PersonalData, Phone, PhoneDelivery, PhoneType, TotpCheck,
    VerificationPurpose,
};
use crate::domain::{PASSKEY_SIGN_IN_KEPT_SECS, PASSKEY_SIGN_IN_TTL_SECS};
use crate::events;
use crate::store::{self, NewMethod};

const REGISTRATION: &str = VerificationPurpose::Registration.as_str();
const SIGN_IN: &str = VerificationPurpose::SignIn.as_str();

#[derive(Debug, thiserror::Error)]
pub enum SecurityInfoError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("method {0} not found")]
    MethodNotFound(Uuid),
    #[error("registration of method {0} has expired; start again")]
    RegistrationExpired(Uuid),
    #[error("method {0} is already verified")]
    AlreadyVerified(Uuid),
    #[error("the code for method {0} has expired; request a new one")]
    CodeExpired(Uuid),
    #[error("too many incorrect codes for method {0}; request a new one")]
    TooManyAttempts(Uuid),
    #[error("you can register at most {max} {what}; remove one first")]
    LimitReached { what: &'static str, max: usize },
    #[error("{0} is already registered")]
    AlreadyRegistered(String),
    #[error(
        "method {0} is your last second factor and your organization requires multi-factor authentication; add another method before removing this one"
    )]
    LastSecondFactor(Uuid),
    #[error("method {0} cannot be the default: only authenticator apps, phones, email addresses and security keys can")]
    NotSecondFactor(Uuid),
    #[error(
        "method {0} has no name to change: only authenticator apps, security keys and passkeys, and app passwords have one"
    )]
    NotRenamable(Uuid),
    #[error("{0}")]
    ReauthenticationRequired(String),
    #[error("user {0} has been deleted")]
    UserErased(Uuid),
    #[error(
        "codes cannot be sent to phones here: no SMS or voice provider is configured (PHONE_PROVIDER); use an authenticator app, an email address or a security key instead"
    )]
    PhoneUnavailable,
    #[error("database failed")]
    Database(#[from] sqlx::Error),
    #[error("secret could not be decrypted")]
    Crypto(#[from] CryptoError),
    #[error("webauthn failed: {0}")]
    WebAuthn(String),
}

impl From<events::NotificationError> for SecurityInfoError {
    fn from(e: events::NotificationError) -> Self {
        match e {
            events::NotificationError::Outbox(e) => Self::Database(e),
            events::NotificationError::Seal(e) => Self::Crypto(e),
        }
    }
}

impl ServiceError for SecurityInfoError {
    fn kind(&self) -> ErrorKind {
        use SecurityInfoError as E;
        match self {
            E::Invalid(v) => ErrorKind::InvalidArgument(v.clone()),
            E::MethodNotFound(_) => ErrorKind::NotFound(self.to_string()),
            E::AlreadyRegistered(_) => ErrorKind::AlreadyExists(self.to_string()),
            E::RegistrationExpired(_)
            | E::AlreadyVerified(_)
            | E::CodeExpired(_)
            | E::LimitReached { .. }
            | E::LastSecondFactor(_)
            | E::NotSecondFactor(_)
            | E::NotRenamable(_)
            | E::UserErased(_)
            | E::PhoneUnavailable => ErrorKind::FailedPrecondition(self.to_string()),
            E::TooManyAttempts(_) => ErrorKind::ResourceExhausted {
                message: self.to_string(),
                retry_after: None,
            },
            E::ReauthenticationRequired(m) => ErrorKind::ReauthenticationRequired(m.clone()),
            E::Database(_) | E::Crypto(_) | E::WebAuthn(_) => ErrorKind::Internal,
        }
    }
}

/// One invalid field with its stable code (`violation_reason`).
fn invalid(field: &str, reason: &str, description: impl Into<String>) -> SecurityInfoError {
    SecurityInfoError::Invalid(vec![FieldViolation {
        field: field.into(),
        description: description.into(),
        reason: reason.into(),
    }])
}

/// A person's security info as the page shows it.
#[derive(Debug, Clone)]
pub struct Overview {
    pub methods: Vec<Method>,
    pub default_method_id: Option<Uuid>,
    pub mfa_registered: bool,
    pub mfa_required: bool,
    /// Whether codes can reach a phone (a provider is configured).
    pub phone_available: bool,
}

#[derive(Debug, Clone)]
pub struct AuthenticatorAppStarted {
    pub method: Method,
    pub secret: String,
    pub otpauth_uri: String,
}

#[derive(Debug, Clone)]
pub struct CodeSent {
    pub method: Method,
    pub sent_to: String,
}

#[derive(Debug, Clone)]
pub struct SecurityKeyStarted {
    pub method: Method,
    pub creation_options_json: String,
}

/// A proof offered for a sign-in's second step.
#[derive(Debug, Clone)]
pub enum Proof {
    Code(String),
    Assertion(String),
}

/// What a second-factor check concluded. Failures are answers, not errors: identity records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Verified(Method),
    Incorrect(Method),
    Replayed(Method),
    Expired(Method),
    TooManyAttempts(Method),
    PossibleClone(Method),
    UnknownMethod,
}

/// A passwordless sign-in's options, and the ceremony that remembers its challenge.
#[derive(Debug, Clone)]
pub struct PasskeySignInStarted {
    pub ceremony_id: Uuid,
    pub request_options_json: String,
    pub expires_at: DateTime<Utc>,
}

/// What a passwordless sign-in's assertion proved. Failures are answers: identity records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasskeySignIn {
    Verified { method: Method, amr: Vec<String> },
    Incorrect(Method),
    PossibleClone(Method),
    UnknownCredential,
    UnknownCeremony,
    CeremonyUsed,
    CeremonyExpired,
}

/// What identity shows when a factor is chosen.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub method: Method,
    pub sent_to: String,
    pub request_options_json: String,
}

pub struct SecurityInfo {
    pool: PgPool,
    keyring: Keyring,
    webauthn: Webauthn,
    step_up_max_age: Duration,
    totp_issuer: String,
    /// Whether a phone provider is configured: without one, no code is sent to a phone.
    phone_available: bool,
}

impl SecurityInfo {
    pub fn new(
        pool: PgPool,
        keyring: Keyring,
        webauthn: Webauthn,
        step_up_max_age: Duration,
        totp_issuer: String,
        phone_available: bool,
    ) -> Self {
        Self {
            pool,
            keyring,
            webauthn,
            step_up_max_age,
            totp_issuer,
            phone_available,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The step-up rule: a recent multi-factor sign-in; for a person without any second factor
    /// yet (who cannot have one), a recent sign-in.
    fn step_up(&self, caller: &Caller, methods: &[Method]) -> Result<(), SecurityInfoError> {
        let check = if methods.iter().any(Method::is_second_factor) {
            caller.require_recent_mfa(self.step_up_max_age)
        } else {
            caller.require_recent_sign_in(self.step_up_max_age)
        };
        check.map_err(|status| SecurityInfoError::ReauthenticationRequired(status.message().to_owned()))
    }

    /// Whether the person must keep a second factor: the session's organization or any other
    /// they belong to requires multi-factor authentication (a session in a guest organization
    /// without the rule must not strip the factor the home organization demands).
    async fn mfa_required(&self, conn: &mut PgConnection, caller: &Caller) -> Result<bool, SecurityInfoError> {
        let organization = caller.organization_id.as_deref().filter(|o| !o.is_empty());
        Ok(store::mfa_required_for(conn, caller.user_id, organization).await?)
    }

    pub async fn overview(&self, caller: &Caller) -> Result<Overview, SecurityInfoError> {
        let mut conn = self.pool.acquire().await?;
        let organization = caller.organization_id.as_deref().filter(|o| !o.is_empty());
        let (methods, chosen, mfa_required) = store::security_info_of(&mut conn, caller.user_id, organization).await?;
        Ok(Overview {
            default_method_id: domain::effective_default(&methods, chosen),
            mfa_registered: methods.iter().any(Method::is_second_factor),
            mfa_required,
            phone_available: self.phone_available,
            methods,
        })
    }

    /// Everything kept about the person (ExportMyData), read without a secret.
    pub async fn export(&self, user_id: Uuid) -> Result<PersonalData, SecurityInfoError> {
        let mut tx = self.pool.begin().await?;
        let methods = store::methods_of(&mut tx, user_id).await?;
        let chosen = store::chosen_default_since(&mut tx, user_id).await?;
        let verifications = store::verifications_of(&mut tx, user_id).await?;
        tx.commit().await?;
        let default_method_id = domain::effective_default(&methods, chosen.map(|(id, _)| id));
        Ok(PersonalData {
            user_id,
            default_chosen_at: chosen
                .filter(|(id, _)| Some(*id) == default_method_id)
                .map(|(_, at)| at),
            default_method_id,
            unused_recovery_codes: methods
                .iter()
                .filter(|m| m.is_active() && m.kind == MethodKind::RecoveryCodes)
                .map(|m| m.remaining_codes)
                .sum(),
            methods,
            verifications,
            exported_at: Utc::now(),
        })
    }

    /// Opens a transaction on the caller's methods: expired registrations dropped, the active
    /// methods locked, and the step-up rule checked.
    async fn begin_change(
        &self,
        caller: &Caller,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, Vec<Method>), SecurityInfoError> {
        let mut tx = self.pool.begin().await?;
        store::delete_expired_pending(&mut tx, caller.user_id, Utc::now()).await?;
        let methods = store::lock_active_methods(&mut tx, caller.user_id).await?;
        self.step_up(caller, &methods)?;
        Ok((tx, methods))
    }

    // --- authenticator apps

    pub async fn start_authenticator_app(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<AuthenticatorAppStarted, SecurityInfoError> {
        let mut v = Violations::new();
        let name = domain::check_name("name", name, &mut v);
        v.into_result().map_err(SecurityInfoError::Invalid)?;
        let (mut tx, methods) = self.begin_change(caller).await?;
        check_limit(
            &methods,
            MethodKind::AuthenticatorApp,
            MAX_AUTHENTICATOR_APPS,
            "authenticator apps",
        )?;
        let now = Utc::now();
        let method = insert_pending(&mut tx, caller, MethodKind::AuthenticatorApp, &name, None, None, now).await?;
        let secret = domain::new_totp_secret();
        let sealed = self.keyring.encrypt(&secret, method.id.as_bytes())?;
        store::set_totp_secret(&mut tx, method.id, &sealed, self.keyring.current_key_id()).await?;
        tx.commit().await?;
        Ok(AuthenticatorAppStarted {
            otpauth_uri: domain::otpauth_uri(&self.totp_issuer, &name, &secret),
            secret: domain::base32(&secret),
            method,
        })
    }

    // --- phone and email

    pub async fn start_phone(
        &self,
        caller: &Caller,
        phone_type: Option<PhoneType>,
        number: &str,
        delivery: Option<PhoneDelivery>,
    ) -> Result<CodeSent, SecurityInfoError> {
        if !self.phone_available {
            return Err(SecurityInfoError::PhoneUnavailable);
        }
        let mut v = Violations::new();
        if phone_type.is_none() {
            v.add_with_reason(
                "phone_type",
                violation_reason::REQUIRED,
                "is required: mobile, alternate_mobile or office",
            );
        }
        let number = domain::parse_e164("phone_number", number, &mut v);
        let delivery = match (phone_type, delivery) {
            (Some(PhoneType::Office), Some(PhoneDelivery::Sms)) => {
                v.add_with_reason(
                    "delivery",
                    violation_reason::VOICE_ONLY,
                    "an office phone is called, not texted: use voice",
                );
                None
            }
            (Some(PhoneType::Office), _) => Some(PhoneDelivery::Voice),
            (_, Some(d)) => Some(d),
            (_, None) => Some(PhoneDelivery::Sms),
        };
        v.into_result().map_err(SecurityInfoError::Invalid)?;
        let (Some(phone_type), Some(number), Some(delivery)) = (phone_type, number, delivery) else {
            return Err(invalid("phone_number", violation_reason::REQUIRED, "is required"));
        };
        let (mut tx, methods) = self.begin_change(caller).await?;
        if methods
            .iter()
            .any(|m| m.phone.as_ref().is_some_and(|p| p.phone_type == phone_type))
        {
            return Err(SecurityInfoError::AlreadyRegistered(format!(
                "a {} phone",
                phone_type.as_str().replace('_', " ")
            )));
        }
        let phone = Phone {
            phone_type,
            number,
            delivery,
        };
        let now = Utc::now();
        let method = insert_pending(&mut tx, caller, MethodKind::Phone, "", Some(&phone), None, now).await?;
        self.send_code(&mut tx, &method, REGISTRATION, "verification_code", now)
            .await?;
        tx.commit().await?;
        Ok(CodeSent {
            sent_to: method.label(),
            method,
        })
    }

    pub async fn start_email(&self, caller: &Caller, address: &str) -> Result<CodeSent, SecurityInfoError> {
        let mut v = Violations::new();
        let address = domain::parse_email("email", address, &mut v);
        v.into_result().map_err(SecurityInfoError::Invalid)?;
        let Some(address) = address else {
            return Err(invalid("email", violation_reason::REQUIRED, "is required"));
        };
        let (mut tx, methods) = self.begin_change(caller).await?;
        if methods.iter().any(|m| m.email.as_deref() == Some(address.as_str())) {
            return Err(SecurityInfoError::AlreadyRegistered(format!("email address {address}")));
        }
        let now = Utc::now();
        let method = insert_pending(&mut tx, caller, MethodKind::Email, "", None, Some(&address), now).await?;
        self.send_code(&mut tx, &method, REGISTRATION, "verification_code", now)
            .await?;
        tx.commit().await?;
        Ok(CodeSent {
            sent_to: method.label(),
            method,
        })
    }

    /// A new one-time code for `method`, stored hashed, delivered through a notification event.
    async fn send_code(
        &self,
        conn: &mut PgConnection,
        method: &Method,
        purpose: &str,
        template: &'static str,
        now: DateTime<Utc>,
    ) -> Result<(), SecurityInfoError> {
        let code = domain::new_numeric_code();
        let code_id = Uuid::now_v7();
        store::insert_code(
            conn,
            code_id,
            method.id,
            purpose,
            &domain::hash_code(code_id, &code),
            now,
            now + chrono::Duration::seconds(CODE_TTL_SECS),
        )
        .await?;
        if let Some(notification) = Notification::code(method, template, &code) {
            events::notification_requested(conn, &self.keyring, &notification, now).await?;
        }
        Ok(())
    }

    /// Completes a pending authenticator app, phone or email with the code it shows or received.
    pub async fn verify_method(
        &self,
        caller: &Caller,
        method_id: &str,
        code: &str,
    ) -> Result<Method, SecurityInfoError> {
        let method_id = parse_id("method_id", method_id)?;
        if code.trim().is_empty() {
            return Err(invalid("code", violation_reason::REQUIRED, "is required"));
        }
        let (mut tx, methods) = self.begin_change(caller).await?;
        let now = Utc::now();
        let method = self.pending_method(&mut tx, caller, method_id, now).await?;
        match method.kind {
            MethodKind::AuthenticatorApp => {
                check_limit(
                    &methods,
                    MethodKind::AuthenticatorApp,
                    MAX_AUTHENTICATOR_APPS,
                    "authenticator apps",
                )?;
                let state = store::totp_state_for_update(&mut tx, method.id)
                    .await?
                    .ok_or(SecurityInfoError::MethodNotFound(method.id))?;
                let secret = self.keyring.decrypt(&state.totp_secret, method.id.as_bytes())?;
                match domain::check_totp(&secret, code, now, state.totp_last_step) {
                    TotpCheck::Accepted(step) => store::set_totp_last_step(&mut tx, method.id, step).await?,
                    TotpCheck::Replayed | TotpCheck::Incorrect => {
                        return Err(invalid(
                            "code",
                            violation_reason::INCORRECT_CODE,
                            "is not the current code of this authenticator app",
                        ));
                    }
                }
            }
            MethodKind::Phone | MethodKind::Email => {
                if let Some(failure) = self.check_code(&mut tx, &method, REGISTRATION, code, now).await? {
                    // The attempt is counted even though the answer is an error.
                    tx.commit().await?;
                    return Err(match failure {
                        CodeFailure::Incorrect => invalid("code", violation_reason::INCORRECT_CODE, "is incorrect"),
                        CodeFailure::Expired => SecurityInfoError::CodeExpired(method.id),
                        CodeFailure::TooManyAttempts => SecurityInfoError::TooManyAttempts(method.id),
                    });
                }
                if methods.iter().any(|m| {
                    m.kind == method.kind
                        && m.phone.as_ref().map(|p| p.phone_type) == method.phone.as_ref().map(|p| p.phone_type)
                        && m.email == method.email
                }) {
                    return Err(SecurityInfoError::AlreadyRegistered(method.label()));
                }
            }
            _ => return Err(SecurityInfoError::MethodNotFound(method.id)),
        }
        self.activate(tx, caller, methods, method, now).await
    }

    async fn pending_method(
        &self,
        conn: &mut PgConnection,
        caller: &Caller,
        method_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Method, SecurityInfoError> {
        let method = store::method_of(conn, caller.user_id, method_id)
            .await?
            .ok_or(SecurityInfoError::MethodNotFound(method_id))?;
        if method.is_active() {
            return Err(SecurityInfoError::AlreadyVerified(method_id));
        }
        if method.expires_at.is_some_and(|e| e <= now) {
            return Err(SecurityInfoError::RegistrationExpired(method_id));
        }
        Ok(method)
    }

    /// Activates a proven method and tells everyone: the event, the default if it changed, and
    /// the person's verified addresses.
    async fn activate(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
        caller: &Caller,
        before: Vec<Method>,
        method: Method,
        now: DateTime<Utc>,
    ) -> Result<Method, SecurityInfoError> {
        store::activate_method(&mut tx, method.id, now).await?;
        let after = store::lock_active_methods(&mut tx, caller.user_id).await?;
        let active = after
            .iter()
            .find(|m| m.id == method.id)
            .cloned()
            .ok_or(SecurityInfoError::MethodNotFound(method.id))?;
        events::method_added(&mut tx, &active, &after, caller.session_id, now).await?;
        self.after_change(&mut tx, caller, &before, &after, "method_added", &active, now)
            .await?;
        tx.commit().await?;
        tracing::info!(user_id = %caller.user_id, method_id = %active.id, kind = active.kind.as_str(), "method added");
        Ok(active)
    }

    /// A default-changed event when the effective default moved, and the change notifications.
    #[allow(clippy::too_many_arguments)]
    async fn after_change(
        &self,
        conn: &mut PgConnection,
        caller: &Caller,
        before: &[Method],
        after: &[Method],
        change: &str,
        method: &Method,
        now: DateTime<Utc>,
    ) -> Result<(), SecurityInfoError> {
        let chosen = store::chosen_default(conn, caller.user_id).await?;
        let old_default = domain::effective_default(before, chosen);
        let new_default = domain::effective_default(after, chosen);
        if old_default != new_default {
            let new = new_default.and_then(|id| after.iter().find(|m| m.id == id));
            events::default_changed(conn, caller.user_id, new, old_default, caller.session_id, now).await?;
        }
        for notification in Notification::security_info_changed(before, after, change, method) {
            events::notification_requested(conn, &self.keyring, &notification, now).await?;
        }
        Ok(())
    }

    // --- security keys

    pub async fn start_security_key(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<SecurityKeyStarted, SecurityInfoError> {
        let mut v = Violations::new();
        let name = domain::check_name("name", name, &mut v);
        v.into_result().map_err(SecurityInfoError::Invalid)?;
        let (mut tx, methods) = self.begin_change(caller).await?;
        check_limit(&methods, MethodKind::SecurityKey, MAX_SECURITY_KEYS, "security keys")?;
        let exclude: Vec<CredentialID> = store::credential_ids(&mut tx, caller.user_id)
            .await?
            .into_iter()
            .map(CredentialID::from)
            .collect();
        let (options, state) = self
            .webauthn
            .start_passkey_registration(caller.user_id, &name, &name, Some(exclude).filter(|e| !e.is_empty()))
            .map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))?;
        let now = Utc::now();
        let method = insert_pending(&mut tx, caller, MethodKind::SecurityKey, &name, None, None, now).await?;
        let state = serde_json::to_value(&state).map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))?;
        store::save_ceremony(
            &mut tx,
            method.id,
            REGISTRATION,
            &state,
            now + chrono::Duration::seconds(PENDING_TTL_SECS),
        )
        .await?;
        let creation_options_json = discoverable_preferred(&options)?;
        tx.commit().await?;
        Ok(SecurityKeyStarted {
            method,
            creation_options_json,
        })
    }

    pub async fn complete_security_key(
        &self,
        caller: &Caller,
        method_id: &str,
        credential_json: &str,
    ) -> Result<Method, SecurityInfoError> {
        let method_id = parse_id("method_id", method_id)?;
        let credential: RegisterPublicKeyCredential = serde_json::from_str(credential_json).map_err(|e| {
            invalid(
                "credential",
                violation_reason::SECURITY_KEY_NOT_VERIFIED,
                format!("is not a WebAuthn registration response: {e}"),
            )
        })?;
        let (mut tx, methods) = self.begin_change(caller).await?;
        let now = Utc::now();
        let method = self.pending_method(&mut tx, caller, method_id, now).await?;
        if method.kind != MethodKind::SecurityKey {
            return Err(SecurityInfoError::MethodNotFound(method_id));
        }
        check_limit(&methods, MethodKind::SecurityKey, MAX_SECURITY_KEYS, "security keys")?;
        let (state, expires_at) = store::take_ceremony(&mut tx, method.id, REGISTRATION)
            .await?
            .ok_or(SecurityInfoError::RegistrationExpired(method.id))?;
        if expires_at <= now {
            return Err(SecurityInfoError::RegistrationExpired(method.id));
        }
        let state: PasskeyRegistration =
            serde_json::from_value(state).map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&credential, &state)
            .map_err(|e| {
                invalid(
                    "credential",
                    violation_reason::SECURITY_KEY_NOT_VERIFIED,
                    format!("the security key's answer does not verify: {e}"),
                )
            })?;
        let transports: Vec<String> = credential
            .response
            .transports
            .as_ref()
            .map(|ts| ts.iter().map(|t| format!("{t:?}").to_lowercase()).collect())
            .unwrap_or_default();
        let stored = serde_json::to_value(&passkey).map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))?;
        let counter = passkey_counter(&stored);
        store::save_passkey(
            &mut tx,
            method.id,
            passkey.cred_id().as_ref(),
            &stored,
            counter,
            &transports,
        )
        .await?;
        // The browser's credProps answer says whether a resident key was made (unsigned: it
        // decides only what the page says, never whether an assertion is accepted).
        let discoverable = credential.extensions.cred_props.as_ref().and_then(|p| p.rk) == Some(true);
        let aaguid = domain::aaguid_of_attestation(credential.response.attestation_object.as_ref());
        store::set_key_properties(&mut tx, method.id, aaguid, discoverable).await?;
        self.activate(tx, caller, methods, method, now).await
    }

    // --- app passwords and recovery codes

    pub async fn create_app_password(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<(Method, String), SecurityInfoError> {
        let mut v = Violations::new();
        let name = domain::check_name("name", name, &mut v);
        v.into_result().map_err(SecurityInfoError::Invalid)?;
        let (mut tx, methods) = self.begin_change(caller).await?;
        check_limit(&methods, MethodKind::AppPassword, MAX_APP_PASSWORDS, "app passwords")?;
        let now = Utc::now();
        let method = insert_pending(&mut tx, caller, MethodKind::AppPassword, &name, None, None, now).await?;
        let password = domain::new_app_password();
        store::set_secret_hash(&mut tx, method.id, &domain::hash_secret(caller.user_id, &password)).await?;
        let method = self.activate(tx, caller, methods, method, now).await?;
        Ok((method, password))
    }

    /// Ten new codes; any earlier set stops working.
    pub async fn generate_recovery_codes(&self, caller: &Caller) -> Result<(Method, Vec<String>), SecurityInfoError> {
        let (mut tx, methods) = self.begin_change(caller).await?;
        let now = Utc::now();
        if let Some(old) = methods.iter().find(|m| m.kind == MethodKind::RecoveryCodes) {
            store::delete_recovery_codes(&mut tx, caller.user_id).await?;
            // Recovery codes are no second factor: the person's second factors stay as they were.
            events::method_removed(&mut tx, old, &methods, caller.session_id, now).await?;
        }
        let method = insert_pending(&mut tx, caller, MethodKind::RecoveryCodes, "", None, None, now).await?;
        let codes = domain::new_recovery_codes();
        let mut key_id = String::new();
        let mut hashes = Vec::with_capacity(codes.len());
        for code in &codes {
            let message = domain::recovery_code_message(caller.user_id, code);
            let (key, hash) = self.keyring.keyed_hash(domain::RECOVERY_CODE_PURPOSE, &message)?;
            key_id = key;
            hashes.push(hash);
        }
        store::insert_recovery_codes(&mut tx, method.id, &key_id, &hashes).await?;
        let before: Vec<Method> = methods
            .into_iter()
            .filter(|m| m.kind != MethodKind::RecoveryCodes)
            .collect();
        let method = self.activate(tx, caller, before, method, now).await?;
        Ok((method, codes))
    }

    /// The typed `code` hashed under each scheme the set's unused codes are stored with: keyed
    /// under their keyring key, or SHA-256 for a set generated before keyed hashes.
    async fn recovery_code_hashes(
        &self,
        conn: &mut PgConnection,
        method_id: Uuid,
        user_id: Uuid,
        code: &str,
    ) -> Result<Vec<Vec<u8>>, SecurityInfoError> {
        let message = domain::recovery_code_message(user_id, code);
        let mut hashes = Vec::new();
        for key in store::recovery_code_keys(conn, method_id).await? {
            match key {
                None => hashes.push(domain::hash_secret(user_id, code)),
                Some(key_id) => match self
                    .keyring
                    .keyed_hash_with(&key_id, domain::RECOVERY_CODE_PURPOSE, &message)
                {
                    Ok(hash) => hashes.push(hash),
                    // Codes under a key taken out of the keyring cannot be checked any more.
                    Err(e) => tracing::error!(error = %e, "recovery codes hashed under a key no longer in the keyring"),
                },
            }
        }
        Ok(hashes)
    }

    // --- removing and the default

    pub async fn remove_method(&self, caller: &Caller, method_id: &str) -> Result<(), SecurityInfoError> {
        let method_id = parse_id("method_id", method_id)?;
        let (mut tx, before) = self.begin_change(caller).await?;
        let method = store::method_of(&mut tx, caller.user_id, method_id)
            .await?
            .ok_or(SecurityInfoError::MethodNotFound(method_id))?;
        if method.is_active() && method.kind.is_second_factor() {
            let others = before
                .iter()
                .filter(|m| m.is_second_factor() && m.id != method.id)
                .count();
            if others == 0 && self.mfa_required(&mut tx, caller).await? {
                return Err(SecurityInfoError::LastSecondFactor(method.id));
            }
        }
        let chosen = store::chosen_default(&mut tx, caller.user_id).await?;
        let old_default = domain::effective_default(&before, chosen);
        store::delete_method(&mut tx, caller.user_id, method.id).await?;
        if !method.is_active() {
            // An unfinished registration: nothing was announced, nothing to take back.
            tx.commit().await?;
            return Ok(());
        }
        let now = Utc::now();
        let after = store::lock_active_methods(&mut tx, caller.user_id).await?;
        events::method_removed(&mut tx, &method, &after, caller.session_id, now).await?;
        let new_default = domain::effective_default(&after, store::chosen_default(&mut tx, caller.user_id).await?);
        if old_default != new_default {
            let new = new_default.and_then(|id| after.iter().find(|m| m.id == id));
            events::default_changed(&mut tx, caller.user_id, new, old_default, caller.session_id, now).await?;
        }
        for notification in Notification::security_info_changed(&before, &after, "method_removed", &method) {
            events::notification_requested(&mut tx, &self.keyring, &notification, now).await?;
        }
        tx.commit().await?;
        tracing::info!(user_id = %caller.user_id, method_id = %method.id, kind = method.kind.as_str(), "method removed");
        Ok(())
    }

    pub async fn set_default(&self, caller: &Caller, method_id: &str) -> Result<Overview, SecurityInfoError> {
        let method_id = parse_id("method_id", method_id)?;
        let (mut tx, methods) = self.begin_change(caller).await?;
        let method = methods
            .iter()
            .find(|m| m.id == method_id)
            .cloned()
            .ok_or(SecurityInfoError::MethodNotFound(method_id))?;
        if !method.is_second_factor() {
            return Err(SecurityInfoError::NotSecondFactor(method_id));
        }
        let old_default = domain::effective_default(&methods, store::chosen_default(&mut tx, caller.user_id).await?);
        let now = Utc::now();
        store::set_default(&mut tx, caller.user_id, method.id, now).await?;
        if old_default != Some(method.id) {
            events::default_changed(
                &mut tx,
                caller.user_id,
                Some(&method),
                old_default,
                caller.session_id,
                now,
            )
            .await?;
            for notification in Notification::security_info_changed(&methods, &methods, "default_changed", &method) {
                events::notification_requested(&mut tx, &self.keyring, &notification, now).await?;
            }
        }
        tx.commit().await?;
        self.overview(caller).await
    }

    /// Gives an authenticator app, security key or app password a new name. A name proves
    /// nothing and changes no way to sign in, so no step-up is asked.
    /// Answers the renamed method and the person's default method.
    pub async fn rename_method(
        &self,
        caller: &Caller,
        method_id: &str,
        name: &str,
    ) -> Result<(Method, Option<Uuid>), SecurityInfoError> {
        let mut v = Violations::new();
        let id = Uuid::parse_str(method_id.trim());
        if id.is_err() {
            v.add_with_reason("method_id", violation_reason::INVALID_ID, "must be a method id (UUID)");
        }
        let name = domain::check_name("name", name, &mut v);
        v.into_result().map_err(SecurityInfoError::Invalid)?;
        let Ok(method_id) = id else {
            return Err(invalid(
                "method_id",
                violation_reason::INVALID_ID,
                "must be a method id (UUID)",
            ));
        };
        let mut tx = self.pool.begin().await?;
        let method = store::method_of(&mut tx, caller.user_id, method_id)
            .await?
            .filter(Method::is_active)
            .ok_or(SecurityInfoError::MethodNotFound(method_id))?;
        if !method.is_renamable() {
            return Err(SecurityInfoError::NotRenamable(method_id));
        }
        if !store::rename_method(&mut tx, caller.user_id, method_id, &name).await? {
            return Err(SecurityInfoError::MethodNotFound(method_id));
        }
        let methods = store::active_methods(&mut tx, caller.user_id).await?;
        let default = domain::effective_default(&methods, store::chosen_default(&mut tx, caller.user_id).await?);
        let renamed = methods
            .into_iter()
            .find(|m| m.id == method_id)
            .ok_or(SecurityInfoError::MethodNotFound(method_id))?;
        tx.commit().await?;
        Ok((renamed, default))
    }

    // --- internal: passwordless sign-in

    /// Options for `navigator.credentials.get()` without an allow-list (the authenticator
    /// offers its discoverable credentials for this relying party), with user verification
    /// required; the state is kept as a single-use ceremony.
    pub async fn begin_passkey_sign_in(&self) -> Result<PasskeySignInStarted, SecurityInfoError> {
        let (options, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))?;
        let state = serde_json::to_value(&state).map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))?;
        let request_options_json =
            serde_json::to_string(&options).map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))?;
        // Random (v4): the id is the only way back to the challenge.
        let ceremony_id = Uuid::new_v4();
        let now = Utc::now();
        let expires_at = now + chrono::Duration::seconds(PASSKEY_SIGN_IN_TTL_SECS);
        let mut conn = self.pool.acquire().await?;
        store::forget_passkey_sign_ins(&mut conn, now - chrono::Duration::seconds(PASSKEY_SIGN_IN_KEPT_SECS)).await?;
        store::insert_passkey_sign_in(&mut conn, ceremony_id, &state, now, expires_at).await?;
        Ok(PasskeySignInStarted {
            ceremony_id,
            request_options_json,
            expires_at,
        })
    }

    /// Checks a passwordless sign-in's assertion: the ceremony is spent whatever the answer,
    /// then the user handle and credential id name the passkey, whose signature (with user
    /// verification) must verify. A malformed assertion is bad input and spends nothing.
    pub async fn verify_passkey_sign_in(
        &self,
        ceremony_id: &str,
        assertion_json: &str,
    ) -> Result<PasskeySignIn, SecurityInfoError> {
        let credential = serde_json::from_str::<PublicKeyCredential>(assertion_json).map_err(|e| {
            invalid(
                "assertion_json",
                violation_reason::SECURITY_KEY_NOT_VERIFIED,
                format!("is not a WebAuthn assertion: {e}"),
            )
        })?;
        let Ok(ceremony_id) = Uuid::parse_str(ceremony_id.trim()) else {
            return Ok(PasskeySignIn::UnknownCeremony);
        };
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let Some(ceremony) = store::passkey_sign_in_for_update(&mut tx, ceremony_id).await? else {
            return Ok(PasskeySignIn::UnknownCeremony);
        };
        if ceremony.used_at.is_some() {
            return Ok(PasskeySignIn::CeremonyUsed);
        }
        store::use_passkey_sign_in(&mut tx, ceremony_id, now).await?;
        let outcome = if ceremony.expires_at <= now {
            PasskeySignIn::CeremonyExpired
        } else {
            self.check_discoverable(&mut tx, &credential, ceremony.state, now)
                .await?
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn check_discoverable(
        &self,
        conn: &mut PgConnection,
        credential: &PublicKeyCredential,
        state: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<PasskeySignIn, SecurityInfoError> {
        // Without a user handle (a credential that is not discoverable) nobody is named.
        let Ok((user_id, credential_id)) = self.webauthn.identify_discoverable_authentication(credential) else {
            return Ok(PasskeySignIn::UnknownCredential);
        };
        let Some(method) = store::active_key_by_credential_for_update(conn, user_id, credential_id).await? else {
            return Ok(PasskeySignIn::UnknownCredential);
        };
        let state: DiscoverableAuthentication =
            serde_json::from_value(state).map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))?;
        let mut passkey = self.load_passkey(conn, method.id).await?;
        let key = DiscoverableKey::from(&passkey);
        match self
            .webauthn
            .finish_discoverable_authentication(credential, state, &[key])
        {
            Ok(result) => {
                self.record_use(conn, &method, &mut passkey, &result).await?;
                store::touch_method(conn, method.id, now).await?;
                let amr = domain::passkey_sign_in_amr(result.backup_eligible());
                Ok(PasskeySignIn::Verified { method, amr })
            }
            Err(WebauthnError::CredentialPossibleCompromise) => {
                tracing::warn!(method_id = %method.id, "passkey signature counter went backwards: possibly cloned");
                Ok(PasskeySignIn::PossibleClone(method))
            }
            Err(e) => {
                tracing::info!(method_id = %method.id, error = %e, "passkey sign-in assertion refused");
                Ok(PasskeySignIn::Incorrect(method))
            }
        }
    }

    /// A verified assertion's news for its passkey: the counter and backup state it reported.
    async fn record_use(
        &self,
        conn: &mut PgConnection,
        method: &Method,
        passkey: &mut Passkey,
        result: &AuthenticationResult,
    ) -> Result<(), SecurityInfoError> {
        passkey.update_credential(result);
        let stored = serde_json::to_value(&*passkey).map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))?;
        let counter = passkey_counter(&stored);
        store::save_passkey(
            conn,
            method.id,
            passkey.cred_id().as_ref(),
            &stored,
            counter,
            &method.transports,
        )
        .await?;
        Ok(())
    }

    // --- internal: multi-factor sign-in

    /// The factors a sign-in can ask for: second factors (default first), then recovery codes
    /// when some are left and another factor exists.
    pub async fn second_factors(&self, user_id: Uuid) -> Result<(Vec<Method>, Option<Uuid>), SecurityInfoError> {
        let mut conn = self.pool.acquire().await?;
        let (methods, chosen) = store::active_methods_and_chosen_default(&mut conn, user_id).await?;
        let default = domain::effective_default(&methods, chosen);
        let mut factors: Vec<Method> = domain::challenge_order(&methods, default)
            .into_iter()
            .cloned()
            .collect();
        if !factors.is_empty() {
            factors.extend(
                methods
                    .iter()
                    .filter(|m| m.kind == MethodKind::RecoveryCodes && m.remaining_codes > 0)
                    .cloned(),
            );
        }
        Ok((factors, default))
    }

    async fn usable_factor(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
        method_id: &str,
    ) -> Result<Option<Method>, SecurityInfoError> {
        let Ok(method_id) = Uuid::parse_str(method_id.trim()) else {
            return Ok(None);
        };
        Ok(store::method_of(conn, user_id, method_id)
            .await?
            .filter(|m| m.is_second_factor() || (m.is_active() && m.kind == MethodKind::RecoveryCodes)))
    }

    /// Sends a sign-in code, or starts a WebAuthn assertion; TOTP and recovery codes need nothing.
    pub async fn begin_second_factor(&self, user_id: Uuid, method_id: &str) -> Result<Prompt, SecurityInfoError> {
        let mut tx = self.pool.begin().await?;
        let method = self
            .usable_factor(&mut tx, user_id, method_id)
            .await?
            .ok_or_else(|| SecurityInfoError::MethodNotFound(Uuid::parse_str(method_id.trim()).unwrap_or_default()))?;
        let now = Utc::now();
        let mut prompt = Prompt {
            method: method.clone(),
            sent_to: String::new(),
            request_options_json: String::new(),
        };
        match method.kind {
            MethodKind::Phone if !self.phone_available => return Err(SecurityInfoError::PhoneUnavailable),
            MethodKind::Phone | MethodKind::Email => {
                self.send_code(&mut tx, &method, SIGN_IN, "sign_in_code", now).await?;
                prompt.sent_to = method.label();
            }
            MethodKind::SecurityKey => {
                let passkey = self.load_passkey(&mut tx, method.id).await?;
                let (options, state) = self
                    .webauthn
                    .start_passkey_authentication(&[passkey])
                    .map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))?;
                let state = serde_json::to_value(&state).map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))?;
                store::save_ceremony(
                    &mut tx,
                    method.id,
                    SIGN_IN,
                    &state,
                    now + chrono::Duration::seconds(CODE_TTL_SECS),
                )
                .await?;
                prompt.request_options_json =
                    serde_json::to_string(&options).map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))?;
            }
            _ => {}
        }
        tx.commit().await?;
        Ok(prompt)
    }

    async fn load_passkey(&self, conn: &mut PgConnection, method_id: Uuid) -> Result<Passkey, SecurityInfoError> {
        let stored = store::passkey_for_update(conn, method_id)
            .await?
            .ok_or(SecurityInfoError::MethodNotFound(method_id))?;
        serde_json::from_value(stored).map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))
    }

    /// Checks a proof for a sign-in's second step. Attempt counters are committed whatever the
    /// outcome.
    pub async fn verify_second_factor(
        &self,
        user_id: Uuid,
        method_id: &str,
        proof: Proof,
    ) -> Result<Verification, SecurityInfoError> {
        let mut tx = self.pool.begin().await?;
        let Some(method) = self.usable_factor(&mut tx, user_id, method_id).await? else {
            return Ok(Verification::UnknownMethod);
        };
        let now = Utc::now();
        let outcome = match (method.kind, proof) {
            (MethodKind::AuthenticatorApp, Proof::Code(code)) => {
                let state = store::totp_state_for_update(&mut tx, method.id)
                    .await?
                    .ok_or(SecurityInfoError::MethodNotFound(method.id))?;
                let secret = self.keyring.decrypt(&state.totp_secret, method.id.as_bytes())?;
                match domain::check_totp(&secret, &code, now, state.totp_last_step) {
                    TotpCheck::Accepted(step) => {
                        store::set_totp_last_step(&mut tx, method.id, step).await?;
                        Verification::Verified(method.clone())
                    }
                    TotpCheck::Replayed => Verification::Replayed(method.clone()),
                    TotpCheck::Incorrect => Verification::Incorrect(method.clone()),
                }
            }
            (MethodKind::Phone | MethodKind::Email, Proof::Code(code)) => {
                match self.check_code(&mut tx, &method, SIGN_IN, &code, now).await? {
                    None => Verification::Verified(method.clone()),
                    Some(CodeFailure::Incorrect) => Verification::Incorrect(method.clone()),
                    Some(CodeFailure::Expired) => Verification::Expired(method.clone()),
                    Some(CodeFailure::TooManyAttempts) => Verification::TooManyAttempts(method.clone()),
                }
            }
            (MethodKind::RecoveryCodes, Proof::Code(code)) => {
                let hashes = self.recovery_code_hashes(&mut tx, method.id, user_id, &code).await?;
                if store::use_recovery_code(&mut tx, method.id, &hashes, now).await? {
                    Verification::Verified(method.clone())
                } else {
                    Verification::Incorrect(method.clone())
                }
            }
            (MethodKind::SecurityKey, Proof::Assertion(json)) => {
                self.check_assertion(&mut tx, &method, &json, now).await?
            }
            _ => Verification::Incorrect(method.clone()),
        };
        if matches!(outcome, Verification::Verified(_)) {
            store::touch_method(&mut tx, method.id, now).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    async fn check_assertion(
        &self,
        conn: &mut PgConnection,
        method: &Method,
        json: &str,
        now: DateTime<Utc>,
    ) -> Result<Verification, SecurityInfoError> {
        let Ok(credential) = serde_json::from_str::<PublicKeyCredential>(json) else {
            return Ok(Verification::Incorrect(method.clone()));
        };
        let Some((state, expires_at)) = store::take_ceremony(conn, method.id, SIGN_IN).await? else {
            return Ok(Verification::Expired(method.clone()));
        };
        if expires_at <= now {
            return Ok(Verification::Expired(method.clone()));
        }
        let state: PasskeyAuthentication =
            serde_json::from_value(state).map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))?;
        let mut passkey = self.load_passkey(conn, method.id).await?;
        match self.webauthn.finish_passkey_authentication(&credential, &state) {
            Ok(result) => {
                self.record_use(conn, method, &mut passkey, &result).await?;
                Ok(Verification::Verified(method.clone()))
            }
            Err(WebauthnError::CredentialPossibleCompromise) => {
                tracing::warn!(method_id = %method.id, "security key signature counter went backwards: possibly cloned");
                Ok(Verification::PossibleClone(method.clone()))
            }
            Err(e) => {
                tracing::info!(method_id = %method.id, error = %e, "security key assertion refused");
                Ok(Verification::Incorrect(method.clone()))
            }
        }
    }

    /// Checks a one-time code; `None` when it is right (and now spent).
    async fn check_code(
        &self,
        conn: &mut PgConnection,
        method: &Method,
        purpose: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<CodeFailure>, SecurityInfoError> {
        let Some(open) = store::open_code_for_update(conn, method.id, purpose).await? else {
            return Ok(Some(CodeFailure::Expired));
        };
        if open.attempts >= MAX_CODE_ATTEMPTS {
            return Ok(Some(CodeFailure::TooManyAttempts));
        }
        if open.expires_at <= now {
            return Ok(Some(CodeFailure::Expired));
        }
        if domain::hash_code(open.id, code) == open.code_hash {
            store::consume_code(conn, open.id, now).await?;
            Ok(None)
        } else {
            store::count_code_attempt(conn, open.id).await?;
            Ok(Some(CodeFailure::Incorrect))
        }
    }

    /// Non-interactive sign-in: the method id of a matching app password.
    pub async fn verify_app_password(&self, user_id: Uuid, password: &str) -> Result<Option<Uuid>, SecurityInfoError> {
        if password.is_empty() || password.len() > 256 {
            return Ok(None);
        }
        let mut tx = self.pool.begin().await?;
        let found = store::app_password_by_hash(&mut tx, user_id, &domain::hash_secret(user_id, password)).await?;
        if let Some(id) = found {
            store::touch_method(&mut tx, id, Utc::now()).await?;
        }
        tx.commit().await?;
        Ok(found)
    }
}

/// Every new method starts here, under the user's lock (`begin_change`).
async fn insert_pending(
    conn: &mut PgConnection,
    caller: &Caller,
    kind: MethodKind,
    name: &str,
    phone: Option<&Phone>,
    email: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Method, SecurityInfoError> {
    let user_id = caller.user_id;
    // An access token outlives its account by minutes: nothing may be registered once the
    // account is erased. The check holds the erasure's lock, so it is current.
    if platform::erasure::is_erased(conn, user_id).await? {
        return Err(SecurityInfoError::UserErased(user_id));
    }
    let id = Uuid::now_v7();
    store::insert_method(
        conn,
        &NewMethod {
            id,
            user_id,
            kind,
            status: MethodStatus::Pending,
            name,
            phone,
            email,
            now,
            expires_at: Some(now + chrono::Duration::seconds(PENDING_TTL_SECS)),
            // The registration token's `sid` names the interrupted sign-in.
            registration_id: caller.is_mfa_registration().then_some(caller.session_id).flatten(),
        },
    )
    .await?;
    store::method_of(conn, user_id, id)
        .await?
        .ok_or(SecurityInfoError::MethodNotFound(id))
}

enum CodeFailure {
    Incorrect,
    Expired,
    TooManyAttempts,
}

fn check_limit(methods: &[Method], kind: MethodKind, max: usize, what: &'static str) -> Result<(), SecurityInfoError> {
    if methods.iter().filter(|m| m.kind == kind).count() >= max {
        Err(SecurityInfoError::LimitReached { what, max })
    } else {
        Ok(())
    }
}

fn parse_id(field: &str, raw: &str) -> Result<Uuid, SecurityInfoError> {
    Uuid::parse_str(raw.trim()).map_err(|_| invalid(field, violation_reason::INVALID_ID, "must be a method id (UUID)"))
}

/// Registration options asking for a discoverable credential (resident key "preferred", so a
/// security key without room for one still registers as a second factor; `credProps` then says
/// which it made). webauthn-rs's passkey registration discourages resident keys.
fn discoverable_preferred(
    options: &webauthn_rs::prelude::CreationChallengeResponse,
) -> Result<String, SecurityInfoError> {
    let mut json = serde_json::to_value(options).map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))?;
    if let Some(selection) = json
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(serde_json::Value::as_object_mut)
    {
        selection.insert("residentKey".into(), "preferred".into());
        selection.insert("requireResidentKey".into(), false.into());
    }
    serde_json::to_string(&json).map_err(|e| SecurityInfoError::WebAuthn(e.to_string()))
}

/// The signature counter inside a stored passkey (mirrored in its own column for queries).
fn passkey_counter(stored: &serde_json::Value) -> i64 {
    stored
        .pointer("/cred/counter")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0)
}
