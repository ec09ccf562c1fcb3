-- The audit journal may live in the log beside the database (src/log.rs, issue 20). A row here
-- says it does, and holds the last log sequence number every committed state transaction may
-- depend on: a record after it that depends on its transaction is void at recovery.
CREATE TABLE journal_applied (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);

-- Log sequence numbers of events whose state transaction never committed: readers skip them.
CREATE TABLE journal_void (
    seq INTEGER PRIMARY KEY
);
