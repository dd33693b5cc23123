-- Disabling a lost device ends every active session bound to it (myaccount.devices.v1.disabled).
CREATE INDEX sessions_active_by_device ON sessions (user_id, device_id) WHERE revoked_at IS NULL AND device_id <> '';
