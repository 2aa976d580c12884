-- The campaign page: personal sign-in links and the sessions they open, and the names
-- people go by in Discord, as the bot last saw them. Links and sessions are kept only
-- as SHA-256 hashes of their random tokens: the database alone opens nothing.

CREATE TABLE sign_in_links (
    token_hash  BLOB PRIMARY KEY NOT NULL,
    actor       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
) WITHOUT ROWID;

CREATE TABLE page_sessions (
    token_hash  BLOB PRIMARY KEY NOT NULL,
    actor       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE people (
    user_id       TEXT PRIMARY KEY NOT NULL,
    display_name  TEXT NOT NULL,
    seen_at       TEXT NOT NULL
) WITHOUT ROWID;

-- The connections table on the page sorts by when each last changed.
CREATE INDEX connections_by_update ON connections (updated_at, id);
CREATE INDEX connections_by_state_update ON connections (state, updated_at, id);
