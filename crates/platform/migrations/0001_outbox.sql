-- The transactional outbox: a service's state change and its events commit together; the relay
-- publishes rows to JetStream afterwards.
CREATE TABLE platform.outbox (
    id          uuid PRIMARY KEY,
    subject     text        NOT NULL,
    ce_type     text        NOT NULL,
    ce_subject  text        NOT NULL,
    payload     bytea       NOT NULL,
    traceparent text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    attempts    integer     NOT NULL DEFAULT 0,
    published_at timestamptz
);

-- The relay only ever looks at unsent rows, oldest first.
CREATE INDEX outbox_unsent ON platform.outbox (created_at) WHERE published_at IS NULL;

-- Event ids a consumer has applied, written in the same transaction as the effect, so that
-- redelivery is harmless.
CREATE TABLE platform.processed_events (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
