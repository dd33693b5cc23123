-- Recovery codes are stored under a keyed hash (HMAC-SHA256 with a key derived from the
-- DATA_ENCRYPTION_KEYS keyring), named by the keyring key it was derived from. NULL: a code of
-- a set generated before, stored as SHA-256 of the user id and the code, which keeps working
-- until it is used or the set is regenerated.
ALTER TABLE recovery_codes ADD COLUMN key_id text;
