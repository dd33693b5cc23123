-- The sign-in log grows without bound, so it is partitioned by day: retention drops whole
-- partitions instead of deleting rows. The partition key is part of the primary key; an event
-- always carries the same time, so (occurred_at, id) still makes redelivery a no-op.
ALTER TABLE sign_ins RENAME TO sign_ins_unpartitioned;
ALTER INDEX sign_ins_by_user_newest RENAME TO sign_ins_unpartitioned_by_user;

CREATE TABLE sign_ins (
    id                         uuid        NOT NULL,
    occurred_at                timestamptz NOT NULL,
    user_id                    uuid,
    user_principal_name        text        NOT NULL,
    organization_id            text        NOT NULL DEFAULT '',
    app_id                     text        NOT NULL DEFAULT '',
    client_app                 text        NOT NULL DEFAULT 'browser',
    interactive                boolean     NOT NULL DEFAULT true,
    ip_address                 text        NOT NULL DEFAULT '',
    city                       text        NOT NULL DEFAULT '',
    region                     text        NOT NULL DEFAULT '',
    country                    text        NOT NULL DEFAULT '',
    latitude                   double precision,
    longitude                  double precision,
    user_agent                 text        NOT NULL DEFAULT '',
    browser                    text        NOT NULL DEFAULT '',
    operating_system           text        NOT NULL DEFAULT '',
    device_id                  text        NOT NULL DEFAULT '',
    status                     text        NOT NULL,
    failure_reason             text        NOT NULL DEFAULT '',
    authentication_requirement text        NOT NULL DEFAULT 'single_factor',
    authentication_methods     text[]      NOT NULL DEFAULT '{}',
    authentication_steps       jsonb       NOT NULL DEFAULT '[]',
    session_id                 text        NOT NULL DEFAULT '',
    correlation_id             text        NOT NULL DEFAULT '',
    risk_level                 text        NOT NULL DEFAULT 'none',
    risk_reasons               text[]      NOT NULL DEFAULT '{}',
    review_state               text        NOT NULL DEFAULT 'unreviewed',
    reviewed_at                timestamptz,
    ingested_at                timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (occurred_at, id)
) PARTITION BY RANGE (occurred_at);

-- Rows outside every daily partition (far past or future clocks) land here rather than fail.
CREATE TABLE sign_ins_default PARTITION OF sign_ins DEFAULT;

-- "My sign-ins", newest first, keyset-paginated on (occurred_at, id).
CREATE INDEX sign_ins_by_user_newest ON sign_ins (user_id, occurred_at DESC, id DESC);
-- Admin queries across an organization.
CREATE INDEX sign_ins_by_organization_newest ON sign_ins (organization_id, occurred_at DESC, id DESC);
-- One sign-in by id (details, review).
CREATE INDEX sign_ins_by_id ON sign_ins (id);
-- Risk: failed attempts from one address across accounts.
CREATE INDEX sign_ins_failures_by_ip ON sign_ins (ip_address, occurred_at) WHERE status = 'failure';
-- Risk: the user's previous located successful sign-in (impossible travel).
CREATE INDEX sign_ins_located_successes ON sign_ins (user_id, occurred_at DESC)
    WHERE status = 'success' AND latitude IS NOT NULL;

INSERT INTO sign_ins (id, occurred_at, user_id, user_principal_name, organization_id, app_id, ip_address,
                      user_agent, device_id, status, failure_reason, authentication_methods, session_id,
                      correlation_id, ingested_at)
SELECT id, occurred_at, user_id, user_principal_name, organization_id, app_id, ip_address,
       user_agent, device_id, status, failure_reason, authentication_methods, session_id,
       correlation_id, ingested_at
FROM sign_ins_unpartitioned;

DROP TABLE sign_ins_unpartitioned;

-- What a user has been seen with before, for the "never seen" risk rules.
CREATE TABLE known_sign_in_traits (
    user_id    uuid        NOT NULL,
    kind       text        NOT NULL,
    value      text        NOT NULL,
    first_seen timestamptz NOT NULL,
    PRIMARY KEY (user_id, kind, value)
);

-- Retention per organization, from myaccount.organizations.v1.changed.
CREATE TABLE organization_retention (
    organization_id text PRIMARY KEY,
    sign_in_retention_days integer NOT NULL
);

-- Account activity: every account event about a person, newest first.
CREATE TABLE activities (
    id          uuid        NOT NULL,
    occurred_at timestamptz NOT NULL,
    user_id     uuid        NOT NULL,
    category    text        NOT NULL,
    activity    text        NOT NULL,
    summary     text        NOT NULL,
    details     jsonb       NOT NULL DEFAULT '{}',
    organization_id text    NOT NULL DEFAULT '',
    PRIMARY KEY (id)
);
CREATE INDEX activities_by_user_newest ON activities (user_id, occurred_at DESC, id DESC);
