//! The gRPC edge of organizations: proto <-> domain conversion and error -> Status, nothing else.

use std::sync::Arc;
use std::time::Duration;

use myaccount_proto::organizations::v1 as pb;
use myaccount_proto::organizations::v1::organizations_service_server::OrganizationsService;
use platform::auth::Caller;
use platform::error::to_status;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::{
    InvitationStatus, InvitationView, MembershipKind, MyOrganization, Organization, PersonalData, SettingsInput,
};
use crate::service::{Organizations, OrganizationsError};
use myaccount_proto::timestamp;

pub struct OrganizationsApi {
    organizations: Arc<Organizations>,
    /// How recent the multi-factor sign-in must be to leave an organization.
    step_up_max_age: Duration,
}

impl OrganizationsApi {
    pub fn new(organizations: Arc<Organizations>, step_up_max_age: Duration) -> Self {
        Self {
            organizations,
            step_up_max_age,
        }
    }
}

fn status(e: OrganizationsError) -> Status {
    to_status(e)
}

fn settings_input(s: Option<pb::OrganizationSettings>) -> SettingsInput {
    let s = s.unwrap_or_default();
    SettingsInput {
        display_name: s.display_name,
        verified_domains: s.verified_domains,
        privacy_statement_url: s.privacy_statement_url,
        privacy_contact_email: s.privacy_contact_email,
        technical_contact_email: s.technical_contact_email,
        mfa_required: s.mfa_required,
        sign_in_retention_days: s.sign_in_retention_days,
        allow_self_deletion: s.allow_self_deletion,
        terms_of_use_url: s.terms_of_use_url,
        terms_of_use_version: s.terms_of_use_version,
    }
}

fn organization(o: Organization) -> pb::Organization {
    pb::Organization {
        id: o.id.to_string(),
        display_name: o.settings.display_name,
        verified_domains: o.settings.verified_domains,
        privacy_statement_url: o.settings.privacy_statement_url,
        privacy_contact_email: o.settings.privacy_contact_email,
        technical_contact_email: o.settings.technical_contact_email,
        mfa_required: o.settings.mfa_required,
        sign_in_retention_days: o.settings.sign_in_retention_days,
        allow_self_deletion: o.settings.allow_self_deletion,
        terms_of_use_url: o.settings.terms_of_use_url,
        terms_of_use_version: o.settings.terms_of_use_version,
        created_at: Some(timestamp(o.created_at)),
        updated_at: Some(timestamp(o.updated_at)),
    }
}

fn my_organization(o: MyOrganization) -> pb::MyOrganization {
    let reason = o.membership.cannot_leave_reason();
    let accepted_current_terms = o.accepted_current_terms();
    let accepted = o.membership.terms_accepted;
    pb::MyOrganization {
        organization_id: o.membership.organization_id.to_string(),
        kind: match o.membership.kind {
            MembershipKind::Home => pb::MembershipKind::Home,
            MembershipKind::Guest => pb::MembershipKind::Guest,
        }
        .into(),
        joined_at: Some(timestamp(o.membership.joined_at)),
        invited_by: o.membership.invited_by.map(|u| u.to_string()).unwrap_or_default(),
        invited_by_user_principal_name: o.invited_by_user_principal_name.unwrap_or_default(),
        organization: o.organization.map(organization),
        can_leave: reason.is_none(),
        cannot_leave_reason: reason.unwrap_or_default().to_owned(),
        accepted_terms_version: accepted.as_ref().map(|a| a.version.clone()).unwrap_or_default(),
        terms_accepted_at: accepted.map(|a| timestamp(a.accepted_at)),
        accepted_current_terms,
    }
}

