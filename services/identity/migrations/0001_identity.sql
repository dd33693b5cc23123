CREATE TABLE users (
    id                   uuid PRIMARY KEY,
    user_principal_name  text        NOT NULL,
    display_name         text        NOT NULL,
    given_name           text        NOT NULL DEFAULT '',
    surname              text        NOT NULL DEFAULT '',
    job_title            text        NOT NULL DEFAULT '',
    department           text        NOT NULL DEFAULT '',
    office_location      text        NOT NULL DEFAULT '',
    mobile_phone         text        NOT NULL DEFAULT '',
    business_phone       text        NOT NULL DEFAULT '',
    mail                 text        NOT NULL DEFAULT '',
    preferred_language   text        NOT NULL DEFAULT '',
    home_organization_id uuid,
    roles                text[]      NOT NULL DEFAULT '{}',
    password_hash        text        NOT NULL,
    password_changed_at  timestamptz NOT NULL,
    enabled              boolean     NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);

-- User principal names are stored lower-case; uniqueness is case-insensitive by construction.
CREATE UNIQUE INDEX users_user_principal_name ON users (user_principal_name);

CREATE TABLE sessions (
    id            uuid PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    ip_address    text        NOT NULL DEFAULT '',
    user_agent    text        NOT NULL DEFAULT '',
    device_id     text        NOT NULL DEFAULT '',
    auth_time     timestamptz NOT NULL,
    amr           text[]      NOT NULL,
    revoked_at    timestamptz,
    revoked_reason text
);

CREATE INDEX sessions_active_by_user ON sessions (user_id) WHERE revoked_at IS NULL;

-- Opaque refresh tokens, stored as SHA-256 digests. A token is used once; presenting a used one
-- again is treated as theft and ends its session (the token family).
CREATE TABLE refresh_tokens (
    token_hash  bytea PRIMARY KEY,
    session_id  uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);

CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

CREATE TABLE signing_keys (
    kid        text PRIMARY KEY,
    secret     bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    retired_at timestamptz
);

-- Failed sign-in counters, keyed by account name as typed and by client IP.
CREATE TABLE sign_in_throttle (
    key             text PRIMARY KEY,
    failures        integer     NOT NULL,
    last_failure_at timestamptz NOT NULL,
    blocked_until   timestamptz
);
