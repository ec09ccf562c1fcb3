-- The lookup index's lists now hold at most 256 events a row and include lists of event IDs by
-- their last character (src/journal_index.rs). Lists written before are dropped and the
-- store rebuilds them from the journal when it opens.
DELETE FROM journal_lookup;
UPDATE journal_indexed SET seq = 0;
