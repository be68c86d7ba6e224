-- A version's JSON is stored once: the current version's in `resource`,
-- earlier ones in `resource_version` (writer.rs moves it there when a newer
-- version replaces it). Version rows of current versions lose their copy.
-- Keep in step with the other dialect.
UPDATE resource_version SET content = NULL
WHERE content IS NOT NULL
  AND version = (SELECT r.version FROM resource r WHERE r.pk = resource_version.resource_pk);
