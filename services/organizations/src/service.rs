//! The use cases of organizations: what admins do to organizations, memberships and
//! invitations, and what a person does with their own. Each change and its event commit in one
//! transaction; a refused request changes nothing.

use platform::error::{ErrorKind, FieldViolation, ServiceError, Violations};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{
    self, HOME_CANNOT_BE_LEFT, Invitation, InvitationStatus, InvitationView, MAX_TERMS_VERSION, Membership,
    MembershipKind, MyOrganization, Organization, PersonalData, RetentionLimit, SettingsInput, TermsAcceptance,
    TermsDecision,
};
use crate::events;
use crate::store;

#[derive(Debug, thiserror::Error)]
pub enum OrganizationsError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("organization {0} not found")]
    OrganizationNotFound(Uuid),
    #[error("organization {0} already exists")]
    OrganizationExists(Uuid),
    #[error("{user_principal_name} is already a member of organization {organization_id}")]
    AlreadyMember {
        user_principal_name: String,
        organization_id: Uuid,
    },
    #[error("{user_principal_name} already has a pending invitation to organization {organization_id}")]
    AlreadyInvited {
        user_principal_name: String,
        organization_id: Uuid,
    },
    /// Also the answer for an invitation addressed to someone else: its existence is not revealed.
    #[error("invitation {0} not found")]
    InvitationNotFound(Uuid),
    #[error("invitation {id} was already {}", status.as_str())]
    InvitationAnswered { id: Uuid, status: InvitationStatus },
    #[error("you are not a member of organization {0}")]
    NotAMember(Uuid),
    #[error("user {user_id} is not a member of organization {organization_id}")]
    MemberNotFound { user_id: Uuid, organization_id: Uuid },
    #[error("cannot leave organization {0}: {HOME_CANNOT_BE_LEFT}")]
    CannotLeaveHome(Uuid),
    #[error(
        "organization {organization_id} is the home organization of user {user_id}; a home membership cannot be removed"
    )]
    CannotRemoveHome { user_id: Uuid, organization_id: Uuid },
    #[error("organization {0} has no terms of use to accept")]
    NoTermsOfUse(Uuid),
    #[error(
        "the terms of use of organization {organization_id} changed: version {seen} is no longer current, \
         version {current} is; read the new version before accepting it"
    )]
    TermsChanged {
        organization_id: Uuid,
        seen: String,
        current: String,
    },
    #[error("database failed")]
    Database(#[from] sqlx::Error),
}

impl ServiceError for OrganizationsError {
    fn kind(&self) -> ErrorKind {
        use OrganizationsError as E;
        match self {
            E::Invalid(v) => ErrorKind::InvalidArgument(v.clone()),
            E::OrganizationNotFound(_) | E::InvitationNotFound(_) | E::NotAMember(_) | E::MemberNotFound { .. } => {
                ErrorKind::NotFound(self.to_string())
            }
            E::OrganizationExists(_) | E::AlreadyMember { .. } | E::AlreadyInvited { .. } => {
                ErrorKind::AlreadyExists(self.to_string())
            }
            E::InvitationAnswered { .. }
            | E::CannotLeaveHome(_)
            | E::CannotRemoveHome { .. }
            | E::NoTermsOfUse(_)
            | E::TermsChanged { .. } => ErrorKind::FailedPrecondition(self.to_string()),
            E::Database(_) => ErrorKind::Internal,
        }
    }
}

type Result<T> = std::result::Result<T, OrganizationsError>;

pub struct Organizations {
    pool: PgPool,
    retention: RetentionLimit,
}

impl Organizations {
    pub fn new(pool: PgPool, retention: RetentionLimit) -> Self {
        Self { pool, retention }
    }

    // --- admin

    /// Creates an organization with the given id (when an admin names one) or a new one.
    pub async fn create_organization(&self, id: &str, input: SettingsInput) -> Result<Organization> {
        let mut v = Violations::new();
        let id = if id.trim().is_empty() {
            Some(Uuid::now_v7())
        } else {
            domain::id("organization_id", "an organization id", id, &mut v)
        };
        let mut violations = v.into_vec();
        let settings = input
            .validate_new(self.retention)
            .map_err(|e| violations.extend(e))
            .ok();
        let (Some(id), Some(settings), true) = (id, settings, violations.is_empty()) else {
            return Err(OrganizationsError::Invalid(violations));
        };
        let mut tx = self.pool.begin().await?;
        let organization = store::insert_organization(&mut tx, id, &settings, domain::now())
            .await?
            .ok_or(OrganizationsError::OrganizationExists(id))?;
        events::organization_changed(&mut tx, &organization).await?;
        tx.commit().await?;
        tracing::info!(organization_id = %id, "organization created");
        Ok(organization)
    }

