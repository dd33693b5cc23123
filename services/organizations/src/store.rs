//! Every SQL statement of the organizations service.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::domain::{
    Invitation, InvitationStatus, InvitationView, Membership, MembershipKind, MyOrganization, Organization,
    OrganizationSettings, TermsAcceptance,
};

#[derive(FromRow)]
struct OrganizationRow {
    id: Uuid,
    display_name: String,
    verified_domains: Vec<String>,
    privacy_statement_url: String,
    privacy_contact_email: String,
    technical_contact_email: String,
    mfa_required: bool,
    sign_in_retention_days: i32,
    allow_self_deletion: bool,
    terms_of_use_url: String,
    terms_of_use_version: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<OrganizationRow> for Organization {
    fn from(r: OrganizationRow) -> Self {
        Organization {
            id: r.id,
            settings: OrganizationSettings {
                display_name: r.display_name,
                verified_domains: r.verified_domains,
                privacy_statement_url: r.privacy_statement_url,
                privacy_contact_email: r.privacy_contact_email,
                technical_contact_email: r.technical_contact_email,
                mfa_required: r.mfa_required,
                sign_in_retention_days: r.sign_in_retention_days,
                allow_self_deletion: r.allow_self_deletion,
                terms_of_use_url: r.terms_of_use_url,
                terms_of_use_version: r.terms_of_use_version,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const ORGANIZATION_COLUMNS: &str = "id, display_name, verified_domains, privacy_statement_url, privacy_contact_email, \
     technical_contact_email, mfa_required, sign_in_retention_days, allow_self_deletion, terms_of_use_url, \
     terms_of_use_version, created_at, updated_at";

/// Creates an organization; `None` when one with this id exists already.
pub async fn insert_organization(
    conn: &mut PgConnection,
    id: Uuid,
    s: &OrganizationSettings,
    now: DateTime<Utc>,
) -> Result<Option<Organization>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO organizations (id, display_name, verified_domains, privacy_statement_url, privacy_contact_email, \
         technical_contact_email, mfa_required, sign_in_retention_days, allow_self_deletion, terms_of_use_url, \
         terms_of_use_version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, $11, $12, $9, $9) ON CONFLICT (id) DO NOTHING \
         RETURNING {ORGANIZATION_COLUMNS}"
    );
    let row: Option<OrganizationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(&s.display_name)
        .bind(&s.verified_domains)
        .bind(&s.privacy_statement_url)
        .bind(&s.privacy_contact_email)
        .bind(&s.technical_contact_email)
        .bind(s.mfa_required)
        .bind(s.sign_in_retention_days)
        .bind(now)
        .bind(s.allow_self_deletion)
        .bind(&s.terms_of_use_url)
        .bind(&s.terms_of_use_version)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(Organization::from))
}

pub async fn organization(conn: &mut PgConnection, id: Uuid) -> Result<Option<Organization>, sqlx::Error> {
    let sql = format!("SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE id = $1");
    let row: Option<OrganizationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(Organization::from))
}

/// The organization, share-locked until the transaction ends: its settings (say, the version of
/// its terms of use) cannot change under a decision taken on them.
pub async fn organization_for_share(conn: &mut PgConnection, id: Uuid) -> Result<Option<Organization>, sqlx::Error> {
    let sql = format!("SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE id = $1 FOR SHARE");
    let row: Option<OrganizationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(Organization::from))
}

/// The organization, locked for the update that follows.
pub async fn organization_for_update(conn: &mut PgConnection, id: Uuid) -> Result<Option<Organization>, sqlx::Error> {
    let sql = format!("SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE id = $1 FOR UPDATE");
    let row: Option<OrganizationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(Organization::from))
}

