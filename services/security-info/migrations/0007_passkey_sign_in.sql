-- Security keys and passkeys: the authenticator's AAGUID (names its provider), and whether the
-- credential is discoverable (a resident key: it signs in without a user name). Keys registered
-- before this asked for a resident key, and most did not make one; the browser's credProps
-- answer, kept in the stored passkey, tells which did.
ALTER TABLE methods
    ADD COLUMN aaguid uuid,
    ADD COLUMN discoverable boolean NOT NULL DEFAULT false;

UPDATE methods SET discoverable = true
 WHERE passkey IS NOT NULL
   AND coalesce(passkey #>> '{cred,extensions,cred_props,Set,rk}',
                passkey #>> '{cred,extensions,cred_props,Unsigned,rk}') = 'true';

-- A passwordless sign-in's WebAuthn state between its options and its assertion. No method is
-- known until the assertion names its credential. Kept a while after use, so an answer sent
-- twice is told apart from an unknown ceremony.
CREATE TABLE passkey_sign_ins (
    id          uuid PRIMARY KEY,
    state       jsonb       NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);

CREATE INDEX passkey_sign_ins_by_expiry ON passkey_sign_ins (expires_at);

