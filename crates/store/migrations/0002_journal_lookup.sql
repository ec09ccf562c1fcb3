-- What LookupEvents searches, copied out of each event when it is appended, so a lookup over
-- millions of events walks an index instead of parsing JSON. Events appended before this
-- migration get the same columns from their JSON (SQLite's JSON1 and unixepoch()).
ALTER TABLE journal ADD COLUMN event_time INTEGER;
ALTER TABLE journal ADD COLUMN account TEXT;
ALTER TABLE journal ADD COLUMN event_id TEXT;
ALTER TABLE journal ADD COLUMN event_name TEXT;
ALTER TABLE journal ADD COLUMN event_source TEXT;
ALTER TABLE journal ADD COLUMN username TEXT;
ALTER TABLE journal ADD COLUMN access_key_id TEXT;
ALTER TABLE journal ADD COLUMN read_only INTEGER;

UPDATE journal SET
    event_time = unixepoch(json_extract(event, '$.eventTime')),
    account = json_extract(event, '$.recipientAccountId'),
    event_id = json_extract(event, '$.eventID'),
    event_name = json_extract(event, '$.eventName'),
    event_source = json_extract(event, '$.eventSource'),
    username = COALESCE(json_extract(event, '$.userIdentity.userName'),
                        CASE json_extract(event, '$.userIdentity.type')
                            WHEN 'Root' THEN 'root' END),
    access_key_id = json_extract(event, '$.userIdentity.accessKeyId'),
    read_only = json_extract(event, '$.readOnly')
WHERE json_valid(event);

-- Newest first within an account, optionally narrowed by one attribute and a time range: each
-- index ends with (event_time, seq), the order and the pagination cursor of a lookup.
CREATE INDEX journal_by_time ON journal (account, event_time, seq);
CREATE INDEX journal_by_event_id ON journal (account, event_id, event_time, seq);
CREATE INDEX journal_by_event_name ON journal (account, event_name, event_time, seq);
CREATE INDEX journal_by_event_source ON journal (account, event_source, event_time, seq);
CREATE INDEX journal_by_username ON journal (account, username, event_time, seq);
CREATE INDEX journal_by_access_key_id ON journal (account, access_key_id, event_time, seq);
CREATE INDEX journal_by_read_only ON journal (account, read_only, event_time, seq);

-- The resources an event names (type and name), one row each, for the ResourceType and
-- ResourceName lookups.
CREATE TABLE journal_resources (
    seq           INTEGER NOT NULL REFERENCES journal (seq),
    account       TEXT,
    event_time    INTEGER,
    resource_type TEXT NOT NULL,
    resource_name TEXT NOT NULL
);
CREATE INDEX journal_resources_by_type
    ON journal_resources (account, resource_type, event_time, seq);
CREATE INDEX journal_resources_by_name
    ON journal_resources (account, resource_name, event_time, seq);