fn invitation(v: InvitationView) -> pb::Invitation {
    let i = v.invitation;
    pb::Invitation {
        id: i.id.to_string(),
        organization_id: i.organization_id.to_string(),
        user_principal_name: i.user_principal_name,
        status: match i.status {
            InvitationStatus::Pending => pb::InvitationStatus::Pending,
            InvitationStatus::Accepted => pb::InvitationStatus::Accepted,
            InvitationStatus::Declined => pb::InvitationStatus::Declined,
        }
        .into(),
        invited_by: i.invited_by.map(|u| u.to_string()).unwrap_or_default(),
        created_at: Some(timestamp(i.created_at)),
        responded_at: i.responded_at.map(timestamp),
        organization: v.organization.map(organization),
    }
}

fn export(d: PersonalData) -> pb::OrganizationsExport {
    pb::OrganizationsExport {
        user_id: d.user_id.to_string(),
        user_principal_name: d.user_principal_name.unwrap_or_default(),
        memberships: d.memberships.into_iter().map(my_organization).collect(),
        invitations: d.invitations.into_iter().map(invitation).collect(),
        exported_at: Some(timestamp(d.exported_at)),
    }
}

impl OrganizationsApi {
    /// Every admin action: the admin scope, the admin's own organization (another's answers
    /// NOT_FOUND, as an unknown one does), then a recent multi-factor sign-in.
    fn admin_action<T>(&self, request: Request<T>, organization_id: impl Fn(&T) -> &String) -> Result<T, Status> {
        let caller = Caller::of(&request)?;
        caller.require_admin()?;
        let organization = organization_id(request.get_ref()).trim().to_owned();
        if !organization.is_empty() && !caller.may_administer(&organization) {
            let not_found = match Uuid::parse_str(&organization) {
                Ok(id) => OrganizationsError::OrganizationNotFound(id),
                Err(_) => OrganizationsError::Invalid(vec![platform::error::FieldViolation {
                    field: "organization_id".into(),
                    description: "must be an organization id (a UUID)".into(),
                    reason: platform::error::violation_reason::INVALID_ID.into(),
                }]),
            };
            return Err(status(not_found));
        }
        caller.require_admin_step_up(self.step_up_max_age)?;
        Ok(request.into_inner())
    }
}

#[tonic::async_trait]
impl OrganizationsService for OrganizationsApi {
    async fn create_organization(
        &self,
        request: Request<pb::CreateOrganizationRequest>,
    ) -> Result<Response<pb::Organization>, Status> {
        // An organization's admin creates no other organization (naming none, a new one would be
        // made up); only the installation's operator does.
        if request.get_ref().organization_id.trim().is_empty()
            && Caller::of(&request)?.organization_id.is_some_and(|o| !o.is_empty())
        {
            return Err(Status::permission_denied(
                "only the installation's operator creates organizations",
            ));
        }
        let r = self.admin_action(request, |r: &pb::CreateOrganizationRequest| &r.organization_id)?;
        let o = self
            .organizations
            .create_organization(&r.organization_id, settings_input(r.settings))
            .await
            .map_err(status)?;
        Ok(Response::new(organization(o)))
    }

    async fn update_organization(
        &self,
        request: Request<pb::UpdateOrganizationRequest>,
    ) -> Result<Response<pb::Organization>, Status> {
        let r = self.admin_action(request, |r: &pb::UpdateOrganizationRequest| &r.organization_id)?;
        let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
        let o = self
            .organizations
            .update_organization(&r.organization_id, settings_input(r.settings), &paths)
            .await
            .map_err(status)?;
        Ok(Response::new(organization(o)))
    }

    async fn get_organization(
        &self,
        request: Request<pb::GetOrganizationRequest>,
    ) -> Result<Response<pb::Organization>, Status> {
        let r = self.admin_action(request, |r: &pb::GetOrganizationRequest| &r.organization_id)?;
        let o = self
            .organizations
            .organization(&r.organization_id)
            .await
            .map_err(status)?;
        Ok(Response::new(organization(o)))
    }

