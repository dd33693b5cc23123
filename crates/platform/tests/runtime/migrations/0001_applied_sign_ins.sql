-- The effect of the test handler in the consumer tests: one row per application of an event.
-- Deliberately without a unique constraint, so a duplicate application would show up as a
-- second row instead of failing.
CREATE TABLE applied_sign_ins (
    seq                 bigserial PRIMARY KEY,
    event_id            text   NOT NULL,
    sign_in_id          text   NOT NULL,
    user_principal_name text   NOT NULL,
    delivered           bigint NOT NULL
);
