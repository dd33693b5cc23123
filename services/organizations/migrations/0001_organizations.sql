-- Organizations (tenants) and their settings. Every change is published in full as
-- myaccount.organizations.v1.changed.
CREATE TABLE organizations (
    id                      uuid PRIMARY KEY,
    display_name            text        NOT NULL,
    verified_domains        text[]      NOT NULL DEFAULT '{}',
    privacy_statement_url   text        NOT NULL DEFAULT '',
    privacy_contact_email   text        NOT NULL DEFAULT '',
    technical_contact_email text        NOT NULL DEFAULT '',
    mfa_required            boolean     NOT NULL DEFAULT false,
    sign_in_retention_days  integer     NOT NULL CHECK (sign_in_retention_days > 0),
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL
);

-- Who is who, learnt from myaccount.identity.v1.user_created: invitations are addressed by user
-- principal name, and this says whose name it is. Not unique: identity's names are, but events
-- of a deleted account and of a new one with the same name may arrive in either order.
CREATE TABLE users (
    user_id             uuid PRIMARY KEY,
    user_principal_name text        NOT NULL,
    learnt_at           timestamptz NOT NULL
);

CREATE INDEX users_by_user_principal_name ON users (user_principal_name, learnt_at DESC);

-- Accounts erased after myaccount.identity.v1.user_deleted. A user_created of the same account
-- processed later (the two are separate consumers) must not bring the data back.
CREATE TABLE erased_users (
    user_id   uuid PRIMARY KEY,
    erased_at timestamptz NOT NULL
);

-- A user's memberships. No foreign key to organizations: identity's home organization id is
-- authoritative and may name an organization before it is created here.
CREATE TABLE memberships (
    user_id         uuid        NOT NULL,
    organization_id uuid        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('home', 'guest')),
    joined_at       timestamptz NOT NULL,
    invited_by      uuid,
    invitation_id   uuid,
    PRIMARY KEY (user_id, organization_id)
);

-- Exactly one home organization per user.
CREATE UNIQUE INDEX memberships_one_home_per_user ON memberships (user_id) WHERE kind = 'home';
CREATE INDEX memberships_by_organization ON memberships (organization_id);

-- Invitations to become a guest member, addressed by user principal name (lower-case).
CREATE TABLE invitations (
    id                  uuid PRIMARY KEY,
    organization_id     uuid        NOT NULL REFERENCES organizations (id),
    user_principal_name text        NOT NULL,
    status              text        NOT NULL CHECK (status IN ('pending', 'accepted', 'declined')),
    invited_by          uuid,
    created_at          timestamptz NOT NULL,
    responded_at        timestamptz
);

-- At most one pending invitation per person and organization.
CREATE UNIQUE INDEX invitations_one_pending ON invitations (organization_id, user_principal_name) WHERE status = 'pending';
CREATE INDEX invitations_by_user_principal_name ON invitations (user_principal_name, created_at, id);
