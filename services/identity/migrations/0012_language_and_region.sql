-- Language and region: how a person's dates, times and numbers are written (a BCP 47 tag) and
-- the IANA time zone they are shown in. Empty: the display language's format, the device's zone.
ALTER TABLE users
    ADD COLUMN regional_format TEXT NOT NULL DEFAULT '',
    ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
