-- The journal's lookup indexes were maintained by every call's append inside the group commit,
-- and cost about a third of durable write throughput (docs/PERFORMANCE.md). An append now
-- writes the journal row alone (its searchable attributes stay plain columns, the resources
-- join them as JSON); the writer thread copies attributes into journal_lookup afterwards, many
-- events per transaction (src/journal_index.rs), and journal_indexed records how far it got.
-- Lookups read the index up to that point and scan the journal after it.
DROP INDEX IF EXISTS journal_by_time;
DROP INDEX IF EXISTS journal_by_event_name;
DROP INDEX IF EXISTS journal_by_event_source;
DROP INDEX IF EXISTS journal_by_username;
DROP INDEX IF EXISTS journal_by_access_key_id;

ALTER TABLE journal ADD COLUMN resources TEXT;
UPDATE journal SET resources = (
    SELECT json_group_array(json_array(r.resource_type, r.resource_name))
    FROM journal_resources r WHERE r.seq = journal.seq)
WHERE seq IN (SELECT seq FROM journal_resources);
DROP TABLE journal_resources;

-- Posting lists: for each (account, attribute, value), one row per indexing batch listing the
-- events of that batch that have the value, as 16-byte (event_time, seq) entries in order.
-- Attribute 0 (value '') lists every event: the time lists.
CREATE TABLE journal_lookup (
    account   TEXT NOT NULL,
    attribute INTEGER NOT NULL,
    value     TEXT NOT NULL,
    max_time  INTEGER NOT NULL, -- the newest event's time
    last_seq  INTEGER NOT NULL, -- the highest seq listed
    min_time  INTEGER NOT NULL, -- the oldest event's time
    entries   BLOB NOT NULL,
    PRIMARY KEY (account, attribute, value, max_time, last_seq)
) WITHOUT ROWID;

-- The last journal seq whose event is in journal_lookup. Existing events are indexed when the
-- store opens.
CREATE TABLE journal_indexed (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO journal_indexed (id, seq) VALUES (1, 0);
