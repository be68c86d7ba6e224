-- The versioned FHIR store (PostgreSQL). Keep in step with migrations/sqlite.

-- One row per tenant: the change counter. Incrementing it takes the write
-- lock, so change numbers follow commit order.
CREATE TABLE tenant (
    code        TEXT PRIMARY KEY NOT NULL,
    last_change BIGINT NOT NULL DEFAULT 0
);

-- The current version of every resource (tombstones included).
CREATE TABLE resource (
    pk            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    id            TEXT NOT NULL,
    version       BIGINT NOT NULL,
    change_no     BIGINT NOT NULL,
    last_updated  BIGINT NOT NULL, -- milliseconds since the Unix epoch
    deleted       BOOLEAN NOT NULL,
    client_id     TEXT,             -- the Patient compartment
    category      TEXT NOT NULL,    -- data category (access model)
    content_hash  TEXT,
    content       TEXT,             -- NULL when deleted
    UNIQUE (tenant, resource_type, id)
);
CREATE INDEX resource_by_type ON resource (tenant, resource_type, deleted);
CREATE INDEX resource_by_client ON resource (tenant, client_id, category);
CREATE INDEX resource_by_change ON resource (tenant, change_no);

-- Every version, including the current one and deletions.
CREATE TABLE resource_version (
    resource_pk  BIGINT NOT NULL REFERENCES resource (pk),
    version      BIGINT NOT NULL,
    tenant       TEXT NOT NULL,
    change_no    BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    client_id    TEXT,
    category     TEXT NOT NULL,
    content      TEXT,              -- NULL for a deletion
    PRIMARY KEY (resource_pk, version)
);
CREATE INDEX resource_version_by_change ON resource_version (tenant, change_no);

-- Search values of current versions, extracted at write time.
CREATE TABLE search_token (
    resource_pk   BIGINT NOT NULL REFERENCES resource (pk),
    tenant        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    param         TEXT NOT NULL,
    system        TEXT NOT NULL,    -- '' when the value has none
    code          TEXT NOT NULL
);
CREATE INDEX search_token_lookup ON search_token (tenant, resource_type, param, code, system, resource_pk);
CREATE INDEX search_token_by_resource ON search_token (resource_pk);

CREATE TABLE search_reference (
    resource_pk   BIGINT NOT NULL REFERENCES resource (pk),
    tenant        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    param         TEXT NOT NULL,
    target_type   TEXT NOT NULL,
    target_id     TEXT NOT NULL
);
CREATE INDEX search_reference_lookup ON search_reference (tenant, resource_type, param, target_id, target_type, resource_pk);
CREATE INDEX search_reference_by_resource ON search_reference (resource_pk);

CREATE TABLE search_date (
    resource_pk   BIGINT NOT NULL REFERENCES resource (pk),
    tenant        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    param         TEXT NOT NULL,
    low           BIGINT NOT NULL, -- inclusive, ms since the epoch
    high          BIGINT NOT NULL  -- exclusive
);
CREATE INDEX search_date_lookup ON search_date (tenant, resource_type, param, low, high, resource_pk);
CREATE INDEX search_date_by_resource ON search_date (resource_pk, param);

CREATE TABLE search_string (
    resource_pk   BIGINT NOT NULL REFERENCES resource (pk),
    tenant        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    param         TEXT NOT NULL,
    value         TEXT NOT NULL     -- lower case, without diacritics
);
CREATE INDEX search_string_lookup ON search_string (tenant, resource_type, param, value, resource_pk);
CREATE INDEX search_string_by_resource ON search_string (resource_pk);

-- Access tokens: only their SHA-256 is stored.
CREATE TABLE access_token (
    token_hash TEXT PRIMARY KEY NOT NULL,
    tenant     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    client_id  TEXT,
    scope      TEXT NOT NULL,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked    BOOLEAN NOT NULL DEFAULT FALSE
);
