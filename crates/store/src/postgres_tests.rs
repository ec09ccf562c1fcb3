//! The PostgreSQL backend's tests; each opens a fresh database (test_database.rs).

use std::sync::Arc;

use super::*;
use crate::conformance;
use crate::test_database::TestDatabase;

fn open(db: &TestDatabase) -> Arc<dyn Store> {
    Arc::new(PostgresStore::open(&db.url, 4).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_passes_the_conformance_suite() {
    let db = TestDatabase::create();
    conformance::run(open(&db)).await;
}

/// `Store::read` is called from async handlers: on a current-thread runtime too, it must
/// neither panic nor wait on the runtime it blocks.
#[tokio::test(flavor = "current_thread")]
async fn reads_and_writes_work_on_a_current_thread_runtime() {
    let db = TestDatabase::create();
    let store = open(&db);
    store
        .write_with(|tx| tx.put("ns", "k", b"v"))
        .await
        .map_err(|e: StoreError| e)
        .unwrap();
    let got = store
        .read_with(|tx| tx.get("ns", "k"))
        .map_err(|e: StoreError| e)
        .unwrap();
    assert_eq!(got.as_deref(), Some(&b"v"[..]));
    assert_eq!(store.health().state, "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn committed_writes_and_the_journal_survive_reopening() {
    let db = TestDatabase::create();
    {
        let store = open(&db);
        store
            .write_with(|tx| {
                tx.put("t", "k", b"v")?;
                tx.append_journal(&JournalAppend {
                    event: b"{}",
                    ..JournalAppend::default()
                })
                .map(|_| ())
            })
            .await
            .map_err(|e: StoreError| e)
            .unwrap();
    }
    let store = open(&db);
    let got = store
        .read_with(|tx| tx.get("t", "k"))
        .map_err(|e: StoreError| e)
        .unwrap();
    assert_eq!(got.as_deref(), Some(&b"v"[..]));
    assert_eq!(store.health().journal_seq, 1);
    let seq = store
        .write_single_change_with(|tx| {
            tx.append_journal(&JournalAppend {
                event: b"{}",
                ..JournalAppend::default()
            })
        })
        .await
        .map_err(|e: StoreError| e)
        .unwrap();
    assert_eq!(seq, 2, "numbering continues without a gap");
}

/// A statement failing inside work that ignores the error leaves PostgreSQL's transaction
/// refusing everything, and its COMMIT would silently roll back the whole group. The work
/// must be undone and reported failed, and the others of its group still commit.
#[tokio::test(flavor = "multi_thread")]
async fn work_that_swallows_a_failed_statement_is_undone_alone() {
    let db = TestDatabase::create();
    let store = open(&db);
    let swallowing = store.write_with(|tx| {
        tx.put("s", "before", b"1")?;
        // PostgreSQL's text cannot hold NUL: this statement fails.
        let _ignored = tx.put("s", "nul\0key", b"1");
        Ok::<(), StoreError>(())
    });
    let others: Vec<_> = (0..5)
        .map(|n| store.write_with(move |tx| tx.put("s", &format!("other{n}"), b"1")))
        .collect();
    let (swallowing, others) = tokio::join!(swallowing, futures_join_all(others));
    assert!(swallowing.is_err(), "the work's failure is reported");
    for other in others {
        other.unwrap();
    }
    let keys: Vec<String> = store
        .read_with(|tx| tx.scan("s", "", None, 100))
        .map_err(|e: StoreError| e)
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["other0", "other1", "other2", "other3", "other4"]);
}

async fn futures_join_all<T>(
    futures: Vec<impl std::future::Future<Output = Result<(), T>>>,
) -> Vec<Result<(), T>> {
    let mut out = Vec::with_capacity(futures.len());
    for future in futures {
        out.push(future.await);
    }
    out
}

#[test]
fn a_newer_schema_is_refused() {
    let db = TestDatabase::create();
    drop(PostgresStore::open(&db.url, 1).unwrap());
    {
        let store = PostgresStore::open(&db.url, 1).unwrap();
        let mut conn = store.pool.take().unwrap();
        conn.execute("INSERT INTO rampart_schema (version) VALUES (99)", &[])
            .unwrap();
        store.pool.give_back(Some(conn));
    }
    let Err(e) = PostgresStore::open(&db.url, 1) else {
        panic!("a schema newer than this build must be refused");
    };
    assert!(
        e.to_string().contains("newer than this rampart knows"),
        "{e}"
    );
}

/// Every shape of lookup is served by an index scan in the page's order, with no sort of
/// the matching events (which would read them all).
#[test]
fn lookups_are_index_scans_without_a_sort() {
    let db = TestDatabase::create();
    let store = PostgresStore::open(&db.url, 1).unwrap();
    let mut conn = store.pool.take().unwrap();
    // The tables are empty: tell the planner to use what it would use when they are not.
    conn.batch("SET enable_seqscan = off").unwrap();
    let attributes = [
        None,
        Some(JournalAttribute::EventId(String::new())),
        Some(JournalAttribute::EventName(String::new())),
        Some(JournalAttribute::EventSource(String::new())),
        Some(JournalAttribute::Username(String::new())),
        Some(JournalAttribute::AccessKeyId(String::new())),
        Some(JournalAttribute::ReadOnly(true)),
        Some(JournalAttribute::ResourceType(String::new())),
        Some(JournalAttribute::ResourceName(String::new())),
    ];
    for attribute in attributes {
        let sql = lookup_sql(attribute.as_ref());
        let value: Box<dyn ToSql + Sync> = match &attribute {
            Some(JournalAttribute::ReadOnly(v)) => Box::new(*v),
            _ => Box::new("x"),
        };
        let mut params: Vec<&(dyn ToSql + Sync)> =
            vec![&"A", &0i64, &10i64, &i64::MAX, &i64::MAX, &50i64];
        if attribute.is_some() {
            params.push(value.as_ref());
        }
        let rows = conn.query(&format!("EXPLAIN {sql}"), &params).unwrap();
        let plan: Vec<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
        let text = plan.join("\n");
        assert!(text.contains("Index"), "{attribute:?}:\n{text}");
        assert!(!text.contains("Seq Scan"), "{attribute:?}:\n{text}");
        // The inner page of a resource lookup is in index order; the outer sort orders
        // that page only.
        let sorts = plan
            .iter()
            .filter(|line| {
                line.trim_start()
                    .trim_start_matches("-> ")
                    .starts_with("Sort  (")
            })
            .count();
        let allowed = usize::from(matches!(
            attribute,
            Some(JournalAttribute::ResourceType(_) | JournalAttribute::ResourceName(_))
        ));
        assert!(sorts <= allowed, "{attribute:?}:\n{text}");
    }
    store.pool.give_back(Some(conn));
}

/// A caller can put a NUL into attributes of its event (a denied call's access key ID or
/// action); PostgreSQL's text cannot hold one, and the event must be kept all the same, and
/// found by the same value.
#[tokio::test(flavor = "multi_thread")]
async fn events_with_nul_in_their_attributes_are_kept_and_found() {
    let db = TestDatabase::create();
    let store = open(&db);
    let seq = store
        .write_single_change_with(|tx| {
            let resources = [("AWS::IAM::User".to_owned(), "a\0b".to_owned())];
            tx.append_journal(&JournalAppend {
                event: b"{\"x\":\"\\u0000\"}",
                event_time: 10,
                account: Some("A"),
                event_id: "id\0",
                event_name: "Name\0",
                event_source: "iam.amazonaws.com",
                username: Some("u\0"),
                access_key_id: Some("AKIA\0"),
                read_only: true,
                resources: &resources,
            })
        })
        .await
        .map_err(|e: StoreError| e)
        .unwrap();
    for attribute in [
        JournalAttribute::AccessKeyId("AKIA\0".into()),
        JournalAttribute::EventName("Name\0".into()),
        JournalAttribute::ResourceName("a\0b".into()),
    ] {
        let query = JournalQuery {
            account: "A".into(),
            attribute: Some(attribute.clone()),
            start_time: 0,
            end_time: 20,
            before: None,
            limit: 10,
        };
        let hits = store
            .read_with(|tx| tx.journal_lookup(&query))
            .map_err(|e: StoreError| e)
            .unwrap();
        let seqs: Vec<u64> = hits.iter().map(|h| h.entry.seq).collect();
        assert_eq!(seqs, [seq], "{attribute:?}");
    }
}

/// The pool holds at most its size: a read waits for a connection while another holds the
/// only one, and a read whose work panicked gives its place back.
#[test]
fn the_pool_is_bounded_and_a_panicking_read_frees_its_place() {
    let db = TestDatabase::create();
    let postgres = Arc::new(PostgresStore::open(&db.url, 1).unwrap());
    let open_connections = || postgres.pool.lock().unwrap().open;
    let store: Arc<dyn Store> = Arc::clone(&postgres) as Arc<dyn Store>;
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.read_with(|tx| -> Result<(), StoreError> {
            tx.get("ns", "k")?;
            panic!("the work fails hard");
        })
    }));
    assert!(panicked.is_err());
    assert_eq!(open_connections(), 0, "the panicked read's place is free");
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            store
                .read_with(|tx| {
                    tx.get("ns", "k")?;
                    held_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Ok::<_, StoreError>(())
                })
                .unwrap();
        })
    };
    held_rx.recv().unwrap();
    let waiter = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || store.read_with(|tx| tx.get("ns", "k")))
    };
    // Whether or not the waiter has asked yet, no second connection is opened.
    assert_eq!(open_connections(), 1);
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(waiter.join().unwrap().unwrap(), None);
    assert_eq!(open_connections(), 1);
}

