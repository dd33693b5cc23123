-- Stream management beyond create/read/delete: a status with its reason, the subjects a stream
-- takes, and when a receiver last asked for a verification SET.

ALTER TABLE streams ADD COLUMN status_reason text NOT NULL DEFAULT '';
-- Streams created before subjects could be managed got every person's events: they keep them.
-- A new stream gets only its subjects' unless it asks for all (and the transmitter allows it).
ALTER TABLE streams ADD COLUMN all_subjects boolean NOT NULL DEFAULT true;
ALTER TABLE streams ALTER COLUMN all_subjects SET DEFAULT false;
ALTER TABLE streams ADD COLUMN last_verification_at timestamptz;

-- A person added to a stream (included) or, for an all-subjects stream, removed from it (not
-- included). Subjects are matched by user id: the `sub` of this transmitter's iss_sub.
CREATE TABLE stream_subjects (
    stream_id uuid NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    user_id uuid NOT NULL,
    included boolean NOT NULL,
    PRIMARY KEY (stream_id, user_id)
);
