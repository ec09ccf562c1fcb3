//! The journal alone: round trip, recovery of a torn or corrupt tail, segment roll-over,
//! retention.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rampart_journal::{
    Journal, JournalError, Options, RECORD_HEADER_BYTES, Record, SEGMENT_HEADER_BYTES,
};

fn small(segment_bytes: u64) -> Options {
    Options {
        segment_bytes,
        ..Options::default()
    }
}

fn payload(i: usize) -> Vec<u8> {
    // Lengths vary (including empty) so records straddle read-ahead buffers differently.
    format!("event {i} {}", "x".repeat(i * 7 % 50))
        .into_bytes()
        .into_iter()
        .take(if i % 11 == 3 { 0 } else { usize::MAX })
        .collect()
}

fn read_all(journal: &Journal) -> Vec<Record> {
    journal
        .read_from(journal.first_seq())
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
}

#[test]
fn records_round_trip_in_order_across_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let options = small(1 << 16);
    {
        let journal = Journal::open(dir.path(), &options).unwrap();
        assert_eq!(journal.last_seq(), 0);
        assert_eq!(read_all(&journal), vec![]);
        for i in 0..100 {
            assert_eq!(journal.append(payload(i)).unwrap(), i as u64 + 1);
        }
        assert_eq!(
            journal
                .append_all(vec![b"a".to_vec(), b"b".to_vec()])
                .unwrap(),
            101..103
        );
        assert_eq!(journal.append_all(vec![]).unwrap(), 103..103);
        assert_eq!(journal.last_seq(), 102);
    }
    let journal = Journal::open(dir.path(), &options).unwrap();
    assert_eq!(journal.last_seq(), 102);
    let records = read_all(&journal);
    assert_eq!(records.len(), 102);
    for (i, record) in records.iter().take(100).enumerate() {
        assert_eq!(record.seq, i as u64 + 1);
        assert_eq!(record.payload, payload(i));
    }
    assert_eq!(records[101].payload, b"b");
    // From any point.
    let tail: Vec<_> = journal.read_from(57).map(|r| r.unwrap().seq).collect();
    assert_eq!(tail, (57..=102).collect::<Vec<_>>());
    assert_eq!(journal.read_from(103).count(), 0);
    // Numbering goes on after a reopen.
    assert_eq!(journal.append(b"after".to_vec()).unwrap(), 103);
}

#[test]
fn a_new_journal_starts_at_the_first_sequence_number_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        first_seq: 5000,
        ..small(1 << 14)
    };
    let journal = Journal::open(dir.path(), &options).unwrap();
    assert_eq!(journal.last_seq(), 4999);
    assert_eq!(journal.append(b"x".to_vec()).unwrap(), 5000);
    assert!(matches!(
        journal.read_from(1).next(),
        Some(Err(JournalError::NotRetained {
            seq: 1,
            oldest: 5000
        }))
    ));
}

#[test]
fn a_record_longer_than_the_maximum_is_refused_and_numbering_stays_gap_free() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(
        dir.path(),
        &Options {
            max_record_bytes: 100,
            ..small(1 << 14)
        },
    )
    .unwrap();
    assert_eq!(journal.append(vec![1; 100]).unwrap(), 1);
    assert!(matches!(
        journal.append(vec![1; 101]),
        Err(JournalError::TooLarge {
            length: 101,
            max: 100
        })
    ));
    // A record never exceeds what one segment holds, whatever the options say.
    let tiny = tempfile::tempdir().unwrap();
    let tiny = Journal::open(tiny.path(), &small(256)).unwrap();
    let fits = (256 - SEGMENT_HEADER_BYTES - RECORD_HEADER_BYTES) as usize;
    assert!(tiny.append(vec![0; fits + 1]).is_err());
    assert_eq!(tiny.append(vec![7; fits]).unwrap(), 1);
    assert_eq!(tiny.append(vec![8; fits]).unwrap(), 2);
    assert_eq!(journal.append(vec![2; 3]).unwrap(), 2);
}

#[test]
fn segments_roll_over_and_reads_cross_them() {
    let dir = tempfile::tempdir().unwrap();
    let options = small(512);
    {
        let journal = Journal::open(dir.path(), &options).unwrap();
        for i in 0..200 {
            journal.append(payload(i)).unwrap();
        }
        // Groups of several records straddle segments too.
        let many: Vec<_> = (200..260).map(payload).collect();
        assert_eq!(journal.append_all(many).unwrap(), 201..261);
    }
    let files = segments(dir.path());
    assert!(files.len() > 20, "{} segments", files.len());
    // Each segment is named after its first record, and preallocated.
    for file in &files {
        assert_eq!(std::fs::metadata(file).unwrap().len(), 512);
    }
    assert!(
        files[0]
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("00000000000000000001")
    );
    let journal = Journal::open(dir.path(), &options).unwrap();
    let records = read_all(&journal);
    assert_eq!(records.len(), 260);
    for (i, record) in records.iter().enumerate() {
        assert_eq!((record.seq, &record.payload), (i as u64 + 1, &payload(i)));
    }
    for from in [1, 2, 17, 99, 100, 101, 259, 260] {
        let first = journal.read_from(from).next().unwrap().unwrap();
        assert_eq!(first.seq, from);
        assert_eq!(first.payload, payload(from as usize - 1));
    }
}