pub async fn update_organization(
    conn: &mut PgConnection,
    id: Uuid,
    s: &OrganizationSettings,
    now: DateTime<Utc>,
) -> Result<Option<Organization>, sqlx::Error> {
    let sql = format!(
        "UPDATE organizations SET display_name = $2, verified_domains = $3, privacy_statement_url = $4, \
         privacy_contact_email = $5, technical_contact_email = $6, mfa_required = $7, sign_in_retention_days = $8, \
         updated_at = $9, allow_self_deletion = $10, terms_of_use_url = $11, terms_of_use_version = $12 \
         WHERE id = $1 RETURNING {ORGANIZATION_COLUMNS}"
    );
    let row: Option<OrganizationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(&s.display_name)
        .bind(&s.verified_domains)
        .bind(&s.privacy_statement_url)
        .bind(&s.privacy_contact_email)
        .bind(&s.technical_contact_email)
        .bind(s.mfa_required)
        .bind(s.sign_in_retention_days)
        .bind(now)
        .bind(s.allow_self_deletion)
        .bind(&s.terms_of_use_url)
        .bind(&s.terms_of_use_version)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(Organization::from))
}

// --- who is who (projection of identity's user_created)

/// Records (or refreshes) the user principal name identity gave a user at `named_at`, unless a
/// later name is known already (a rename handled before the creation, or renames handled out of
/// order).
pub async fn remember_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    upn: &str,
    named_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (user_id, user_principal_name, named_at, learnt_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE SET user_principal_name = EXCLUDED.user_principal_name, \
         named_at = EXCLUDED.named_at, learnt_at = EXCLUDED.learnt_at \
         WHERE users.named_at IS NULL OR users.named_at <= EXCLUDED.named_at",
    )
    .bind(user_id)
    .bind(upn)
    .bind(named_at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Readdresses the pending invitations waiting for `old_upn` to `new_upn`: they were meant for
/// the person, who now signs in with the new name (left at the old name, they would wait for
/// whoever takes it next). One already waiting for the new name from the same organization
/// stays where it is: the person has that organization's invitation already. Returns how many
/// moved.
pub async fn readdress_pending_invitations(
    conn: &mut PgConnection,
    old_upn: &str,
    new_upn: &str,
) -> Result<u64, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE invitations i SET user_principal_name = $2 \
         WHERE i.user_principal_name = $1 AND i.status = 'pending' AND NOT EXISTS ( \
             SELECT 1 FROM invitations o WHERE o.organization_id = i.organization_id \
             AND o.user_principal_name = $2 AND o.status = 'pending')",
    )
    .bind(old_upn)
    .bind(new_upn)
    .execute(&mut *conn)
    .await?;
    Ok(moved.rows_affected())
}

pub async fn user_principal_name_of(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT user_principal_name FROM users WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await
}

/// The account that has this user principal name, if one is known.
pub async fn user_id_by_principal_name(conn: &mut PgConnection, upn: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT user_id FROM users WHERE user_principal_name = $1 ORDER BY learnt_at DESC LIMIT 1")
        .bind(upn)
        .fetch_optional(&mut *conn)
        .await
}

// --- memberships

#[derive(FromRow)]
struct MembershipRow {
    user_id: Uuid,
    organization_id: Uuid,
    kind: String,
    joined_at: DateTime<Utc>,
    invited_by: Option<Uuid>,
    invitation_id: Option<Uuid>,
    accepted_terms_version: Option<String>,
    terms_accepted_at: Option<DateTime<Utc>>,
}

impl MembershipRow {
    fn into_domain(self) -> Membership {
        Membership {
            user_id: self.user_id,
            organization_id: self.organization_id,
            // The column is constrained to these two values.
            kind: MembershipKind::parse(&self.kind).unwrap_or(MembershipKind::Guest),
            joined_at: self.joined_at,
            invited_by: self.invited_by,
            invitation_id: self.invitation_id,
            // Set together (a check constraint).
            terms_accepted: match (self.accepted_terms_version, self.terms_accepted_at) {
                (Some(version), Some(accepted_at)) => Some(TermsAcceptance { version, accepted_at }),
                _ => None,
            },
        }
    }
}

const MEMBERSHIP_COLUMNS: &str =
    "user_id, organization_id, kind, joined_at, invited_by, invitation_id, accepted_terms_version, terms_accepted_at";