    async fn invite_user(&self, request: Request<pb::InviteUserRequest>) -> Result<Response<pb::Invitation>, Status> {
        let caller = Caller::of(&request)?;
        let r = self.admin_action(request, |r: &pb::InviteUserRequest| &r.organization_id)?;
        let i = self
            .organizations
            .invite_user(caller.user_id, &r.organization_id, &r.user_principal_name)
            .await
            .map_err(status)?;
        Ok(Response::new(invitation(i)))
    }

    async fn remove_member(
        &self,
        request: Request<pb::RemoveMemberRequest>,
    ) -> Result<Response<pb::RemoveMemberResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = self.admin_action(request, |r: &pb::RemoveMemberRequest| &r.organization_id)?;
        self.organizations
            .remove_member(caller.user_id, &r.organization_id, &r.user_id)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::RemoveMemberResponse {}))
    }

    async fn list_my_organizations(
        &self,
        request: Request<pb::ListMyOrganizationsRequest>,
    ) -> Result<Response<pb::ListMyOrganizationsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let (organizations, pending) = self
            .organizations
            .my_organizations(caller.user_id)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ListMyOrganizationsResponse {
            organizations: organizations.into_iter().map(my_organization).collect(),
            pending_invitation_count: i32::try_from(pending).unwrap_or(i32::MAX),
        }))
    }

    async fn list_my_invitations(
        &self,
        request: Request<pb::ListMyInvitationsRequest>,
    ) -> Result<Response<pb::ListMyInvitationsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let invitations = self
            .organizations
            .my_invitations(caller.user_id)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ListMyInvitationsResponse {
            invitations: invitations.into_iter().map(invitation).collect(),
        }))
    }

    async fn accept_invitation(
        &self,
        request: Request<pb::AcceptInvitationRequest>,
    ) -> Result<Response<pb::MyOrganization>, Status> {
        let caller = Caller::of(&request)?;
        let o = self
            .organizations
            .accept_invitation(caller.user_id, &request.get_ref().invitation_id)
            .await
            .map_err(status)?;
        Ok(Response::new(my_organization(o)))
    }

    async fn decline_invitation(
        &self,
        request: Request<pb::DeclineInvitationRequest>,
    ) -> Result<Response<pb::Invitation>, Status> {
        let caller = Caller::of(&request)?;
        let i = self
            .organizations
            .decline_invitation(caller.user_id, &request.get_ref().invitation_id)
            .await
            .map_err(status)?;
        Ok(Response::new(invitation(i)))
    }

    async fn leave_organization(
        &self,
        request: Request<pb::LeaveOrganizationRequest>,
    ) -> Result<Response<pb::LeaveOrganizationResponse>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        // A refusal that no step-up could lift (not a member, the home organization) comes
        // first, so nobody is sent to sign in again for nothing.
        let organization_id = self
            .organizations
            .check_can_leave(caller.user_id, &request.get_ref().organization_id)
            .await
            .map_err(status)?;
        caller.require_recent_mfa(self.step_up_max_age)?;
        self.organizations
            .leave(caller.user_id, caller.session_id, organization_id)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::LeaveOrganizationResponse {}))
    }

    async fn accept_my_organization_terms(
        &self,
        request: Request<pb::AcceptMyOrganizationTermsRequest>,
    ) -> Result<Response<pb::MyOrganization>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.get_ref();
        let o = self
            .organizations
            .accept_terms(caller.user_id, &r.organization_id, &r.version)
            .await
            .map_err(status)?;
        Ok(Response::new(my_organization(o)))
    }

    async fn export_my_data(
        &self,
        request: Request<pb::ExportMyDataRequest>,
    ) -> Result<Response<pb::OrganizationsExport>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let data = self.organizations.export(caller.user_id).await.map_err(status)?;
        Ok(Response::new(export(data)))
    }

    async fn describe_my_personal_data(
        &self,
        request: Request<myaccount_proto::privacy::v1::DescribeMyPersonalDataRequest>,
    ) -> Result<Response<myaccount_proto::privacy::v1::PersonalDataDescription>, Status> {
        platform::personal_data::answer(&request, crate::domain::personal_data_held())
    }
}