#[test]
fn retention_removes_whole_segments_before_a_sequence_number() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path(), &small(512)).unwrap();
    for i in 0..200 {
        journal.append(payload(i)).unwrap();
    }
    let before = segments(dir.path()).len();
    let removed = journal.remove_before(100).unwrap();
    assert!(removed > 0);
    assert_eq!(segments(dir.path()).len(), before - removed);
    let oldest = journal.first_seq();
    assert!(oldest <= 100 && oldest > 1, "oldest kept: {oldest}");
    assert!(matches!(
        journal.read_from(1).next(),
        Some(Err(JournalError::NotRetained { seq: 1, .. }))
    ));
    let records = read_all(&journal);
    assert_eq!(records.first().unwrap().seq, oldest);
    assert_eq!(records.last().unwrap().seq, 200);
    // Never the segment being filled, whatever is asked.
    journal.remove_before(u64::MAX).unwrap();
    assert_eq!(segments(dir.path()).len(), 1);
    assert_eq!(journal.append(b"more".to_vec()).unwrap(), 201);
    drop(journal);
    let journal = Journal::open(dir.path(), &small(512)).unwrap();
    assert_eq!(read_all(&journal).last().unwrap().seq, 201);
}

/// Writes `count` records to a fresh journal in `dir`; returns where the last one starts and
/// ends in the last segment, and that segment.
fn journal_with(dir: &Path, options: &Options, count: usize) -> (PathBuf, u64, u64) {
    let journal = Journal::open(dir, options).unwrap();
    for i in 0..count {
        journal.append(payload(i)).unwrap();
    }
    drop(journal);
    let last = segments(dir).pop().unwrap();
    let scan = rampart_journal::scan_segment(
        std::fs::File::open(&last).unwrap(),
        options.max_record_bytes,
    )
    .unwrap()
    .unwrap();
    let last_payload = payload(count - 1).len() as u64;
    let end = scan.valid_end;
    (last, end - RECORD_HEADER_BYTES - last_payload, end)
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// After recovery from a damaged last record: the records before it are all there, the
/// damaged one is not, and the next append takes its number and survives a reopen.
fn assert_recovered_without_last(dir: &Path, options: &Options, count: usize) {
    {
        let journal = Journal::open(dir, options).unwrap();
        assert_eq!(journal.last_seq(), count as u64 - 1);
        let records = read_all(&journal);
        assert_eq!(records.len(), count - 1);
        for (i, record) in records.iter().enumerate() {
            assert_eq!(record.payload, payload(i));
        }
        assert_eq!(
            journal.append(b"replacement".to_vec()).unwrap(),
            count as u64
        );
    }
    let journal = Journal::open(dir, options).unwrap();
    let records = read_all(&journal);
    assert_eq!(records.len(), count);
    assert_eq!(records.last().unwrap().payload, b"replacement");
}

#[test]
fn a_torn_last_record_is_dropped_at_every_byte_offset() {
    let options = small(4096);
    let count = 30;
    let original = tempfile::tempdir().unwrap();
    let (last, start, end) = journal_with(original.path(), &options, count);
    let name = last.file_name().unwrap();
    for cut in start..end {
        // The file ends inside the record (the write reached only part of it)...
        let dir = tempfile::tempdir().unwrap();
        copy_dir(original.path(), dir.path());
        std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join(name))
            .unwrap()
            .set_len(cut)
            .unwrap();
        assert_recovered_without_last(dir.path(), &options, count);
        // ...or the preallocated zeros are still there after part of it.
        let dir = tempfile::tempdir().unwrap();
        copy_dir(original.path(), dir.path());
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join(name))
            .unwrap();
        file.write_all_at(&vec![0; (end - cut) as usize], cut)
            .unwrap();
        assert_recovered_without_last(dir.path(), &options, count);
    }
}

#[test]
fn a_corrupt_checksum_in_the_last_segment_ends_the_journal_there() {
    let options = small(4096);
    let count = 30;
    let dir = tempfile::tempdir().unwrap();
    let (last, start, end) = journal_with(dir.path(), &options, count);
    // A flipped bit in the last record's payload, and garbage after the records.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&last)
        .unwrap();
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, end - 1).unwrap();
    file.write_all_at(&[byte[0] ^ 0x10], end - 1).unwrap();
    file.write_all_at(&[0xff; 40], end + 100).unwrap();
    assert!(start < end);
    assert_recovered_without_last(dir.path(), &options, count);
    // The garbage was wiped: nothing after the replacement record.
    let scan = rampart_journal::scan_segment(
        std::fs::File::open(&last).unwrap(),
        options.max_record_bytes,
    )
    .unwrap()
    .unwrap();
    assert_eq!(scan.stop, rampart_journal::Stop::Clean);
    let mut rest = vec![0u8; (4096 - scan.valid_end) as usize];
    file.read_exact_at(&mut rest, scan.valid_end).unwrap();
    assert!(rest.iter().all(|b| *b == 0));
}

