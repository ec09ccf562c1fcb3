//! `kill -9` while appenders run: a child process appends from several threads and prints each
//! record's number once `append` has returned (acknowledged); the parent kills it with SIGKILL
//! mid-append, reopens the journal and finds every acknowledged record under its number, with
//! no gap. Several rounds on one directory, so recovery also runs over its own earlier work.
//!
//! SIGKILL keeps the page cache, so this proves the process side (no acknowledgement before
//! the write, recovery of a torn group); power loss is what the torn-tail tests imitate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rampart_journal::{Journal, Options};

const DIR_VAR: &str = "RAMPART_JOURNAL_CRASH_DIR";
const ROUND_VAR: &str = "RAMPART_JOURNAL_CRASH_ROUND";
const THREADS: usize = 4;

fn options() -> Options {
    // Small segments: the kill also lands during roll-overs and spare preparation.
    Options {
        segment_bytes: 16 << 10,
        ..Options::default()
    }
}

fn payload(round: usize, thread: usize, i: usize) -> Vec<u8> {
    let mut bytes = format!("{round}/{thread}/{i}/").into_bytes();
    bytes.resize(bytes.len() + (i * 37) % 300, b'z');
    bytes
}

/// The child: appends until killed (or, should the parent be gone, for at most a minute).
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let round: usize = std::env::var(ROUND_VAR).unwrap().parse().unwrap();
    let journal = Journal::open(Path::new(&dir), &options()).unwrap();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let journal = &journal;
            scope.spawn(move || {
                let mut i = 0;
                while started.elapsed() < Duration::from_secs(60) {
                    let seq = journal.append(payload(round, thread, i)).unwrap();
                    // One line per write: stdout is line-buffered and locked per line.
                    println!("ack {seq} {round} {thread} {i}");
                    i += 1;
                }
            });
        }
    });
}

/// The record a child's `ack` line acknowledges: its number and payload.
fn acknowledgement(line: &str) -> Option<(u64, Vec<u8>)> {
    let fields: Vec<usize> = line
        .strip_prefix("ack ")?
        .split(' ')
        .map(|f| f.parse().unwrap())
        .collect();
    let [seq, round, thread, i] =
        <[usize; 4]>::try_from(fields).expect("an ack line has four numbers");
    Some((seq as u64, payload(round, thread, i)))
}

#[test]
fn kill_9_mid_append_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    // seq → payload, acknowledged over every round.
    let mut acknowledged: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    for round in 0..4 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(DIR_VAR, dir.path())
            .env(ROUND_VAR, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Kill after a different number of acknowledgements each round.
        let kill_after = 200 + round * 350;
        let mut seen = 0;
        while seen < kill_after {
            let line = lines.next().expect("the child stopped early").unwrap();
            let Some((seq, payload)) = acknowledgement(&line) else {
                continue;
            };
            let previous = acknowledged.insert(seq, payload);
            assert!(previous.is_none(), "seq {seq} acknowledged twice");
            seen += 1;
        }
        child.kill().unwrap(); // SIGKILL
        // Acknowledgements printed before the kill landed still count.
        for line in lines.map_while(Result::ok) {
            if let Some((seq, payload)) = acknowledgement(&line) {
                acknowledged.insert(seq, payload);
            }
        }
        child.wait().unwrap();

        let journal = Journal::open(dir.path(), &options()).unwrap();
        let records: Vec<_> = journal.read_from(1).map(|r| r.unwrap()).collect();
        assert_eq!(records.len() as u64, journal.last_seq());
        for (index, record) in records.iter().enumerate() {
            assert_eq!(record.seq, index as u64 + 1, "gap-free after round {round}");
        }
        for (seq, payload) in &acknowledged {
            let record = records
                .get(*seq as usize - 1)
                .unwrap_or_else(|| panic!("acknowledged record {seq} lost in round {round}"));
            assert_eq!(&record.payload, payload, "record {seq}");
        }
    }
}
