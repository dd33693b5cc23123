-- The sign-in log, fed by myaccount.signin.v1.recorded. Keyed by the event id, so a redelivered
-- event is a no-op.
CREATE TABLE sign_ins (
    id                     uuid PRIMARY KEY,
    occurred_at            timestamptz NOT NULL,
    user_id                uuid,
    user_principal_name    text        NOT NULL,
    organization_id        text        NOT NULL DEFAULT '',
    app_id                 text        NOT NULL DEFAULT '',
    ip_address             text        NOT NULL DEFAULT '',
    user_agent             text        NOT NULL DEFAULT '',
    device_id              text        NOT NULL DEFAULT '',
    status                 text        NOT NULL,
    failure_reason         text        NOT NULL DEFAULT '',
    authentication_methods text[]      NOT NULL DEFAULT '{}',
    session_id             text        NOT NULL DEFAULT '',
    correlation_id         text        NOT NULL DEFAULT '',
    ingested_at            timestamptz NOT NULL DEFAULT now()
);

-- "My sign-ins", newest first, keyset-paginated on (occurred_at, id).
CREATE INDEX sign_ins_by_user_newest ON sign_ins (user_id, occurred_at DESC, id DESC);
