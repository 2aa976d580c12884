-- integrator.io. Connections gain the state "awaiting authorization" (switched to OAuth 2.0
-- in integrator.io, not yet authorized, as Celigo's UI leaves it), a mark for those gone
-- from integrator.io (kept, out of the default lists), integrator.io's offline flag, the way
-- each was switched, and the iClient cutover put on it. Attempts gain a backend: a `celigo`
-- attempt keeps no client secret (integrator.io holds it) and is watched once opened.
--
-- SQLite cannot change a CHECK constraint in place, so the three tables are rebuilt. The
-- children are copied aside and dropped first, so that dropping the old connections table
-- cascades into nothing (PRAGMA foreign_keys cannot be turned off inside the migration's
-- transaction).

CREATE TABLE attempts_copy AS SELECT * FROM migration_attempts;
CREATE TABLE tokens_copy AS SELECT * FROM oauth_tokens;
-- Attempt numbers ("link #N") are never reused, even past the newest row: keep the counter.
CREATE TABLE sequence_copy AS SELECT seq FROM sqlite_sequence WHERE name = 'migration_attempts';
DROP TABLE oauth_tokens;
DROP TABLE migration_attempts;

CREATE TABLE connections_next (
    id                 TEXT PRIMARY KEY NOT NULL,
    name               TEXT NOT NULL CHECK (length(trim(name)) > 0),
    integration        TEXT NOT NULL DEFAULT '',
    owner_id           TEXT,
    auth_type          TEXT NOT NULL CHECK (auth_type IN ('jwt', 'oauth2')),
    state              TEXT NOT NULL
                       CHECK (state IN ('pending', 'awaiting_authorization', 'migrated', 'needs_reauthorization')),
    source             TEXT NOT NULL CHECK (source IN ('import', 'celigo', 'chat')),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    migrated_by        TEXT,
    migrated_at        TEXT,
    -- How it reached OAuth 2.0: cutover's direct switch (integrator.io unchanged), cutover's
    -- switch in integrator.io, someone in integrator.io, or an inventory that said so.
    migrated_via       TEXT CHECK (migrated_via IN ('direct', 'celigo', 'integrator.io', 'inventory')),
    -- integrator.io's `offline`; NULL when not known (imports, or absent in the API).
    offline            INTEGER CHECK (offline IN (0, 1)),
    removed_at         TEXT,
    celigo_iclient_id  TEXT,
    -- On JWT it is pending; on OAuth 2.0 it awaits authorization, is migrated, or needs
    -- re-authorization.
    CHECK ((auth_type = 'jwt') = (state = 'pending'))
);

INSERT INTO connections_next (id, name, integration, owner_id, auth_type, state, source, created_at,
                              updated_at, migrated_by, migrated_at, migrated_via)
SELECT id, name, integration, owner_id, auth_type, state, source, created_at, updated_at, migrated_by,
       migrated_at,
       CASE WHEN auth_type = 'jwt' THEN NULL
            WHEN EXISTS (SELECT 1 FROM tokens_copy t WHERE t.connection_id = connections.id) THEN 'direct'
            ELSE 'inventory' END
FROM connections;

DROP TABLE connections;
ALTER TABLE connections_next RENAME TO connections;

CREATE INDEX connections_by_state ON connections (state, name, id);
CREATE INDEX connections_by_owner ON connections (owner_id, state, name, id);

CREATE TABLE migration_attempts (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id         TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    user_id               TEXT NOT NULL,
    backend               TEXT NOT NULL DEFAULT 'direct' CHECK (backend IN ('direct', 'celigo')),
    state_hash            BLOB NOT NULL UNIQUE,
    client_id             TEXT NOT NULL,
    client_secret_sealed  BLOB,
    pkce_verifier_sealed  BLOB,
    -- celigo: the iClient this attempt created in integrator.io.
    iclient_id            TEXT,
    -- preparing (celigo: integrator.io being changed) → issued (the link is out) →
    -- exchanging (direct: the code being exchanged) or watching (celigo: opened, pinging)
    -- → completed | failed | voided | expired.
    status                TEXT NOT NULL
                          CHECK (status IN ('preparing', 'issued', 'exchanging', 'watching', 'completed',
                                            'failed', 'voided', 'expired')),
    outcome               TEXT,
    created_at            TEXT NOT NULL,
    expires_at            TEXT NOT NULL,
    finished_at           TEXT,
    reply_application_id  TEXT,
    reply_token_sealed    BLOB,
    opened_at             TEXT,
    watch_until           TEXT,
    CHECK (backend = 'celigo' OR (client_secret_sealed IS NOT NULL AND pkce_verifier_sealed IS NOT NULL))
);

INSERT INTO migration_attempts (id, connection_id, user_id, backend, state_hash, client_id, client_secret_sealed,
                                pkce_verifier_sealed, status, outcome, created_at, expires_at, finished_at,
                                reply_application_id, reply_token_sealed)
SELECT id, connection_id, user_id, 'direct', state_hash, client_id, client_secret_sealed, pkce_verifier_sealed,
       status, outcome, created_at, expires_at, finished_at, reply_application_id, reply_token_sealed
FROM attempts_copy;

UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT seq FROM sequence_copy))
WHERE name = 'migration_attempts' AND EXISTS (SELECT 1 FROM sequence_copy);
INSERT INTO sqlite_sequence (name, seq)
SELECT 'migration_attempts', seq FROM sequence_copy
WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'migration_attempts');

-- At most one live link per connection: the schema decides races between two submits.
CREATE UNIQUE INDEX one_live_attempt_per_connection
    ON migration_attempts (connection_id) WHERE status IN ('preparing', 'issued', 'exchanging', 'watching');
CREATE INDEX migration_attempts_by_connection ON migration_attempts (connection_id, id);
CREATE INDEX migration_attempts_watching ON migration_attempts (status) WHERE status IN ('preparing', 'watching');

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

INSERT INTO oauth_tokens SELECT * FROM tokens_copy;
CREATE INDEX oauth_tokens_by_expiry ON oauth_tokens (access_expires_at);

DROP TABLE attempts_copy;
DROP TABLE tokens_copy;
DROP TABLE sequence_copy;

-- Progress counts only connections still in integrator.io (or never from it).
CREATE TRIGGER connection_counts_after_insert AFTER INSERT ON connections
BEGIN
    UPDATE connection_counts
    SET total = total + (NEW.removed_at IS NULL),
        migrated = migrated + (NEW.removed_at IS NULL AND NEW.state = 'migrated')
    WHERE id = 1;
END;

CREATE TRIGGER connection_counts_after_delete AFTER DELETE ON connections
BEGIN
    UPDATE connection_counts
    SET total = total - (OLD.removed_at IS NULL),
        migrated = migrated - (OLD.removed_at IS NULL AND OLD.state = 'migrated')
    WHERE id = 1;
END;

CREATE TRIGGER connection_counts_after_update AFTER UPDATE OF state, removed_at ON connections
BEGIN
    UPDATE connection_counts
    SET total = total - (OLD.removed_at IS NULL) + (NEW.removed_at IS NULL),
        migrated = migrated - (OLD.removed_at IS NULL AND OLD.state = 'migrated')
                            + (NEW.removed_at IS NULL AND NEW.state = 'migrated')
    WHERE id = 1;
END;

UPDATE connection_counts
SET total = (SELECT COUNT(*) FROM connections WHERE removed_at IS NULL),
    migrated = (SELECT COUNT(*) FROM connections WHERE removed_at IS NULL AND state = 'migrated')
WHERE id = 1;
