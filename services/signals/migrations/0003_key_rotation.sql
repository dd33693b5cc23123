-- SET signing keys rotate without a gap: each key signs from activates_at until retired_at, and
-- stays published while a queued SET it signed waits (its kid is kept with the SET).

ALTER TABLE signing_keys ADD COLUMN activates_at timestamptz;
ALTER TABLE signing_keys ADD COLUMN retired_at timestamptz;
UPDATE signing_keys SET activates_at = created_at;
ALTER TABLE signing_keys ALTER COLUMN activates_at SET NOT NULL;

ALTER TABLE security_event_tokens ADD COLUMN kid text;
-- Until now one key signed everything: the queued SETs are its.
UPDATE security_event_tokens
   SET kid = (SELECT kid FROM signing_keys ORDER BY created_at DESC LIMIT 1)
 WHERE settled_at IS NULL;
CREATE INDEX security_event_tokens_pending_kid ON security_event_tokens (kid) WHERE settled_at IS NULL;
