-- An organization's terms of use: an https URL and the current version, both set or both empty
-- (the service validates them; the checks keep a stray write from storing half of it).
ALTER TABLE organizations
    ADD COLUMN terms_of_use_url     text NOT NULL DEFAULT '',
    ADD COLUMN terms_of_use_version text NOT NULL DEFAULT '',
    ADD CONSTRAINT organizations_terms_both_or_neither
        CHECK ((terms_of_use_url = '') = (terms_of_use_version = '')),
    ADD CONSTRAINT organizations_terms_version_length CHECK (char_length(terms_of_use_version) <= 32);

-- The version of the terms the member accepted last, and when. A new version published by an
-- admin leaves these as they are: the member then has accepted an older version, not the current.
ALTER TABLE memberships
    ADD COLUMN accepted_terms_version text,
    ADD COLUMN terms_accepted_at      timestamptz,
    ADD CONSTRAINT memberships_terms_acceptance_complete
        CHECK ((accepted_terms_version IS NULL) = (terms_accepted_at IS NULL));
