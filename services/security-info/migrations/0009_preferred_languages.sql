-- Each person's preferred language (a BCP 47 tag as identity keeps it; empty: none chosen), a
-- projection of identity's user_created and profile_updated: the notification sender writes in
-- it. `changed_at` is the time of the event it came from, so an older event handled after a
-- newer one (redelivery, two relays) does not bring an old language back.
CREATE TABLE preferred_languages (
    user_id uuid PRIMARY KEY,
    language text NOT NULL,
    changed_at timestamptz NOT NULL
);
