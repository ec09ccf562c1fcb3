//! The SQLite store with its journal in the audit log (log.rs): the conformance suite, the
//! migration of a table journal, recovery after a crash between the log's sync and the
//! commit, and the protocol's refusals.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use std::path::Path;
use std::sync::Arc;

use rampart_journal::{Journal, Options};
use rusqlite::Connection;

use crate::log::dir_for;
use crate::log_record;
use crate::{
    JournalAppend, JournalAttribute, JournalEntry, JournalQuery, SqliteStore, Store, StoreError,
    conformance,
};

/// Small segments: every store here preallocates two.
pub(crate) fn small() -> Options {
    Options {
        segment_bytes: 1 << 20,
        ..Options::default()
    }
}

fn open_log(path: &Path) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open_with(path, false, false, &small()).unwrap())
}

fn after(store: &Arc<dyn Store>, seq: u64) -> Vec<JournalEntry> {
    store
        .read_with(|tx| tx.journal_after(seq, 1000))
        .map_err(|e: StoreError| e)
        .unwrap()
}

fn get(store: &Arc<dyn Store>, key: &str) -> Option<Vec<u8>> {
    store
        .read_with(|tx| tx.get("t", key))
        .map_err(|e: StoreError| e)
        .unwrap()
}

/// Appends `(event, depends)` records to the log of the closed store at `path`, as a process
/// that died before its commit (or in the middle of the move) left them.
fn append_raw(path: &Path, records: &[(&str, bool)]) -> Vec<u64> {
    let journal = Journal::open(&dir_for(path), &small()).unwrap();
    let mut payload = Vec::new();
    records
        .iter()
        .map(|(text, depends)| {
            log_record::encode_append(&mut payload, &event(text), *depends);
            journal.append(payload.clone()).unwrap()
        })
        .collect()
}

fn table_rows(path: &Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM journal", [], |r| r.get(0))
        .unwrap()
}

/// Account A's events with `attribute`, at any time.
fn query(attribute: Option<JournalAttribute>) -> JournalQuery {
    JournalQuery {
        account: "A".into(),
        attribute,
        start_time: 0,
        end_time: i64::MAX,
        before: None,
        limit: 100,
    }
}

fn lookup(store: &Arc<dyn Store>, attribute: Option<JournalAttribute>) -> Vec<Vec<u8>> {
    let query = query(attribute);
    store
        .read_with(|tx| tx.journal_lookup(&query))
        .map_err(|e: StoreError| e)
        .unwrap()
        .into_iter()
        .map(|hit| hit.entry.event)
        .collect()
}

fn event(text: &str) -> JournalAppend<'_> {
    JournalAppend {
        event: text.as_bytes(),
        event_time: 100,
        account: Some("A"),
        event_id: text,
        event_name: "CreateUser",
        event_source: "iam.amazonaws.com",
        ..JournalAppend::default()
    }
}

async fn write_with_event(store: &Arc<dyn Store>, key: &'static str) -> u64 {
    store
        .write_with(move |tx| {
            tx.put("t", key, b"v")?;
            tx.append_journal(&event(key))
        })
        .await
        .map_err(|e: StoreError| e)
        .unwrap()
}

async fn append_alone(store: &Arc<dyn Store>, text: &'static str) -> u64 {
    store
        .write_single_change_with(move |tx| tx.append_journal(&event(text)))
        .await
        .map_err(|e: StoreError| e)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    conformance::run(open_log(&path)).await;
    assert!(dir_for(&path).is_dir(), "the events are in the log");
    assert_eq!(table_rows(&path), 0, "and not in the table");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_survive_reopening_and_numbering_continues() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    {
        let store = open_log(&path);
        assert_eq!(write_with_event(&store, "a").await, 1);
        assert_eq!(append_alone(&store, "b").await, 2);
    }
    // Opened without asking for the log: the journal stays where it moved.
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open_with(&path, true, false, &small()).unwrap());
    assert_eq!(store.health().journal_seq, 2);
    assert_eq!(write_with_event(&store, "c").await, 3);
    let events: Vec<_> = after(&store, 0).into_iter().map(|e| e.event).collect();
    assert_eq!(events, [b"a", b"b", b"c"]);
    assert_eq!(lookup(&store, None), [b"c", b"b", b"a"]);
}