/// Two stores on one database (two nodes, each with its writer) appending at once: every
/// number is given once, none skipped, and each node's acknowledged numbers are its events.
#[tokio::test(flavor = "multi_thread")]
async fn two_writers_on_one_database_number_the_journal_without_gaps() {
    let db = TestDatabase::create();
    let nodes = [open(&db), open(&db)];
    let mut tasks = Vec::new();
    for n in 0..400u32 {
        let store = Arc::clone(&nodes[usize::try_from(n % 2).unwrap()]);
        tasks.push(tokio::spawn(async move {
            let event = n.to_string().into_bytes();
            let seq = store
                .write_single_change_with(move |tx| {
                    tx.append_journal(&JournalAppend {
                        event: &event,
                        ..JournalAppend::default()
                    })
                })
                .await
                .map_err(|e: StoreError| e)
                .unwrap();
            (seq, n)
        }));
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.push(task.await.unwrap());
    }
    acknowledged.sort_unstable();
    let seqs: Vec<u64> = acknowledged.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=400).collect::<Vec<u64>>());
    let entries = nodes[1]
        .read_with(|tx| tx.journal_after(0, 1000))
        .map_err(|e: StoreError| e)
        .unwrap();
    let stored: Vec<(u64, u32)> = entries
        .iter()
        .map(|e| (e.seq, String::from_utf8_lossy(&e.event).parse().unwrap()))
        .collect();
    assert_eq!(
        stored, acknowledged,
        "each number holds the event it was given to"
    );
    assert_eq!(nodes[0].health().journal_seq, 400);
}

