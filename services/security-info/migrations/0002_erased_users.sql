-- Accounts erased after myaccount.identity.v1.user_deleted. A change still arriving for such an
-- account (an access token outlives the account by a few minutes) must not bring data back.
CREATE TABLE erased_users (
    user_id   uuid PRIMARY KEY,
    erased_at timestamptz NOT NULL
);
