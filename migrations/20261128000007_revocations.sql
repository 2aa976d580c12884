-- Token sets to revoke at Zoom: a connection switched again (to another Zoom app or
-- another Zoom user) or removed leaves its old tokens here, moved in the transaction
-- that replaced or removed them, so a crash cannot lose one. The refresh scheduler
-- revokes them, retrying while Zoom cannot be reached. No foreign key: the row outlives
-- a removed connection. The sealed values keep the identity they had in oauth_tokens.
CREATE TABLE token_revocations (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id         TEXT NOT NULL,
    client_id             TEXT NOT NULL,
    client_secret_sealed  BLOB NOT NULL,
    access_token_sealed   BLOB NOT NULL,
    refresh_token_sealed  BLOB,
    reason                TEXT NOT NULL,
    queued_at             TEXT NOT NULL,
    tries                 INTEGER NOT NULL DEFAULT 0,
    next_try_at           TEXT NOT NULL,
    last_error            TEXT
);

CREATE INDEX token_revocations_due ON token_revocations (next_try_at);

-- One refresh at a time per token set, across every cutover on this database: a round
-- claims the set until this time before it sends the refresh token (Zoom rotates it, so a
-- second use would be refused and taken for a revoked grant). Cleared when it is done.
ALTER TABLE oauth_tokens ADD COLUMN refresh_claimed_until TEXT;
