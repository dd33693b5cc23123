//! Identity's use cases behind one handle for the gRPC edge and start-up. Each method hands over
//! to the module that owns the use case; those share a [`Context`] and import downwards only
//! (ARCHITECTURE.md, "services/identity", lists the layers).

use platform::auth::Caller;
use platform::geoip::GeoLocator;
use platform::idempotency::Once;
use sqlx::PgPool;
use std::sync::Arc;
use uuid::Uuid;

use crate::context::{Context, SignInSettings};
use crate::domain::{
    ClientInfo, ClientLocation, IssuedTokens, MfaPrompt, MfaProof, NewUserInput, PasskeyOptions, PasswordResetFlow,
    Profile, ProfileChanges, ResetProgress, SignInOutcome,
};
use crate::error::IdentityError;
use crate::privacy::{PersonalData, PrivacyError};
use crate::security_info::SecurityInfoClient;
use crate::sessions::{PasswordChange, SessionView, SessionsError};
use crate::store::{SessionCursor, SessionPage};
use crate::tokens::{KeyStore, TokenSettings};
use crate::{
    issuing, mfa_registration, passkey_sign_in, password_reset, privacy, profile, required_password, second_step,
    sessions, sign_in, step_up,
};

pub struct Identity {
    context: Context,
}

impl Identity {
    pub async fn new(pool: PgPool, keys: Arc<KeyStore>, tokens: TokenSettings) -> Result<Self, IdentityError> {
        Ok(Self {
            context: Context::new(pool, keys, tokens).await?,
        })
    }

    /// Multi-factor sign-in, with security-info holding the factors.
    pub fn with_second_factors(mut self, client: SecurityInfoClient) -> Self {
        self.context.second_factors = Some(client);
        self
    }

    /// Where sessions' addresses are, for the sessions list and the export.
    pub fn with_places(mut self, places: Arc<GeoLocator>) -> Self {
        self.context.places = Some(places);
        self
    }

    /// The place of `ip_address` as the sessions list shows it; empty when unknown.
    pub fn place_of(&self, ip_address: &str) -> String {
        self.context.place_of(ip_address)
    }

    /// Smart lockout: how long an address a person signed in from stays familiar, and the
    /// first lock-out after the free failures.
    pub fn with_sign_in_settings(mut self, settings: SignInSettings) -> Self {
        self.context.familiar_for = chrono::Duration::days(i64::from(settings.familiar_days));
        self.context.lockout_base_ms = i64::try_from(settings.lockout_base.as_millis()).unwrap_or(i64::MAX);
        self.context.reset_methods_required = i32::from(settings.reset_methods_required);
        self
    }

    pub fn pool(&self) -> &PgPool {
        &self.context.pool
    }

    pub async fn create_user(&self, input: NewUserInput) -> Result<Profile, IdentityError> {
        profile::create_user(&self.context, input).await
    }

    pub async fn my_profile(&self, caller: &Caller) -> Result<Profile, IdentityError> {
        profile::my_profile(&self.context, caller).await
    }

