-- The second step of a multi-factor sign-in: created when the password was right and the person
-- has a second factor; the random id is the credential for StartMfa/CompleteMfa. A step-up
-- (Reauthenticate) names the session it will renew.
CREATE TABLE mfa_challenges (
    id                        uuid PRIMARY KEY,
    user_id                   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id                uuid        REFERENCES sessions (id) ON DELETE CASCADE,
    typed_user_principal_name text        NOT NULL,
    created_at                timestamptz NOT NULL,
    expires_at                timestamptz NOT NULL,
    attempts                  integer     NOT NULL DEFAULT 0,
    completed_at              timestamptz,
    ip_address                text        NOT NULL DEFAULT '',
    user_agent                text        NOT NULL DEFAULT '',
    device_id                 text        NOT NULL DEFAULT '',
    app_id                    text        NOT NULL DEFAULT '',
    correlation_id            text        NOT NULL DEFAULT ''
);

CREATE INDEX mfa_challenges_expiry ON mfa_challenges (expires_at);
