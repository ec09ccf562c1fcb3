//! Many appenders at once: every acknowledged record is read back under the number it was
//! given, numbers are gap-free, and each appender's records keep its order — before and after
//! a reopen.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use rampart_journal::{Journal, Options};

/// The payload appender `thread` appends as its `i`th, `len` bytes long; unique per
/// (thread, i) so each record can be traced back.
fn payload(thread: usize, i: usize, len: usize) -> Vec<u8> {
    let mut bytes = format!("{thread}/{i}/").into_bytes();
    bytes.resize(bytes.len().max(len), b'a' + (i % 26) as u8);
    bytes
}

fn check(threads: &[Vec<usize>], segment_bytes: u64, batch: usize) {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        segment_bytes,
        ..Options::default()
    };
    let journal = Journal::open(dir.path(), &options).unwrap();
    // seq → (thread, i), as acknowledged.
    let acknowledged: BTreeMap<u64, (usize, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = threads
            .iter()
            .enumerate()
            .map(|(thread, lengths)| {
                let journal = &journal;
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    for (chunk_start, chunk) in (0..lengths.len())
                        .collect::<Vec<_>>()
                        .chunks(batch)
                        .map(|c| (c[0], c))
                    {
                        let records = chunk
                            .iter()
                            .map(|&i| payload(thread, i, lengths[i]))
                            .collect();
                        let seqs = journal.append_all(records).unwrap();
                        assert_eq!(seqs.end - seqs.start, chunk.len() as u64);
                        for (offset, seq) in seqs.enumerate() {
                            mine.push((seq, (thread, chunk_start + offset)));
                        }
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let total: usize = threads.iter().map(Vec::len).sum();
    assert_eq!(
        acknowledged.len(),
        total,
        "a sequence number was given twice"
    );
    let verify = |journal: &Journal| {
        assert_eq!(journal.last_seq(), total as u64);
        let records: Vec<_> = journal.read_from(1).map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), total);
        let mut last_of_thread = vec![None; threads.len()];
        for (index, record) in records.iter().enumerate() {
            assert_eq!(record.seq, index as u64 + 1, "gap-free");
            let (thread, i) = acknowledged[&record.seq];
            assert_eq!(record.payload, payload(thread, i, threads[thread][i]));
            assert!(
                last_of_thread[thread] < Some(i),
                "an appender's order is kept"
            );
            last_of_thread[thread] = Some(i);
        }
    };
    verify(&journal);
    drop(journal);
    verify(&Journal::open(dir.path(), &options).unwrap());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn concurrent_appenders_get_gap_free_numbers_and_lose_nothing(
        threads in prop::collection::vec(prop::collection::vec(0usize..400, 0..40), 1..6),
        segment_bytes in 512u64..8192,
        batch in 1usize..4,
    ) {
        check(&threads, segment_bytes, batch);
    }
}
