//! The gRPC edge of identity: proto <-> domain conversion and error -> Status, nothing else.

use std::sync::Arc;

use myaccount_proto::identity::v1 as pb;
use myaccount_proto::identity::v1::identity_service_server::IdentityService;
use platform::auth::Caller;
use platform::error::to_status;
use tonic::{Request, Response, Status};

use crate::domain::{EditableField, NewUserInput, Profile, ProfileChanges};
use crate::events::{ClientInfo, timestamp};
use crate::service::{Identity, IdentityError, IssuedTokens};

/// The methods callable without an access token.
pub const PUBLIC_METHODS: &[&str] = &[
    "/myaccount.identity.v1.IdentityService/SignIn",
    "/myaccount.identity.v1.IdentityService/RefreshToken",
];

pub struct IdentityApi {
    identity: Arc<Identity>,
}

impl IdentityApi {
    pub fn new(identity: Arc<Identity>) -> Self {
        Self { identity }
    }
}

fn client_info<T>(request: &Request<T>, client: Option<pb::ClientContext>) -> ClientInfo {
    let client = client.unwrap_or_default();
    // A caller that does not say where the user is (anything but the gateway) is the client itself.
    let ip_address = if client.ip_address.is_empty() {
        request.remote_addr().map(|a| a.ip().to_string()).unwrap_or_default()
    } else {
        client.ip_address
    };
    ClientInfo {
        ip_address,
        user_agent: client.user_agent,
        device_id: client.device_id,
        app_id: client.app_id,
        correlation_id: client.correlation_id,
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
        home_organization_id: p.home_organization_id.map(|o| o.to_string()).unwrap_or_default(),
        created_at: Some(timestamp(p.created_at)),
        updated_at: Some(timestamp(p.updated_at)),
    }
}

fn status(e: IdentityError) -> Status {
    to_status(e)
}

#[tonic::async_trait]
impl IdentityService for IdentityApi {
    async fn sign_in(&self, request: Request<pb::SignInRequest>) -> Result<Response<pb::SignInResponse>, Status> {
        let client = client_info(&request, request.get_ref().client.clone());
        let body = request.into_inner();
        let tokens = self
            .identity
            .sign_in(&body.username, &body.password, &client)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::SignInResponse {
            result: Some(pb::sign_in_response::Result::Tokens(token_set(tokens))),
        }))
    }

    async fn refresh_token(&self, request: Request<pb::RefreshTokenRequest>) -> Result<Response<pb::TokenSet>, Status> {
        let client = client_info(&request, request.get_ref().client.clone());
        let body = request.into_inner();
        let tokens = self.identity.refresh(&body.refresh_token, &client).await.map_err(status)?;
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

    async fn update_my_profile(&self, request: Request<pb::UpdateMyProfileRequest>) -> Result<Response<pb::Profile>, Status> {
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
        })
        .map_err(|v| status(IdentityError::Invalid(v)))?;
        let p = self.identity.update_my_profile(&caller, changes).await.map_err(status)?;
        Ok(Response::new(profile(p)))
    }

    async fn create_user(&self, request: Request<pb::CreateUserRequest>) -> Result<Response<pb::Profile>, Status> {
        Caller::of(&request)?.require_admin()?;
        let r = request.into_inner();
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
}
