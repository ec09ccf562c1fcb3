//! The bytes on disk, and the scan that reads them back.
//!
//! A segment starts with a header (magic, the sequence number of its first record, a checksum
//! of both), then holds records back to back, then zeros up to its preallocated length:
//!
//! ```text
//! header:  magic "RMPJRNL1" | first seq: u64 LE | crc32 of the 16 bytes before: u32 LE | 0u32
//! record:  length: u32 LE | crc32 of (length, seq, payload): u32 LE | seq: u64 LE | payload
//! ```
//!
//! A record carries its own sequence number although it follows from its position: a stale
//! record left from before a truncation, or a record copied to the wrong place, then fails
//! the scan instead of being read as the next one. Sequence numbers start at 1, so a header
//! of zeros (the preallocated rest of a segment) is never a record.

use std::io::{ErrorKind, Read};

/// Identifies a segment file and its format version.
const MAGIC: [u8; 8] = *b"RMPJRNL1";

/// Bytes of a segment's header.
pub const SEGMENT_HEADER_BYTES: u64 = 24;

/// Bytes of a record's header (length, checksum, sequence number).
pub const RECORD_HEADER_BYTES: u64 = 16;

/// A segment's header for a segment whose first record is `first_seq` (public, with
/// [`encode_record`], so that tools and the fuzz target can build segments).
pub fn segment_header(first_seq: u64) -> [u8; SEGMENT_HEADER_BYTES as usize] {
    let mut header = [0u8; SEGMENT_HEADER_BYTES as usize];
    let (magic, rest) = header.split_at_mut(8);
    magic.copy_from_slice(&MAGIC);
    let (seq, rest) = rest.split_at_mut(8);
    seq.copy_from_slice(&first_seq.to_le_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&MAGIC);
    crc.update(&first_seq.to_le_bytes());
    let (sum, _reserved) = rest.split_at_mut(4);
    sum.copy_from_slice(&crc.finalize().to_le_bytes());
    header
}

/// The first sequence number a segment header names, if it is a valid header.
pub(crate) fn parse_segment_header(header: &[u8; SEGMENT_HEADER_BYTES as usize]) -> Option<u64> {
    let (magic, rest) = header.split_first_chunk::<8>()?;
    let (seq, rest) = rest.split_first_chunk::<8>()?;
    let (sum, _reserved) = rest.split_first_chunk::<4>()?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(magic);
    crc.update(seq);
    (*magic == MAGIC && crc.finalize() == u32::from_le_bytes(*sum))
        .then(|| u64::from_le_bytes(*seq))
}

fn record_crc(length: u32, seq: u64, payload: &[u8]) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&length.to_le_bytes());
    crc.update(&seq.to_le_bytes());
    crc.update(payload);
    crc.finalize()
}

/// Appends the encoding of record `seq` to `out`. The journal checks that the payload's
/// length fits in a `u32` (it is at most the journal's maximum record size); a longer one is
/// encoded with a length of `u32::MAX`, which no scan accepts.
pub fn encode_record(out: &mut Vec<u8>, seq: u64, payload: &[u8]) {
    let length = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(&record_crc(length, seq, payload).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(payload);
}

/// Why a scan stopped before a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The end of the data: the file ends at a record boundary, or zeros follow (the
    /// preallocated rest of the segment).
    Clean,
    /// The file ends inside a record: a write that never completed.
    Torn,
    /// The bytes at the boundary are not the expected record: a wrong checksum, sequence number
    /// or length (a torn write whose later pages reached the disk first, or corruption).
    Corrupt,
}

/// One step of a scan.
pub(crate) enum Step {
    /// The next record, whose payload is now in the buffer; its encoded length.
    Record(u64),
    /// No record here.
    Stop(Stop),
}

