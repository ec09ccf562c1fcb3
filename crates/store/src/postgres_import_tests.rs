//! Copying a SQLite store into PostgreSQL (postgres_import.rs): what the copy reads from each
//! journal layout arrives whole, numbers kept, and the copy serves as a store.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use std::sync::Arc;

use crate::test_database::TestDatabase;
use crate::{
    ImportError, JournalAppend, JournalAttribute, JournalMode, JournalQuery, JournalRecord,
    PostgresImport, PostgresStore, SqliteOptions, SqliteStore, Store, StoreError,
};

fn resources(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(t, n)| ((*t).to_owned(), (*n).to_owned()))
        .collect()
}

/// A SQLite store with documents in three namespaces and events of every shape: with and
/// without an account, resources repeated, a NUL in an attribute, and a rolled-back append
/// (a number the journal skips in the log layout).
async fn filled(dir: &std::path::Path, journal: JournalMode) -> Arc<dyn Store> {
    let options = SqliteOptions {
        journal,
        ..SqliteOptions::small()
    };
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open_with_options(&dir.join("rampart.db"), &options).unwrap());
    let repeated = resources(&[("AWS::IAM::User", "bob"), ("AWS::IAM::User", "bob")]);
    let named = resources(&[("AWS::KMS::Key", "k1"), ("AWS::IAM::Role", "r")]);
    store
        .write_with(move |tx| {
            for i in 0..600 {
                tx.put(
                    "iam",
                    &format!("user/{i:04}"),
                    format!("{{\"n\":{i}}}").as_bytes(),
                )?;
            }
            tx.put("kms", "key/k1", &[0, 1, 2, 255])?;
            tx.put("secrets", "s\u{e9}cret", b"sealed bytes")?;
            for i in 0..700_i64 {
                let account = (i % 7 != 0).then_some("111122223333");
                let event = format!("{{\"i\":{i}}}");
                tx.append_journal(&JournalAppend {
                    event: event.as_bytes(),
                    event_time: 1_700_000_000 + i,
                    account,
                    event_id: &format!("id-{i}"),
                    event_name: if i % 2 == 0 {
                        "CreateUser"
                    } else {
                        "Get\0Thing"
                    },
                    event_source: "iam.amazonaws.com",
                    username: Some("root"),
                    access_key_id: None,
                    read_only: i % 3 == 0,
                    resources: if i % 5 == 0 { &repeated } else { &named },
                })?;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    // Work that fails after appending: its event is never readable.
    let failed = store
        .write_with(|tx| {
            tx.append_journal(&JournalAppend {
                event: b"{\"void\":true}",
                ..JournalAppend::default()
            })?;
            Err::<(), _>(StoreError::Internal("undone".into()))
        })
        .await;
    assert!(failed.is_err());
    store
        .write_with(|tx| {
            tx.append_journal(&JournalAppend {
                event: b"{\"last\":true}",
                event_time: 1_700_001_000,
                account: Some("111122223333"),
                event_id: "last",
                ..JournalAppend::default()
            })
        })
        .await
        .map_err(|e: StoreError| e)
        .unwrap();
    store
}

fn all_documents(store: &dyn Store) -> Vec<crate::Document> {
    let mut out: Vec<crate::Document> = Vec::new();
    loop {
        let after = out.last().map(|d| (d.ns.clone(), d.key.clone()));
        let page = store
            .read_with(|tx| {
                tx.documents_after(after.as_ref().map(|(n, k)| (n.as_str(), k.as_str())), 97)
            })
            .map_err(|e: StoreError| e)
            .unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

fn all_records(store: &dyn Store) -> Vec<JournalRecord> {
    let mut out: Vec<JournalRecord> = Vec::new();
    loop {
        let after = out.last().map_or(0, |r| r.seq);
        let page = store
            .read_with(|tx| tx.journal_records_after(after, 101))
            .map_err(|e: StoreError| e)
            .unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

async fn copy_and_check(journal: JournalMode) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = filled(dir.path(), journal).await;
    let documents = all_documents(sqlite.as_ref());
    let records = all_records(sqlite.as_ref());
    assert_eq!(documents.len(), 602);
    assert_eq!(records.len(), 701);
    // Normalized on the way out: resources deduplicated, NUL replaced, none without account.
    assert_eq!(
        records[5].resources,
        resources(&[("AWS::IAM::User", "bob")])
    );
    assert_eq!(records[1].event_name.as_deref(), Some("Get\u{fffd}Thing"));
    assert!(records[0].resources.is_empty());

    let db = TestDatabase::create();
    let mut import = PostgresImport::begin(&db.url).unwrap();
    for page in documents.chunks(50) {
        import.documents(page).unwrap();
    }
    for page in records.chunks(64) {
        import.journal(page).unwrap();
    }
    let head = sqlite.health().journal_seq;
    import.commit(head).unwrap();

    let postgres: Arc<dyn Store> = Arc::new(PostgresStore::open(&db.url, 2).unwrap());
    assert_eq!(all_documents(postgres.as_ref()), documents);
    assert_eq!(all_records(postgres.as_ref()), records);
    // The lookup indexes were filled: a resource name finds its events, newest first.
    let hits = postgres
        .read_with(|tx| {
            tx.journal_lookup(&JournalQuery {
                account: "111122223333".into(),
                attribute: Some(JournalAttribute::ResourceName("bob".into())),
                start_time: 0,
                end_time: i64::MAX,
                before: None,
                limit: 3,
            })
        })
        .map_err(|e: StoreError| e)
        .unwrap();
    let seqs: Vec<u64> = hits.iter().map(|h| h.entry.seq).collect();
    let expected: Vec<u64> = records
        .iter()
        .rev()
        .filter(|r| r.account.is_some() && r.resources.iter().any(|(_, n)| n == "bob"))
        .take(3)
        .map(|r| r.seq)
        .collect();
    assert_eq!(seqs, expected);
    // The next event is numbered after every number the source used.
    let next = postgres
        .write_with(|tx| {
            tx.append_journal(&JournalAppend {
                event: b"{}",
                ..JournalAppend::default()
            })
        })
        .await
        .map_err(|e: StoreError| e)
        .unwrap();
    assert_eq!(next, head + 1);
    drop(postgres);

    // Now the database holds a deployment: another import is refused before writing.
    match PostgresImport::begin(&db.url) {
        Err(ImportError::NotEmpty { documents, events }) => {
            assert_eq!(documents, 602);
            assert!(events > 701);
        }
        Err(e) => panic!("expected NotEmpty, got {e}"),
        Ok(_) => panic!("a second import into a non-empty database was accepted"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sqlite_store_with_its_journal_in_the_log_copies_whole() {
    copy_and_check(JournalMode::Log).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sqlite_store_with_its_journal_in_the_table_copies_whole() {
    copy_and_check(JournalMode::Table).await;
}

/// An import dropped before its commit leaves the database empty, so it can run again.
#[test]
fn an_import_never_committed_leaves_nothing() {
    let db = TestDatabase::create();
    let mut import = PostgresImport::begin(&db.url).unwrap();
    import
        .documents(&[crate::Document {
            ns: "n".into(),
            key: "k".into(),
            value: b"v".to_vec(),
        }])
        .unwrap();
    drop(import);
    let again = PostgresImport::begin(&db.url).unwrap();
    again.commit(0).unwrap();
}
