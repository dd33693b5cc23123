-- An organization's retention as of the time it was changed: an older organizations.v1.changed
-- delivered after a newer one (two relays, two consumers) no longer overwrites it.
ALTER TABLE organization_retention ADD COLUMN changed_at timestamptz NOT NULL DEFAULT '-infinity';