    /// Changes the settings named in `paths`; publishes the full result.
    pub async fn update_organization(&self, id: &str, input: SettingsInput, paths: &[String]) -> Result<Organization> {
        let mut v = Violations::new();
        let id = domain::id("organization_id", "an organization id", id, &mut v);
        v.into_result().map_err(OrganizationsError::Invalid)?;
        let id = id.ok_or_else(|| OrganizationsError::Invalid(Vec::new()))?;
        let mut tx = self.pool.begin().await?;
        let current = store::organization_for_update(&mut tx, id)
            .await?
            .ok_or(OrganizationsError::OrganizationNotFound(id))?;
        let settings = input
            .apply_to(&current.settings, paths, self.retention)
            .map_err(OrganizationsError::Invalid)?;
        let organization = store::update_organization(&mut tx, id, &settings, domain::now())
            .await?
            .ok_or(OrganizationsError::OrganizationNotFound(id))?;
        events::organization_changed(&mut tx, &organization).await?;
        tx.commit().await?;
        Ok(organization)
    }

    pub async fn organization(&self, id: &str) -> Result<Organization> {
        let id = domain::parse_id("organization_id", "an organization id", id).map_err(OrganizationsError::Invalid)?;
        let mut conn = self.pool.acquire().await?;
        store::organization(&mut conn, id)
            .await?
            .ok_or(OrganizationsError::OrganizationNotFound(id))
    }

    /// Invites a person by user principal name. The account need not be known yet: the
    /// invitation waits for whoever signs in with that name.
    pub async fn invite_user(
        &self,
        admin_id: Uuid,
        organization_id: &str,
        user_principal_name: &str,
    ) -> Result<InvitationView> {
        let mut v = Violations::new();
        let organization_id = domain::id("organization_id", "an organization id", organization_id, &mut v);
        let upn = domain::user_principal_name("user_principal_name", user_principal_name, &mut v);
        v.into_result().map_err(OrganizationsError::Invalid)?;
        let (Some(organization_id), Some(upn)) = (organization_id, upn) else {
            return Err(OrganizationsError::Invalid(Vec::new()));
        };
        let mut tx = self.pool.begin().await?;
        let organization = store::organization(&mut tx, organization_id)
            .await?
            .ok_or(OrganizationsError::OrganizationNotFound(organization_id))?;
        let invitee = store::user_id_by_principal_name(&mut tx, &upn).await?;
        if let Some(user_id) = invitee
            && store::membership(&mut tx, user_id, organization_id).await?.is_some()
        {
            return Err(OrganizationsError::AlreadyMember {
                user_principal_name: upn,
                organization_id,
            });
        }
        let invitation = Invitation {
            id: Uuid::now_v7(),
            organization_id,
            user_principal_name: upn.clone(),
            status: InvitationStatus::Pending,
            invited_by: Some(admin_id),
            created_at: domain::now(),
            responded_at: None,
        };
        if !store::insert_invitation(&mut tx, &invitation).await? {
            return Err(OrganizationsError::AlreadyInvited {
                user_principal_name: upn,
                organization_id,
            });
        }
        events::invitation_created(&mut tx, &invitation, invitee).await?;
        tx.commit().await?;
        Ok(InvitationView {
            invitation,
            organization: Some(organization),
        })
    }