/// Reads as much of `buf` as `reader` has; fewer bytes only at its end.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads the record `expected_seq` into `payload`, or says why there is none.
pub(crate) fn read_record(
    reader: &mut impl Read,
    expected_seq: u64,
    max_record_bytes: u64,
    payload: &mut Vec<u8>,
) -> std::io::Result<Step> {
    let mut header = [0u8; RECORD_HEADER_BYTES as usize];
    let got = read_up_to(reader, &mut header)?;
    if got == 0 {
        return Ok(Step::Stop(Stop::Clean));
    }
    if header.iter().all(|b| *b == 0) {
        // Zeros: the preallocated rest of the segment, or (when the file ends first) a torn
        // write of a header whose bytes never arrived; either way no record starts here.
        return Ok(Step::Stop(if got == header.len() {
            Stop::Clean
        } else {
            Stop::Torn
        }));
    }
    if got < header.len() {
        return Ok(Step::Stop(Stop::Torn));
    }
    let [
        l0,
        l1,
        l2,
        l3,
        c0,
        c1,
        c2,
        c3,
        s0,
        s1,
        s2,
        s3,
        s4,
        s5,
        s6,
        s7,
    ] = header;
    let length = u32::from_le_bytes([l0, l1, l2, l3]);
    let crc = u32::from_le_bytes([c0, c1, c2, c3]);
    let seq = u64::from_le_bytes([s0, s1, s2, s3, s4, s5, s6, s7]);
    if seq != expected_seq || u64::from(length) > max_record_bytes {
        return Ok(Step::Stop(Stop::Corrupt));
    }
    payload.clear();
    // `take` + `read_to_end` grows the buffer as bytes arrive: a garbage length near the
    // maximum costs no allocation beyond what the file really holds.
    let got = reader
        .by_ref()
        .take(u64::from(length))
        .read_to_end(payload)?;
    if got < length as usize {
        return Ok(Step::Stop(Stop::Torn));
    }
    if record_crc(length, seq, payload) != crc {
        return Ok(Step::Stop(Stop::Corrupt));
    }
    Ok(Step::Record(RECORD_HEADER_BYTES + u64::from(length)))
}

/// What a scan of one segment found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentScan {
    /// The sequence number of the segment's first record (from its header).
    pub first_seq: u64,
    /// Whole, valid, consecutive records from the start of the segment.
    pub records: u64,
    /// The byte offset just past the last of them: where the next record goes.
    pub valid_end: u64,
    /// Why the scan stopped there.
    pub stop: Stop,
}

/// Scans a segment from its first byte: its header, then every whole record up to the first
/// that is missing, torn or corrupt. `None` when the header is not a segment header.
///
/// This is the recovery scan [`Journal::open`](crate::Journal::open) runs on the last segment
/// (public so that a fuzz target can feed it arbitrary bytes); it never allocates more than the
/// bytes it reads.
pub fn scan_segment(
    mut reader: impl Read,
    max_record_bytes: u64,
) -> std::io::Result<Option<SegmentScan>> {
    let mut header = [0u8; SEGMENT_HEADER_BYTES as usize];
    if read_up_to(&mut reader, &mut header)? < header.len() {
        return Ok(None);
    }
    let Some(first_seq) = parse_segment_header(&header) else {
        return Ok(None);
    };
    let mut scan = SegmentScan {
        first_seq,
        records: 0,
        valid_end: SEGMENT_HEADER_BYTES,
        stop: Stop::Clean,
    };
    let mut payload = Vec::new();
    loop {
        let Some(expected) = first_seq.checked_add(scan.records) else {
            return Ok(Some(scan));
        };
        match read_record(&mut reader, expected, max_record_bytes, &mut payload)? {
            Step::Record(bytes) => {
                scan.records += 1;
                scan.valid_end += bytes;
            }
            Step::Stop(stop) => {
                scan.stop = stop;
                return Ok(Some(scan));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::*;

    fn segment(first_seq: u64, payloads: &[&[u8]]) -> Vec<u8> {
        let mut bytes = segment_header(first_seq).to_vec();
        for (i, payload) in payloads.iter().enumerate() {
            encode_record(&mut bytes, first_seq + i as u64, payload);
        }
        bytes
    }

    #[test]
    fn a_header_round_trips_and_a_changed_byte_breaks_it() {
        let header = segment_header(42);
        assert_eq!(parse_segment_header(&header), Some(42));
        for i in 0..20 {
            let mut bad = header;
            bad[i] ^= 1;
            assert_eq!(parse_segment_header(&bad), None, "byte {i}");
        }
    }

    #[test]
    fn a_scan_counts_records_and_stops_cleanly_at_zeros() {
        let mut bytes = segment(7, &[b"one", b"", b"three"]);
        let end = bytes.len() as u64;
        bytes.extend_from_slice(&[0; 100]);
        let scan = scan_segment(&bytes[..], 1 << 20).unwrap().unwrap();
        assert_eq!(
            scan,
            SegmentScan {
                first_seq: 7,
                records: 3,
                valid_end: end,
                stop: Stop::Clean
            }
        );
    }

    #[test]
    fn a_record_with_the_wrong_sequence_number_is_not_read() {
        let mut bytes = segment(1, &[b"one"]);
        encode_record(&mut bytes, 3, b"skips two");
        let scan = scan_segment(&bytes[..], 1 << 20).unwrap().unwrap();
        assert_eq!((scan.records, scan.stop), (1, Stop::Corrupt));
    }

    #[test]
    fn a_length_above_the_maximum_is_corrupt() {
        let bytes = segment(1, &[&[9; 64]]);
        let scan = scan_segment(&bytes[..], 63).unwrap().unwrap();
        assert_eq!((scan.records, scan.stop), (0, Stop::Corrupt));
    }
}
