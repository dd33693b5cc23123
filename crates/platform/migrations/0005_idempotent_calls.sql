-- Keyed calls answered once (`platform::idempotency`): a write sent again with the same
-- idempotency key, because its first answer was lost with the replica that served it, gets the
-- first answer instead of doing the work twice. The row commits with the write. The key itself
-- is never stored (only its SHA-256), and the answer is sealed under a key derived from the
-- idempotency key, so the table alone opens no token. Rows older than the window (24 hours) are
-- no longer answered and are deleted hourly.
CREATE TABLE platform.idempotent_calls (
    key_digest     bytea       NOT NULL,
    method         text        NOT NULL,
    -- `user:<id>` or `workload:<name>`: the same key from someone else is refused.
    caller         text        NOT NULL,
    -- A keyed digest of the request: the same key with another request is refused.
    request_digest bytea       NOT NULL,
    -- 0 for an answer, else the gRPC status code of the refusal that committed with it.
    status_code    integer     NOT NULL,
    status_message text        NOT NULL,
    -- The encoded answer, or the status details, sealed (AES-256-GCM).
    sealed_answer  bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key_digest, method)
);

CREATE INDEX idempotent_calls_by_age ON platform.idempotent_calls (created_at);
