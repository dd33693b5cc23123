//! The gRPC edge of identity: proto <-> domain conversion and error -> Status, nothing else.

use std::sync::Arc;
use std::time::Duration;

use myaccount_proto::identity::v1 as pb;
use myaccount_proto::identity::v1::identity_service_server::IdentityService;
use platform::auth::Caller;
use platform::error::to_status;
use platform::idempotency::{KeyedCall, Once, answer_once};
use platform::workload::{CallingWorkload, GATEWAY};
use prost::Message as _;
use tonic::{Request, Response, Status};

use crate::domain::MfaProof;
use crate::domain::{ClientInfo, ClientLocation, IssuedTokens, SignInOutcome};
use crate::domain::{EditableField, NewUserInput, Profile, ProfileChanges};
use crate::error::IdentityError;
use crate::events::timestamp;
use crate::privacy::PersonalData;
use crate::service::Identity;
use crate::sessions::{ClientDescription, PasswordChange, SessionView, SessionsError};
use crate::store::{DEFAULT_SESSIONS_PAGE_SIZE, MAX_SESSIONS_PAGE_SIZE, SessionCursor, SessionPage};
use platform::error::{FieldViolation, Violations};
use uuid::Uuid;

/// The methods callable without an access token.
/// Signing out of a session that has already ended changes nothing and is answered as done.
pub const SIGN_OUT: &str = "/myaccount.identity.v1.IdentityService/SignOut";

/// The one identity method an MFA registration token may call: finishing its sign-in.
pub const COMPLETE_MFA_REGISTRATION: &str = "/myaccount.identity.v1.IdentityService/CompleteMfaRegistration";

pub const PUBLIC_METHODS: &[&str] = &[
    "/myaccount.identity.v1.IdentityService/SignIn",
    // The passkey's assertion is the credential; the challenge id names its ceremony.
    "/myaccount.identity.v1.IdentityService/StartPasskeySignIn",
    "/myaccount.identity.v1.IdentityService/PasskeySignIn",
    "/myaccount.identity.v1.IdentityService/RefreshToken",
    // The challenge id from the first step is the credential of the second.
    "/myaccount.identity.v1.IdentityService/StartMfa",
    "/myaccount.identity.v1.IdentityService/CompleteMfa",
    // The change ticket from the interrupted sign-in is the credential.
    "/myaccount.identity.v1.IdentityService/SetRequiredPassword",
    // The person lost their password: the flow id from the start is the credential.
    START_PASSWORD_RESET,
    BEGIN_PASSWORD_RESET_METHOD,
    VERIFY_PASSWORD_RESET_METHOD,
    COMPLETE_PASSWORD_RESET,
];

const START_PASSWORD_RESET: &str = "/myaccount.identity.v1.IdentityService/StartPasswordReset";
const BEGIN_PASSWORD_RESET_METHOD: &str = "/myaccount.identity.v1.IdentityService/BeginPasswordResetMethod";
const VERIFY_PASSWORD_RESET_METHOD: &str = "/myaccount.identity.v1.IdentityService/VerifyPasswordResetMethod";
const COMPLETE_PASSWORD_RESET: &str = "/myaccount.identity.v1.IdentityService/CompletePasswordReset";

/// The methods only the gateway may call (`platform::workload`): the sign-in ceremony, whose
/// callers have no access token, and every method whose request carries the person's client
/// context (address, user agent, reported location), which identity believes from the gateway
/// alone. A direct caller is refused before the handler runs.
pub const GATEWAY_ONLY_METHODS: &[&str] = &[
    "/myaccount.identity.v1.IdentityService/SignIn",
    "/myaccount.identity.v1.IdentityService/RefreshToken",
    "/myaccount.identity.v1.IdentityService/StartMfa",
    "/myaccount.identity.v1.IdentityService/CompleteMfa",
    "/myaccount.identity.v1.IdentityService/SetRequiredPassword",
    COMPLETE_MFA_REGISTRATION,
    "/myaccount.identity.v1.IdentityService/Reauthenticate",
    START_PASSWORD_RESET,
    BEGIN_PASSWORD_RESET_METHOD,
    VERIFY_PASSWORD_RESET_METHOD,
    COMPLETE_PASSWORD_RESET,
];

pub struct IdentityApi {
    identity: Arc<Identity>,
    /// How recent a sign-in must be to delete one's own account.
    step_up_max_age: Duration,
}

