-- The sessions list, a page at a time in "most recently used first" order: each page walks this
-- index from its cursor and stops after one page, however many sessions the person has.
CREATE INDEX sessions_active_by_last_use ON sessions (user_id, last_seen_at DESC, id DESC) WHERE revoked_at IS NULL;
