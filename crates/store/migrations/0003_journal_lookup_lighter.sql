-- Every index on the journal is maintained by every call's append, inside the group commit.
-- The index on event IDs (random UUIDs) dirtied a random page per event and halved durable
-- write throughput (CreateUser 21.7k/s → 10.5k/s, docs/PERFORMANCE.md); the read-only flag
-- (half the events either way) is as well served by the time index with a filter. An EventId
-- lookup now scans the account's time index within its time range.
DROP INDEX IF EXISTS journal_by_event_id;
DROP INDEX IF EXISTS journal_by_read_only;