impl IdentityApi {
    pub fn new(identity: Arc<Identity>, step_up_max_age: Duration) -> Self {
        Self {
            identity,
            step_up_max_age,
        }
    }

    async fn set_user_enabled(
        &self,
        admin: &Caller,
        user_id: &str,
        enabled: bool,
    ) -> Result<Response<pb::UserStatus>, Status> {
        let change = self
            .identity
            .set_user_enabled(admin, user_id, enabled, self.step_up_max_age)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::UserStatus {
            user_id: change.user_id.to_string(),
            enabled: change.enabled,
            changed: change.changed,
            time: Some(timestamp(change.at)),
        }))
    }
}

/// The client context of `request`, believed only when the gateway sends it (the auth layer
/// lets no other workload call these methods; this says it once more where the context is read).
/// The peer's own address is never the person's: it is the gateway's.
fn client_context<T>(request: &Request<T>, client: Option<pb::ClientContext>) -> pb::ClientContext {
    if CallingWorkload::is(request, GATEWAY) {
        client.unwrap_or_default()
    } else {
        pb::ClientContext::default()
    }
}

fn client_info<T>(request: &Request<T>, client: Option<pb::ClientContext>) -> ClientInfo {
    let client = client_context(request, client);
    ClientInfo {
        ip_address: client.ip_address,
        user_agent: client.user_agent,
        device_id: client.device_id,
        app_id: client.app_id,
        correlation_id: client.correlation_id,
        location: client.location.map(client_location),
    }
}

fn client_location(l: pb::ClientLocation) -> ClientLocation {
    ClientLocation {
        country: l.country,
        region: l.region,
        city: l.city,
        latitude: l.latitude,
        longitude: l.longitude,
    }
}

fn token_set(tokens: IssuedTokens) -> pb::TokenSet {
    pb::TokenSet {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        expires_in: i64::try_from(tokens.expires_in.as_secs()).unwrap_or(i64::MAX),
        token_type: "Bearer".into(),
    }
}

fn profile(p: Profile) -> pb::Profile {
    pb::Profile {
        id: p.id.to_string(),
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
        home_organization_id: p.home_organization_id.map(|o| o.to_string()).unwrap_or_default(),
        created_at: Some(timestamp(p.created_at)),
        updated_at: Some(timestamp(p.updated_at)),
        editable_fields: EditableField::ALL.map(|f| f.name().to_owned()).to_vec(),
    }
}

fn sign_in_response(outcome: SignInOutcome) -> pb::SignInResponse {
    let result = match outcome {
        SignInOutcome::Tokens(tokens) => pb::sign_in_response::Result::Tokens(token_set(tokens)),
        SignInOutcome::MfaRequired(challenge) => pb::sign_in_response::Result::MfaRequired(pb::MfaChallenge {
            challenge_id: challenge.challenge_id.to_string(),
            methods: challenge
                .factors
                .into_iter()
                .map(|f| pb::MfaMethod {
                    method_id: f.method_id,
                    r#type: f.kind,
                    label: f.label,
                    is_default: f.is_default,
                })
                .collect(),
            expires_at: Some(timestamp(challenge.expires_at)),
        }),
        SignInOutcome::PasswordChangeRequired(ticket) => {
            pb::sign_in_response::Result::PasswordChangeRequired(pb::PasswordChangeRequired {
                change_ticket: ticket.ticket_id.to_string(),
                expires_at: Some(timestamp(ticket.expires_at)),
                reason: crate::required_password::REASON.to_owned(),
            })
        }
        SignInOutcome::MfaRegistrationRequired(ticket) => {
            pb::sign_in_response::Result::MfaRegistrationRequired(pb::MfaRegistrationRequired {
                registration_token: ticket.registration_token,
                expires_at: Some(timestamp(ticket.expires_at)),
            })
        }
    };
    pb::SignInResponse { result: Some(result) }
}

/// A keyed request as it is told apart from another: without the client context's correlation
/// id, which is each HTTP request's own, so a client's repetition is the same request.
fn without_correlation_id<M: prost::Message>(
    mut request: M,
    client: impl FnOnce(&mut M) -> &mut Option<pb::ClientContext>,
) -> Vec<u8> {
    if let Some(context) = client(&mut request) {
        context.correlation_id.clear();
    }
    request.encode_to_vec()
}

