-- Reminders that post exactly once. Each post is claimed here before it is sent; the
-- primary key decides between two instances on one database, and a claim left unsent
-- by a process that stopped is taken over after a lease (sent again with the same
-- Discord nonce, which Discord de-duplicates).
CREATE TABLE reminder_posts (
    key         TEXT NOT NULL,
    channel_id  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('milestone', 'digest', 'catch-up', 'missed')),
    due_at      TEXT NOT NULL,
    -- When it was first claimed: Discord remembers a nonce for a few minutes only, so a
    -- claim left unsent is sent again only shortly after; later it counts as missed.
    first_claimed_at TEXT NOT NULL,
    -- Renewed before each try by the process sending it (its lease).
    claimed_at  TEXT NOT NULL,
    claimed_by  TEXT NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 1,
    sent_at     TEXT,
    message_id  TEXT,
    -- sent; missed (named by a catch-up post instead); failed (Discord refused it for good,
    -- or it can no longer be said: its deadline was removed)
    outcome     TEXT CHECK (outcome IN ('sent', 'missed', 'failed')),
    PRIMARY KEY (key, channel_id)
);

CREATE INDEX reminder_posts_unsent ON reminder_posts (channel_id, claimed_at) WHERE outcome IS NULL;
CREATE INDEX reminder_posts_by_due ON reminder_posts (channel_id, due_at);

-- The burndown is drawn from the audit log: each entry records how many connections
-- were left to switch once its change was made (NULL for entries older than this).
ALTER TABLE audit_log ADD COLUMN unmigrated INTEGER;
CREATE INDEX audit_log_progress ON audit_log (at) WHERE unmigrated IS NOT NULL;
