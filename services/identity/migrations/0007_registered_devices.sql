-- What identity knows of registered devices (a projection of devices' events): whose each is and
-- whether it is disabled. A sign-in binds its session only to the person's own registered
-- device, and refuses a disabled one.
CREATE TABLE registered_devices (
    device_id  uuid PRIMARY KEY,
    owner_id   uuid        NOT NULL,
    disabled   boolean     NOT NULL DEFAULT false,
    -- The time of the event that set this state: an older event never overwrites a newer one.
    changed_at timestamptz NOT NULL,
    deleted    boolean     NOT NULL DEFAULT false
);