/// A sign-in step's answer as a keyed call records it.
fn encoded_sign_in_response(outcome: &SignInOutcome) -> Vec<u8> {
    sign_in_response(outcome.clone()).encode_to_vec()
}

fn status(e: IdentityError) -> Status {
    to_status(e)
}

#[tonic::async_trait]
impl IdentityService for IdentityApi {
    async fn sign_in(&self, request: Request<pb::SignInRequest>) -> Result<Response<pb::SignInResponse>, Status> {
        let identifying = without_correlation_id(request.get_ref().clone(), |r| &mut r.client);
        let keyed = KeyedCall::of_request(&request, "SignIn", &identifying)?;
        let client = client_info(&request, request.get_ref().client.clone());
        let body = request.into_inner();
        let once = keyed.as_ref().map(|call| Once::new(call, encoded_sign_in_response));
        answer_once(self.identity.pool(), keyed.as_ref(), async {
            let outcome = self
                .identity
                .sign_in(
                    &body.username,
                    &body.password,
                    &body.organization_id,
                    &client,
                    once.as_ref(),
                )
                .await?;
            Ok::<_, IdentityError>(sign_in_response(outcome))
        })
        .await
    }

    async fn start_passkey_sign_in(
        &self,
        request: Request<pb::StartPasskeySignInRequest>,
    ) -> Result<Response<pb::PasskeySignInChallenge>, Status> {
        let client = client_info(&request, request.get_ref().client.clone());
        let options = self.identity.start_passkey_sign_in(&client).await.map_err(status)?;
        Ok(Response::new(pb::PasskeySignInChallenge {
            challenge_id: options.challenge_id,
            request_options_json: options.request_options_json,
            expires_at: options.expires_at.map(myaccount_proto::timestamp),
        }))
    }

    async fn passkey_sign_in(
        &self,
        request: Request<pb::PasskeySignInRequest>,
    ) -> Result<Response<pb::SignInResponse>, Status> {
        let identifying = without_correlation_id(request.get_ref().clone(), |r| &mut r.client);
        let keyed = KeyedCall::of_request(&request, "PasskeySignIn", &identifying)?;
        let client = client_info(&request, request.get_ref().client.clone());
        let body = request.into_inner();
        let once = keyed.as_ref().map(|call| Once::new(call, encoded_sign_in_response));
        answer_once(self.identity.pool(), keyed.as_ref(), async {
            let outcome = self
                .identity
                .passkey_sign_in(&body.challenge_id, &body.assertion_json, &client, once.as_ref())
                .await?;
            Ok::<_, IdentityError>(sign_in_response(outcome))
        })
        .await
    }