/// A table journal as the code before the log wrote it, with a gap in its numbering (a
/// number SQLite gave and never used): every event stays readable in order, under its number,
/// and by lookup; numbering continues after the last.
#[tokio::test(flavor = "multi_thread")]
async fn a_table_journal_moves_into_the_log_with_its_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    {
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open_with(&path, true, false, &small()).unwrap());
        for key in ["t1", "t2", "t3"] {
            write_with_event(&store, key).await;
        }
        append_alone(&store, "t4").await;
    }
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "INSERT INTO journal (seq, event, event_time, account, event_id, event_name, \
         event_source, username, access_key_id, read_only, resources) VALUES \
         (6, CAST('t6' AS BLOB), 200, 'A', 't6', 'DeleteUser', 'iam.amazonaws.com', 'root', \
         'AKIAOLD', 0, '[[\"AWS::IAM::User\",\"gone\"]]'), \
         (7, CAST('t7' AS BLOB), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);",
    )
    .unwrap();
    drop(conn);
    assert!(!dir_for(&path).exists());

    let store = open_log(&path);
    let entries = after(&store, 0);
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 6, 7], "numbers kept, the gap skipped");
    let events: Vec<_> = entries.iter().map(|e| e.event.clone()).collect();
    assert_eq!(events, [&b"t1"[..], b"t2", b"t3", b"t4", b"t6", b"t7"]);
    assert_eq!(
        lookup(&store, Some(JournalAttribute::ResourceName("gone".into()))),
        [b"t6"]
    );
    assert_eq!(
        lookup(&store, Some(JournalAttribute::EventId("t2".into()))),
        [b"t2"]
    );
    assert_eq!(write_with_event(&store, "new").await, 8);
    assert_eq!(
        get(&store, "t1").as_deref(),
        Some(&b"v"[..]),
        "state untouched"
    );
    assert_eq!(
        table_rows(&path),
        0,
        "the table's rows are gone once copied"
    );
}

/// A crash in the middle of the move leaves the log holding the first rows: the next open
/// copies only the rest, so each event is there once.
#[tokio::test(flavor = "multi_thread")]
async fn a_move_cut_short_is_finished_without_repeating() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    {
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open_with(&path, true, false, &small()).unwrap());
        for key in ["m1", "m2", "m3", "m4"] {
            write_with_event(&store, key).await;
        }
    }
    // What the move had copied of the rows when the process died.
    append_raw(&path, &[("m1", false), ("m2", false)]);
    let store = open_log(&path);
    let events: Vec<_> = after(&store, 0).into_iter().map(|e| e.event).collect();
    assert_eq!(events, [b"m1", b"m2", b"m3", b"m4"]);
    assert_eq!(append_alone(&store, "m5").await, 5);
}

/// A crash after the log's sync and before the commit: the flagged event of the lost
/// transaction is void (never read, its number never given again), the unflagged event of a
/// read beside it stands.
#[tokio::test(flavor = "multi_thread")]
async fn an_event_whose_transaction_never_committed_is_void() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    {
        let store = open_log(&path);
        write_with_event(&store, "kept").await;
    }
    // The log's sync of a write's event and of a read's, then the crash before the commit.
    assert_eq!(
        append_raw(&path, &[("lost-write", true), ("read", false)]),
        [2, 3]
    );
    // A reader beside the log (or before its holder recovers it) does not read the write's
    // event either: its transaction may still commit or be voided, and it repairs nothing.
    {
        let reader: Arc<dyn Store> =
            Arc::new(SqliteStore::open_with(&path, false, true, &small()).unwrap());
        let events: Vec<_> = after(&reader, 0).into_iter().map(|e| e.event).collect();
        assert_eq!(events, [&b"kept"[..], b"read"]);
    }
    for _ in 0..2 {
        let store = open_log(&path);
        let events: Vec<_> = after(&store, 0).into_iter().map(|e| e.event).collect();
        assert_eq!(events, [&b"kept"[..], b"read"]);
        assert_eq!(lookup(&store, None), [&b"read"[..], b"kept"]);
        assert!(lookup(&store, Some(JournalAttribute::EventId("lost-write".into()))).is_empty());
        assert_eq!(get(&store, "lost-write"), None);
    }
    let store = open_log(&path);
    assert_eq!(
        write_with_event(&store, "next").await,
        4,
        "no number given twice"
    );
    let conn = Connection::open(&path).unwrap();
    let void: Vec<i64> = conn
        .prepare("SELECT seq FROM journal_void")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(void, [2]);
}

