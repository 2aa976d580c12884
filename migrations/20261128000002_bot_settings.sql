-- Settings admins change from chat (they outlive restarts and override nothing in the
-- configuration file except where a key says so, e.g. the reminders channel).
CREATE TABLE bot_settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