    async fn start_mfa(&self, request: Request<pb::StartMfaRequest>) -> Result<Response<pb::MfaPrompt>, Status> {
        let r = request.get_ref();
        let prompt = self
            .identity
            .start_mfa(&r.challenge_id, &r.method_id)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::MfaPrompt {
            sent_to: prompt.sent_to,
            request_options_json: prompt.request_options_json,
        }))
    }

    async fn complete_mfa(
        &self,
        request: Request<pb::CompleteMfaRequest>,
    ) -> Result<Response<pb::SignInResponse>, Status> {
        let identifying = without_correlation_id(request.get_ref().clone(), |r| &mut r.client);
        let keyed = KeyedCall::of_request(&request, "CompleteMfa", &identifying)?;
        let location = client_context(&request, request.get_ref().client.clone())
            .location
            .map(client_location);
        let r = request.into_inner();
        let proof = match r.proof {
            Some(pb::complete_mfa_request::Proof::Code(c)) => Some(MfaProof::Code(c)),
            Some(pb::complete_mfa_request::Proof::AssertionJson(a)) => Some(MfaProof::Assertion(a)),
            None => None,
        };
        let once = keyed.as_ref().map(|call| Once::new(call, encoded_sign_in_response));
        answer_once(self.identity.pool(), keyed.as_ref(), async {
            let outcome = self
                .identity
                .complete_mfa(&r.challenge_id, &r.method_id, proof, location, once.as_ref())
                .await?;
            Ok::<_, IdentityError>(sign_in_response(outcome))
        })
        .await
    }

    async fn complete_mfa_registration(
        &self,
        request: Request<pb::CompleteMfaRegistrationRequest>,
    ) -> Result<Response<pb::SignInResponse>, Status> {
        let caller = Caller::of(&request)?;
        let location = client_context(&request, request.get_ref().client.clone())
            .location
            .map(client_location);
        let outcome = self
            .identity
            .complete_mfa_registration(&caller, location)
            .await
            .map_err(status)?;
        Ok(Response::new(sign_in_response(outcome)))
    }

    async fn set_required_password(
        &self,
        request: Request<pb::SetRequiredPasswordRequest>,
    ) -> Result<Response<pb::TokenSet>, Status> {
        let client = client_info(&request, request.get_ref().client.clone());
        let r = request.into_inner();
        let tokens = self
            .identity
            .set_required_password(&r.change_ticket, &r.new_password, &client)
            .await
            .map_err(status)?;
        Ok(Response::new(token_set(tokens)))
    }

    async fn start_password_reset(
        &self,
        request: Request<pb::StartPasswordResetRequest>,
    ) -> Result<Response<pb::PasswordResetFlow>, Status> {
        let client = client_info(&request, request.get_ref().client.clone());
        let flow = self
            .identity
            .start_password_reset(&request.get_ref().username, &client)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::PasswordResetFlow {
            flow_id: flow.flow_id.to_string(),
            methods: flow
                .methods
                .into_iter()
                .map(|m| pb::PasswordResetMethod {
                    method_id: m.id.to_string(),
                    r#type: m.kind,
                    label: m.label,
                })
                .collect(),
            methods_required: flow.methods_required,
            expires_at: Some(timestamp(flow.expires_at)),
        }))
    }

    async fn begin_password_reset_method(
        &self,
        request: Request<pb::BeginPasswordResetMethodRequest>,
    ) -> Result<Response<pb::MfaPrompt>, Status> {
        let r = request.get_ref();
        let prompt = self
            .identity
            .begin_password_reset_method(&r.flow_id, &r.method_id)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::MfaPrompt {
            sent_to: prompt.sent_to,
            request_options_json: prompt.request_options_json,
        }))
    }

    async fn verify_password_reset_method(
        &self,
        request: Request<pb::VerifyPasswordResetMethodRequest>,
    ) -> Result<Response<pb::PasswordResetProgress>, Status> {
        let location = client_context(&request, request.get_ref().client.clone())
            .location
            .map(client_location);
        let r = request.into_inner();
        let proof = match r.proof {
            Some(pb::verify_password_reset_method_request::Proof::Code(c)) => Some(MfaProof::Code(c)),
            Some(pb::verify_password_reset_method_request::Proof::AssertionJson(a)) => Some(MfaProof::Assertion(a)),
            None => None,
        };
        let progress = self
            .identity
            .verify_password_reset_method(&r.flow_id, &r.method_id, proof, location)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::PasswordResetProgress {
            methods_required: progress.methods_required,
            proven_method_ids: progress.proven_method_ids.iter().map(Uuid::to_string).collect(),
        }))
    }

    async fn complete_password_reset(
        &self,
        request: Request<pb::CompletePasswordResetRequest>,
    ) -> Result<Response<pb::CompletePasswordResetResponse>, Status> {
        let client = client_info(&request, request.get_ref().client.clone());
        let r = request.get_ref();
        self.identity
            .complete_password_reset(&r.flow_id, &r.new_password, &client)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::CompletePasswordResetResponse {}))
    }

    async fn reauthenticate(
        &self,
        request: Request<pb::ReauthenticateRequest>,
    ) -> Result<Response<pb::SignInResponse>, Status> {
        let caller = Caller::of(&request)?;
        let client = client_info(&request, request.get_ref().client.clone());
        let outcome = self
            .identity
            .reauthenticate(&caller, &request.get_ref().password, &client)
            .await
            .map_err(status)?;
        Ok(Response::new(sign_in_response(outcome)))
    }

    async fn refresh_token(&self, request: Request<pb::RefreshTokenRequest>) -> Result<Response<pb::TokenSet>, Status> {
        let client = client_info(&request, request.get_ref().client.clone());
        let body = request.into_inner();
        let tokens = self
            .identity
            .refresh(&body.refresh_token, &client)
            .await
            .map_err(status)?;
        Ok(Response::new(token_set(tokens)))
    }

    async fn sign_out(&self, request: Request<pb::SignOutRequest>) -> Result<Response<pb::SignOutResponse>, Status> {
        let caller = Caller::of(&request)?;
        self.identity.sign_out(&caller).await.map_err(status)?;
        Ok(Response::new(pb::SignOutResponse {}))
    }

    async fn get_my_profile(&self, request: Request<pb::GetMyProfileRequest>) -> Result<Response<pb::Profile>, Status> {
        let caller = Caller::of(&request)?;
        let p = self.identity.my_profile(&caller).await.map_err(status)?;
        Ok(Response::new(profile(p)))
    }

    async fn update_my_profile(
        &self,
        request: Request<pb::UpdateMyProfileRequest>,
    ) -> Result<Response<pb::Profile>, Status> {
        let caller = Caller::of(&request)?;
        let body = request.into_inner();
        let paths = body.update_mask.map(|m| m.paths).unwrap_or_default();
        let values = body.profile.unwrap_or_default();
        let changes = ProfileChanges::parse(&paths, |field| match field {
            EditableField::DisplayName => values.display_name.clone(),
            EditableField::GivenName => values.given_name.clone(),
            EditableField::Surname => values.surname.clone(),
            EditableField::OfficeLocation => values.office_location.clone(),
            EditableField::MobilePhone => values.mobile_phone.clone(),
            EditableField::BusinessPhone => values.business_phone.clone(),
            EditableField::PreferredLanguage => values.preferred_language.clone(),
            EditableField::RegionalFormat => values.regional_format.clone(),
            EditableField::TimeZone => values.time_zone.clone(),
        })
        .map_err(|v| status(IdentityError::Invalid(v)))?;
        let p = self
            .identity
            .update_my_profile(&caller, changes)
            .await
            .map_err(status)?;
        Ok(Response::new(profile(p)))
    }

    async fn create_user(&self, request: Request<pb::CreateUserRequest>) -> Result<Response<pb::Profile>, Status> {
        let caller = Caller::of(&request)?;
        caller.require_admin()?;
        let mut r = request.into_inner();
        // An organization's admin creates people in it: naming none means theirs, another
        // answers NOT_FOUND as an unknown one would.
        if r.home_organization_id.trim().is_empty()
            && let Some(own) = caller.organization_id.as_deref().filter(|o| !o.is_empty())
        {
            r.home_organization_id = own.to_owned();
        }
        if !caller.may_administer(&r.home_organization_id) {
            let organization = r.home_organization_id.trim().to_owned();
            return Err(status(IdentityError::OrganizationNotFound(organization)));
        }
        caller.require_recent_mfa(self.step_up_max_age)?;
        let input = NewUserInput {
            user_principal_name: r.user_principal_name,
            password: r.password,
            display_name: r.display_name,
            given_name: r.given_name,
            surname: r.surname,
            job_title: r.job_title,
            department: r.department,
            office_location: r.office_location,
            mobile_phone: r.mobile_phone,
            business_phone: r.business_phone,
            mail: r.mail,
            preferred_language: r.preferred_language,
            home_organization_id: r.home_organization_id,
            roles: r.roles,
        };
        let p = self.identity.create_user(input).await.map_err(status)?;
        Ok(Response::new(profile(p)))
    }
    async fn list_my_sessions(
        &self,
        request: Request<pb::ListMySessionsRequest>,
    ) -> Result<Response<pb::ListMySessionsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let page = session_page(request.get_ref()).map_err(|v| to_status(SessionsError::Invalid(v)))?;
        let (sessions, next) = self.identity.list_my_sessions(&caller, page).await.map_err(to_status)?;
        Ok(Response::new(pb::ListMySessionsResponse {
            sessions: sessions.into_iter().map(session).collect(),
            next_page_token: next.map(|c| c.encode()).unwrap_or_default(),
        }))
    }

    async fn revoke_my_session(
        &self,
        request: Request<pb::RevokeMySessionRequest>,
    ) -> Result<Response<pb::RevokeMySessionResponse>, Status> {
        let caller = Caller::of(&request)?;
        let raw = request.into_inner().session_id;
        let session_id = Uuid::parse_str(raw.trim()).map_err(|_| {
            to_status(SessionsError::Invalid(vec![FieldViolation {
                field: "session_id".into(),
                description: "must be a session id (UUID)".into(),
                reason: String::new(),
            }]))
        })?;
        self.identity
            .revoke_my_session(&caller, session_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::RevokeMySessionResponse {}))
    }

    async fn revoke_my_other_sessions(
        &self,
        request: Request<pb::RevokeMyOtherSessionsRequest>,
    ) -> Result<Response<pb::RevokeSessionsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let revoked = self
            .identity
            .revoke_my_other_sessions(&caller)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::RevokeSessionsResponse {
            revoked_count: i32::try_from(revoked).unwrap_or(i32::MAX),
        }))
    }

    async fn sign_out_everywhere(
        &self,
        request: Request<pb::SignOutEverywhereRequest>,
    ) -> Result<Response<pb::RevokeSessionsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let revoked = self.identity.sign_out_everywhere(&caller).await.map_err(to_status)?;
        Ok(Response::new(pb::RevokeSessionsResponse {
            revoked_count: i32::try_from(revoked).unwrap_or(i32::MAX),
        }))
    }

    async fn change_my_password(
        &self,
        request: Request<pb::ChangeMyPasswordRequest>,
    ) -> Result<Response<pb::ChangeMyPasswordResponse>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let r = request.into_inner();
        let change = PasswordChange {
            current_password: r.current_password,
            new_password: r.new_password,
            end_other_sessions: r.end_other_sessions,
        };
        let ended = self
            .identity
            .change_my_password(&caller, change)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ChangeMyPasswordResponse {
            other_sessions_ended: i32::try_from(ended).unwrap_or(i32::MAX),
        }))
    }

    async fn export_my_data(
        &self,
        request: Request<pb::ExportMyDataRequest>,
    ) -> Result<Response<pb::IdentityExport>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let data = self.identity.export_my_data(&caller).await.map_err(status)?;
        Ok(Response::new(export(data, caller.session_id, |ip| {
            self.identity.place_of(ip)
        })))
    }

    async fn describe_my_personal_data(
        &self,
        request: Request<myaccount_proto::privacy::v1::DescribeMyPersonalDataRequest>,
    ) -> Result<Response<myaccount_proto::privacy::v1::PersonalDataDescription>, Status> {
        platform::personal_data::answer(&request, crate::domain::personal_data_held())
    }

    async fn get_my_account_deletion_policy(
        &self,
        request: Request<pb::GetMyAccountDeletionPolicyRequest>,
    ) -> Result<Response<pb::AccountDeletionPolicy>, Status> {
        let caller = Caller::of(&request)?;
        let self_deletion = self.identity.self_deletion(&caller).await.map_err(to_status)?;
        // Shown on the privacy page; deleting checks the policy again.
        Ok(platform::personal_data::private_answer(pb::AccountDeletionPolicy {
            allowed: self_deletion.refusal().is_none(),
            reason: self_deletion.refusal().unwrap_or_default().to_owned(),
        }))
    }

    async fn delete_my_account(
        &self,
        request: Request<pb::DeleteMyAccountRequest>,
    ) -> Result<Response<pb::DeleteAccountResponse>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        // A person without a second factor can only prove a recent sign-in.
        if self.identity.has_second_factor(caller.user_id).await.map_err(status)? {
            caller.require_recent_mfa(self.step_up_max_age)?;
        } else {
            caller.require_recent_sign_in(self.step_up_max_age)?;
        }
        let confirm = request.into_inner().confirm_user_principal_name;
        let deleted_at = self
            .identity
            .delete_my_account(&caller, &confirm)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::DeleteAccountResponse {
            user_id: caller.user_id.to_string(),
            deleted_at: Some(timestamp(deleted_at)),
        }))
    }

    async fn disable_user(&self, request: Request<pb::DisableUserRequest>) -> Result<Response<pb::UserStatus>, Status> {
        let caller = Caller::of(&request)?;
        caller.require_admin()?;
        let user_id = request.into_inner().user_id;
        self.set_user_enabled(&caller, &user_id, false).await
    }

    async fn enable_user(&self, request: Request<pb::EnableUserRequest>) -> Result<Response<pb::UserStatus>, Status> {
        let caller = Caller::of(&request)?;
        caller.require_admin()?;
        let user_id = request.into_inner().user_id;
        self.set_user_enabled(&caller, &user_id, true).await
    }

    async fn change_user_identifiers(
        &self,
        request: Request<pb::ChangeUserIdentifiersRequest>,
    ) -> Result<Response<pb::UserIdentifiers>, Status> {
        let caller = Caller::of(&request)?;
        caller.require_admin()?;
        let r = request.into_inner();
        let change = self
            .identity
            .change_user_identifiers(
                &caller,
                &r.user_id,
                &r.new_user_principal_name,
                &r.new_email,
                self.step_up_max_age,
            )
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::UserIdentifiers {
            user_id: change.user_id.to_string(),
            user_principal_name: change.current.user_principal_name,
            email: change.current.mail,
            previous_user_principal_name: change.previous.user_principal_name,
            previous_email: change.previous.mail,
            changed: change.changed,
            time: Some(timestamp(change.at)),
        }))
    }

    async fn delete_user(
        &self,
        request: Request<pb::DeleteUserRequest>,
    ) -> Result<Response<pb::DeleteAccountResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require_admin()?;
        let user_id = request.into_inner().user_id;
        let deleted_at = self
            .identity
            .delete_user(&caller, &user_id, self.step_up_max_age)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::DeleteAccountResponse {
            user_id: user_id.trim().to_owned(),
            deleted_at: Some(timestamp(deleted_at)),
        }))
    }
}

