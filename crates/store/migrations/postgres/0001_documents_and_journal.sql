-- Every service's state: namespaced documents, keyed within the namespace. COLLATE "C" makes
-- keys sort bytewise, as the Store contract's scans require (and as SQLite sorts them).
CREATE TABLE documents (
    ns    TEXT COLLATE "C" NOT NULL,
    key   TEXT COLLATE "C" NOT NULL,
    value BYTEA NOT NULL,
    PRIMARY KEY (ns, key)
);

-- The journal's last sequence number. A writing transaction locks this row at its first
-- append (SELECT ... FOR UPDATE), numbers its events from it, and writes the last number back
-- before COMMIT: a number is never skipped (a rolled-back append gives its number back) and,
-- since the row stays locked until COMMIT, numbers become visible in order, whichever node
-- appends.
CREATE TABLE journal_head (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    seq BIGINT NOT NULL
);
INSERT INTO journal_head (one, seq) VALUES (TRUE, 0);

-- The audit journal, append-only, with the attributes LookupEvents searches by.
CREATE TABLE journal (
    seq           BIGINT PRIMARY KEY,
    event         BYTEA NOT NULL,
    event_time    BIGINT NOT NULL,
    account       TEXT COLLATE "C",
    event_id      TEXT COLLATE "C",
    event_name    TEXT COLLATE "C",
    event_source  TEXT COLLATE "C",
    username      TEXT COLLATE "C",
    access_key_id TEXT COLLATE "C",
    read_only     BOOLEAN NOT NULL
);

-- One index per lookup attribute, each ending in (event_time, seq) so a page newest first is
-- an index scan backwards that stops at the page's size. Events of no account are never
-- looked up, so they are left out.
CREATE INDEX journal_by_time ON journal (account, event_time, seq)
    WHERE account IS NOT NULL;
CREATE INDEX journal_by_event_id ON journal (account, event_id, event_time, seq)
    WHERE account IS NOT NULL;
CREATE INDEX journal_by_event_name ON journal (account, event_name, event_time, seq)
    WHERE account IS NOT NULL;
CREATE INDEX journal_by_event_source ON journal (account, event_source, event_time, seq)
    WHERE account IS NOT NULL;
CREATE INDEX journal_by_username ON journal (account, username, event_time, seq)
    WHERE account IS NOT NULL;
CREATE INDEX journal_by_access_key_id ON journal (account, access_key_id, event_time, seq)
    WHERE account IS NOT NULL;
CREATE INDEX journal_by_read_only ON journal (account, read_only, event_time, seq)
    WHERE account IS NOT NULL;

-- The resources each event names (of events with an account), for lookups by resource type
-- or name. Written in the same statement as the event, so no foreign key is checked.
CREATE TABLE journal_resources (
    seq        BIGINT NOT NULL,
    account    TEXT COLLATE "C" NOT NULL,
    event_time BIGINT NOT NULL,
    type       TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL
);
CREATE INDEX journal_resources_by_type ON journal_resources (account, type, event_time, seq);
CREATE INDEX journal_resources_by_name ON journal_resources (account, name, event_time, seq);
