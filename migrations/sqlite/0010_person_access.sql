-- A person token names the client in context (`patient`); its user is the
-- subject (`Patient/ID` or `RelatedPerson/ID`).
ALTER TABLE access_token ADD COLUMN patient TEXT;

-- Directory entries (practitioners, organisations) are visible to a person
-- through the records that refer to them: looked up by target.
CREATE INDEX search_reference_by_target ON search_reference (tenant, target_type, target_id);

-- A search snapshot belongs to the visibility it was made with (a digest):
-- another principal cannot page through it.
ALTER TABLE search_snapshot ADD COLUMN owner TEXT NOT NULL DEFAULT '';

-- The access epoch per tenant: revoking a token in one tenant leaves the
-- caches of the others alone.
ALTER TABLE tenant ADD COLUMN access_epoch BIGINT NOT NULL DEFAULT 0;
DROP TABLE access_epoch;