/// Retention removes the old events every trail delivered, with their resources, keeps the
/// rest as one unbroken run of numbers, and leaves lookups and delivery reading from there.
#[tokio::test(flavor = "multi_thread")]
async fn retention_removes_old_delivered_events_only() {
    let db = TestDatabase::create();
    let store = open(&db);
    // Events 1–6 at times 100..600; event 4 is out of time order (an early clock), at 150.
    for time in [100_i64, 200, 300, 150, 500, 600] {
        let resources = vec![("AWS::IAM::User".to_owned(), format!("u{time}"))];
        store
            .write_single_change_with(move |tx| {
                tx.append_journal(&JournalAppend {
                    event: b"{}",
                    event_time: time,
                    account: Some("111122223333"),
                    event_name: "CreateUser",
                    resources: &resources,
                    ..JournalAppend::default()
                })
            })
            .await
            .map_err(|e: StoreError| e)
            .unwrap();
    }
    let numbers = |store: &Arc<dyn Store>| -> Vec<u64> {
        store
            .read_with(|tx| tx.journal_after(0, 100))
            .map_err(|e: StoreError| e)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect()
    };
    // Nothing delivered yet: nothing goes, however old.
    assert_eq!(store.remove_journal_before(1000, 0).unwrap(), None);
    assert_eq!(numbers(&store), [1, 2, 3, 4, 5, 6]);
    // Delivered up to 2 only: the old events past it wait.
    assert_eq!(store.remove_journal_before(400, 2).unwrap(), Some(3));
    assert_eq!(numbers(&store), [3, 4, 5, 6]);
    // Delivered up to 5, window before 400: the first event young enough is 5 (at 500), so
    // 3 and 4 go, 4 (at 150) included.
    assert_eq!(store.remove_journal_before(400, 5).unwrap(), Some(5));
    assert_eq!(numbers(&store), [5, 6]);
    // Nothing older than the window is left.
    assert_eq!(store.remove_journal_before(400, 6).unwrap(), None);
    assert_eq!(numbers(&store), [5, 6]);
    let hits = store
        .read_with(|tx| {
            tx.journal_lookup(&JournalQuery {
                account: "111122223333".into(),
                attribute: None,
                start_time: 0,
                end_time: 10_000,
                before: None,
                limit: 50,
            })
        })
        .map_err(|e: StoreError| e)
        .unwrap();
    assert_eq!(hits.iter().map(|h| h.entry.seq).collect::<Vec<_>>(), [6, 5]);
    let by_resource = store
        .read_with(|tx| {
            tx.journal_lookup(&JournalQuery {
                account: "111122223333".into(),
                attribute: Some(JournalAttribute::ResourceName("u100".into())),
                start_time: 0,
                end_time: 10_000,
                before: None,
                limit: 50,
            })
        })
        .map_err(|e: StoreError| e)
        .unwrap();
    assert!(
        by_resource.is_empty(),
        "a removed event's resources went with it"
    );
    // Numbering continues after the head, not after what is kept.
    let seq = store
        .write_single_change_with(|tx| {
            tx.append_journal(&JournalAppend {
                event: b"{}",
                event_time: 700,
                ..JournalAppend::default()
            })
        })
        .await
        .map_err(|e: StoreError| e)
        .unwrap();
    assert_eq!(seq, 7);
}

