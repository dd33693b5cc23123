-- When identity gave a person the user principal name this projection holds (the time of the
-- user_created or identifiers_changed it came from). user_created and identifiers_changed are
-- separate consumers, so either may be handled first: the later name wins. Unknown (NULL) for
-- names learnt before renames existed, which any event's name replaces.
ALTER TABLE users ADD COLUMN named_at timestamptz;
