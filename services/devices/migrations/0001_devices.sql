-- Devices a person uses. Personal devices are registered by their owner; organization-joined
-- ones by an admin. last_activity_at only ever comes from sign-in events carrying the device id.
CREATE TABLE devices (
    id                       uuid PRIMARY KEY,
    owner_id                 uuid        NOT NULL,
    display_name             text        NOT NULL,
    manufacturer             text        NOT NULL DEFAULT '',
    model                    text        NOT NULL DEFAULT '',
    operating_system         text        NOT NULL DEFAULT '',
    operating_system_version text        NOT NULL DEFAULT '',
    device_type              text        NOT NULL CHECK (device_type IN ('phone', 'tablet', 'laptop', 'desktop', 'other')),
    join_type                text        NOT NULL CHECK (join_type IN ('registered', 'organization_joined')),
    organization_id          uuid,
    registered_at            timestamptz NOT NULL,
    last_activity_at         timestamptz,
    enabled                  boolean     NOT NULL DEFAULT true,
    disabled_at              timestamptz,
    compliant                boolean     NOT NULL DEFAULT false,
    managed                  boolean     NOT NULL DEFAULT false
);

CREATE INDEX devices_by_owner ON devices (owner_id);

-- Recovery keys, sealed with platform::crypto (AES-256-GCM; the ciphertext names its key and is
-- bound to the row id, so a ciphertext copied to another row does not decrypt).
CREATE TABLE recovery_keys (
    id               uuid PRIMARY KEY,
    device_id        uuid        NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    volume_type      text        NOT NULL CHECK (volume_type IN ('operating_system', 'fixed_data', 'removable_data')),
    ciphertext       bytea       NOT NULL,
    created_at       timestamptz NOT NULL,
    last_revealed_at timestamptz
);

CREATE INDEX recovery_keys_by_device ON recovery_keys (device_id, created_at DESC);