/// Several nodes on one database: a node learns from `state_version` that another node
/// changed documents (and only then: an event alone moves nothing).
#[tokio::test(flavor = "multi_thread")]
async fn the_state_version_moves_with_every_node_s_document_commits_only() {
    let db = TestDatabase::create();
    let (one, two) = (open(&db), open(&db));
    let version = |store: &Arc<dyn Store>| store.state_version().unwrap().unwrap();
    let start = version(&two);
    one.write_with(|tx| tx.put("ns", "k", b"v"))
        .await
        .map_err(|e: StoreError| e)
        .unwrap();
    let after_put = version(&two);
    assert!(after_put > start, "a put on node one is seen by node two");
    one.write_single_change_with(|tx| {
        tx.append_journal(&JournalAppend {
            event: b"{}",
            ..JournalAppend::default()
        })
    })
    .await
    .map_err(|e: StoreError| e)
    .unwrap();
    assert_eq!(version(&two), after_put, "an event alone changes no state");
    two.write_with(|tx| tx.delete("ns", "k").map(|_| ()))
        .await
        .map_err(|e: StoreError| e)
        .unwrap();
    assert!(
        version(&one) > after_put,
        "a delete on node two is seen by node one"
    );
    // Work that fails is undone; the version may move (it is only a hint to drop caches)
    // but what it guards is unchanged.
    let failed = one
        .write_with(|tx| {
            tx.put("ns", "k", b"undone")?;
            Err::<(), _>(StoreError::Internal("undo".into()))
        })
        .await;
    assert!(failed.is_err());
    let got = two
        .read_with(|tx| tx.get("ns", "k"))
        .map_err(|e: StoreError| e)
        .unwrap();
    assert_eq!(got, None);
}

