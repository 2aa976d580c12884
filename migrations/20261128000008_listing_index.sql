-- The default listing (connections still to switch, by name) read in index order: no
-- sort of every unmigrated row, and the count from the index alone.
CREATE INDEX connections_unmigrated_by_name ON connections (name COLLATE NOCASE, id)
    WHERE removed_at IS NULL AND state != 'migrated';
