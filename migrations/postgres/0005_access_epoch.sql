-- Revoking a token bumps the epoch in the same transaction, so that a
-- server's token cache can tell with one small read that nothing it holds
-- was revoked since (also when the revocation came from another process).
CREATE TABLE access_epoch (
    id    INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    epoch BIGINT NOT NULL
);
INSERT INTO access_epoch (id, epoch) VALUES (1, 0);
