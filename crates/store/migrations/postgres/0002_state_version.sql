-- Counts commits that changed documents, whichever node made them (issue 21, several nodes on
-- one database). A writing transaction that put or deleted documents adds one just before its
-- COMMIT, so a node that reads a new value knows every change behind it is committed and
-- drops what it cached of stored state (credentials, compiled policies, guardrails).
CREATE TABLE state_version (
    one     BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    version BIGINT NOT NULL
);
INSERT INTO state_version (one, version) VALUES (TRUE, 0);
