-- Whether an organization requires multi-factor authentication (from organizations.changed):
-- a sign-in to it without a second factor is interrupted until one is registered.
ALTER TABLE organization_policies ADD COLUMN mfa_required boolean NOT NULL DEFAULT false;

-- A sign-in interrupted by "more information required": the password was right, the
-- organization requires MFA and the person has none. Its id is the registration token's `sid`;
-- the sign-in finishes once a method registered with that token is verified.
CREATE TABLE mfa_registrations (
    id                        uuid PRIMARY KEY,
    user_id                   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id           uuid,
    typed_user_principal_name text        NOT NULL,
    ip_address                text        NOT NULL DEFAULT '',
    user_agent                text        NOT NULL DEFAULT '',
    device_id                 text        NOT NULL DEFAULT '',
    app_id                    text        NOT NULL DEFAULT '',
    correlation_id            text        NOT NULL DEFAULT '',
    created_at                timestamptz NOT NULL,
    expires_at                timestamptz NOT NULL,
    completed_at              timestamptz
);

CREATE INDEX mfa_registrations_expiry ON mfa_registrations (expires_at);
