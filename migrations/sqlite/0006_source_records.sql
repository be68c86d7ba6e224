-- Vendor deliveries: what each source record last was, which FHIR resource
-- each of its parts became, and the records that could not be mapped.
-- Keep in step with migrations/postgres.

-- One row per source record (tenant, vendor, kind, source id): the state
-- the order rule compares a newer delivery with, inside the write.
CREATE TABLE source_record (
    tenant        TEXT NOT NULL,
    vendor        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    source_id     TEXT NOT NULL,
    client_source TEXT,             -- the source id of its client
    changed_at    BIGINT NOT NULL,  -- ms: when it changed at the source
    delivered_at  BIGINT NOT NULL,  -- ms: when the delivery it came in was made
    state         TEXT NOT NULL,    -- written | deleted | skipped
    content_hash  TEXT,             -- SHA-256 of what it mapped to
    PRIMARY KEY (tenant, vendor, kind, source_id)
);
CREATE INDEX source_record_by_client ON source_record (tenant, vendor, client_source);

-- The FHIR resource of each part of a source record. Logical ids are
-- random: never derived from a source id or a BSN.
CREATE TABLE source_identity (
    tenant        TEXT NOT NULL,
    vendor        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    source_id     TEXT NOT NULL,
    part          TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    PRIMARY KEY (tenant, vendor, kind, source_id, part)
);

-- Records a delivery held that could not be mapped, kept whole to be
-- replayed after the mapping or the data is fixed.
CREATE TABLE ingest_reject (
    pk INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    tenant        TEXT NOT NULL,
    vendor        TEXT NOT NULL,
    delivery      TEXT NOT NULL,    -- the delivery's name (its file)
    delivered_at  BIGINT NOT NULL,  -- ms: when the delivery was made
    envelope      TEXT NOT NULL,    -- JSON: the delivery without its record lists
    kind          TEXT NOT NULL,
    source_id     TEXT,
    field         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    record        TEXT NOT NULL,    -- JSON: the record as delivered
    parent        TEXT,             -- JSON: the record it is nested in, without its lists
    rejected_at   BIGINT NOT NULL,
    resolved_at   BIGINT,           -- when a replay or a later delivery wrote it
    resolution    TEXT
);
CREATE INDEX ingest_reject_open ON ingest_reject (tenant, resolved_at);
CREATE INDEX ingest_reject_by_record ON ingest_reject (tenant, vendor, kind, source_id);
