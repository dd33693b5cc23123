//! What organizations publishes (through the platform outbox, in the caller's transaction) and
//! what it consumes: identity's `user_created` (who is who, and the home membership),
//! `identifiers_changed` (a person's new user principal name) and `user_deleted` (erasure).

use chrono::{DateTime, Utc};
use myaccount_proto::events::v1::{
    InvitationCreated, InvitationDeclined, MemberJoined, MemberLeft, MemberRemoved, OrganizationChanged,
    OrganizationMembershipKind, TermsAccepted, UserCreated, UserIdentifiersChanged,
};
use myaccount_proto::parse_id;
use platform::consumer::{Delivery, Handler, HandlerError};
use platform::outbox::{OutgoingEvent, publish_in_tx};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{self, Invitation, Membership, MembershipKind, Organization, TermsAcceptance};
use crate::store;

use myaccount_proto::timestamp;

fn kind(k: MembershipKind) -> OrganizationMembershipKind {
    match k {
        MembershipKind::Home => OrganizationMembershipKind::Home,
        MembershipKind::Guest => OrganizationMembershipKind::Guest,
    }
}

fn id_or_empty(id: Option<Uuid>) -> String {
    id.map(|u| u.to_string()).unwrap_or_default()
}

/// The full current settings, on create and on every update.
pub async fn organization_changed(conn: &mut PgConnection, o: &Organization) -> Result<(), sqlx::Error> {
    let event = OrganizationChanged {
        organization_id: o.id.to_string(),
        display_name: o.settings.display_name.clone(),
        mfa_required: o.settings.mfa_required,
        sign_in_retention_days: o.settings.sign_in_retention_days,
        allow_self_deletion: o.settings.allow_self_deletion,
        time: Some(timestamp(o.updated_at)),
        user_id: String::new(),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

pub async fn member_joined(conn: &mut PgConnection, m: &Membership) -> Result<(), sqlx::Error> {
    let event = MemberJoined {
        user_id: m.user_id.to_string(),
        organization_id: m.organization_id.to_string(),
        kind: kind(m.kind).into(),
        invitation_id: id_or_empty(m.invitation_id),
        time: Some(timestamp(m.joined_at)),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

pub async fn member_left(
    conn: &mut PgConnection,
    user_id: Uuid,
    organization_id: Uuid,
    session_id: Option<Uuid>,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = MemberLeft {
        user_id: user_id.to_string(),
        organization_id: organization_id.to_string(),
        time: Some(timestamp(time)),
        session_id: id_or_empty(session_id),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

pub async fn member_removed(
    conn: &mut PgConnection,
    user_id: Uuid,
    organization_id: Uuid,
    removed_by: Uuid,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = MemberRemoved {
        user_id: user_id.to_string(),
        organization_id: organization_id.to_string(),
        removed_by: removed_by.to_string(),
        time: Some(timestamp(time)),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

/// `invitee` is the account with the invited name, when one is known.
pub async fn invitation_created(
    conn: &mut PgConnection,
    i: &Invitation,
    invitee: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    let event = InvitationCreated {
        user_id: id_or_empty(invitee),
        invitation_id: i.id.to_string(),
        organization_id: i.organization_id.to_string(),
        user_principal_name: i.user_principal_name.clone(),
        invited_by: id_or_empty(i.invited_by),
        time: Some(timestamp(i.created_at)),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

pub async fn invitation_declined(
    conn: &mut PgConnection,
    user_id: Uuid,
    i: &Invitation,
    time: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = InvitationDeclined {
        user_id: user_id.to_string(),
        invitation_id: i.id.to_string(),
        organization_id: i.organization_id.to_string(),
        time: Some(timestamp(time)),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

/// A member accepted `acceptance.version` of the organization's terms of use. The organization's
/// name travels along so the activity log can say whose terms they were.
pub async fn terms_accepted(
    conn: &mut PgConnection,
    user_id: Uuid,
    organization: &Organization,
    acceptance: &TermsAcceptance,
) -> Result<(), sqlx::Error> {
    let event = TermsAccepted {
        user_id: user_id.to_string(),
        organization_id: organization.id.to_string(),
        organization_display_name: organization.settings.display_name.clone(),
        version: acceptance.version.clone(),
        terms_of_use_url: organization.settings.terms_of_use_url.clone(),
        time: Some(timestamp(acceptance.accepted_at)),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

fn event_time(t: Option<&prost_types::Timestamp>, fallback: DateTime<Utc>) -> DateTime<Utc> {
    t.and_then(myaccount_proto::datetime).unwrap_or(fallback)
}

/// `myaccount.identity.v1.user_created`: remembers the user's principal name (invitations are
/// addressed by it) and creates the home membership. The home organization id is authoritative
/// even when the organization is not known here yet.
pub struct UserCreatedHandler;

impl Handler<UserCreated> for UserCreatedHandler {
    async fn handle(&self, conn: &mut PgConnection, delivery: &Delivery<UserCreated>) -> Result<(), HandlerError> {
        let e = &delivery.event;
        let user_id = parse_id("user_id", &e.user_id)?;
        let mut v = platform::error::Violations::new();
        let upn =
            domain::user_principal_name("user_principal_name", &e.user_principal_name, &mut v).ok_or_else(|| {
                HandlerError::Rejected(format!("user_principal_name {:?} is not one", e.user_principal_name))
            })?;
        let home = match e.home_organization_id.trim() {
            "" => None,
            raw => Some(parse_id("home_organization_id", raw)?),
        };
        if platform::erasure::is_erased(conn, user_id).await? {
            tracing::info!(%user_id, "user_created of an erased account ignored");
            return Ok(());
        }
        let now = domain::now();
        let named_at = event_time(e.time.as_ref(), delivery.time.unwrap_or(now));
        store::remember_user(conn, user_id, &upn, named_at, now).await?;
        if let Some(organization_id) = home {
            let membership = Membership {
                user_id,
                organization_id,
                kind: MembershipKind::Home,
                joined_at: event_time(e.time.as_ref(), delivery.time.unwrap_or(now)),
                invited_by: None,
                invitation_id: None,
                terms_accepted: None,
            };
            if store::insert_membership(conn, &membership).await? {
                member_joined(conn, &membership).await?;
            }
        }
        Ok(())
    }
}

/// `myaccount.identity.v1.identifiers_changed`: the person signs in with a new user principal
/// name. The projection follows (so an invitation to the new name finds them, and one to the
/// old name no longer does), and their pending invitations follow them to the new name.
pub struct IdentifiersChangedHandler;

impl Handler<UserIdentifiersChanged> for IdentifiersChangedHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        delivery: &Delivery<UserIdentifiersChanged>,
    ) -> Result<(), HandlerError> {
        let e = &delivery.event;
        let user_id = parse_id("user_id", &e.user_id)?;
        let mut v = platform::error::Violations::new();
        let (Some(old), Some(new)) = (
            domain::user_principal_name("old_user_principal_name", &e.old_user_principal_name, &mut v),
            domain::user_principal_name("new_user_principal_name", &e.new_user_principal_name, &mut v),
        ) else {
            return Err(HandlerError::Rejected(format!(
                "user principal names {:?} -> {:?} are not ones",
                e.old_user_principal_name, e.new_user_principal_name
            )));
        };
        if old == new {
            // Only the email changed: nothing here is addressed by it.
            return Ok(());
        }
        if platform::erasure::is_erased(conn, user_id).await? {
            tracing::info!(%user_id, "identifiers_changed of an erased account ignored");
            return Ok(());
        }
        let now = domain::now();
        let named_at = event_time(e.time.as_ref(), delivery.time.unwrap_or(now));
        store::remember_user(conn, user_id, &new, named_at, now).await?;
        // The name the person has now: this one, or a later one handled first.
        let current = store::user_principal_name_of(conn, user_id).await?.unwrap_or(new);
        let moved = store::readdress_pending_invitations(conn, &old, &current).await?;
        tracing::info!(%user_id, invitations_moved = moved, "user principal name changed");
        Ok(())
    }
}
