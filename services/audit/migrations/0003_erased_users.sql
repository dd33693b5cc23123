-- Accounts erased after myaccount.identity.v1.user_deleted. Every consumer checks it, so an
-- event about the user processed later (consumers are independent) brings no named data back.
-- Only the real id and when: the pseudonym their sign-ins now carry is deliberately not kept.
CREATE TABLE erased_users (
    user_id   uuid PRIMARY KEY,
    erased_at timestamptz NOT NULL
);
