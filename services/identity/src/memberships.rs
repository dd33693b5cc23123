//! What identity learns from the organizations service: guest memberships (who may sign in to
//! which guest organization, and whose sessions end on leaving) and each organization's policy
//! on self-deletion.

use chrono::Utc;
use myaccount_proto::events::v1::{
    MemberJoined, MemberLeft, MemberRemoved, OrganizationChanged, OrganizationMembershipKind,
};
use myaccount_proto::parse_id;
use platform::consumer::{Delivery, Handler, HandlerError};
use sqlx::PgConnection;

use crate::domain::RevocationReason;
use crate::sessions::end_sessions;
use crate::store::{self, SessionFilter};

/// `member_joined` of kind guest: the person may now sign in to that organization.
pub struct GuestJoinedHandler;

impl Handler<MemberJoined> for GuestJoinedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<MemberJoined>) -> Result<(), HandlerError> {
        let e = &delivery.event;
        if e.kind() != OrganizationMembershipKind::Guest {
            return Ok(());
        }
        let user_id = parse_id("user_id", &e.user_id)?;
        let organization_id = parse_id("organization_id", &e.organization_id)?;
        // An account deleted meanwhile gets no membership back.
        if store::is_deleted(conn, user_id).await.map_err(HandlerError::from)? {
            return Ok(());
        }
        let time = delivery.time.unwrap_or_else(Utc::now);
        store::guest_joined(conn, user_id, organization_id, time)
            .await
            .map_err(HandlerError::from)
    }
}

/// The person left a guest organization or was removed from it: the membership ends and every
/// session acting in that organization is revoked (`session_revoked` for each).
async fn end_guest_membership(
    conn: &mut PgConnection,
    user_id: &str,
    organization_id: &str,
    time: Option<chrono::DateTime<Utc>>,
    reason: RevocationReason,
) -> Result<(), HandlerError> {
    let user_id = parse_id("user_id", user_id)?;
    let organization_id = parse_id("organization_id", organization_id)?;
    let now = Utc::now();
    store::guest_left(conn, user_id, organization_id, time.unwrap_or(now))
        .await
        .map_err(HandlerError::from)?;
    let filter = SessionFilter {
        organization_id: Some(organization_id),
        ..SessionFilter::default()
    };
    let revoked = end_sessions(conn, user_id, &filter, reason, None, now)
        .await
        .map_err(HandlerError::from)?;
    tracing::info!(%user_id, %organization_id, sessions = revoked.len(), reason = reason.code(), "guest membership ended");
    Ok(())
}

pub struct MemberLeftHandler;

impl Handler<MemberLeft> for MemberLeftHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<MemberLeft>) -> Result<(), HandlerError> {
        let e = &delivery.event;
        end_guest_membership(
            conn,
            &e.user_id,
            &e.organization_id,
            delivery.time,
            RevocationReason::LeftOrganization,
        )
        .await
    }
}

pub struct MemberRemovedHandler;

impl Handler<MemberRemoved> for MemberRemovedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<MemberRemoved>) -> Result<(), HandlerError> {
        let e = &delivery.event;
        end_guest_membership(
            conn,
            &e.user_id,
            &e.organization_id,
            delivery.time,
            RevocationReason::RemovedFromOrganization,
        )
        .await
    }
}

/// `organizations.changed`: keeps the self-deletion policy that DeleteMyAccount enforces and the
/// MFA requirement that sign-in enforces.
pub struct OrganizationPolicyHandler;

impl Handler<OrganizationChanged> for OrganizationPolicyHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        delivery: &Delivery<OrganizationChanged>,
    ) -> Result<(), HandlerError> {
        let e = &delivery.event;
        let organization_id = parse_id("organization_id", &e.organization_id)?;
        let time = delivery.time.unwrap_or_else(Utc::now);
        store::set_organization_policy(conn, organization_id, e.allow_self_deletion, e.mfa_required, time)
            .await
            .map_err(HandlerError::from)
    }
}
