-- People whose account was deleted (`myaccount.identity.v1.user_deleted`), kept by every service
-- that erased them: an event about them that arrives later (consumers are independent) must
-- bring no data back. Only the id and when; nothing else about the person.
CREATE TABLE platform.erased_users (
    user_id   uuid PRIMARY KEY,
    erased_at timestamptz NOT NULL
);
