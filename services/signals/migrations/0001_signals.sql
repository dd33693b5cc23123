-- The Shared Signals transmitter: receivers and their credentials, their streams, the key that
-- signs Security Event Tokens, and every SET waiting for (or past) delivery.

-- A relying party registered by the operator. The client secret is random (256 bits), so a
-- fast hash is enough: it cannot be guessed like a password.
CREATE TABLE receivers (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    audience text NOT NULL,
    client_id text NOT NULL UNIQUE,
    client_secret_sha256 bytea NOT NULL,
    created_at timestamptz NOT NULL
);

-- Access tokens of the client credentials grant: opaque, random, stored hashed, short-lived.
CREATE TABLE receiver_tokens (
    token_sha256 bytea PRIMARY KEY,
    receiver_id uuid NOT NULL REFERENCES receivers (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL
);
CREATE INDEX receiver_tokens_expiry ON receiver_tokens (expires_at);

CREATE TABLE streams (
    id uuid PRIMARY KEY,
    receiver_id uuid NOT NULL REFERENCES receivers (id) ON DELETE CASCADE,
    delivery_method text NOT NULL CHECK (delivery_method IN ('push', 'poll')),
    -- Push only: where SETs go, and the Authorization header the receiver wants with them.
    endpoint_url text,
    authorization_header text,
    events_requested text[] NOT NULL,
    description text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'paused', 'disabled')),
    created_at timestamptz NOT NULL,
    -- Push only: failed attempts in a row, when the next may be made, and which replica holds
    -- the stream until when (one pusher per stream keeps its SETs in order).
    push_failures integer NOT NULL DEFAULT 0,
    next_push_at timestamptz NOT NULL DEFAULT now(),
    push_lease_until timestamptz,
    CHECK ((delivery_method = 'push') = (endpoint_url IS NOT NULL))
);
CREATE INDEX streams_receiver ON streams (receiver_id);

-- The key that signs SETs: RS256, the private key sealed with DATA_ENCRYPTION_KEYS.
CREATE TABLE signing_keys (
    kid text PRIMARY KEY,
    sealed_private_key bytea NOT NULL,
    created_at timestamptz NOT NULL
);

-- Every SET of every stream, in the order it must be delivered (seq). A SET is written in the
-- transaction of the event that caused it and leaves the queue only when the receiver has it
-- (pushed and answered 202, or acknowledged by a poll) or refused it for its own reasons (the
-- error it answered is kept).
CREATE TABLE security_event_tokens (
    seq bigserial PRIMARY KEY,
    stream_id uuid NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    jti text NOT NULL,
    event_type text NOT NULL,
    token text NOT NULL,
    created_at timestamptz NOT NULL,
    -- When it left the queue: delivered, or refused by the receiver (with its error).
    settled_at timestamptz,
    refused_err text,
    refused_description text,
    UNIQUE (stream_id, jti)
);
CREATE INDEX security_event_tokens_pending ON security_event_tokens (stream_id, seq) WHERE settled_at IS NULL;