/// A savepoint that rolls back takes its events out of the log's group, and their numbers are
/// given again: the journal stays gap-free.
#[tokio::test(flavor = "multi_thread")]
async fn a_rolled_back_savepoint_takes_its_events_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    let store = open_log(&path);
    let seqs = store
        .write_with(|tx| {
            let first = tx.append_journal(&event("before"))?;
            let ok = tx.atomically(&mut |tx| {
                tx.append_journal(&event("undone")).unwrap();
                tx.put("t", "undone", b"v").unwrap();
                false
            })?;
            assert!(!ok);
            let second = tx.append_journal(&event("after"))?;
            Ok::<_, StoreError>((first, second))
        })
        .await
        .unwrap();
    assert_eq!(seqs, (1, 2));
    let events: Vec<_> = after(&store, 0).into_iter().map(|e| e.event).collect();
    assert_eq!(events, [&b"before"[..], b"after"]);
    assert_eq!(get(&store, "undone"), None);
}

/// A single-change job never touches SQLite: one that tries to change state is refused, and
/// the event it appended first goes with it.
#[tokio::test(flavor = "multi_thread")]
async fn a_single_change_job_cannot_change_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    let store = open_log(&path);
    let refused = store
        .write_single_change_with(|tx| {
            tx.append_journal(&event("sneaky"))?;
            tx.put("t", "sneaky", b"v")
        })
        .await;
    assert!(refused.is_err());
    assert_eq!(get(&store, "sneaky"), None);
    assert!(after(&store, 0).is_empty());
    assert_eq!(append_alone(&store, "fine").await, 1);
}

/// The log's directory is missing while the database says the journal is there: opening
/// refuses rather than start a new, empty journal.
#[test]
fn a_missing_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    drop(SqliteStore::open_with(&path, false, false, &small()).unwrap());
    std::fs::remove_dir_all(dir_for(&path)).unwrap();
    for table in [false, true] {
        match SqliteStore::open_with(&path, table, false, &small()) {
            Err(StoreError::Open(message)) => assert!(message.contains("missing"), "{message}"),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("opened without its log"),
        }
    }
}

/// A second process opening the store while the first holds the log (`rampart admin` or
/// `rampart trail export` beside a serving rampart) changes state and reads the journal, and
/// refuses every append: two appenders would write over each other, and its recovery would
/// void the first's records in flight.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_opener_of_the_log_changes_state_and_reads_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    let first = open_log(&path);
    write_with_event(&first, "first").await;
    for table in [false, true] {
        let second: Arc<dyn Store> =
            Arc::new(SqliteStore::open_with(&path, table, false, &small()).unwrap());
        second
            .write_with(|tx| tx.put("t", "from-admin", b"v"))
            .await
            .map_err(|e: StoreError| e)
            .unwrap();
        let append = second
            .write_with(|tx| {
                tx.put("t", "with-event", b"v")?;
                tx.append_journal(&event("from-admin"))
            })
            .await;
        assert!(append.is_err(), "an append beside the log's holder");
        assert_eq!(get(&second, "with-event"), None, "its change is undone");
        // It reads the log as it was when it opened, read-only.
        let events: Vec<_> = after(&second, 0).into_iter().map(|e| e.event).collect();
        assert_eq!(events, [&b"first"[..]]);
        let query = query(None);
        let hits = second
            .read_with(|tx| tx.journal_lookup(&query))
            .map_err(|e: StoreError| e)
            .unwrap();
        assert_eq!(hits.len(), 1);
    }
    assert_eq!(get(&first, "from-admin").as_deref(), Some(&b"v"[..]));
    assert_eq!(write_with_event(&first, "still-first").await, 2);
    let events: Vec<_> = after(&first, 0).into_iter().map(|e| e.event).collect();
    assert_eq!(events, [&b"first"[..], b"still-first"]);
    assert_eq!(table_rows(&path), 0, "nothing went to the table");
}

