//! The gRPC edge of security-info: proto <-> domain conversion and error -> Status, nothing else.

use std::sync::Arc;

use myaccount_proto::securityinfo::v1 as pb;
use myaccount_proto::securityinfo::v1::security_info_service_server::SecurityInfoService;
use platform::auth::Caller;
use platform::error::to_status;
use platform::workload::{CallingWorkload, IDENTITY};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::{
    Method, MethodKind, PersonalData, PhoneDelivery, PhoneType, VerificationKind, VerificationPurpose,
    VerificationRecord,
};
use crate::service::{Overview, PasskeySignIn, Proof, SecurityInfo, SecurityInfoError, Verification};
use myaccount_proto::timestamp;

/// The calls an MFA registration token may make: registering a first authenticator app,
/// phone, email or security key, and proving it.
pub const MFA_REGISTRATION_METHODS: &[&str] = &[
    "/myaccount.securityinfo.v1.SecurityInfoService/StartAuthenticatorAppRegistration",
    "/myaccount.securityinfo.v1.SecurityInfoService/StartPhoneRegistration",
    "/myaccount.securityinfo.v1.SecurityInfoService/StartEmailRegistration",
    "/myaccount.securityinfo.v1.SecurityInfoService/VerifyMethod",
    "/myaccount.securityinfo.v1.SecurityInfoService/StartSecurityKeyRegistration",
    "/myaccount.securityinfo.v1.SecurityInfoService/CompleteSecurityKeyRegistration",
];

/// The calls identity makes while a person signs in: only identity may make them, and on no
/// person's token.
pub const IDENTITY_ONLY_METHODS: &[&str] = &[
    "/myaccount.securityinfo.v1.SecurityInfoService/ListSecondFactors",
    "/myaccount.securityinfo.v1.SecurityInfoService/BeginSecondFactor",
    "/myaccount.securityinfo.v1.SecurityInfoService/VerifySecondFactor",
    "/myaccount.securityinfo.v1.SecurityInfoService/VerifyAppPassword",
    "/myaccount.securityinfo.v1.SecurityInfoService/BeginPasskeySignIn",
    "/myaccount.securityinfo.v1.SecurityInfoService/VerifyPasskeySignIn",
];

pub struct SecurityInfoApi {
    service: Arc<SecurityInfo>,
}

impl SecurityInfoApi {
    pub fn new(service: Arc<SecurityInfo>) -> Self {
        Self { service }
    }
}

fn status(e: SecurityInfoError) -> Status {
    to_status(e)
}

fn method_type(kind: MethodKind) -> pb::MethodType {
    match kind {
        MethodKind::AuthenticatorApp => pb::MethodType::AuthenticatorApp,
        MethodKind::Phone => pb::MethodType::Phone,
        MethodKind::Email => pb::MethodType::Email,
        MethodKind::SecurityKey => pb::MethodType::SecurityKey,
        MethodKind::AppPassword => pb::MethodType::AppPassword,
        MethodKind::RecoveryCodes => pb::MethodType::RecoveryCodes,
    }
}

fn phone_type(t: PhoneType) -> pb::PhoneType {
    match t {
        PhoneType::Mobile => pb::PhoneType::Mobile,
        PhoneType::AlternateMobile => pb::PhoneType::AlternateMobile,
        PhoneType::Office => pb::PhoneType::Office,
    }
}

fn delivery(d: PhoneDelivery) -> pb::PhoneDelivery {
    match d {
        PhoneDelivery::Sms => pb::PhoneDelivery::Sms,
        PhoneDelivery::Voice => pb::PhoneDelivery::Voice,
    }
}