#[test]
fn a_corrupt_record_in_an_earlier_segment_is_reported_when_read() {
    let options = small(512);
    let dir = tempfile::tempdir().unwrap();
    journal_with(dir.path(), &options, 100);
    let first = segments(dir.path()).remove(0);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&first)
        .unwrap();
    // The second record's first payload byte.
    let second = SEGMENT_HEADER_BYTES + 2 * RECORD_HEADER_BYTES + payload(0).len() as u64;
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, second).unwrap();
    file.write_all_at(&[byte[0] ^ 1], second).unwrap();
    let journal = Journal::open(dir.path(), &options).unwrap();
    assert_eq!(journal.last_seq(), 100);
    let mut records = journal.read_from(1);
    assert_eq!(records.next().unwrap().unwrap().seq, 1);
    assert!(matches!(
        records.next(),
        Some(Err(JournalError::Corrupt { .. }))
    ));
    assert!(records.next().is_none());
    // Records after it in the same segment are still reachable from their own number.
    assert_eq!(journal.read_from(3).next().unwrap().unwrap().seq, 3);
}

#[test]
fn a_segment_whose_header_is_not_valid_refuses_the_open() {
    let options = small(4096);
    let dir = tempfile::tempdir().unwrap();
    let (last, _, _) = journal_with(dir.path(), &options, 5);
    let file = std::fs::OpenOptions::new().write(true).open(&last).unwrap();
    file.write_all_at(b"X", 0).unwrap();
    assert!(matches!(
        Journal::open(dir.path(), &options),
        Err(JournalError::Corrupt { offset: 0, .. })
    ));
}

#[test]
fn files_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let journal_dir = dir.path().join("journal");
    let journal = Journal::open(&journal_dir, &small(4096)).unwrap();
    journal.append(b"secret-free but private".to_vec()).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&journal_dir), 0o700);
    for file in segments(&journal_dir) {
        assert_eq!(mode(&file), 0o600);
    }
}

#[test]
fn reads_from_any_number_jump_through_the_position_index() {
    let dir = tempfile::tempdir().unwrap();
    let options = small(1 << 20);
    {
        let journal = Journal::open(dir.path(), &options).unwrap();
        let records: Vec<_> = (0..300).map(payload).collect();
        journal.append_all(records).unwrap();
    }
    let journal = Journal::open(dir.path(), &options).unwrap();
    // In an order that jumps about, before and after the index knows the segment.
    for round in 0..2 {
        for k in 0..300u64 {
            let seq = 1 + (k * 97) % 300;
            let record = journal.read_from(seq).next().unwrap().unwrap();
            assert_eq!(
                (record.seq, record.payload),
                (seq, payload(seq as usize - 1)),
                "round {round}"
            );
        }
    }
    // The index is what a read from a number uses: with record 2's header damaged, a read
    // from 200 seeks past it, while a read from 3 must step over it and finds the damage.
    let segment = segments(dir.path()).remove(0);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap();
    let second = SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + payload(0).len() as u64;
    file.write_all_at(&99u64.to_le_bytes(), second + 8).unwrap();
    assert_eq!(journal.read_from(200).next().unwrap().unwrap().seq, 200);
    assert!(matches!(
        journal.read_from(3).next(),
        Some(Err(JournalError::Corrupt { .. }))
    ));
}

#[test]
fn stale_records_after_a_hole_never_come_back() {
    // A power cut can persist a group's later pages and not an earlier one: record 8 is lost
    // (zeros) while 9 and 10 are whole on disk. Recovery ends the journal at 7. Had it left 9
    // and 10 there, a new record 8 of the same length would put them back in line, and the
    // next recovery would read them as records that were never acknowledged.
    let options = small(4096);
    let dir = tempfile::tempdir().unwrap();
    let same = |i: usize| format!("record {i:03}").into_bytes();
    {
        let journal = Journal::open(dir.path(), &options).unwrap();
        for i in 1..=10 {
            journal.append(same(i)).unwrap();
        }
    }
    let segment = segments(dir.path()).remove(0);
    let record_bytes = RECORD_HEADER_BYTES + same(1).len() as u64;
    let eighth = SEGMENT_HEADER_BYTES + 7 * record_bytes;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap();
    file.write_all_at(&vec![0; record_bytes as usize], eighth)
        .unwrap();
    {
        let journal = Journal::open(dir.path(), &options).unwrap();
        assert_eq!(journal.last_seq(), 7);
        assert_eq!(journal.append(same(80)).unwrap(), 8);
    }
    let journal = Journal::open(dir.path(), &options).unwrap();
    assert_eq!(journal.last_seq(), 8);
    let records = read_all(&journal);
    assert_eq!(records.last().unwrap().payload, same(80));
}
