-- Self-service password reset ("Forgot my password?"). A flow is opened for every name typed,
-- whether or not it is an account's: `user_id` is NULL for a name without one (or an account
-- that cannot reset), and such a flow offers a stand-in method that can never be proven. The
-- random id is the credential of the later steps; it lives 15 minutes.
CREATE TABLE password_resets (
    id                        uuid PRIMARY KEY,
    user_id                   uuid        REFERENCES users (id) ON DELETE CASCADE,
    typed_user_principal_name text        NOT NULL,
    -- The account's home organization, for the sign-in log.
    organization_id           uuid,
    methods_required          integer     NOT NULL CHECK (methods_required BETWEEN 1 AND 2),
    created_at                timestamptz NOT NULL,
    expires_at                timestamptz NOT NULL,
    -- Wrong answers to this flow, all methods together.
    attempts                  integer     NOT NULL DEFAULT 0,
    completed_at              timestamptz,
    ip_address                text        NOT NULL DEFAULT '',
    user_agent                text        NOT NULL DEFAULT '',
    device_id                 text        NOT NULL DEFAULT '',
    app_id                    text        NOT NULL DEFAULT '',
    correlation_id            text        NOT NULL DEFAULT ''
);

CREATE INDEX password_resets_expiry ON password_resets (expires_at);

-- The methods a flow offers, under ids of the flow's own (so nothing stable about a person is
-- shown to whoever types their name), each with security-info's method id (empty for the
-- stand-in) and, once proven, when and with which `amr` values.
CREATE TABLE password_reset_methods (
    reset_id      uuid        NOT NULL REFERENCES password_resets (id) ON DELETE CASCADE,
    id            uuid        NOT NULL,
    position      integer     NOT NULL,
    kind          text        NOT NULL,
    label         text        NOT NULL,
    factor_id     text        NOT NULL,
    proven_at     timestamptz,
    proven_method text        NOT NULL DEFAULT '',
    proven_amr    text[]      NOT NULL DEFAULT '{}',
    PRIMARY KEY (reset_id, id)
);
