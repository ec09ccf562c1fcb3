//! The journal's lookup index, kept off the commit path.
//!
//! An append writes one journal row (the event and its searchable attributes as plain columns,
//! no secondary index), so a call's durable append costs one B-tree insert at the end of one
//! table. The writer thread indexes committed events afterwards, many per transaction, and
//! records how far it got in `journal_indexed` in the same transaction. A lookup reads the index
//! up to that watermark and scans the journal rows after it (the tail, a few thousand at most),
//! so an event is found as soon as its append is committed, and after a crash the index is
//! caught up from the journal.
//!
//! The index holds posting lists: one `journal_lookup` row per (account, attribute, value) and
//! indexing batch, listing the (event time, seq) of every event of the batch that has that
//! value. A batch of calls by one caller (one user, key, operation, source) adds a handful of
//! rows, where one row per event and attribute cost several B-tree inserts per event.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};

use crate::log::LogShared;
use crate::log_record::LogEvent;
use crate::sqlite::run_cached;
use crate::{JournalAttribute, JournalEntry, JournalHit, JournalQuery, StoreError};

/// `journal_lookup.attribute`: what a list narrows by. Every event is in its account's time
/// list (value `''`), which serves lookups without an attribute.
const BY_TIME: i64 = 0;
const BY_EVENT_NAME: i64 = 1;
const BY_EVENT_SOURCE: i64 = 2;
const BY_USERNAME: i64 = 3;
const BY_ACCESS_KEY_ID: i64 = 4;
const BY_READ_ONLY: i64 = 5;
const BY_RESOURCE_TYPE: i64 = 6;
const BY_RESOURCE_NAME: i64 = 7;
/// Event IDs are random: a list per ID would be a row per event. Lists by the ID's last
/// character (16 of them for hexadecimal IDs) add a few rows per batch, and a lookup by ID
/// checks the IDs of its bucket's events (a sixteenth of them). The last, not the first: IDs
/// made by a counter (as some tools make them) vary there.
const BY_EVENT_ID_BUCKET: i64 = 8;

/// The bucket of an event ID (see [`BY_EVENT_ID_BUCKET`]).
fn id_bucket(id: &str) -> &str {
    id.char_indices()
        .next_back()
        .and_then(|(start, _)| id.get(start..))
        .unwrap_or(id)
}

/// Entries per `journal_lookup` row at most: a lookup reads a few kilobytes for the newest
/// events of a list, however many events one batch added to it.
const MAX_LIST_ENTRIES: usize = 256;

/// The searchable columns of one journal row.
pub(crate) struct Row {
    seq: i64,
    /// `None` only in rows appended before the journal had lookup columns whose event was not
    /// JSON: no lookup can find those.
    event_time: Option<i64>,
    event_id: Option<String>,
    event_name: Option<String>,
    event_source: Option<String>,
    username: Option<String>,
    access_key_id: Option<String>,
    read_only: Option<bool>,
    /// (type, name) pairs, from the JSON [`encode_resources`] wrote.
    resources: Vec<(String, String)>,
}

pub(crate) const ROW_COLUMNS: &str = "seq, event_time, event_id, event_name, event_source, username, \
                           access_key_id, read_only, resources";