/// Events spanning many small segments: the log rolls to a new segment whenever one is full,
/// every event stays readable in order and by lookup, after a reopen (recovery scans the last
/// segment only) and from a second opener reading beside the first.
#[tokio::test(flavor = "multi_thread")]
async fn events_roll_across_many_segments_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    // A few dozen events per segment.
    let tiny = Options {
        segment_bytes: 2 << 10,
        ..Options::default()
    };
    let keys: Vec<&'static str> = (0..400)
        .map(|i| &*Box::leak(format!("k{i}").into_boxed_str()))
        .collect();
    {
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open_with(&path, false, false, &tiny).unwrap());
        for (i, key) in keys.iter().enumerate() {
            let seq = if i % 2 == 0 {
                write_with_event(&store, key).await
            } else {
                append_alone(&store, key).await
            };
            assert_eq!(seq, i as u64 + 1);
        }
    }
    let segments = std::fs::read_dir(dir_for(&path))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".seg")
        })
        .count();
    assert!(segments >= 10, "only {segments} segments");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open_with(&path, false, false, &tiny).unwrap());
    let events: Vec<_> = after(&store, 0).into_iter().map(|e| e.event).collect();
    let expected: Vec<Vec<u8>> = keys.iter().map(|k| k.as_bytes().to_vec()).collect();
    assert_eq!(events, expected);
    // The newest page, newest first, across the last segments.
    let newest: Vec<Vec<u8>> = expected.iter().rev().take(100).cloned().collect();
    assert_eq!(lookup(&store, None), newest);
    assert_eq!(after(&store, 350).first().map(|e| e.seq), Some(351));
    assert_eq!(append_alone(&store, "next").await, 401);
    let beside: Arc<dyn Store> =
        Arc::new(SqliteStore::open_with(&path, false, false, &tiny).unwrap());
    assert_eq!(after(&beside, 0).len(), 401);
    drop((store, beside));
    // Opened read-only with no appender: it reads everything and changes nothing in the log.
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(dir_for(&path))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let before = listing();
    let reader: Arc<dyn Store> =
        Arc::new(SqliteStore::open_with(&path, false, true, &tiny).unwrap());
    assert_eq!(after(&reader, 0).len(), 401);
    assert!(
        reader
            .write_single_change_with(|tx| tx.append_journal(&event("no")))
            .await
            .is_err()
    );
    assert_eq!(listing(), before);
}

/// Retention removes the oldest whole segments, only those older than the cutoff and
/// delivered (numbered at most `up_to`), never the one being filled; what remains reads as
/// before, lookups skip the removed events, and a reopen keeps the new start.
#[tokio::test(flavor = "multi_thread")]
async fn retention_removes_old_delivered_segments_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    let tiny = Options {
        segment_bytes: 2 << 10,
        ..Options::default()
    };
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open_with(&path, false, false, &tiny).unwrap());
    // 200 old events (time 100), then 200 new ones (time 10,000).
    for i in 0..400u64 {
        let time = if i < 200 { 100 } else { 10_000 };
        store
            .write_single_change_with(move |tx| {
                tx.append_journal(&JournalAppend {
                    event_time: time,
                    ..event("e")
                })
            })
            .await
            .map_err(|e: StoreError| e)
            .unwrap();
    }
    let segments = || {
        std::fs::read_dir(dir_for(&path))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".seg")
            })
            .count()
    };
    let before = segments();
    // Nothing is older than the cutoff: nothing goes.
    assert_eq!(store.remove_journal_before(50, u64::MAX).unwrap(), None);
    // Delivered up to 60 only: the segments wholly at or below 60 go, no more.
    let first = store.remove_journal_before(5_000, 60).unwrap().unwrap();
    assert!(first > 1 && first <= 61, "{first}");
    assert_eq!(after(&store, 0).first().map(|e| e.seq), Some(first));
    // Everything delivered: every segment of old events goes; the one holding both stays.
    let first = store
        .remove_journal_before(5_000, u64::MAX)
        .unwrap()
        .unwrap();
    assert!(first <= 201, "{first}");
    assert!(segments() < before);
    let kept = after(&store, 0);
    assert_eq!(kept.first().map(|e| e.seq), Some(first));
    assert_eq!(kept.len() as u64, 400 - first + 1);
    // Lookups find no removed event, and no error on the index's leftovers.
    let hits = store
        .read_with(|tx| {
            tx.journal_lookup(&JournalQuery {
                limit: 1000,
                ..query(None)
            })
        })
        .map_err(|e: StoreError| e)
        .unwrap();
    assert_eq!(hits.len() as u64, 400 - first + 1);
    assert!(hits.iter().all(|hit| hit.entry.seq >= first));
    drop(store);
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open_with(&path, false, false, &tiny).unwrap());
    assert_eq!(after(&store, 0).first().map(|e| e.seq), Some(first));
    assert_eq!(append_alone(&store, "next").await, 401);
}
