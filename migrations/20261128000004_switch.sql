-- The switch: where to tell the person the outcome, and the tokens a switch produced.

-- Discord lets the bot edit its private answer for 15 minutes with the interaction
-- token; the token is sealed like every other secret.
ALTER TABLE migration_attempts ADD COLUMN reply_application_id TEXT;
ALTER TABLE migration_attempts ADD COLUMN reply_token_sealed BLOB;

CREATE INDEX migration_attempts_by_connection ON migration_attempts (connection_id, id);

-- One token set per switched connection; every secret in it sealed. The client
-- credentials are kept (sealed) because refreshing needs them.
CREATE TABLE oauth_tokens (
    connection_id         TEXT PRIMARY KEY NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    client_id             TEXT NOT NULL,
    client_secret_sealed  BLOB NOT NULL,
    access_token_sealed   BLOB NOT NULL,
    refresh_token_sealed  BLOB,
    access_expires_at     TEXT NOT NULL,
    scope                 TEXT NOT NULL DEFAULT '',
    zoom_user_id          TEXT NOT NULL,
    zoom_email            TEXT NOT NULL,
    zoom_account_id       TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);

CREATE INDEX oauth_tokens_by_expiry ON oauth_tokens (access_expires_at);