impl Row {
    pub(crate) fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            seq: row.get(0)?,
            event_time: row.get(1)?,
            event_id: row.get(2)?,
            event_name: row.get(3)?,
            event_source: row.get(4)?,
            username: row.get(5)?,
            access_key_id: row.get(6)?,
            read_only: row.get(7)?,
            resources: decode_resources(row.get_ref(8)?.as_str_or_null()?),
        })
    }

    /// A table row's event as the log keeps it (the move of a table journal into the log).
    pub(crate) fn into_log_event(self, account: Option<String>, event: Vec<u8>) -> LogEvent {
        LogEvent {
            event_time: self.event_time,
            read_only: self.read_only,
            account,
            event_id: self.event_id,
            event_name: self.event_name,
            event_source: self.event_source,
            username: self.username,
            access_key_id: self.access_key_id,
            resources: self.resources,
            event,
            ..LogEvent::default()
        }
    }

    /// The searchable part of an event read from the log, and its account.
    fn from_log(seq: u64, event: LogEvent) -> (Self, Option<String>) {
        let row = Self {
            seq: i64::try_from(seq).unwrap_or(i64::MAX),
            event_time: event.event_time,
            event_id: event.event_id,
            event_name: event.event_name,
            event_source: event.event_source,
            username: event.username,
            access_key_id: event.access_key_id,
            read_only: event.read_only,
            resources: event.resources,
        };
        (row, event.account)
    }

    /// The (attribute, value) pairs this event is indexed under. The tail scan matches rows
    /// with this same function, so indexed and not-yet-indexed events are found alike.
    fn keys(&self) -> impl Iterator<Item = (i64, &str)> {
        [
            Some((BY_TIME, "")),
            self.event_name.as_deref().map(|v| (BY_EVENT_NAME, v)),
            self.event_source.as_deref().map(|v| (BY_EVENT_SOURCE, v)),
            self.username.as_deref().map(|v| (BY_USERNAME, v)),
            self.access_key_id.as_deref().map(|v| (BY_ACCESS_KEY_ID, v)),
            self.read_only.map(|r| (BY_READ_ONLY, read_only_value(r))),
            self.event_id
                .as_deref()
                .map(|id| (BY_EVENT_ID_BUCKET, id_bucket(id))),
        ]
        .into_iter()
        .flatten()
        .chain(self.resources.iter().flat_map(|(kind, name)| {
            [
                (BY_RESOURCE_TYPE, kind.as_str()),
                (BY_RESOURCE_NAME, name.as_str()),
            ]
        }))
    }

    fn matches(&self, attribute: Option<&JournalAttribute>) -> bool {
        match attribute {
            None => true,
            Some(JournalAttribute::EventId(id)) => self.event_id.as_deref() == Some(id.as_str()),
            Some(attribute) => {
                let wanted = index_key(attribute);
                self.keys().any(|key| key == wanted)
            }
        }
    }
}

fn read_only_value(read_only: bool) -> &'static str {
    if read_only { "true" } else { "false" }
}

/// The list a lookup attribute reads; for an event ID, the list of its bucket, whose events'
/// IDs the lookup then checks.
fn index_key(attribute: &JournalAttribute) -> (i64, &str) {
    match attribute {
        JournalAttribute::EventId(v) => (BY_EVENT_ID_BUCKET, id_bucket(v)),
        JournalAttribute::EventName(v) => (BY_EVENT_NAME, v),
        JournalAttribute::EventSource(v) => (BY_EVENT_SOURCE, v),
        JournalAttribute::Username(v) => (BY_USERNAME, v),
        JournalAttribute::AccessKeyId(v) => (BY_ACCESS_KEY_ID, v),
        JournalAttribute::ReadOnly(v) => (BY_READ_ONLY, read_only_value(*v)),
        JournalAttribute::ResourceType(v) => (BY_RESOURCE_TYPE, v),
        JournalAttribute::ResourceName(v) => (BY_RESOURCE_NAME, v),
    }
}

/// The journal row's `resources` column: `None` when the event names none.
pub(crate) fn encode_resources(resources: &[(String, String)]) -> Option<String> {
    if resources.is_empty() {
        None
    } else {
        serde_json::to_string(resources).ok()
    }
}

fn decode_resources(text: Option<&str>) -> Vec<(String, String)> {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default()
}

