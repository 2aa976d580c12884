-- Progress (migrated of total) is read on every /deadlines and reminder; keeping the two
-- numbers current with triggers makes that a one-row read instead of a table scan.
CREATE TABLE connection_counts (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    total    INTEGER NOT NULL,
    migrated INTEGER NOT NULL
);

INSERT INTO connection_counts (id, total, migrated)
SELECT 1, COUNT(*), COALESCE(SUM(state = 'migrated'), 0) FROM connections;

CREATE TRIGGER connection_counts_after_insert AFTER INSERT ON connections
BEGIN
    UPDATE connection_counts SET total = total + 1, migrated = migrated + (NEW.state = 'migrated') WHERE id = 1;
END;

CREATE TRIGGER connection_counts_after_delete AFTER DELETE ON connections
BEGIN
    UPDATE connection_counts SET total = total - 1, migrated = migrated - (OLD.state = 'migrated') WHERE id = 1;
END;

CREATE TRIGGER connection_counts_after_update AFTER UPDATE OF state ON connections
BEGIN
    UPDATE connection_counts
    SET migrated = migrated - (OLD.state = 'migrated') + (NEW.state = 'migrated')
    WHERE id = 1;
END;