fn method(m: Method, default: Option<Uuid>) -> pb::Method {
    let provider_name = m.provider_name().unwrap_or_default().to_owned();
    pb::Method {
        id: m.id.to_string(),
        r#type: method_type(m.kind).into(),
        is_default: Some(m.id) == default,
        is_second_factor: m.is_second_factor(),
        name: m.name,
        phone_type: m
            .phone
            .as_ref()
            .map_or(pb::PhoneType::Unspecified, |p| phone_type(p.phone_type))
            .into(),
        phone_delivery: m
            .phone
            .as_ref()
            .map_or(pb::PhoneDelivery::Unspecified, |p| delivery(p.delivery))
            .into(),
        phone_number: m.phone.map(|p| p.number).unwrap_or_default(),
        email: m.email.unwrap_or_default(),
        transports: m.transports,
        remaining_codes: m.remaining_codes,
        created_at: Some(timestamp(m.created_at)),
        last_used_at: m.last_used_at.map(timestamp),
        provider_name,
        aaguid: m.aaguid.map(|a| a.to_string()).unwrap_or_default(),
        discoverable: m.discoverable,
    }
}

fn security_info(o: Overview) -> pb::SecurityInfo {
    let default = o.default_method_id;
    pb::SecurityInfo {
        methods: o.methods.into_iter().map(|m| method(m, default)).collect(),
        default_method_id: default.map(|d| d.to_string()).unwrap_or_default(),
        mfa_registered: o.mfa_registered,
        mfa_required: o.mfa_required,
        phone_available: o.phone_available,
    }
}

fn verification(v: VerificationRecord) -> pb::VerificationRecord {
    pb::VerificationRecord {
        method_id: v.method_id.to_string(),
        kind: match v.kind {
            VerificationKind::OneTimeCode => pb::VerificationKind::OneTimeCode,
            VerificationKind::SecurityKeyChallenge => pb::VerificationKind::SecurityKeyChallenge,
        }
        .into(),
        purpose: match v.purpose {
            VerificationPurpose::Registration => pb::VerificationPurpose::Registration,
            VerificationPurpose::SignIn => pb::VerificationPurpose::SignIn,
        }
        .into(),
        created_at: v.created_at.map(timestamp),
        expires_at: Some(timestamp(v.expires_at)),
        consumed_at: v.consumed_at.map(timestamp),
        attempts: v.attempts,
    }
}

fn export(d: PersonalData) -> pb::SecurityInfoExport {
    let default = d.default_method_id;
    let (active, pending): (Vec<Method>, Vec<Method>) = d.methods.into_iter().partition(Method::is_active);
    pb::SecurityInfoExport {
        user_id: d.user_id.to_string(),
        methods: active.into_iter().map(|m| method(m, default)).collect(),
        default_method_id: default.map(|id| id.to_string()).unwrap_or_default(),
        default_method_chosen_at: d.default_chosen_at.map(timestamp),
        unused_recovery_codes: d.unused_recovery_codes,
        pending_registrations: pending
            .into_iter()
            .map(|m| pb::PendingRegistration {
                expires_at: m.expires_at.map(timestamp),
                method: Some(method(m, None)),
            })
            .collect(),
        verifications: d.verifications.into_iter().map(verification).collect(),
        exported_at: Some(timestamp(d.exported_at)),
    }
}

/// The user id an internal call is about.
fn user_id(raw: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        platform::error::invalid_argument(vec![platform::error::FieldViolation {
            field: "user_id".into(),
            description: "must be a user id (UUID)".into(),
            reason: platform::error::violation_reason::INVALID_ID.into(),
        }])
    })
}

#[tonic::async_trait]
impl SecurityInfoService for SecurityInfoApi {
    async fn get_my_security_info(
        &self,
        request: Request<pb::GetMySecurityInfoRequest>,
    ) -> Result<Response<pb::SecurityInfo>, Status> {
        let caller = Caller::of(&request)?;
        let overview = self.service.overview(&caller).await.map_err(status)?;
        Ok(Response::new(security_info(overview)))
    }

