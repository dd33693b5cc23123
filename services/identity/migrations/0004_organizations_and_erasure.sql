-- Guest memberships, projected from organizations' member_joined / member_left / member_removed.
-- A person may sign in to a guest organization they belong to; leaving it ends those sessions.
-- A row that left stays (left_at set) so an older member_joined delivered late cannot bring the
-- membership back.
CREATE TABLE guest_memberships (
    user_id         uuid        NOT NULL,
    organization_id uuid        NOT NULL,
    joined_at       timestamptz NOT NULL,
    left_at         timestamptz,
    PRIMARY KEY (user_id, organization_id)
);

-- The organization a session acts in (the token's `org`): the home organization or a guest one.
ALTER TABLE sessions ADD COLUMN organization_id uuid;
UPDATE sessions s SET organization_id = u.home_organization_id FROM users u WHERE u.id = s.user_id;
CREATE INDEX sessions_active_by_organization ON sessions (user_id, organization_id) WHERE revoked_at IS NULL;

ALTER TABLE mfa_challenges ADD COLUMN organization_id uuid;

-- What identity enforces per organization, projected from organizations.changed.
CREATE TABLE organization_policies (
    organization_id     uuid PRIMARY KEY,
    allow_self_deletion boolean     NOT NULL,
    updated_at          timestamptz NOT NULL
);

-- Deleted accounts: the id only (no name), so the deletion is answered idempotently and events
-- about the user that arrive later change nothing.
CREATE TABLE deleted_users (
    user_id    uuid PRIMARY KEY,
    deleted_at timestamptz NOT NULL,
    -- "self" or "admin".
    deleted_by text        NOT NULL
);
