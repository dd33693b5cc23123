-- Accounts erased after myaccount.identity.v1.user_deleted. A device registration still arriving
-- for such an account (an admin's enrolment, or an access token that outlives the account) must
-- not bring data back.
CREATE TABLE erased_users (
    user_id   uuid PRIMARY KEY,
    erased_at timestamptz NOT NULL
);
