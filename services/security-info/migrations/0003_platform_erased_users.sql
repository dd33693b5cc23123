-- The tombstones move to the platform's table (one for every service); the service's own goes.
INSERT INTO platform.erased_users (user_id, erased_at)
SELECT user_id, erased_at FROM erased_users
ON CONFLICT (user_id) DO NOTHING;
DROP TABLE erased_users;
