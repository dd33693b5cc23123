-- Whose home organization each person is in (projection of identity's user_created): an
-- organization's admin acts only on the devices of that organization's people.
CREATE TABLE people (
    user_id              uuid PRIMARY KEY,
    home_organization_id uuid,
    learnt_at            timestamptz NOT NULL
);
