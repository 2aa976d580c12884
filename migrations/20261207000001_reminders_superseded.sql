-- A milestone whose later sibling has already fallen (cutover was away, or several
-- offsets fell in one round) is recorded as superseded: claimed, so no process sends it,
-- and never sent, since its wording would be stale. SQLite cannot change a CHECK in
-- place, so the table is rebuilt with the same columns and indexes.
CREATE TABLE reminder_posts_new (
    key         TEXT NOT NULL,
    channel_id  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('milestone', 'digest', 'catch-up', 'missed')),
    due_at      TEXT NOT NULL,
    first_claimed_at TEXT NOT NULL,
    claimed_at  TEXT NOT NULL,
    claimed_by  TEXT NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 1,
    sent_at     TEXT,
    message_id  TEXT,
    -- sent; missed (named by a catch-up post instead); failed (Discord refused it for good,
    -- or it can no longer be said); superseded (a later post of the same round says it)
    outcome     TEXT CHECK (outcome IN ('sent', 'missed', 'failed', 'superseded')),
    PRIMARY KEY (key, channel_id)
);

INSERT INTO reminder_posts_new
    SELECT key, channel_id, kind, due_at, first_claimed_at, claimed_at, claimed_by, tries,
           sent_at, message_id, outcome
    FROM reminder_posts;
DROP TABLE reminder_posts;
ALTER TABLE reminder_posts_new RENAME TO reminder_posts;

CREATE INDEX reminder_posts_unsent ON reminder_posts (channel_id, claimed_at) WHERE outcome IS NULL;
CREATE INDEX reminder_posts_by_due ON reminder_posts (channel_id, due_at);
