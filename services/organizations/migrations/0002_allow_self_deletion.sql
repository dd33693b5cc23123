-- Whether members whose home organization this is may delete their own account (otherwise only
-- an admin can). Off by default, as in Entra ID and Keycloak.
ALTER TABLE organizations ADD COLUMN allow_self_deletion boolean NOT NULL DEFAULT false;