fn export(data: PersonalData, current_session: Option<Uuid>, place_of: impl Fn(&str) -> String) -> pb::IdentityExport {
    let sessions = data
        .sessions
        .into_iter()
        .map(|s| pb::ExportedSession {
            organization_id: s.organization_id.map(|o| o.to_string()).unwrap_or_default(),
            auth_time: Some(timestamp(s.auth_time)),
            ended_at: s.revoked_at.map(timestamp),
            end_reason: s.revoked_reason.unwrap_or_default(),
            session: Some(session(SessionView {
                current: Some(s.id) == current_session,
                client: ClientDescription::from_user_agent(&s.user_agent),
                id: s.id,
                created_at: s.created_at,
                last_activity_at: s.last_seen_at,
                location: place_of(&s.ip_address),
                ip_address: s.ip_address,
                device_id: s.device_id,
                user_agent: s.user_agent,
                authentication_methods: s.amr,
            })),
        })
        .collect();
    pb::IdentityExport {
        user_id: data.profile.id.to_string(),
        password_changed_at: Some(timestamp(data.password_changed_at)),
        profile: Some(profile(data.profile)),
        sessions,
        guest_organization_ids: data.guest_organization_ids.iter().map(Uuid::to_string).collect(),
        familiar_addresses: data
            .familiar_addresses
            .into_iter()
            .map(|(ip_address, at)| pb::FamiliarAddress {
                ip_address,
                last_signed_in_at: Some(timestamp(at)),
            })
            .collect(),
        exported_at: Some(timestamp(data.exported_at)),
    }
}

