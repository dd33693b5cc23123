//! The security-info service: a person's sign-in methods (authenticator apps, phones, email,
//! security keys, app passwords, recovery codes), the default method, the step-up rule for
//! changing them, and the second-factor checks identity asks for during sign-in. It also hosts
//! the notification sender (see [`notifications`]) and its phone transport ([`phone`]). A deleted account's data is erased.

pub mod domain;
pub mod events;
pub mod grpc;
pub mod notification_text;
pub mod notifications;
pub mod phone;
pub mod service;
pub mod settings;
pub mod store;

use std::sync::Arc;

use myaccount_proto::events::v1::{
    MemberJoined, MemberLeft, MemberRemoved, NotificationRequested, OrganizationChanged, PasswordChanged,
    ProfileUpdated, SignInFlagged, UserCreated,
};
use myaccount_proto::securityinfo::v1::security_info_service_server::SecurityInfoServiceServer;
use platform::config::ConfigError;
use platform::consumer::ConsumerSettings;
use platform::service::{Service, ServiceKit, ServiceSettings, ServiceSpec, StartError};
use platform::workload::IDENTITY;

use crate::notifications::NotificationSender;
use crate::phone::PhoneTransport;
use crate::service::SecurityInfo;
pub use crate::settings::{MIGRATIONS, SPEC};
pub use crate::settings::{Settings, WebAuthnSettings};

pub struct SecurityInfoService;

pub type Application = platform::service::Application<SecurityInfoService>;

impl Service for SecurityInfoService {
    const SPEC: ServiceSpec = SPEC;
    type Settings = Settings;

    fn common(settings: &Settings) -> &ServiceSettings {
        &settings.service
    }

    async fn assemble(kit: ServiceKit, settings: Settings) -> Result<ServiceKit, StartError> {
        let webauthn = settings
            .webauthn
            .webauthn()
            .map_err(|e| StartError::Config(ConfigError::new("WEBAUTHN_RP_ID", e)))?;
        if !settings.service.trusted_callers.trusts(IDENTITY) {
            return Err(StartError::Config(ConfigError::new(
                "SECURITYINFO_TRUSTED_CALLERS",
                "must give identity's public key (identity=<key>): only identity asks for a person's second factors; `myaccount workload-keys` writes the keys",
            )));
        }
        let phone = settings.phone.clone().map(PhoneTransport::new).transpose()?;
        let phone_available = phone.is_some();
        let sender = NotificationSender::new(&settings.sender, phone, settings.keyring.clone(), kit.pool().clone())?;
        let notices_keyring = settings.keyring.clone();
        let service = Arc::new(SecurityInfo::new(
            kit.pool().clone(),
            settings.keyring,
            webauthn,
            settings.service.step_up_max_age,
            settings.totp_issuer,
            phone_available,
        ));
        Ok(kit
            .serve(SecurityInfoServiceServer::new(grpc::SecurityInfoApi::new(service)))
            // A sign-in interrupted for a missing second factor registers its first one here.
            .allow_mfa_registration(grpc::MFA_REGISTRATION_METHODS)
            // identity asks about a person's second factors during their sign-in, on no
            // person's token: its workload token says it is identity.
            .internal_methods(grpc::IDENTITY_ONLY_METHODS, &[IDENTITY])
            // The last-factor rule follows the MFA requirement of every organization a person
            // belongs to.
            .consume::<OrganizationChanged, _>(events::OrganizationChangedHandler)
            // App passwords end with the password they were made under (a reset is also told
            // to every verified email address), and with a suspected compromise.
            .consume::<PasswordChanged, _>(events::PasswordChangedHandler {
                keyring: notices_keyring,
            })
            .consume::<SignInFlagged, _>(events::AppPasswordRevoker)
            .consume::<MemberJoined, _>(events::MemberJoinedHandler)
            .consume::<MemberLeft, _>(events::MemberLeftHandler)
            .consume::<MemberRemoved, _>(events::MemberRemovedHandler)
            // Notifications are written in the person's preferred language, with times in their
            // time zone and regional format, as identity says them.
            .consume::<UserCreated, _>(events::ReadingPreferencesHandler)
            .consume::<ProfileUpdated, _>(events::ReadingPreferencesHandler)
            .erase_users_with(store::Erasure)
            // The notification sender: a consumer of its own (durable `notifications`) that
            // could move to a process of its own without touching a publisher.
            .consume_as::<NotificationRequested, _>(ConsumerSettings::new("notifications"), sender))
    }
}