    /// Removes a guest member. Home memberships stay: every account has exactly one.
    pub async fn remove_member(&self, admin_id: Uuid, organization_id: &str, user_id: &str) -> Result<()> {
        let mut v = Violations::new();
        let organization_id = domain::id("organization_id", "an organization id", organization_id, &mut v);
        let user_id = domain::id("user_id", "a user id", user_id, &mut v);
        v.into_result().map_err(OrganizationsError::Invalid)?;
        let (Some(organization_id), Some(user_id)) = (organization_id, user_id) else {
            return Err(OrganizationsError::Invalid(Vec::new()));
        };
        let mut tx = self.pool.begin().await?;
        match store::membership(&mut tx, user_id, organization_id).await? {
            None => {
                return Err(OrganizationsError::MemberNotFound {
                    user_id,
                    organization_id,
                });
            }
            Some(m) if m.kind == MembershipKind::Home => {
                return Err(OrganizationsError::CannotRemoveHome {
                    user_id,
                    organization_id,
                });
            }
            Some(_) => {}
        }
        if !store::delete_guest_membership(&mut tx, user_id, organization_id).await? {
            return Err(OrganizationsError::MemberNotFound {
                user_id,
                organization_id,
            });
        }
        events::member_removed(&mut tx, user_id, organization_id, admin_id, domain::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    // --- the signed-in person

    /// My memberships, home first, and how many invitations wait for my answer.
    pub async fn my_organizations(&self, user_id: Uuid) -> Result<(Vec<MyOrganization>, i64)> {
        let mut conn = self.pool.acquire().await?;
        let (mut organizations, pending) = store::my_organizations_and_pending_invitations(&mut conn, user_id).await?;
        domain::home_first(&mut organizations);
        Ok((organizations, pending))
    }

    /// My pending invitations, oldest first.
    pub async fn my_invitations(&self, user_id: Uuid) -> Result<Vec<InvitationView>> {
        let mut conn = self.pool.acquire().await?;
        match store::user_principal_name_of(&mut conn, user_id).await? {
            Some(upn) => Ok(store::invitations_to(&mut conn, &upn, false).await?),
            None => Ok(Vec::new()),
        }
    }

    /// Accepts an invitation addressed to me: I become a guest member.
    pub async fn accept_invitation(&self, user_id: Uuid, invitation_id: &str) -> Result<MyOrganization> {
        let id = domain::parse_id("invitation_id", "an invitation id", invitation_id)
            .map_err(OrganizationsError::Invalid)?;
        let mut tx = self.pool.begin().await?;
        let invitation = self.pending_invitation_to(&mut tx, user_id, id).await?;
        let now = domain::now();
        let membership = Membership {
            user_id,
            organization_id: invitation.organization_id,
            kind: MembershipKind::Guest,
            joined_at: now,
            invited_by: invitation.invited_by,
            invitation_id: Some(invitation.id),
            terms_accepted: None,
        };
        // Already a member (say, of one's home organization): the invitation is simply answered.
        if store::insert_membership(&mut tx, &membership).await? {
            events::member_joined(&mut tx, &membership).await?;
        }
        store::answer_invitation(&mut tx, id, InvitationStatus::Accepted, now).await?;
        // Read back inside the transaction, on the connection this call already holds.
        let mine = store::my_organizations(&mut tx, user_id).await?;
        tx.commit().await?;
        tracing::info!(%user_id, organization_id = %invitation.organization_id, "invitation accepted");
        mine.into_iter()
            .find(|o| o.membership.organization_id == invitation.organization_id)
            .ok_or(OrganizationsError::NotAMember(invitation.organization_id))
    }

    pub async fn decline_invitation(&self, user_id: Uuid, invitation_id: &str) -> Result<InvitationView> {
        let id = domain::parse_id("invitation_id", "an invitation id", invitation_id)
            .map_err(OrganizationsError::Invalid)?;
        let mut tx = self.pool.begin().await?;
        let mut invitation = self.pending_invitation_to(&mut tx, user_id, id).await?;
        let now = domain::now();
        store::answer_invitation(&mut tx, id, InvitationStatus::Declined, now).await?;
        events::invitation_declined(&mut tx, user_id, &invitation, now).await?;
        let organization = store::organization(&mut tx, invitation.organization_id).await?;
        tx.commit().await?;
        invitation.status = InvitationStatus::Declined;
        invitation.responded_at = Some(now);
        Ok(InvitationView {
            invitation,
            organization,
        })
    }

    /// The pending invitation `id` addressed to the caller, locked; not found when it is
    /// addressed to someone else.
    async fn pending_invitation_to(&self, tx: &mut sqlx::PgConnection, user_id: Uuid, id: Uuid) -> Result<Invitation> {
        let upn = store::user_principal_name_of(tx, user_id)
            .await?
            .ok_or(OrganizationsError::InvitationNotFound(id))?;
        let invitation = store::invitation_to_for_update(tx, id, &upn)
            .await?
            .ok_or(OrganizationsError::InvitationNotFound(id))?;
        if invitation.status != InvitationStatus::Pending {
            return Err(OrganizationsError::InvitationAnswered {
                id,
                status: invitation.status,
            });
        }
        Ok(invitation)
    }

    /// Accepts the current terms of use of an organization I belong to; `seen_version` is the
    /// version I was shown, so an acceptance never lands on terms I have not seen. Accepting the
    /// version I already accepted changes nothing and publishes nothing.
    pub async fn accept_terms(
        &self,
        user_id: Uuid,
        organization_id: &str,
        seen_version: &str,
    ) -> Result<MyOrganization> {
        let mut v = Violations::new();
        let organization_id = domain::id("organization_id", "an organization id", organization_id, &mut v);
        let seen_version = seen_version.trim();
        v.required("version", seen_version);
        v.text("version", seen_version, MAX_TERMS_VERSION);
        v.into_result().map_err(OrganizationsError::Invalid)?;
        let organization_id = organization_id.ok_or_else(|| OrganizationsError::Invalid(Vec::new()))?;

        let mut tx = self.pool.begin().await?;
        let membership = store::membership_for_update(&mut tx, user_id, organization_id)
            .await?
            .ok_or(OrganizationsError::NotAMember(organization_id))?;
        // Share-locked: an admin's new version waits for this acceptance, or this one sees it.
        let organization = store::organization_for_share(&mut tx, organization_id).await?;
        match domain::decide_terms(organization.as_ref(), membership.terms_accepted.as_ref(), seen_version) {
            TermsDecision::NoTerms => return Err(OrganizationsError::NoTermsOfUse(organization_id)),
            TermsDecision::Changed { current } => {
                return Err(OrganizationsError::TermsChanged {
                    organization_id,
                    seen: seen_version.to_owned(),
                    current,
                });
            }
            TermsDecision::AlreadyAccepted => {}
            TermsDecision::Accept => {
                let organization = organization.ok_or(OrganizationsError::NoTermsOfUse(organization_id))?;
                let acceptance = TermsAcceptance {
                    version: seen_version.to_owned(),
                    accepted_at: domain::now(),
                };
                if !store::record_terms_acceptance(&mut tx, user_id, organization_id, &acceptance).await? {
                    return Err(OrganizationsError::NotAMember(organization_id));
                }
                events::terms_accepted(&mut tx, user_id, &organization, &acceptance).await?;
                tracing::info!(%user_id, %organization_id, version = %acceptance.version, "terms of use accepted");
            }
        }
        let mine = store::my_organizations(&mut tx, user_id).await?;
        tx.commit().await?;
        mine.into_iter()
            .find(|o| o.membership.organization_id == organization_id)
            .ok_or(OrganizationsError::NotAMember(organization_id))
    }

    /// Checks that I could leave this organization (a member, and not of my home organization)
    /// before asking for a step-up; returns its id.
    pub async fn check_can_leave(&self, user_id: Uuid, organization_id: &str) -> Result<Uuid> {
        let id = domain::parse_id("organization_id", "an organization id", organization_id)
            .map_err(OrganizationsError::Invalid)?;
        let mut conn = self.pool.acquire().await?;
        let membership = store::membership(&mut conn, user_id, id)
            .await?
            .ok_or(OrganizationsError::NotAMember(id))?;
        match membership.cannot_leave_reason() {
            Some(_) => Err(OrganizationsError::CannotLeaveHome(id)),
            None => Ok(id),
        }
    }

    /// Leaves a guest organization, for good. The caller has passed the step-up check.
    pub async fn leave(&self, user_id: Uuid, session_id: Option<Uuid>, organization_id: Uuid) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        if !store::delete_guest_membership(&mut tx, user_id, organization_id).await? {
            return Err(match store::membership(&mut tx, user_id, organization_id).await? {
                Some(_) => OrganizationsError::CannotLeaveHome(organization_id),
                None => OrganizationsError::NotAMember(organization_id),
            });
        }
        events::member_left(&mut tx, user_id, organization_id, session_id, domain::now()).await?;
        tx.commit().await?;
        tracing::info!(%user_id, %organization_id, "member left organization");
        Ok(())
    }

    /// Everything kept about me: memberships and every invitation addressed to me.
    pub async fn export(&self, user_id: Uuid) -> Result<PersonalData> {
        let mut tx = self.pool.begin().await?;
        let upn = store::user_principal_name_of(&mut tx, user_id).await?;
        let mut memberships = store::my_organizations(&mut tx, user_id).await?;
        domain::home_first(&mut memberships);
        let invitations = match &upn {
            Some(upn) => store::invitations_to(&mut tx, upn, true).await?,
            None => Vec::new(),
        };
        tx.commit().await?;
        Ok(PersonalData {
            user_id,
            user_principal_name: upn,
            memberships,
            invitations,
            exported_at: domain::now(),
        })
    }
}