/// The page a `ListMySessions` request asks for: a missing size is the default one, a size
/// past the cap is the cap, a negative size or a token not of a previous page is refused.
fn session_page(request: &pb::ListMySessionsRequest) -> Result<SessionPage, Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let size = match i64::from(request.page_size) {
        0 => DEFAULT_SESSIONS_PAGE_SIZE,
        n if n < 0 => {
            violations.add("page_size", "must not be negative");
            DEFAULT_SESSIONS_PAGE_SIZE
        }
        n => n.min(MAX_SESSIONS_PAGE_SIZE),
    };
    let after = if request.page_token.is_empty() {
        None
    } else {
        let cursor = SessionCursor::decode(&request.page_token);
        if cursor.is_none() {
            violations.add("page_token", "is not a token from a previous page");
        }
        cursor
    };
    violations.into_result()?;
    Ok(SessionPage { size, after })
}

fn session(s: SessionView) -> pb::Session {
    pb::Session {
        id: s.id.to_string(),
        created_at: Some(timestamp(s.created_at)),
        last_activity_at: Some(timestamp(s.last_activity_at)),
        ip_address: s.ip_address,
        location: s.location,
        browser: s.client.browser,
        browser_version: s.client.browser_version,
        operating_system: s.client.operating_system,
        operating_system_version: s.client.operating_system_version,
        device_category: s.client.category,
        device_id: s.device_id,
        current: s.current,
        authentication_methods: s.authentication_methods,
        user_agent: s.user_agent,
    }
}