/// Adds a membership; false (and nothing changes) when the user already is a member of that
/// organization, or already has a home organization and this is another one.
pub async fn insert_membership(conn: &mut PgConnection, m: &Membership) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO memberships (user_id, organization_id, kind, joined_at, invited_by, invitation_id) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(m.user_id)
    .bind(m.organization_id)
    .bind(m.kind.as_str())
    .bind(m.joined_at)
    .bind(m.invited_by)
    .bind(m.invitation_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn membership(
    conn: &mut PgConnection,
    user_id: Uuid,
    organization_id: Uuid,
) -> Result<Option<Membership>, sqlx::Error> {
    let sql = format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE user_id = $1 AND organization_id = $2");
    let row: Option<MembershipRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(organization_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(MembershipRow::into_domain))
}

/// The membership, locked for the change that follows (an acceptance of terms of use).
pub async fn membership_for_update(
    conn: &mut PgConnection,
    user_id: Uuid,
    organization_id: Uuid,
) -> Result<Option<Membership>, sqlx::Error> {
    let sql =
        format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE user_id = $1 AND organization_id = $2 FOR UPDATE");
    let row: Option<MembershipRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(organization_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(MembershipRow::into_domain))
}

/// Records that the member accepted `version` of the organization's terms of use at `at`,
/// replacing an acceptance of an earlier version; false when there is no such membership.
pub async fn record_terms_acceptance(
    conn: &mut PgConnection,
    user_id: Uuid,
    organization_id: Uuid,
    acceptance: &TermsAcceptance,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE memberships SET accepted_terms_version = $3, terms_accepted_at = $4 \
         WHERE user_id = $1 AND organization_id = $2",
    )
    .bind(user_id)
    .bind(organization_id)
    .bind(&acceptance.version)
    .bind(acceptance.accepted_at)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a guest membership; false when there is none (a home membership is never deleted here).
pub async fn delete_guest_membership(
    conn: &mut PgConnection,
    user_id: Uuid,
    organization_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND organization_id = $2 AND kind = 'guest'")
        .bind(user_id)
        .bind(organization_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(FromRow)]
struct MyOrganizationRow {
    #[sqlx(flatten)]
    membership: MembershipRow,
    invited_by_user_principal_name: Option<String>,
    org_id: Option<Uuid>,
    display_name: Option<String>,
    verified_domains: Option<Vec<String>>,
    privacy_statement_url: Option<String>,
    privacy_contact_email: Option<String>,
    technical_contact_email: Option<String>,
    mfa_required: Option<bool>,
    sign_in_retention_days: Option<i32>,
    allow_self_deletion: Option<bool>,
    terms_of_use_url: Option<String>,
    terms_of_use_version: Option<String>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

impl MyOrganizationRow {
    fn into_domain(self) -> MyOrganization {
        let organization = match (self.org_id, self.created_at, self.updated_at) {
            (Some(id), Some(created_at), Some(updated_at)) => Some(Organization {
                id,
                settings: OrganizationSettings {
                    display_name: self.display_name.unwrap_or_default(),
                    verified_domains: self.verified_domains.unwrap_or_default(),
                    privacy_statement_url: self.privacy_statement_url.unwrap_or_default(),
                    privacy_contact_email: self.privacy_contact_email.unwrap_or_default(),
                    technical_contact_email: self.technical_contact_email.unwrap_or_default(),
                    mfa_required: self.mfa_required.unwrap_or_default(),
                    sign_in_retention_days: self.sign_in_retention_days.unwrap_or_default(),
                    allow_self_deletion: self.allow_self_deletion.unwrap_or_default(),
                    terms_of_use_url: self.terms_of_use_url.unwrap_or_default(),
                    terms_of_use_version: self.terms_of_use_version.unwrap_or_default(),
                },
                created_at,
                updated_at,
            }),
            _ => None,
        };
        MyOrganization {
            membership: self.membership.into_domain(),
            organization,
            invited_by_user_principal_name: self.invited_by_user_principal_name,
        }
    }
}

/// The user's memberships with their organizations: home first, then guests by join date.
pub async fn my_organizations(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<MyOrganization>, sqlx::Error> {
    let rows: Vec<MyOrganizationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MY_ORGANIZATION_COLUMNS} {MY_ORGANIZATIONS_FROM}"
    )))
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(MyOrganizationRow::into_domain).collect())
}