/// A lease is held by one node at a time, stays with it, and passes to another node once
/// the holder's connection is gone (here: the store closed; a killed process closes it too).
#[tokio::test(flavor = "multi_thread")]
async fn a_lease_is_held_by_one_node_and_taken_over_when_it_goes() {
    let db = TestDatabase::create();
    let one = open(&db);
    let two = open(&db);
    assert!(one.take_lease("scheduler").unwrap());
    assert!(one.take_lease("scheduler").unwrap(), "the holder keeps it");
    assert!(
        !two.take_lease("scheduler").unwrap(),
        "not while node one holds it"
    );
    assert!(
        two.take_lease("trail-delivery").unwrap(),
        "leases are separate"
    );
    assert!(!one.take_lease("trail-delivery").unwrap());
    // Work guarded in its own transaction commits on the holder only.
    let guarded = |store: &Arc<dyn Store>, value: &'static [u8]| {
        let store = Arc::clone(store);
        async move {
            store
                .write_with(move |tx| {
                    if !tx.hold_lease("scheduler")? {
                        return Ok(false);
                    }
                    tx.put("timers", "due", value)?;
                    Ok::<_, StoreError>(true)
                })
                .await
                .unwrap()
        }
    };
    assert!(guarded(&one, b"one").await);
    assert!(!guarded(&two, b"two").await);
    drop(one);
    // The server ends the session when its connection closes; poll with a deadline.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !two.take_lease("scheduler").unwrap() {
        assert!(
            std::time::Instant::now() < deadline,
            "node two never took the lease over"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(guarded(&two, b"two").await);
    let got = two
        .read_with(|tx| tx.get("timers", "due"))
        .map_err(|e: StoreError| e)
        .unwrap();
    assert_eq!(got.as_deref(), Some(&b"two"[..]));
}

/// Lease keys are stable (they must agree between nodes of different builds) and distinct
/// for the server's lease names.
#[test]
fn lease_keys_are_stable_and_distinct() {
    assert_eq!(
        lease_key(""),
        i32::from_ne_bytes(0x811c_9dc5_u32.to_ne_bytes())
    );
    assert_ne!(lease_key("scheduler"), lease_key("trail-delivery"));
}

/// What makes a scheduled item run once even on two nodes at the same moment: both nodes'
/// transactions find the item, but only one delete removes its row (the other waits for the
/// first to commit, then removes nothing), and the services apply an item only when their
/// delete removed it.
#[tokio::test(flavor = "multi_thread")]
async fn of_two_nodes_deleting_one_due_item_exactly_one_claims_it() {
    let db = TestDatabase::create();
    let (one, two) = (open(&db), open(&db));
    for round in 0..5 {
        let key = format!("item-{round}");
        one.write_with({
            let key = key.clone();
            move |tx| tx.put("timers", &key, b"due")
        })
        .await
        .map_err(|e: StoreError| e)
        .unwrap();
        // Both find the item before either deletes it.
        let both_found = Arc::new(std::sync::Barrier::new(2));
        let claim = |store: &Arc<dyn Store>| {
            let (store, key, both_found) =
                (Arc::clone(store), key.clone(), Arc::clone(&both_found));
            async move {
                store
                    .write_with(move |tx| {
                        let found = tx.get("timers", &key)?.is_some();
                        both_found.wait();
                        let claimed = tx.delete("timers", &key)?;
                        if claimed {
                            tx.put("applied", &key, b"once")?;
                        }
                        Ok::<_, StoreError>((found, claimed))
                    })
                    .await
                    .unwrap()
            }
        };
        let (a, b) = tokio::join!(claim(&one), claim(&two));
        assert_eq!((a.0, b.0), (true, true), "both found it due");
        assert!(a.1 ^ b.1, "exactly one claimed it: {a:?} {b:?}");
    }
}
