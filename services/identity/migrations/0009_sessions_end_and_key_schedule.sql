-- A spent refresh token's successor, sealed with a key derived from the spent token (which is
-- never stored): presented again within the grace window, the token gets the same pair back.
ALTER TABLE refresh_tokens ADD COLUMN successor bytea;

-- When a signing key starts signing. A rotation publishes the new key first and schedules it,
-- so every replica serves it before any signs with it; `retired_at` may lie in the future (the
-- moment the next key takes over), and a key stays published a while after it.
ALTER TABLE signing_keys ADD COLUMN activates_at timestamptz;
UPDATE signing_keys SET activates_at = created_at;
ALTER TABLE signing_keys ALTER COLUMN activates_at SET NOT NULL;
