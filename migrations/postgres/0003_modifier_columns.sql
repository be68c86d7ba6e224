-- For the :text modifier on tokens (display or concept text, normalised)
-- and :exact on strings (the value as written).
ALTER TABLE search_token ADD COLUMN text TEXT;
ALTER TABLE search_string ADD COLUMN exact TEXT NOT NULL DEFAULT '';
