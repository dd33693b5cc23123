-- What the phone provider answered for each notification and channel, written as soon as it
-- answered (outside the consumer's batch transaction): a redelivered notification whose message
-- the provider already took, or refused for good, is not sent again. No recipient and no text:
-- the provider's reference, the final HTTP status and how many attempts it took. Kept 30 days.
CREATE TABLE phone_deliveries (
    notification_id text NOT NULL,
    channel text NOT NULL CHECK (channel IN ('sms', 'voice')),
    outcome text NOT NULL CHECK (outcome IN ('delivered', 'refused')),
    provider_status integer NOT NULL,
    provider_message_id text,
    provider_error_code text,
    attempts integer NOT NULL CHECK (attempts > 0),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (notification_id, channel)
);

CREATE INDEX phone_deliveries_recorded_at ON phone_deliveries (recorded_at);
