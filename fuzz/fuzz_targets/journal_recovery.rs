//! Fuzz the journal's recovery scan (the bytes of a segment file after a crash are untrusted:
//! torn, stale or corrupted). The input either is the whole file, or says how many valid
//! records to build in front of arbitrary trailing bytes. The scan must never panic, must keep
//! every valid record in front, must end within the bytes, and scanning just what it kept must
//! find the same records ending cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_journal::{Stop, encode_record, scan_segment, segment_header};

const MAX_RECORD: u64 = 1 << 16;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut file = Vec::new();
    let mut valid = 0u64;
    let mut tail = rest;
    if mode % 2 == 1 {
        // A valid header and `mode / 2 % 8` valid records whose lengths come from the input.
        let first_seq = 1 + u64::from(mode / 16);
        file.extend_from_slice(&segment_header(first_seq));
        for _ in 0..(mode / 2 % 8) {
            let Some((&len, after)) = tail.split_first() else { break };
            let len = usize::from(len).min(after.len());
            let (payload, after) = after.split_at(len);
            encode_record(&mut file, first_seq + valid, payload);
            valid += 1;
            tail = after;
        }
    }
    file.extend_from_slice(tail);
    let Ok(Some(scan)) = scan_segment(&file[..], MAX_RECORD) else {
        assert!(mode % 2 == 0, "a valid header was refused");
        return;
    };
    assert!(scan.records >= valid, "a valid record in front was dropped");
    let kept = usize::try_from(scan.valid_end).unwrap_or(usize::MAX);
    assert!(kept <= file.len());
    let Some(prefix) = file.get(..kept) else { return };
    let again = scan_segment(prefix, MAX_RECORD).ok().flatten();
    assert_eq!(again.map(|s| (s.first_seq, s.records, s.valid_end, s.stop)),
        Some((scan.first_seq, scan.records, scan.valid_end, Stop::Clean)));
});
