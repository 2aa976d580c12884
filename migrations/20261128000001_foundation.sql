-- The foundation: connections, admin-added deadlines, migration attempts, audit log.
-- Times are RFC 3339 UTC text; Discord ids are decimal text (they exceed SQLite's
-- signed 64-bit range in theory, and text keeps them exact).

CREATE TABLE connections (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL CHECK (length(trim(name)) > 0),
    integration  TEXT NOT NULL DEFAULT '',
    owner_id     TEXT,
    auth_type    TEXT NOT NULL CHECK (auth_type IN ('jwt', 'oauth2')),
    state        TEXT NOT NULL CHECK (state IN ('pending', 'migrated', 'needs_reauthorization')),
    source       TEXT NOT NULL CHECK (source IN ('import', 'celigo', 'chat')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    migrated_by  TEXT,
    migrated_at  TEXT,
    -- A connection on JWT is pending; one on OAuth 2.0 is migrated or needs re-authorization.
    CHECK ((auth_type = 'jwt') = (state = 'pending'))
);

CREATE INDEX connections_by_state ON connections (state, name, id);
CREATE INDEX connections_by_owner ON connections (owner_id, state, name, id);

CREATE TABLE deadlines (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT NOT NULL CHECK (length(trim(title)) > 0),
    due_at      TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    approximate INTEGER NOT NULL DEFAULT 0 CHECK (approximate IN (0, 1)),
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- One personal authorization link and what became of it. The `state` parameter is only
-- stored as a hash; the client secret and the PKCE verifier only sealed.
CREATE TABLE migration_attempts (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id         TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    user_id               TEXT NOT NULL,
    state_hash            BLOB NOT NULL UNIQUE,
    client_id             TEXT NOT NULL,
    client_secret_sealed  BLOB NOT NULL,
    pkce_verifier_sealed  BLOB NOT NULL,
    status                TEXT NOT NULL
                          CHECK (status IN ('issued', 'exchanging', 'completed', 'failed', 'voided', 'expired')),
    outcome               TEXT,
    created_at            TEXT NOT NULL,
    expires_at            TEXT NOT NULL,
    finished_at           TEXT
);

-- At most one live link per connection: the schema decides races between two submits.
CREATE UNIQUE INDEX one_live_attempt_per_connection
    ON migration_attempts (connection_id) WHERE status IN ('issued', 'exchanging');

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    connection_id TEXT,
    detail        TEXT NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_by_connection ON audit_log (connection_id, id);
