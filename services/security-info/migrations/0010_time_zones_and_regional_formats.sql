-- Each person's time zone (an IANA name) and regional format (a BCP 47 tag) beside their
-- preferred language, from the same identity events (user_created, profile_updated), which
-- always carry all three: the notification sender writes a time in the zone and a date in the
-- format's order. Empty: none chosen (UTC; the order of the language, else ISO). One row and one
-- `changed_at` for the three, since they always arrive together. The table keeps its name so a
-- sender of the previous release still reads its language while both run.
ALTER TABLE preferred_languages
    ADD COLUMN time_zone text NOT NULL DEFAULT '',
    ADD COLUMN regional_format text NOT NULL DEFAULT '';
