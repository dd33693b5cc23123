-- Sign-in methods of every person. A method starts 'pending' (secret shown, code sent, key
-- ceremony begun) and becomes 'active' once proven; pending rows expire.
CREATE TABLE methods (
    id              uuid PRIMARY KEY,
    user_id         uuid        NOT NULL,
    kind            text        NOT NULL,
    status          text        NOT NULL,
    name            text        NOT NULL DEFAULT '',
    phone_type      text,
    phone_number    text,
    phone_delivery  text,
    email           text,
    -- Authenticator apps: the TOTP secret sealed with AES-256-GCM (platform::crypto), bound to
    -- the method id; the key id is kept beside it to find rows to re-encrypt after a rotation.
    totp_secret     bytea,
    totp_key_id     text,
    -- The last accepted time step: a code is accepted once.
    totp_last_step  bigint,
    -- Security keys: webauthn-rs's Passkey (credential id, public key, counter; nothing secret).
    credential_id   bytea,
    passkey         jsonb,
    sign_count      bigint,
    transports      text[]      NOT NULL DEFAULT '{}',
    -- App passwords: SHA-256 of the user id and the password.
    secret_hash     bytea,
    created_at      timestamptz NOT NULL,
    activated_at    timestamptz,
    expires_at      timestamptz,
    last_used_at    timestamptz
);

CREATE INDEX methods_by_user ON methods (user_id, created_at);
CREATE UNIQUE INDEX methods_credential_id ON methods (credential_id) WHERE credential_id IS NOT NULL AND status = 'active';
CREATE UNIQUE INDEX methods_one_phone_per_type ON methods (user_id, phone_type) WHERE kind = 'phone' AND status = 'active';
CREATE UNIQUE INDEX methods_one_email_address ON methods (user_id, email) WHERE kind = 'email' AND status = 'active';
CREATE UNIQUE INDEX methods_one_recovery_code_set ON methods (user_id) WHERE kind = 'recovery_codes';
CREATE INDEX methods_app_passwords ON methods (user_id, secret_hash) WHERE kind = 'app_password';

-- Recovery codes, hashed; each is used once.
CREATE TABLE recovery_codes (
    method_id  uuid        NOT NULL REFERENCES methods (id) ON DELETE CASCADE,
    code_hash  bytea       NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (method_id, code_hash)
);

-- One-time codes sent by SMS, voice or email: hashed, short-lived, single-use, attempt-limited.
CREATE TABLE one_time_codes (
    id          uuid PRIMARY KEY,
    method_id   uuid        NOT NULL REFERENCES methods (id) ON DELETE CASCADE,
    purpose     text        NOT NULL,
    code_hash   bytea       NOT NULL,
    attempts    integer     NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    consumed_at timestamptz
);

CREATE INDEX one_time_codes_by_method ON one_time_codes (method_id, purpose, created_at DESC);

-- WebAuthn ceremony state between its two halves (registration or authentication).
CREATE TABLE webauthn_ceremonies (
    method_id   uuid        NOT NULL REFERENCES methods (id) ON DELETE CASCADE,
    purpose     text        NOT NULL,
    state       jsonb       NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (method_id, purpose)
);

-- The method a person chose as default; gone with the method.
CREATE TABLE default_methods (
    user_id    uuid PRIMARY KEY,
    method_id  uuid        NOT NULL REFERENCES methods (id) ON DELETE CASCADE,
    changed_at timestamptz NOT NULL
);

-- Projection of myaccount.organizations.v1.changed: which organizations require MFA.
CREATE TABLE organization_policies (
    organization_id text PRIMARY KEY,
    mfa_required    boolean     NOT NULL,
    changed_at      timestamptz NOT NULL
);
