-- A search snapshot keeps its ordered result as one list of resource keys,
-- written in one row, instead of one row per entry. Snapshots are
-- short-lived: the ones still open are dropped (their next links answer 410).
DELETE FROM search_snapshot;
DROP TABLE search_snapshot_entry;
ALTER TABLE search_snapshot ADD COLUMN entries TEXT NOT NULL DEFAULT ''; -- keys, comma separated, in order

-- Searches start from their most selective clause and probe the others per
-- resource: these indexes answer such a probe without reading the table.
DROP INDEX search_token_by_resource;
CREATE INDEX search_token_by_resource ON search_token (resource_pk, param, code, system);
DROP INDEX search_reference_by_resource;
CREATE INDEX search_reference_by_resource ON search_reference (resource_pk, param, target_id, target_type);
DROP INDEX search_date_by_resource;
CREATE INDEX search_date_by_resource ON search_date (resource_pk, param, low, high);
DROP INDEX search_string_by_resource;
CREATE INDEX search_string_by_resource ON search_string (resource_pk, param);
