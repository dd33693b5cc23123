-- A membership's end is kept, not deleted: with two relays and two consumers, a person's
-- member_left can be handled before the member_joined it follows. Each side keeps the latest
-- time it has seen, so the outcome is the same in any order (as identity's guest_memberships).
ALTER TABLE memberships ADD COLUMN left_at timestamptz;
