-- Search snapshots: the ordered result of a search as of its first page,
-- so that following next links never repeats or skips a record.
CREATE TABLE search_snapshot (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    total         BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL  -- ms since the epoch
);
CREATE INDEX search_snapshot_by_expiry ON search_snapshot (expires_at);

CREATE TABLE search_snapshot_entry (
    snapshot_id TEXT NOT NULL,
    position    BIGINT NOT NULL,   -- from 1, in the search's order
    resource_pk BIGINT NOT NULL,
    PRIMARY KEY (snapshot_id, position)
);