/// [`my_organizations`] and [`pending_invitation_count`] in one round trip, as "my
/// organizations" (and the overview's section) shows them.
pub async fn my_organizations_and_pending_invitations(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<(Vec<MyOrganization>, i64), sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        organization: MyOrganizationRow,
        pending_invitations: i64,
    }
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MY_ORGANIZATION_COLUMNS}, ({PENDING_INVITATIONS}) AS pending_invitations {MY_ORGANIZATIONS_FROM}"
    )))
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    // Everyone has a home membership; someone without any still hears of their invitations.
    let pending = match rows.first() {
        Some(row) => row.pending_invitations,
        None => pending_invitation_count(conn, user_id).await?,
    };
    Ok((
        rows.into_iter().map(|r| r.organization.into_domain()).collect(),
        pending,
    ))
}

/// The columns of a [`MyOrganizationRow`], over [`MY_ORGANIZATIONS_FROM`].
const MY_ORGANIZATION_COLUMNS: &str = "m.user_id, m.organization_id, m.kind, m.joined_at, m.invited_by, m.invitation_id, \
                m.accepted_terms_version, m.terms_accepted_at, \
                u.user_principal_name AS invited_by_user_principal_name, \
                o.id AS org_id, o.display_name, o.verified_domains, o.privacy_statement_url, o.privacy_contact_email, \
                o.technical_contact_email, o.mfa_required, o.sign_in_retention_days, o.allow_self_deletion, \
                o.terms_of_use_url, o.terms_of_use_version, o.created_at, o.updated_at";

/// `$1`'s memberships with their organizations, home first.
const MY_ORGANIZATIONS_FROM: &str = "FROM memberships m \
         LEFT JOIN organizations o ON o.id = m.organization_id \
         LEFT JOIN users u ON u.user_id = m.invited_by \
         WHERE m.user_id = $1 \
         ORDER BY m.kind = 'home' DESC, m.joined_at, m.organization_id";

/// How many invitations to `$1` are pending.
const PENDING_INVITATIONS: &str = "SELECT count(*) FROM invitations \
         WHERE status = 'pending' AND user_principal_name = (SELECT user_principal_name FROM users WHERE user_id = $1)";

// --- invitations

#[derive(FromRow)]
struct InvitationRow {
    id: Uuid,
    organization_id: Uuid,
    user_principal_name: String,
    status: String,
    invited_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    responded_at: Option<DateTime<Utc>>,
}

impl InvitationRow {
    fn into_domain(self) -> Invitation {
        Invitation {
            id: self.id,
            organization_id: self.organization_id,
            user_principal_name: self.user_principal_name,
            // The column is constrained to the three values.
            status: InvitationStatus::parse(&self.status).unwrap_or(InvitationStatus::Declined),
            invited_by: self.invited_by,
            created_at: self.created_at,
            responded_at: self.responded_at,
        }
    }
}