    async fn start_authenticator_app_registration(
        &self,
        request: Request<pb::StartAuthenticatorAppRegistrationRequest>,
    ) -> Result<Response<pb::AuthenticatorAppRegistration>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let started = self
            .service
            .start_authenticator_app(&caller, &request.get_ref().name)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::AuthenticatorAppRegistration {
            method_id: started.method.id.to_string(),
            secret: started.secret,
            otpauth_uri: started.otpauth_uri,
            expires_at: started.method.expires_at.map(timestamp),
        }))
    }

    async fn start_phone_registration(
        &self,
        request: Request<pb::StartPhoneRegistrationRequest>,
    ) -> Result<Response<pb::PendingMethod>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let r = request.into_inner();
        let phone_type = match pb::PhoneType::try_from(r.phone_type) {
            Ok(pb::PhoneType::Mobile) => Some(PhoneType::Mobile),
            Ok(pb::PhoneType::AlternateMobile) => Some(PhoneType::AlternateMobile),
            Ok(pb::PhoneType::Office) => Some(PhoneType::Office),
            _ => None,
        };
        let delivery = match pb::PhoneDelivery::try_from(r.delivery) {
            Ok(pb::PhoneDelivery::Sms) => Some(PhoneDelivery::Sms),
            Ok(pb::PhoneDelivery::Voice) => Some(PhoneDelivery::Voice),
            _ => None,
        };
        let sent = self
            .service
            .start_phone(&caller, phone_type, &r.phone_number, delivery)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::PendingMethod {
            method_id: sent.method.id.to_string(),
            sent_to: sent.sent_to,
            expires_at: sent.method.expires_at.map(timestamp),
        }))
    }

    async fn start_email_registration(
        &self,
        request: Request<pb::StartEmailRegistrationRequest>,
    ) -> Result<Response<pb::PendingMethod>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let sent = self
            .service
            .start_email(&caller, &request.get_ref().email)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::PendingMethod {
            method_id: sent.method.id.to_string(),
            sent_to: sent.sent_to,
            expires_at: sent.method.expires_at.map(timestamp),
        }))
    }

    async fn verify_method(&self, request: Request<pb::VerifyMethodRequest>) -> Result<Response<pb::Method>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let r = request.get_ref();
        let m = self
            .service
            .verify_method(&caller, &r.method_id, &r.code)
            .await
            .map_err(status)?;
        Ok(Response::new(method(m, None)))
    }

    async fn start_security_key_registration(
        &self,
        request: Request<pb::StartSecurityKeyRegistrationRequest>,
    ) -> Result<Response<pb::SecurityKeyRegistration>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let started = self
            .service
            .start_security_key(&caller, &request.get_ref().name)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::SecurityKeyRegistration {
            method_id: started.method.id.to_string(),
            creation_options_json: started.creation_options_json,
            expires_at: started.method.expires_at.map(timestamp),
        }))
    }

    async fn complete_security_key_registration(
        &self,
        request: Request<pb::CompleteSecurityKeyRegistrationRequest>,
    ) -> Result<Response<pb::Method>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let r = request.get_ref();
        let m = self
            .service
            .complete_security_key(&caller, &r.method_id, &r.credential_json)
            .await
            .map_err(status)?;
        Ok(Response::new(method(m, None)))
    }

    async fn create_app_password(
        &self,
        request: Request<pb::CreateAppPasswordRequest>,
    ) -> Result<Response<pb::AppPasswordCreated>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let (m, password) = self
            .service
            .create_app_password(&caller, &request.get_ref().name)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::AppPasswordCreated {
            method: Some(method(m, None)),
            password,
        }))
    }

    async fn generate_recovery_codes(
        &self,
        request: Request<pb::GenerateRecoveryCodesRequest>,
    ) -> Result<Response<pb::RecoveryCodes>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let (m, codes) = self.service.generate_recovery_codes(&caller).await.map_err(status)?;
        Ok(Response::new(pb::RecoveryCodes {
            method: Some(method(m, None)),
            codes,
        }))
    }

    async fn remove_method(
        &self,
        request: Request<pb::RemoveMethodRequest>,
    ) -> Result<Response<pb::RemoveMethodResponse>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        self.service
            .remove_method(&caller, &request.get_ref().method_id)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::RemoveMethodResponse {}))
    }

    async fn rename_method(&self, request: Request<pb::RenameMethodRequest>) -> Result<Response<pb::Method>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.get_ref();
        let (renamed, default) = self
            .service
            .rename_method(&caller, &r.method_id, &r.name)
            .await
            .map_err(status)?;
        Ok(Response::new(method(renamed, default)))
    }

    async fn set_default_method(
        &self,
        request: Request<pb::SetDefaultMethodRequest>,
    ) -> Result<Response<pb::SecurityInfo>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let overview = self
            .service
            .set_default(&caller, &request.get_ref().method_id)
            .await
            .map_err(status)?;
        Ok(Response::new(security_info(overview)))
    }

    async fn export_my_data(
        &self,
        request: Request<pb::ExportMyDataRequest>,
    ) -> Result<Response<pb::SecurityInfoExport>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let data = self.service.export(caller.user_id).await.map_err(status)?;
        Ok(Response::new(export(data)))
    }

    async fn describe_my_personal_data(
        &self,
        request: Request<myaccount_proto::privacy::v1::DescribeMyPersonalDataRequest>,
    ) -> Result<Response<myaccount_proto::privacy::v1::PersonalDataDescription>, Status> {
        platform::personal_data::answer(&request, crate::domain::personal_data_held())
    }

    async fn list_second_factors(
        &self,
        request: Request<pb::ListSecondFactorsRequest>,
    ) -> Result<Response<pb::SecondFactors>, Status> {
        CallingWorkload::require(&request, IDENTITY)?;
        let user_id = user_id(&request.get_ref().user_id)?;
        let (factors, default) = self.service.second_factors(user_id).await.map_err(status)?;
        Ok(Response::new(pb::SecondFactors {
            factors: factors
                .into_iter()
                .map(|m| pb::SecondFactor {
                    method_id: m.id.to_string(),
                    r#type: method_type(m.kind).into(),
                    label: m.label(),
                    phone_delivery: m
                        .phone
                        .as_ref()
                        .map_or(pb::PhoneDelivery::Unspecified, |p| delivery(p.delivery))
                        .into(),
                    is_default: Some(m.id) == default,
                    registration_id: m.registration_id.map(|r| r.to_string()).unwrap_or_default(),
                    amr: m.amr(),
                    method: m.log_name().to_owned(),
                })
                .collect(),
        }))
    }

    async fn begin_second_factor(
        &self,
        request: Request<pb::BeginSecondFactorRequest>,
    ) -> Result<Response<pb::SecondFactorPrompt>, Status> {
        CallingWorkload::require(&request, IDENTITY)?;
        let r = request.get_ref();
        let user_id = user_id(&r.user_id)?;
        let prompt = self
            .service
            .begin_second_factor(user_id, &r.method_id)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::SecondFactorPrompt {
            r#type: method_type(prompt.method.kind).into(),
            sent_to: prompt.sent_to,
            request_options_json: prompt.request_options_json,
        }))
    }

    async fn verify_second_factor(
        &self,
        request: Request<pb::VerifySecondFactorRequest>,
    ) -> Result<Response<pb::SecondFactorVerification>, Status> {
        CallingWorkload::require(&request, IDENTITY)?;
        let r = request.into_inner();
        let user_id = user_id(&r.user_id)?;
        let proof = match r.proof {
            Some(pb::verify_second_factor_request::Proof::Code(c)) => Proof::Code(c),
            Some(pb::verify_second_factor_request::Proof::AssertionJson(a)) => Proof::Assertion(a),
            None => {
                return Err(platform::error::invalid_argument(vec![
                    platform::error::FieldViolation {
                        field: "proof".into(),
                        description: "give a code or a security key assertion".into(),
                        reason: platform::error::violation_reason::REQUIRED.into(),
                    },
                ]));
            }
        };
        let verification = self
            .service
            .verify_second_factor(user_id, &r.method_id, proof)
            .await
            .map_err(status)?;
        let (outcome, m) = match verification {
            Verification::Verified(m) => (pb::VerificationOutcome::Verified, Some(m)),
            Verification::Incorrect(m) => (pb::VerificationOutcome::Incorrect, Some(m)),
            Verification::Replayed(m) => (pb::VerificationOutcome::Replayed, Some(m)),
            Verification::Expired(m) => (pb::VerificationOutcome::Expired, Some(m)),
            Verification::TooManyAttempts(m) => (pb::VerificationOutcome::TooManyAttempts, Some(m)),
            Verification::PossibleClone(m) => (pb::VerificationOutcome::PossibleClone, Some(m)),
            Verification::UnknownMethod => (pb::VerificationOutcome::UnknownMethod, None),
        };
        Ok(Response::new(pb::SecondFactorVerification {
            outcome: outcome.into(),
            r#type: m
                .as_ref()
                .map_or(pb::MethodType::Unspecified, |m| method_type(m.kind))
                .into(),
            amr: m.as_ref().map(Method::amr).unwrap_or_default(),
            method: m.as_ref().map(|m| m.log_name().to_owned()).unwrap_or_default(),
        }))
    }

    async fn verify_app_password(
        &self,
        request: Request<pb::VerifyAppPasswordRequest>,
    ) -> Result<Response<pb::AppPasswordVerification>, Status> {
        CallingWorkload::require(&request, IDENTITY)?;
        let r = request.get_ref();
        let user_id = user_id(&r.user_id)?;
        let found = self
            .service
            .verify_app_password(user_id, &r.password)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::AppPasswordVerification {
            valid: found.is_some(),
            method_id: found.map(|id| id.to_string()).unwrap_or_default(),
        }))
    }

    async fn begin_passkey_sign_in(
        &self,
        request: Request<pb::BeginPasskeySignInRequest>,
    ) -> Result<Response<pb::PasskeySignInPrompt>, Status> {
        CallingWorkload::require(&request, IDENTITY)?;
        let started = self.service.begin_passkey_sign_in().await.map_err(status)?;
        Ok(Response::new(pb::PasskeySignInPrompt {
            ceremony_id: started.ceremony_id.to_string(),
            request_options_json: started.request_options_json,
            expires_at: Some(timestamp(started.expires_at)),
        }))
    }

    async fn verify_passkey_sign_in(
        &self,
        request: Request<pb::VerifyPasskeySignInRequest>,
    ) -> Result<Response<pb::PasskeySignInVerification>, Status> {
        CallingWorkload::require(&request, IDENTITY)?;
        let r = request.get_ref();
        let checked = self
            .service
            .verify_passkey_sign_in(&r.ceremony_id, &r.assertion_json)
            .await
            .map_err(status)?;
        use pb::PasskeySignInOutcome as O;
        let (outcome, method, amr) = match checked {
            PasskeySignIn::Verified { method, amr } => (O::Verified, Some(method), amr),
            PasskeySignIn::Incorrect(method) => (O::Incorrect, Some(method), vec![]),
            PasskeySignIn::PossibleClone(method) => (O::PossibleClone, Some(method), vec![]),
            PasskeySignIn::UnknownCredential => (O::UnknownCredential, None, vec![]),
            PasskeySignIn::UnknownCeremony => (O::UnknownCeremony, None, vec![]),
            PasskeySignIn::CeremonyUsed => (O::CeremonyUsed, None, vec![]),
            PasskeySignIn::CeremonyExpired => (O::CeremonyExpired, None, vec![]),
        };
        Ok(Response::new(pb::PasskeySignInVerification {
            outcome: outcome.into(),
            user_id: method.as_ref().map(|m| m.user_id.to_string()).unwrap_or_default(),
            method_id: method.as_ref().map(|m| m.id.to_string()).unwrap_or_default(),
            amr,
        }))
    }
}
