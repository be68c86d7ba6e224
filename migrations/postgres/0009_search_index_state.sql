-- Which extraction made the rows of the search index tables, and how far
-- a rebuild of them has come. Index rows are computed in Rust
-- (fhir::index) when a version is written; a gateway whose extraction has
-- another fingerprint rebuilds them from the stored resources when it
-- opens the database (store/reindex.rs), one batch of resources per
-- transaction, so that a rebuild killed halfway resumes where it stopped.
-- Keep in step with migrations/sqlite.
--
-- The rows already here were made by an earlier version (before 0003
-- without the :text and :exact columns, which that migration left empty):
-- their fingerprint is unknown, so the first gateway to open the database
-- rebuilds them.
CREATE TABLE search_index_state (
    id               INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version          BIGINT NOT NULL,  -- the version of the extraction the rows hold (0: unknown)
    fingerprint      TEXT NOT NULL,    -- its fingerprint ('': unknown)
    building         TEXT,             -- the fingerprint a rebuild in progress writes; NULL when none
    building_version BIGINT,
    done_to          BIGINT NOT NULL   -- that rebuild has rewritten the resources with keys up to this one
);
INSERT INTO search_index_state (id, version, fingerprint, building, building_version, done_to)
VALUES (1, 0, '', NULL, NULL, 0);