/// Adds a pending invitation; false when this person already has one to this organization.
pub async fn insert_invitation(conn: &mut PgConnection, i: &Invitation) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO invitations (id, organization_id, user_principal_name, status, invited_by, created_at, responded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(i.id)
    .bind(i.organization_id)
    .bind(&i.user_principal_name)
    .bind(i.status.as_str())
    .bind(i.invited_by)
    .bind(i.created_at)
    .bind(i.responded_at)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The invitation addressed to `upn`, locked for the answer that follows. An invitation
/// addressed to someone else is not found.
pub async fn invitation_to_for_update(
    conn: &mut PgConnection,
    id: Uuid,
    upn: &str,
) -> Result<Option<Invitation>, sqlx::Error> {
    let row: Option<InvitationRow> = sqlx::query_as(
        "SELECT id, organization_id, user_principal_name, status, invited_by, created_at, responded_at \
         FROM invitations WHERE id = $1 AND user_principal_name = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(upn)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(InvitationRow::into_domain))
}

pub async fn answer_invitation(
    conn: &mut PgConnection,
    id: Uuid,
    status: InvitationStatus,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE invitations SET status = $2, responded_at = $3 WHERE id = $1")
        .bind(id)
        .bind(status.as_str())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(FromRow)]
struct InvitationViewRow {
    #[sqlx(flatten)]
    invitation: InvitationRow,
    o_display_name: String,
    o_verified_domains: Vec<String>,
    o_privacy_statement_url: String,
    o_privacy_contact_email: String,
    o_technical_contact_email: String,
    o_mfa_required: bool,
    o_sign_in_retention_days: i32,
    o_allow_self_deletion: bool,
    o_terms_of_use_url: String,
    o_terms_of_use_version: String,
    o_created_at: DateTime<Utc>,
    o_updated_at: DateTime<Utc>,
}

impl InvitationViewRow {
    fn into_domain(self) -> InvitationView {
        let organization = Organization {
            id: self.invitation.organization_id,
            settings: OrganizationSettings {
                display_name: self.o_display_name,
                verified_domains: self.o_verified_domains,
                privacy_statement_url: self.o_privacy_statement_url,
                privacy_contact_email: self.o_privacy_contact_email,
                technical_contact_email: self.o_technical_contact_email,
                mfa_required: self.o_mfa_required,
                sign_in_retention_days: self.o_sign_in_retention_days,
                allow_self_deletion: self.o_allow_self_deletion,
                terms_of_use_url: self.o_terms_of_use_url,
                terms_of_use_version: self.o_terms_of_use_version,
            },
            created_at: self.o_created_at,
            updated_at: self.o_updated_at,
        };
        InvitationView {
            invitation: self.invitation.into_domain(),
            organization: Some(organization),
        }
    }
}

/// Invitations addressed to `upn` with their organizations, oldest first; only pending ones
/// unless `all`.
pub async fn invitations_to(conn: &mut PgConnection, upn: &str, all: bool) -> Result<Vec<InvitationView>, sqlx::Error> {
    let rows: Vec<InvitationViewRow> = sqlx::query_as(
        "SELECT i.id, i.organization_id, i.user_principal_name, i.status, i.invited_by, i.created_at, i.responded_at, \
                o.display_name AS o_display_name, o.verified_domains AS o_verified_domains, \
                o.privacy_statement_url AS o_privacy_statement_url, o.privacy_contact_email AS o_privacy_contact_email, \
                o.technical_contact_email AS o_technical_contact_email, o.mfa_required AS o_mfa_required, \
                o.sign_in_retention_days AS o_sign_in_retention_days, \
                o.allow_self_deletion AS o_allow_self_deletion, o.terms_of_use_url AS o_terms_of_use_url, \
                o.terms_of_use_version AS o_terms_of_use_version, o.created_at AS o_created_at, \
                o.updated_at AS o_updated_at \
         FROM invitations i JOIN organizations o ON o.id = i.organization_id \
         WHERE i.user_principal_name = $1 AND ($2 OR i.status = 'pending') \
         ORDER BY i.created_at, i.id",
    )
    .bind(upn)
    .bind(all)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(InvitationViewRow::into_domain).collect())
}

/// Invitations still waiting for the person's answer, found by the user principal name known
/// for them (none when no name is known), in one round trip.
pub async fn pending_invitation_count(conn: &mut PgConnection, user_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(PENDING_INVITATIONS)
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await
}

// --- erasure

/// Erases what is kept about a person: memberships, invitations addressed to them, their name,
/// and their id where they invited others. The platform's tombstone keeps a late user_created
/// from bringing anything back. Running it twice changes nothing more.
pub struct Erasure;

impl platform::erasure::Erasure for Erasure {
    async fn erase_user(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
        _now: DateTime<Utc>,
    ) -> Result<u64, sqlx::Error> {
        let mut changed = 0;
        changed += sqlx::query(
        "DELETE FROM invitations WHERE user_principal_name IN (SELECT user_principal_name FROM users WHERE user_id = $1)",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
        changed += sqlx::query("DELETE FROM memberships WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        changed += sqlx::query("UPDATE memberships SET invited_by = NULL WHERE invited_by = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        changed += sqlx::query("UPDATE invitations SET invited_by = NULL WHERE invited_by = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        changed += sqlx::query("DELETE FROM users WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        Ok(changed)
    }
}
