//! The behaviour every backend must show, as one suite each backend's tests run.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test suite"
)]

use std::sync::Arc;

use crate::{JournalAppend, JournalAttribute, JournalQuery, Store, StoreError, WriteTx};

/// Runs every conformance check against `store`, which must start empty.
pub async fn run(store: Arc<dyn Store>) {
    put_get_delete(&store).await;
    scan_orders_by_key_and_pages(&store).await;
    failed_work_is_rolled_back_alone(&store).await;
    atomically_undoes_only_the_failed_part(&store).await;
    journal_is_ordered_and_survives_clear(&store).await;
    concurrent_writes_all_land(&store).await;
    single_change_appends_stand_beside_failed_work(&store).await;
    journal_lookup_finds_newest_first_by_attribute(&store).await;
    whole_store_reads_page_in_order(&store).await;
}

async fn write(
    store: &Arc<dyn Store>,
    f: impl FnOnce(&mut dyn WriteTx) -> Result<(), StoreError> + Send + 'static,
) {
    store.write_with(f).await.unwrap();
}

fn get(store: &Arc<dyn Store>, ns: &str, key: &str) -> Option<Vec<u8>> {
    store
        .read_with(|tx| tx.get(ns, key))
        .map_err(|e: StoreError| e)
        .unwrap()
}

async fn put_get_delete(store: &Arc<dyn Store>) {
    write(store, |tx| tx.put("users", "a", b"1")).await;
    assert_eq!(get(store, "users", "a").as_deref(), Some(&b"1"[..]));
    assert_eq!(get(store, "other", "a"), None);
    write(store, |tx| tx.put("users", "a", b"2")).await;
    assert_eq!(get(store, "users", "a").as_deref(), Some(&b"2"[..]));
    let existed = store
        .write_with(|tx| tx.delete("users", "a"))
        .await
        .map_err(|e: StoreError| e)
        .unwrap();
    assert!(existed);
    assert_eq!(get(store, "users", "a"), None);
}

async fn scan_orders_by_key_and_pages(store: &Arc<dyn Store>) {
    write(store, |tx| {
        for key in ["p/c", "p/a", "q/z", "p/b", "o/z"] {
            tx.put("scan", key, key.as_bytes())?;
        }
        Ok(())
    })
    .await;
    let keys = |after: Option<&'static str>, limit| {
        store
            .read_with(|tx| tx.scan("scan", "p/", after, limit))
            .map_err(|e: StoreError| e)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(None, 10), ["p/a", "p/b", "p/c"]);
    assert_eq!(keys(None, 2), ["p/a", "p/b"]);
    assert_eq!(keys(Some("p/b"), 10), ["p/c"]);
    assert!(keys(Some("p/c"), 10).is_empty());
}

async fn failed_work_is_rolled_back_alone(store: &Arc<dyn Store>) {
    let failing = store.write_with(|tx| {
        tx.put("rb", "x", b"1")?;
        Err::<(), _>(StoreError::Internal("refused by the test".into()))
    });
    let succeeding = store.write_with(|tx| tx.put("rb", "y", b"1"));
    let (failing, succeeding) = tokio::join!(failing, succeeding);
    assert!(failing.is_err());
    assert!(succeeding.is_ok());
    assert_eq!(get(store, "rb", "x"), None);
    assert!(get(store, "rb", "y").is_some());
}

async fn atomically_undoes_only_the_failed_part(store: &Arc<dyn Store>) {
    write(store, |tx| {
        tx.put("nested", "before", b"1")?;
        let ok = tx.atomically(&mut |tx| {
            tx.put("nested", "inside", b"1").unwrap();
            false
        })?;
        assert!(!ok);
        tx.put("nested", "after", b"1")
    })
    .await;
    assert!(get(store, "nested", "before").is_some());
    assert_eq!(get(store, "nested", "inside"), None);
    assert!(get(store, "nested", "after").is_some());
}

