-- Throttling that cannot be raced: an attempt reserves its place on every counter it answers to
-- before the password is verified (`in_flight`, forgotten once `reserved_at` is stale, should a
-- process die holding one) and settles it with its verdict.
ALTER TABLE sign_in_throttle
    ADD COLUMN in_flight   integer     NOT NULL DEFAULT 0,
    ADD COLUMN reserved_at timestamptz;

-- Smart lockout: failures from unfamiliar places no longer count against the counter the owner
-- uses from familiar ones. What the old per-account counters hold came from anywhere, so they
-- carry on as the account's unfamiliar-places counter.
UPDATE sign_in_throttle SET key = key || ':unfamiliar' WHERE key LIKE 'account:%';

-- Addresses a person signed in from successfully: a sign-in from one of them (or from their
-- registered device) answers to the familiar-places counter. Forgotten with the account.
CREATE TABLE familiar_addresses (
    user_id           uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ip_address        text        NOT NULL,
    last_signed_in_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, ip_address)
);
