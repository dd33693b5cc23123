-- Set when the person reports a sign-in as not theirs: the next sign-in must choose a new
-- password (after the second factor, when there is one) before a session opens.
ALTER TABLE users ADD COLUMN password_change_required boolean NOT NULL DEFAULT false;

-- The interrupted sign-in: proven with the password (and second factor), waiting for the new
-- password. The random id is the credential of that last step.
CREATE TABLE password_change_tickets (
    id                        uuid PRIMARY KEY,
    user_id                   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id           uuid,
    amr                       text[]      NOT NULL,
    typed_user_principal_name text        NOT NULL,
    ip_address                text        NOT NULL DEFAULT '',
    user_agent                text        NOT NULL DEFAULT '',
    device_id                 text        NOT NULL DEFAULT '',
    app_id                    text        NOT NULL DEFAULT '',
    correlation_id            text        NOT NULL DEFAULT '',
    created_at                timestamptz NOT NULL,
    expires_at                timestamptz NOT NULL,
    used_at                   timestamptz
);

CREATE INDEX password_change_tickets_expiry ON password_change_tickets (expires_at);
