-- Records whose client comes through another record (MijnEigenPlan events
-- through their account: `linked(kind)` in a mapping), and records that
-- amend another record's resources (`amends`). They are kept as mapped,
-- so that the writer can write them again when the link appears or
-- changes, when their client arrives in another vendor's delivery, or when
-- what amends them changes. Keep in step with the other database's file.
CREATE TABLE source_linked (
    tenant          TEXT NOT NULL,
    vendor          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    source_id       TEXT NOT NULL,
    link_kind       TEXT NOT NULL,     -- the record its client comes through
    link_id         TEXT NOT NULL,
    amends_kind     TEXT,              -- the record whose resources it amends
    amends_id       TEXT,
    changed_at      BIGINT NOT NULL,   -- ms: when it changed at the source
    held            BOOLEAN NOT NULL,  -- waiting for its client: nothing of it is written
    resources       TEXT NOT NULL,     -- JSON: the mapped resources, [{part, resourceType, resource}]
    delivery        TEXT NOT NULL,     -- the delivery it came in (its name)
    delivery_made   TEXT NOT NULL,     -- when that delivery was made (as it says)
    mapping_version TEXT NOT NULL,
    PRIMARY KEY (tenant, vendor, kind, source_id)
);
CREATE INDEX source_linked_by_link ON source_linked (tenant, vendor, link_kind, link_id);
CREATE INDEX source_linked_by_target ON source_linked (tenant, vendor, amends_kind, amends_id);
CREATE INDEX source_linked_held ON source_linked (tenant, held);

-- A client by its source id, whichever vendor delivered it: what a link
-- resolves to.
CREATE INDEX source_identity_clients ON source_identity (tenant, source_id)
    WHERE part = '' AND resource_type = 'Patient';