async fn journal_is_ordered_and_survives_clear(store: &Arc<dyn Store>) {
    let start = store.health().journal_seq;
    for n in 0..3u8 {
        write(store, move |tx| {
            tx.append_journal(&JournalAppend {
                event: &[n],
                ..JournalAppend::default()
            })
            .map(|_| ())
        })
        .await;
    }
    write(store, |tx| tx.clear_documents()).await;
    let entries = store
        .read_with(|tx| tx.journal_after(start, 10))
        .map_err(|e: StoreError| e)
        .unwrap();
    let events: Vec<_> = entries.iter().map(|e| e.event.clone()).collect();
    assert_eq!(events, [vec![0], vec![1], vec![2]]);
    assert!(entries.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(store.health().journal_seq, entries.last().unwrap().seq);
    assert_eq!(get(store, "users", "a"), None);
    assert!(
        get(store, "scan", "p/a").is_none(),
        "clear removes documents"
    );
}

async fn concurrent_writes_all_land(store: &Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for n in 0..200 {
        let store = Arc::clone(store);
        tasks.push(tokio::spawn(async move {
            store
                .write_with(move |tx| tx.put("many", &format!("{n:04}"), b"x"))
                .await
                .map_err(|e: StoreError| e)
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let count = store
        .read_with(|tx| tx.scan("many", "", None, 1000))
        .map_err(|e: StoreError| e)
        .unwrap()
        .len();
    assert_eq!(count, 200);
}

async fn single_change_appends_stand_beside_failed_work(store: &Arc<dyn Store>) {
    let start = store.health().journal_seq;
    let mut tasks = Vec::new();
    for n in 0..50u8 {
        let store = Arc::clone(store);
        tasks.push(tokio::spawn(async move {
            if n % 5 == 0 {
                // Work that fails after writing, queued among the appends.
                store
                    .write_with(move |tx| {
                        tx.put("single", &n.to_string(), b"x")?;
                        tx.append_journal(&JournalAppend {
                            event: b"failed",
                            ..JournalAppend::default()
                        })?;
                        Err::<(), _>(StoreError::Internal("refused by the test".into()))
                    })
                    .await
                    .map(|()| None)
            } else {
                store
                    .write_single_change_with(move |tx| {
                        tx.append_journal(&JournalAppend {
                            event: &[n],
                            ..JournalAppend::default()
                        })
                    })
                    .await
                    .map(Some)
            }
        }));
    }
    let mut acknowledged = Vec::new();
    for (n, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok(Some(seq)) => acknowledged.push(seq),
            Ok(None) => panic!("work {n} should have failed"),
            Err(e) => assert!(n % 5 == 0, "append {n} failed: {e}"),
        }
    }
    assert_eq!(acknowledged.len(), 40);
    let entries = store
        .read_with(|tx| tx.journal_after(start, 100))
        .map_err(|e: StoreError| e)
        .unwrap();
    let seqs: Vec<_> = entries.iter().map(|e| e.seq).collect();
    acknowledged.sort_unstable();
    assert_eq!(
        seqs, acknowledged,
        "every append landed, no failed work's append did"
    );
    assert!(entries.iter().all(|e| e.event != b"failed"));
    for n in (0..50u8).step_by(5) {
        assert_eq!(get(store, "single", &n.to_string()), None);
    }
}

async fn journal_lookup_finds_newest_first_by_attribute(store: &Arc<dyn Store>) {
    // Six events of account A at times 100..=105 (alternating names, read-only flags and
    // resources), one of account B at time 103.
    for n in 0..6i64 {
        write(store, move |tx| {
            let name = if n % 2 == 0 {
                "CreateUser"
            } else {
                "ListUsers"
            };
            let resources = [("AWS::IAM::User".to_owned(), format!("user{n}"))];
            tx.append_journal(&JournalAppend {
                event: format!("a{n}").as_bytes(),
                event_time: 100 + n,
                account: Some("A"),
                event_id: &format!("id{n}"),
                event_name: name,
                event_source: "iam.amazonaws.com",
                username: Some("root"),
                access_key_id: Some("AKIAA"),
                read_only: n % 2 == 1,
                resources: &resources,
            })
            .map(|_| ())
        })
        .await;
    }
    write(store, |tx| {
        tx.append_journal(&JournalAppend {
            event: b"b",
            event_time: 103,
            account: Some("B"),
            event_id: "idb",
            event_name: "CreateUser",
            event_source: "iam.amazonaws.com",
            ..JournalAppend::default()
        })
        .map(|_| ())
    })
    .await;
    let lookup = |attribute: Option<JournalAttribute>, before, limit| {
        let query = JournalQuery {
            account: "A".into(),
            attribute,
            start_time: 101,
            end_time: 105,
            before,
            limit,
        };
        store
            .read_with(|tx| tx.journal_lookup(&query))
            .map_err(|e: StoreError| e)
            .unwrap()
    };
    let events = |hits: &[crate::JournalHit]| {
        hits.iter()
            .map(|h| String::from_utf8(h.entry.event.clone()).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        events(&lookup(None, None, 10)),
        ["a5", "a4", "a3", "a2", "a1"]
    );
    let first = lookup(None, None, 2);
    assert_eq!(events(&first), ["a5", "a4"]);
    let last = first.last().unwrap();
    let next = lookup(None, Some((last.event_time, last.entry.seq)), 2);
    assert_eq!(events(&next), ["a3", "a2"]);
    let by_name = lookup(
        Some(JournalAttribute::EventName("CreateUser".into())),
        None,
        10,
    );
    assert_eq!(events(&by_name), ["a4", "a2"]);
    let writes = lookup(Some(JournalAttribute::ReadOnly(false)), None, 10);
    assert_eq!(events(&writes), ["a4", "a2"]);
    let by_id = lookup(Some(JournalAttribute::EventId("id3".into())), None, 10);
    assert_eq!(events(&by_id), ["a3"]);
    let by_resource = lookup(
        Some(JournalAttribute::ResourceName("user2".into())),
        None,
        10,
    );
    assert_eq!(events(&by_resource), ["a2"]);
    let by_type = lookup(
        Some(JournalAttribute::ResourceType("AWS::IAM::User".into())),
        None,
        3,
    );
    assert_eq!(events(&by_type), ["a5", "a4", "a3"]);
    let by_key = lookup(
        Some(JournalAttribute::AccessKeyId("AKIAB".into())),
        None,
        10,
    );
    assert!(by_key.is_empty(), "another key's events are not found");
}

/// `documents_after` and `journal_records_after` (a whole-store copy's reads): every document
/// once, in bytewise (namespace, key) order whatever the page size, each as `get` reads it;
/// every journal entry once, as `journal_after` reads it.
async fn whole_store_reads_page_in_order(store: &Arc<dyn Store>) {
    write(store, |tx| {
        for (ns, key) in [
            ("whole", "b"),
            ("whole", "\u{e9}"),
            ("whole", "a"),
            ("whole.x", "a"),
        ] {
            tx.put(ns, key, format!("{ns}/{key}").as_bytes())?;
        }
        Ok(())
    })
    .await;
    let documents = |page: usize| {
        let mut out: Vec<crate::Document> = Vec::new();
        loop {
            let after = out.last().map(|d| (d.ns.clone(), d.key.clone()));
            let next = store
                .read_with(|tx| {
                    tx.documents_after(after.as_ref().map(|(n, k)| (n.as_str(), k.as_str())), page)
                })
                .map_err(|e: StoreError| e)
                .unwrap();
            assert!(next.len() <= page);
            if next.is_empty() {
                return out;
            }
            out.extend(next);
        }
    };
    let all = documents(1000);
    assert_eq!(documents(3), all);
    for pair in all.windows(2) {
        let place = |d: &crate::Document| (d.ns.as_bytes().to_vec(), d.key.as_bytes().to_vec());
        assert!(place(&pair[0]) < place(&pair[1]));
    }
    for doc in &all {
        assert_eq!(get(store, &doc.ns, &doc.key).as_ref(), Some(&doc.value));
    }
    let whole: Vec<(&str, &str)> = all
        .iter()
        .filter(|d| d.ns.starts_with("whole"))
        .map(|d| (d.ns.as_str(), d.key.as_str()))
        .collect();
    assert_eq!(
        whole,
        [
            ("whole", "a"),
            ("whole", "b"),
            ("whole", "\u{e9}"),
            ("whole.x", "a")
        ]
    );

    let entries = store
        .read_with(|tx| tx.journal_after(0, 100_000))
        .map_err(|e: StoreError| e)
        .unwrap();
    let mut records: Vec<crate::JournalRecord> = Vec::new();
    loop {
        let after = records.last().map_or(0, |r| r.seq);
        let next = store
            .read_with(|tx| tx.journal_records_after(after, 2))
            .map_err(|e: StoreError| e)
            .unwrap();
        if next.is_empty() {
            break;
        }
        records.extend(next);
    }
    let read: Vec<(u64, &[u8])> = records
        .iter()
        .map(|r| (r.seq, r.event.as_slice()))
        .collect();
    let expected: Vec<(u64, &[u8])> = entries
        .iter()
        .map(|e| (e.seq, e.event.as_slice()))
        .collect();
    assert_eq!(read, expected);
    // The lookup attributes come along (the last event of the lookup check above, if any).
    if let Some(with_account) = records
        .iter()
        .rev()
        .find(|r| r.account.as_deref() == Some("A"))
    {
        assert_eq!(
            with_account.event_source.as_deref(),
            Some("iam.amazonaws.com")
        );
        assert_eq!(with_account.resources.len(), 1);
    }
}