/// The last journal sequence number the index covers.
pub(crate) fn indexed_seq(conn: &Connection) -> Result<u64, StoreError> {
    let seq: i64 = conn
        .prepare_cached("SELECT seq FROM journal_indexed WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    Ok(u64::try_from(seq).unwrap_or(0))
}

/// Indexes up to `limit` journal events after the watermark in one transaction on `conn`
/// and returns the new watermark. Run by the writer thread between group commits, on a
/// connection of its own whose commits skip the fsync: the index is derived from the durable
/// journal, and an index transaction lost to a power cut is simply redone from it. The events
/// are the `journal` table's, or the log's when the store keeps its journal there.
pub(crate) fn index_pending(
    conn: &Connection,
    log: Option<&LogShared>,
    limit: u64,
) -> Result<u64, StoreError> {
    run_cached(conn, "BEGIN IMMEDIATE")?;
    match index_in_transaction(conn, log, limit) {
        Ok(seq) => {
            run_cached(conn, "COMMIT")?;
            Ok(seq)
        }
        Err(e) => {
            let _ = run_cached(conn, "ROLLBACK");
            Err(e)
        }
    }
}

/// The journal table's rows after a number, in order. The limit is not bound into the SQL
/// (`LIMIT ?` makes SQLite plan the statement again on every run): the caller stops stepping.
pub(crate) const ROWS_AFTER: &str = "SELECT seq, event_time, event_id, event_name, event_source, username, \
                          access_key_id, read_only, resources, account FROM journal \
                          WHERE seq > ?1 ORDER BY seq";

fn index_in_transaction(
    conn: &Connection,
    log: Option<&LogShared>,
    limit: u64,
) -> Result<u64, StoreError> {
    let from = indexed_seq(conn)?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let (rows, end) = match log {
        None => {
            let mut select = conn.prepare_cached(ROWS_AFTER)?;
            let rows = select
                .query_map([i64::try_from(from).unwrap_or(i64::MAX)], |r| {
                    Ok((Row::read(r)?, r.get::<_, Option<String>>(9)?))
                })?
                .take(limit)
                .collect::<Result<Vec<_>, _>>()?;
            (rows, None)
        }
        Some(log) => {
            // Read to the end known now; if fewer than `limit` events remain, the watermark
            // moves to that end, past any void number there (or the writer would keep
            // finding a backlog that holds no event).
            let end = log.last_seq();
            let rows = log
                .events_from(from.saturating_add(1))
                .take_while(|item| item.as_ref().map_or(true, |(seq, _)| *seq <= end))
                .take(limit)
                .map(|item| item.map(|(seq, event)| Row::from_log(seq, event)))
                .collect::<Result<Vec<_>, _>>()?;
            let end = (rows.len() < limit).then_some(end);
            (rows, end)
        }
    };
    let Some(last) = rows
        .last()
        .map(|(row, _)| row.seq)
        .max(end.map(|end| i64::try_from(end).unwrap_or(i64::MAX)))
    else {
        return Ok(from);
    };
    if u64::try_from(last).unwrap_or(0) <= from {
        return Ok(from);
    }
    // The batch's posting lists, by key; a batch of one caller's calls has few keys, and a
    // map in key order inserts the rows in index order.
    let mut postings: BTreeMap<ListKey<'_>, Vec<(i64, i64)>> = BTreeMap::new();
    for (row, account) in &rows {
        // Events of callers never authenticated belong to no account: nobody looks them up.
        let (Some(account), Some(event_time)) = (account, row.event_time) else {
            continue;
        };
        for (attribute, value) in row.keys() {
            postings
                .entry((account.as_str(), attribute, value))
                .or_default()
                .push((event_time, row.seq));
        }
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO journal_lookup \
         (account, attribute, value, max_time, last_seq, min_time, entries) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for ((account, attribute, value), mut list) in postings {
        // Listed in seq order, so nearly sorted by time already; an event naming two
        // resources of one type is listed once.
        list.sort_unstable();
        list.dedup();
        for chunk in list.chunks(MAX_LIST_ENTRIES) {
            let (Some(oldest), Some(newest)) = (chunk.first(), chunk.last()) else {
                continue;
            };
            let last_seq = chunk.iter().map(|&(_, seq)| seq).max().unwrap_or(0);
            let mut entries = Vec::with_capacity(chunk.len() * ENTRY_BYTES);
            for (time, seq) in chunk {
                entries.extend_from_slice(&time.to_le_bytes());
                entries.extend_from_slice(&seq.to_le_bytes());
            }
            insert.execute(params![
                account, attribute, value, newest.0, last_seq, oldest.0, entries
            ])?;
        }
    }
    conn.prepare_cached("UPDATE journal_indexed SET seq = ?1 WHERE id = 1")?
        .execute([last])?;
    Ok(u64::try_from(last).unwrap_or(0))
}

/// Whose posting list: (account, attribute, value).
type ListKey<'a> = (&'a str, i64, &'a str);

/// An entry of a posting list: event time and seq, little-endian `i64`s.
const ENTRY_BYTES: usize = 16;

fn decode_entries(entries: &[u8]) -> impl Iterator<Item = (i64, i64)> + '_ {
    entries.chunks_exact(ENTRY_BYTES).filter_map(|entry| {
        Some((
            i64::from_le_bytes(*entry.first_chunk::<8>()?),
            i64::from_le_bytes(*entry.last_chunk::<8>()?),
        ))
    })
}

/// The posting lists of one account, attribute and value that may hold events in a time
/// range, the list with the newest event first.
const POSTINGS: &str = "SELECT max_time, entries FROM journal_lookup \
    WHERE account = ?1 AND attribute = ?2 AND value = ?3 AND max_time >= ?4 AND min_time <= ?5 \
    ORDER BY max_time DESC, last_seq DESC";

/// Up to `query.limit` events matching `query`, newest first: the index up to its watermark
/// merged with a scan of the journal after it, all on the caller's snapshot.
pub(crate) fn lookup(
    conn: &Connection,
    log: Option<&LogShared>,
    query: &JournalQuery,
) -> Result<Vec<JournalHit>, StoreError> {
    let watermark = i64::try_from(indexed_seq(conn)?).unwrap_or(i64::MAX);
    // No cursor is a cursor after every position.
    let before = query.before.map_or((i64::MAX, i64::MAX), |(time, seq)| {
        (time, i64::try_from(seq).unwrap_or(i64::MAX))
    });
    // Entries of events retention removed may linger in posting lists (see
    // `SqliteStore::remove_journal_before`).
    let first_kept = log.map_or(0, |log| i64::try_from(log.first_seq()).unwrap_or(i64::MAX));
    let in_range = |(time, seq): (i64, i64)| {
        time >= query.start_time
            && time <= query.end_time
            && (time, seq) < before
            && seq >= first_kept
    };
    let mut page = Page {
        positions: Vec::new(),
        limit: query.limit,
    };

    // The index.
    let (attribute, value) = query.attribute.as_ref().map_or((BY_TIME, ""), index_key);
    let mut lists = conn.prepare_cached(POSTINGS)?;
    let mut rows = lists.query(params![
        query.account,
        attribute,
        value,
        query.start_time,
        query.end_time.min(before.0)
    ])?;
    while let Some(row) = rows.next()? {
        // Lists come newest first: once the page is full, a list whose newest event is older
        // than the page's oldest cannot change it.
        if page.closed_before(row.get(0)?) {
            break;
        }
        let entries = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
        for position in decode_entries(entries) {
            if !in_range(position) || !page.wants(position) {
                continue;
            }
            if let Some(JournalAttribute::EventId(id)) = &query.attribute
                && !has_event_id(conn, log, position.1, id)?
            {
                continue;
            }
            page.offer(position);
        }
    }

    // The tail: events committed after the watermark, not in the index yet.
    match log {
        None => {
            let mut tail = conn.prepare_cached(&format!(
                "SELECT {ROW_COLUMNS} FROM journal WHERE seq > ?1 AND account = ?2 \
                 AND event_time >= ?3 AND event_time <= ?4"
            ))?;
            let rows = tail.query_map(
                params![watermark, query.account, query.start_time, query.end_time],
                Row::read,
            )?;
            for row in rows {
                offer_row(&mut page, &row?, query, in_range);
            }
        }
        Some(log) => {
            for item in log.events_from(u64::try_from(watermark).unwrap_or(0).saturating_add(1)) {
                let (seq, event) = item?;
                if event.account.as_deref() != Some(query.account.as_str()) {
                    continue;
                }
                offer_row(&mut page, &Row::from_log(seq, event).0, query, in_range);
            }
        }
    }

    let mut hits = Vec::with_capacity(page.positions.len());
    for (event_time, seq) in page.positions {
        let bytes = match log {
            None => conn
                .prepare_cached("SELECT event FROM journal WHERE seq = ?1")?
                .query_row([seq], |r| r.get(0))?,
            Some(log) => {
                log.event(u64::try_from(seq).unwrap_or(0))?
                    .ok_or_else(|| {
                        StoreError::Internal(format!("indexed event {seq} is not in the audit log"))
                    })?
                    .event
            }
        };
        hits.push(JournalHit {
            entry: JournalEntry {
                seq: u64::try_from(seq).unwrap_or(0),
                event: bytes,
            },
            event_time,
        });
    }
    Ok(hits)
}

fn offer_row(
    page: &mut Page,
    row: &Row,
    query: &JournalQuery,
    in_range: impl Fn((i64, i64)) -> bool,
) {
    if let Some(time) = row.event_time
        && in_range((time, row.seq))
        && row.matches(query.attribute.as_ref())
    {
        page.offer((time, row.seq));
    }
}

/// Whether the event numbered `seq` has the ID `id`.
fn has_event_id(
    conn: &Connection,
    log: Option<&LogShared>,
    seq: i64,
    id: &str,
) -> Result<bool, StoreError> {
    match log {
        None => Ok(conn
            .prepare_cached("SELECT event_id IS ?2 FROM journal WHERE seq = ?1")?
            .query_row(params![seq, id], |r| r.get::<_, bool>(0))?),
        Some(log) => Ok(log
            .event(u64::try_from(seq).unwrap_or(0))?
            .is_some_and(|event| event.event_id.as_deref() == Some(id))),
    }
}

/// The newest `limit` (event time, seq) positions offered so far, newest first.
struct Page {
    positions: Vec<(i64, i64)>,
    limit: usize,
}

impl Page {
    /// The oldest position kept, once the page is full.
    fn oldest(&self) -> Option<(i64, i64)> {
        if self.positions.len() < self.limit {
            None
        } else {
            self.positions.last().copied()
        }
    }

    /// Whether no event at `time` or earlier can enter the page.
    fn closed_before(&self, time: i64) -> bool {
        self.oldest().is_some_and(|oldest| time < oldest.0)
    }

    fn wants(&self, position: (i64, i64)) -> bool {
        self.limit > 0 && self.oldest().is_none_or(|oldest| position > oldest)
    }

    fn offer(&mut self, position: (i64, i64)) {
        if self.wants(position) {
            let at = self.positions.partition_point(|p| *p > position);
            self.positions.insert(at, position);
            self.positions.truncate(self.limit);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::{JournalAppend, SqliteStore, Store};

    /// These tests drive the table journal's index directly (`index_pending` on the table);
    /// the log's is covered by log_tests.rs.
    fn table() -> crate::SqliteOptions {
        crate::SqliteOptions {
            journal: crate::JournalMode::Table,
            ..crate::SqliteOptions::small()
        }
    }

    /// An event as the test appends it, and the reference a lookup is checked against.
    #[derive(Clone)]
    struct Event {
        seq: u64,
        time: i64,
        account: Option<&'static str>,
        id: String,
        name: &'static str,
        source: &'static str,
        user: Option<&'static str>,
        key: Option<&'static str>,
        read_only: bool,
        resources: Vec<(String, String)>,
    }

    fn events() -> Vec<Event> {
        (0..40u64)
            .map(|n| Event {
                seq: 0,
                // Pairs of events share a time, so the sequence breaks ties; times go back and
                // forth, so posting lists of different batches overlap in time.
                time: 1000 + i64::try_from((n / 2) * 7 % 20).unwrap(),
                account: match n % 7 {
                    0 => Some("B"),
                    6 => None,
                    _ => Some("A"),
                },
                id: format!("id{n}"),
                name: ["CreateUser", "ListUsers", "Encrypt"][usize::try_from(n % 3).unwrap()],
                source: if n % 3 == 2 {
                    "kms.amazonaws.com"
                } else {
                    "iam.amazonaws.com"
                },
                user: [Some("root"), Some("alice"), None][usize::try_from(n % 3).unwrap()],
                key: if n % 4 == 0 { None } else { Some("AKIAKEY") },
                read_only: n % 2 == 1,
                resources: match n % 5 {
                    0 => vec![],
                    // Two resources of one type: found once by that type.
                    1 => vec![
                        ("AWS::IAM::User".into(), format!("u{n}")),
                        ("AWS::IAM::User".into(), "shared".into()),
                    ],
                    _ => vec![("AWS::KMS::Key".into(), format!("k{}", n % 3))],
                },
            })
            .collect()
    }

    fn append_all(store: &Arc<dyn Store>, events: &mut [Event]) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for event in events.iter_mut() {
            let e = event.clone();
            event.seq = runtime
                .block_on(store.write_with(move |tx| {
                    tx.append_journal(&JournalAppend {
                        event: e.id.as_bytes(),
                        event_time: e.time,
                        account: e.account,
                        event_id: &e.id,
                        event_name: e.name,
                        event_source: e.source,
                        username: e.user,
                        access_key_id: e.key,
                        read_only: e.read_only,
                        resources: &e.resources,
                    })
                }))
                .map_err(|e: StoreError| e)
                .unwrap();
        }
    }

    fn has(event: &Event, attribute: Option<&JournalAttribute>) -> bool {
        match attribute {
            None => true,
            Some(JournalAttribute::EventId(v)) => &event.id == v,
            Some(JournalAttribute::EventName(v)) => event.name == v,
            Some(JournalAttribute::EventSource(v)) => event.source == v,
            Some(JournalAttribute::Username(v)) => event.user == Some(v.as_str()),
            Some(JournalAttribute::AccessKeyId(v)) => event.key == Some(v.as_str()),
            Some(JournalAttribute::ReadOnly(v)) => event.read_only == *v,
            Some(JournalAttribute::ResourceType(v)) => event.resources.iter().any(|r| &r.0 == v),
            Some(JournalAttribute::ResourceName(v)) => event.resources.iter().any(|r| &r.1 == v),
        }
    }

    /// What a lookup must answer, computed from the appended events.
    fn expected(events: &[Event], query: &JournalQuery) -> Vec<u64> {
        let mut found: Vec<_> = events
            .iter()
            .filter(|e| e.account == Some(query.account.as_str()))
            .filter(|e| e.time >= query.start_time && e.time <= query.end_time)
            .filter(|e| query.before.is_none_or(|before| (e.time, e.seq) < before))
            .filter(|e| has(e, query.attribute.as_ref()))
            .map(|e| (e.time, e.seq))
            .collect();
        found.sort_unstable_by(|a, b| b.cmp(a));
        found
            .into_iter()
            .take(query.limit)
            .map(|(_, seq)| seq)
            .collect()
    }

    fn attributes() -> Vec<Option<JournalAttribute>> {
        vec![
            None,
            Some(JournalAttribute::EventId("id9".into())),
            Some(JournalAttribute::EventName("CreateUser".into())),
            Some(JournalAttribute::EventSource("kms.amazonaws.com".into())),
            Some(JournalAttribute::Username("alice".into())),
            Some(JournalAttribute::AccessKeyId("AKIAKEY".into())),
            Some(JournalAttribute::ReadOnly(true)),
            Some(JournalAttribute::ReadOnly(false)),
            Some(JournalAttribute::ResourceType("AWS::IAM::User".into())),
            Some(JournalAttribute::ResourceName("shared".into())),
            Some(JournalAttribute::ResourceName("k1".into())),
            Some(JournalAttribute::Username("nobody".into())),
        ]
    }

    /// Every attribute, in both accounts, paged by 1, 2 and 5 through the whole range and in
    /// a narrower time range, agrees with the reference.
    fn check_lookups(conn: &Connection, events: &[Event]) {
        for account in ["A", "B"] {
            for attribute in attributes() {
                for (start_time, end_time, limit) in [
                    (0, i64::MAX, 1),
                    (0, i64::MAX, 2),
                    (0, i64::MAX, 5),
                    (1003, 1012, 2),
                ] {
                    let mut before = None;
                    let mut pages = 0;
                    loop {
                        let query = JournalQuery {
                            account: account.into(),
                            attribute: attribute.clone(),
                            start_time,
                            end_time,
                            before,
                            limit,
                        };
                        let hits = lookup(conn, None, &query).unwrap();
                        let seqs: Vec<u64> = hits.iter().map(|h| h.entry.seq).collect();
                        assert_eq!(seqs, expected(events, &query), "{query:?}");
                        for hit in &hits {
                            let event = events.iter().find(|e| e.seq == hit.entry.seq).unwrap();
                            assert_eq!(hit.entry.event, event.id.as_bytes());
                            assert_eq!(hit.event_time, event.time);
                        }
                        let Some(last) = hits.last() else { break };
                        before = Some((last.event_time, last.entry.seq));
                        pages += 1;
                        assert!(pages <= events.len());
                    }
                }
            }
        }
    }

    fn store_with_events(path: &Path) -> Vec<Event> {
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open_with_options(path, &table()).unwrap());
        let mut events = events();
        append_all(&store, &mut events);
        events
    }

    /// Forgets the index, as if no batch had run since the events were appended.
    fn unindex(conn: &Connection) {
        conn.execute_batch("DELETE FROM journal_lookup; UPDATE journal_indexed SET seq = 0")
            .unwrap();
    }

    #[test]
    fn lookups_agree_whatever_the_index_covers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        let events = store_with_events(&path);
        let conn = Connection::open(&path).unwrap();
        unindex(&conn);
        check_lookups(&conn, &events); // all in the tail
        for indexed in [7, 14, 21, 28, 35] {
            assert_eq!(index_pending(&conn, None, 7).unwrap(), indexed);
            check_lookups(&conn, &events); // part indexed, part tail
        }
        assert_eq!(index_pending(&conn, None, 1000).unwrap(), 40);
        assert_eq!(
            index_pending(&conn, None, 1000).unwrap(),
            40,
            "nothing left"
        );
        check_lookups(&conn, &events); // all indexed
    }

    #[test]
    fn a_later_list_ending_at_the_pages_oldest_time_is_read() {
        // Batch 1 lists times 20 and 5, batch 2 another event at 5 with a higher seq: the
        // newest two are (20, 1) and (5, 3), though batch 2's newest time only equals the
        // oldest kept from batch 1.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open_with_options(&path, &table()).unwrap());
        let mut events: Vec<Event> = [20, 5, 5]
            .into_iter()
            .map(|time| Event {
                time,
                ..events()[1].clone()
            })
            .collect();
        append_all(&store, &mut events);
        drop(store);
        let conn = Connection::open(&path).unwrap();
        unindex(&conn);
        index_pending(&conn, None, 2).unwrap();
        index_pending(&conn, None, 2).unwrap();
        let query = JournalQuery {
            account: "A".into(),
            attribute: None,
            start_time: 0,
            end_time: i64::MAX,
            before: None,
            limit: 2,
        };
        let seqs: Vec<u64> = lookup(&conn, None, &query)
            .unwrap()
            .iter()
            .map(|h| h.entry.seq)
            .collect();
        assert_eq!(seqs, [1, 3]);
    }

    #[test]
    fn lists_longer_than_a_row_are_read_across_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open_with_options(&path, &table()).unwrap());
        let template = events()[1].clone();
        let mut events: Vec<Event> = (0..700i64)
            .map(|n| Event {
                // Times rise with a step back every 100 events.
                time: 5000 + n - 50 * (n / 100),
                id: format!("{n}{:02x}", n % 3),
                ..template.clone()
            })
            .collect();
        append_all(&store, &mut events);
        drop(store);
        let conn = Connection::open(&path).unwrap();
        unindex(&conn);
        assert_eq!(index_pending(&conn, None, 1000).unwrap(), 700);
        for attribute in [
            None,
            Some(JournalAttribute::EventName(template.name.into())),
            Some(JournalAttribute::EventId("30101".into())),
        ] {
            for (before, limit) in [(None, 50), (Some((5300, 400)), 50), (None, 700)] {
                let query = JournalQuery {
                    account: "A".into(),
                    attribute: attribute.clone(),
                    start_time: 0,
                    end_time: i64::MAX,
                    before,
                    limit,
                };
                let seqs: Vec<u64> = lookup(&conn, None, &query)
                    .unwrap()
                    .iter()
                    .map(|h| h.entry.seq)
                    .collect();
                assert_eq!(seqs, expected(&events, &query), "{query:?}");
            }
        }
    }

    #[test]
    fn event_ids_are_bucketed_by_their_last_character() {
        assert_eq!(id_bucket("…-a83f"), "f");
        assert_eq!(id_bucket("xé€"), "€");
        assert_eq!(id_bucket("a"), "a");
        assert_eq!(id_bucket(""), "");
    }

    #[test]
    fn the_writer_indexes_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open_with_options(&path, &table()).unwrap());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // Groups larger than a batch, then a remainder only idle time indexes.
        for _ in 0..5 {
            runtime
                .block_on(store.write_with(|tx| {
                    for n in 0..500 {
                        tx.append_journal(&JournalAppend {
                            event: b"e",
                            event_time: n,
                            account: Some("A"),
                            event_name: "ListUsers",
                            ..JournalAppend::default()
                        })?;
                    }
                    Ok::<_, StoreError>(())
                }))
                .unwrap();
        }
        let conn = Connection::open(&path).unwrap();
        // Waits for an outcome, not for a duration: the index catches up with every event.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while indexed_seq(&conn).unwrap() < 2500 {
            assert!(
                std::time::Instant::now() < deadline,
                "the index never caught up"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let (rows, entries, largest): (i64, i64, i64) = conn
            .query_row(
                "SELECT COUNT(*), SUM(LENGTH(entries)), MAX(LENGTH(entries)) \
                 FROM journal_lookup WHERE attribute = ?1 AND value = 'ListUsers'",
                [BY_EVENT_NAME],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(entries, 2500 * 16, "every event listed once");
        assert!(rows < 25, "rows of many events, not {rows} rows");
        assert_eq!(largest, 256 * 16, "at most 256 events a row");
    }

    #[test]
    fn opening_catches_the_index_up_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        let events = store_with_events(&path);
        // A crash between commits and indexing leaves events the index does not cover.
        let conn = Connection::open(&path).unwrap();
        unindex(&conn);
        index_pending(&conn, None, 5).unwrap();
        drop(conn);
        let store = SqliteStore::open_with_options(&path, &table()).unwrap();
        let conn = Connection::open(&path).unwrap();
        assert_eq!(indexed_seq(&conn).unwrap(), 40);
        check_lookups(&conn, &events);
        drop(store);
    }

    #[test]
    fn the_migration_keeps_events_of_the_former_schema_findable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        let conn = Connection::open(&path).unwrap();
        for sql in &crate::sqlite::MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(
            "INSERT INTO journal (event, event_time, account, event_id, event_name, \
             event_source, username, access_key_id, read_only) \
             VALUES (CAST('old' AS BLOB), 500, 'A', 'old-id', 'DeleteUser', 'iam.amazonaws.com', 'root', \
             'AKIAOLD', 0);
             INSERT INTO journal_resources (seq, account, event_time, resource_type, \
             resource_name) VALUES (1, 'A', 500, 'AWS::IAM::User', 'gone'), \
             (1, 'A', 500, 'AWS::IAM::Role', 'r');",
        )
        .unwrap();
        drop(conn);
        drop(SqliteStore::open_with_options(&path, &table()).unwrap());
        let conn = Connection::open(&path).unwrap();
        assert_eq!(indexed_seq(&conn).unwrap(), 1);
        for attribute in [
            JournalAttribute::ResourceName("gone".into()),
            JournalAttribute::ResourceType("AWS::IAM::Role".into()),
            JournalAttribute::AccessKeyId("AKIAOLD".into()),
            JournalAttribute::ReadOnly(false),
            JournalAttribute::EventId("old-id".into()),
        ] {
            let hits = lookup(
                &conn,
                None,
                &JournalQuery {
                    account: "A".into(),
                    attribute: Some(attribute),
                    start_time: 0,
                    end_time: i64::MAX,
                    before: None,
                    limit: 10,
                },
            )
            .unwrap();
            assert_eq!(hits.len(), 1);
            assert_eq!(hits[0].entry.event, b"old");
        }
    }
}
