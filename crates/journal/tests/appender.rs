//! The appender a store's writer thread owns: numbers given at push, taken back by a rollback
//! before the sync, one sync per group (spanning segments when it must), and records readable
//! only once published.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

use rampart_journal::{Journal, JournalError, Options};

fn options(segment_bytes: u64) -> Options {
    Options {
        segment_bytes,
        ..Options::default()
    }
}

fn payloads(reader: &rampart_journal::Reader) -> Vec<(u64, Vec<u8>)> {
    reader
        .read_from(reader.first_seq())
        .map(|r| r.map(|r| (r.seq, r.payload)).unwrap())
        .collect()
}

#[test]
fn a_rollback_takes_back_records_and_their_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (mut appender, reader) = Journal::open_appender(dir.path(), &options(4096)).unwrap();
    assert_eq!(appender.push(b"kept").unwrap(), 1);
    let mark = appender.mark();
    assert_eq!(appender.push(b"rolled back").unwrap(), 2);
    assert_eq!(appender.push(b"rolled back too").unwrap(), 3);
    appender.rollback_to(mark);
    assert_eq!(appender.next_seq(), 2);
    assert_eq!(appender.push(b"second").unwrap(), 2);
    assert_eq!(appender.sync().unwrap(), 1..3);
    appender.publish(3);
    assert_eq!(
        payloads(&reader),
        vec![(1, b"kept".to_vec()), (2, b"second".to_vec())]
    );
    // A mark from before a sync takes nothing durable back...
    let old = appender.mark();
    appender.push(b"third").unwrap();
    appender.sync().unwrap();
    appender.rollback_to(mark);
    appender.rollback_to(old);
    assert_eq!(appender.next_seq(), 4);
    // ...but takes back what was pushed after both the mark and the sync.
    appender.push(b"fourth").unwrap();
    let before_sync = appender.mark();
    assert_eq!(appender.sync().unwrap(), 4..5);
    appender.push(b"taken back").unwrap();
    appender.rollback_to(before_sync);
    assert_eq!(appender.next_seq(), 5);
    assert_eq!(appender.sync().unwrap(), 5..5);
}

#[test]
fn records_are_readable_only_once_published() {
    let dir = tempfile::tempdir().unwrap();
    let (mut appender, reader) = Journal::open_appender(dir.path(), &options(4096)).unwrap();
    appender.push(b"one").unwrap();
    appender.push(b"two").unwrap();
    assert_eq!(appender.sync().unwrap(), 1..3);
    assert_eq!(appender.durable_end(), 3);
    assert_eq!(reader.last_seq(), 0);
    assert_eq!(reader.read_from(1).count(), 0);
    appender.publish(2);
    assert_eq!(payloads(&reader), vec![(1, b"one".to_vec())]);
    // Never past what is durable.
    appender.push(b"three").unwrap();
    appender.publish(100);
    assert_eq!(reader.last_seq(), 2);
    // Durable but unpublished records are kept by a reopen: recovery publishes every whole
    // record (the store decides what they mean).
    drop(appender);
    let (_, reader) = Journal::open_appender(dir.path(), &options(4096)).unwrap();
    assert_eq!(reader.last_seq(), 2);
}

#[test]
fn one_sync_spans_segments_when_the_group_does() {
    let dir = tempfile::tempdir().unwrap();
    let (mut appender, reader) = Journal::open_appender(dir.path(), &options(512)).unwrap();
    let records: Vec<Vec<u8>> = (0..40).map(|i| vec![i as u8; 50 + i]).collect();
    for record in &records {
        appender.push(record).unwrap();
    }
    assert_eq!(appender.sync().unwrap(), 1..41);
    appender.publish(41);
    let segments = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "seg")
        })
        .count();
    assert!(segments > 5, "{segments} segments");
    let read: Vec<_> = payloads(&reader).into_iter().map(|(_, p)| p).collect();
    assert_eq!(read, records);
    drop(appender);
    let journal = Journal::open(dir.path(), &options(512)).unwrap();
    assert_eq!(journal.last_seq(), 40);
    assert_eq!(journal.append(b"next".to_vec()).unwrap(), 41);
}

#[test]
fn a_record_too_large_is_refused_at_push_and_numbers_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut appender, _) = Journal::open_appender(
        dir.path(),
        &Options {
            max_record_bytes: 10,
            ..options(4096)
        },
    )
    .unwrap();
    assert!(matches!(
        appender.push(&[0; 11]),
        Err(JournalError::TooLarge {
            length: 11,
            max: 10
        })
    ));
    assert_eq!(appender.push(&[0; 10]).unwrap(), 1);
}
