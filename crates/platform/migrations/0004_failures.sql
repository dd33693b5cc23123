-- A consumer's handler failures per event, counted in the batch's transaction: only the
-- handler's own failures count towards the dead letter, never a redelivery after an outage or
-- a crash (JetStream itself delivers without limit). Pruned with processed_events.
CREATE TABLE platform.consumer_failures (
    consumer   text        NOT NULL,
    event_id   text        NOT NULL,
    failures   integer     NOT NULL,
    last_error text        NOT NULL,
    failed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- The outbox counts every publish attempt of a row (`attempts`, which used to count only the
-- successful one), and the failures that were the row's own (too large, refused by the
-- server); after enough of those the row is quarantined, so it no longer holds up the others,
-- until `myaccount outbox retry` releases it.
ALTER TABLE platform.outbox
    ADD COLUMN failures       integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error     text,
    ADD COLUMN quarantined_at timestamptz;

-- The relay looks only at rows to send: unsent and not quarantined, oldest first.
CREATE INDEX outbox_to_send ON platform.outbox (created_at, id)
    WHERE published_at IS NULL AND quarantined_at IS NULL;
DROP INDEX platform.outbox_unsent;

-- Sent rows are kept for the replay horizon and found by when they were sent (pruning, replay).
CREATE INDEX outbox_sent ON platform.outbox (published_at) WHERE published_at IS NOT NULL;