    pub async fn update_my_profile(&self, caller: &Caller, changes: ProfileChanges) -> Result<Profile, IdentityError> {
        profile::update_my_profile(&self.context, caller, changes).await
    }

    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        organization: &str,
        client: &ClientInfo,
        once: Option<&Once<'_, SignInOutcome>>,
    ) -> Result<SignInOutcome, IdentityError> {
        sign_in::sign_in(&self.context, username, password, organization, client, once).await
    }

    pub async fn start_passkey_sign_in(&self, client: &ClientInfo) -> Result<PasskeyOptions, IdentityError> {
        passkey_sign_in::start(&self.context, client).await
    }

    pub async fn passkey_sign_in(
        &self,
        challenge_id: &str,
        assertion_json: &str,
        client: &ClientInfo,
        once: Option<&Once<'_, SignInOutcome>>,
    ) -> Result<SignInOutcome, IdentityError> {
        passkey_sign_in::sign_in(&self.context, challenge_id, assertion_json, client, once).await
    }

    pub async fn start_mfa(&self, challenge_id: &str, method_id: &str) -> Result<MfaPrompt, IdentityError> {
        second_step::start_mfa(&self.context, challenge_id, method_id).await
    }

    pub async fn complete_mfa(
        &self,
        challenge_id: &str,
        method_id: &str,
        proof: Option<MfaProof>,
        location: Option<ClientLocation>,
        once: Option<&Once<'_, SignInOutcome>>,
    ) -> Result<SignInOutcome, IdentityError> {
        second_step::complete_mfa(&self.context, challenge_id, method_id, proof, location, once).await
    }

    /// Finishes a sign-in interrupted for a second factor to register (`caller` is its
    /// registration token).
    pub async fn complete_mfa_registration(
        &self,
        caller: &Caller,
        location: Option<ClientLocation>,
    ) -> Result<SignInOutcome, IdentityError> {
        mfa_registration::complete(&self.context, caller, location).await
    }

    pub async fn set_required_password(
        &self,
        change_ticket: &str,
        new_password: &str,
        client: &ClientInfo,
    ) -> Result<IssuedTokens, IdentityError> {
        required_password::set_required_password(&self.context, change_ticket, new_password, client).await
    }

    pub async fn start_password_reset(
        &self,
        username: &str,
        client: &ClientInfo,
    ) -> Result<PasswordResetFlow, IdentityError> {
        password_reset::start(&self.context, username, client).await
    }

    pub async fn begin_password_reset_method(
        &self,
        flow_id: &str,
        method_id: &str,
    ) -> Result<MfaPrompt, IdentityError> {
        password_reset::begin_method(&self.context, flow_id, method_id).await
    }

    pub async fn verify_password_reset_method(
        &self,
        flow_id: &str,
        method_id: &str,
        proof: Option<MfaProof>,
        location: Option<ClientLocation>,
    ) -> Result<ResetProgress, IdentityError> {
        password_reset::verify_method(&self.context, flow_id, method_id, proof, location).await
    }

    pub async fn complete_password_reset(
        &self,
        flow_id: &str,
        new_password: &str,
        client: &ClientInfo,
    ) -> Result<(), IdentityError> {
        password_reset::complete(&self.context, flow_id, new_password, client).await
    }

    pub async fn reauthenticate(
        &self,
        caller: &Caller,
        password: &str,
        client: &ClientInfo,
    ) -> Result<SignInOutcome, IdentityError> {
        step_up::reauthenticate(&self.context, caller, password, client).await
    }

    pub async fn refresh(&self, refresh_token: &str, client: &ClientInfo) -> Result<IssuedTokens, IdentityError> {
        issuing::refresh(&self.context, refresh_token, client).await
    }

    pub async fn sign_out(&self, caller: &Caller) -> Result<(), IdentityError> {
        sessions::sign_out(&self.context, caller).await
    }

    pub async fn list_my_sessions(
        &self,
        caller: &Caller,
        page: SessionPage,
    ) -> Result<(Vec<SessionView>, Option<SessionCursor>), SessionsError> {
        sessions::list_my_sessions(&self.context, caller, page).await
    }

    pub async fn revoke_my_session(&self, caller: &Caller, session_id: Uuid) -> Result<(), SessionsError> {
        sessions::revoke_my_session(&self.context, caller, session_id).await
    }

    pub async fn revoke_my_other_sessions(&self, caller: &Caller) -> Result<usize, SessionsError> {
        sessions::revoke_my_other_sessions(&self.context, caller).await
    }

    pub async fn sign_out_everywhere(&self, caller: &Caller) -> Result<usize, SessionsError> {
        sessions::sign_out_everywhere(&self.context, caller).await
    }

    pub async fn change_my_password(&self, caller: &Caller, change: PasswordChange) -> Result<usize, SessionsError> {
        sessions::change_my_password(&self.context, caller, change).await
    }

    pub async fn export_my_data(&self, caller: &Caller) -> Result<PersonalData, IdentityError> {
        privacy::export_my_data(&self.context, caller).await
    }

    pub async fn has_second_factor(&self, user_id: Uuid) -> Result<bool, IdentityError> {
        privacy::has_second_factor(&self.context, user_id).await
    }

    pub async fn delete_my_account(
        &self,
        caller: &Caller,
        confirm_user_principal_name: &str,
    ) -> Result<chrono::DateTime<chrono::Utc>, PrivacyError> {
        privacy::delete_my_account(&self.context, caller, confirm_user_principal_name).await
    }

    pub async fn self_deletion(&self, caller: &Caller) -> Result<crate::domain::SelfDeletion, PrivacyError> {
        privacy::self_deletion(&self.context, caller).await
    }

    pub async fn set_user_enabled(
        &self,
        admin: &Caller,
        user_id: &str,
        enabled: bool,
        step_up_max_age: std::time::Duration,
    ) -> Result<crate::account_status::StatusChange, IdentityError> {
        crate::account_status::set_enabled_as_admin(&self.context, admin, user_id, enabled, step_up_max_age).await
    }

    pub async fn change_user_identifiers(
        &self,
        admin: &Caller,
        user_id: &str,
        new_user_principal_name: &str,
        new_email: &str,
        step_up_max_age: std::time::Duration,
    ) -> Result<crate::identifiers::IdentifiersChange, IdentityError> {
        crate::identifiers::change_identifiers_as_admin(
            &self.context,
            admin,
            user_id,
            new_user_principal_name,
            new_email,
            step_up_max_age,
        )
        .await
    }

    pub async fn delete_user(
        &self,
        admin: &Caller,
        user_id: &str,
        step_up_max_age: std::time::Duration,
    ) -> Result<chrono::DateTime<chrono::Utc>, PrivacyError> {
        privacy::delete_user(&self.context, admin, user_id, step_up_max_age).await
    }
}
