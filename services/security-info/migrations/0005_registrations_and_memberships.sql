-- A method registered with an MFA registration token (a sign-in interrupted because the
-- organization requires MFA) names that registration, so identity finishes exactly that
-- sign-in with it.
ALTER TABLE methods ADD COLUMN registration_id uuid;

-- Every organization a person belongs to (home and guest), projected from organizations'
-- member_joined / member_left / member_removed: the last-factor rule holds while any of them
-- requires multi-factor authentication.
CREATE TABLE memberships (
    user_id         uuid        NOT NULL,
    organization_id text        NOT NULL,
    joined_at       timestamptz NOT NULL,
    PRIMARY KEY (user_id, organization_id)
);
