-- A Pluriform representative is one source record per client (the
-- Pluriform mapping's version 2): its source id was its `relatienummer`
-- alone, so that a representative of two clients was one RelatedPerson
-- whose patient moved with each delivery; it is now the relatienummer
-- within the client, `R-2001@100234` (the mapping engine's `within`: `%`
-- and `@` percent-encoded in both). The stored records take the new key,
-- so that a delivery after the upgrade finds them, and keeps their
-- resources, instead of writing a second RelatedPerson: a record keeps its
-- client (the one it was last written for); its resources' identities and
-- kept mapped records follow it; a rejected record takes the client it was
-- nested in. Data only. Keep in step with migrations/postgres.

-- The new key of every representative record with a client.
CREATE TEMPORARY TABLE representative_key AS
SELECT tenant, source_id AS old_id,
       REPLACE(REPLACE(source_id, '%', '%25'), '@', '%40') || '@'
           || REPLACE(REPLACE(client_source, '%', '%25'), '@', '%40') AS new_id
FROM source_record
WHERE vendor = 'pluriform' AND kind = 'vertegenwoordiger'
  AND client_source IS NOT NULL AND TRIM(client_source) <> '';

UPDATE source_identity
SET source_id = (SELECT k.new_id FROM representative_key k
                 WHERE k.tenant = source_identity.tenant AND k.old_id = source_identity.source_id)
WHERE vendor = 'pluriform' AND kind = 'vertegenwoordiger'
  AND source_id IN (SELECT k.old_id FROM representative_key k WHERE k.tenant = source_identity.tenant);

-- The shipped mapping keeps none, but a mapping may (a record that amends
-- a representative's, or takes its client through one).
UPDATE source_linked
SET source_id = (SELECT k.new_id FROM representative_key k
                 WHERE k.tenant = source_linked.tenant AND k.old_id = source_linked.source_id)
WHERE vendor = 'pluriform' AND kind = 'vertegenwoordiger'
  AND source_id IN (SELECT k.old_id FROM representative_key k WHERE k.tenant = source_linked.tenant);
UPDATE source_linked
SET link_id = (SELECT k.new_id FROM representative_key k
               WHERE k.tenant = source_linked.tenant AND k.old_id = source_linked.link_id)
WHERE vendor = 'pluriform' AND link_kind = 'vertegenwoordiger'
  AND link_id IN (SELECT k.old_id FROM representative_key k WHERE k.tenant = source_linked.tenant);
UPDATE source_linked
SET amends_id = (SELECT k.new_id FROM representative_key k
                 WHERE k.tenant = source_linked.tenant AND k.old_id = source_linked.amends_id)
WHERE vendor = 'pluriform' AND amends_kind = 'vertegenwoordiger'
  AND amends_id IN (SELECT k.old_id FROM representative_key k WHERE k.tenant = source_linked.tenant);

UPDATE source_record
SET source_id = (SELECT k.new_id FROM representative_key k
                 WHERE k.tenant = source_record.tenant AND k.old_id = source_record.source_id)
WHERE vendor = 'pluriform' AND kind = 'vertegenwoordiger'
  AND source_id IN (SELECT k.old_id FROM representative_key k WHERE k.tenant = source_record.tenant);

DROP TABLE representative_key;

-- A rejected representative: the client it was nested in (kept with it),
-- so that the delivery that writes it, or a replay, closes it.
UPDATE ingest_reject
SET source_id = REPLACE(REPLACE(source_id, '%', '%25'), '@', '%40') || '@'
    || REPLACE(REPLACE(CAST(json_extract(parent, '$.clientnummer') AS TEXT), '%', '%25'), '@', '%40')
WHERE vendor = 'pluriform' AND kind = 'vertegenwoordiger' AND source_id IS NOT NULL
  AND json_valid(parent)
  AND json_type(parent, '$.clientnummer') IN ('text', 'integer', 'real')
  AND TRIM(CAST(json_extract(parent, '$.clientnummer') AS TEXT)) <> '';
