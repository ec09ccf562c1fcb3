//! Reading by sequence number, across segments.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::format::{RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, Step, Stop, read_record};
use crate::{JournalError, Shared, segment};

/// Bytes read ahead per segment file; records are read sequentially.
const READ_AHEAD: usize = 64 << 10;

/// One record read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its sequence number.
    pub seq: u64,
    /// Its bytes, as appended.
    pub payload: Vec<u8>,
}

/// The records from a sequence number on, up to the last one durable when the iteration
/// began (see [`Reader::read_from`](crate::Reader::read_from)). Stops after the first error.
pub struct Records {
    shared: Arc<Shared>,
    next: u64,
    end: u64,
    segment: Option<Open>,
    failed: bool,
}

/// The segment being read.
struct Open {
    reader: BufReader<File>,
    path: PathBuf,
    /// The segment's first sequence number.
    first: u64,
    /// Where the next record starts in it.
    offset: u64,
    /// The first sequence number of the segment after it (`u64::MAX` for the last).
    following: u64,
}

impl Records {
    pub(crate) fn new(shared: Arc<Shared>, from: u64) -> Self {
        let end = shared.readable_end.load(Ordering::Acquire);
        Self {
            shared,
            next: from,
            end,
            segment: None,
            failed: false,
        }
    }

    fn read_next(&mut self) -> Result<Record, JournalError> {
        let segment = match self.segment.take() {
            Some(open) if self.next < open.following => open,
            _ => self.open_at(self.next)?,
        };
        let open = self.segment.insert(segment);
        let mut payload = Vec::new();
        let step = read_record(
            &mut open.reader,
            self.next,
            self.shared.max_record_bytes,
            &mut payload,
        )
        .map_err(JournalError::io("cannot read", &open.path))?;
        match step {
            Step::Record(bytes) => {
                self.shared
                    .positions
                    .note(open.first, self.next, open.offset);
                open.offset += bytes;
                let seq = self.next;
                self.next += 1;
                Ok(Record { seq, payload })
            }
            Step::Stop(stop) => Err(JournalError::Corrupt {
                path: open.path.clone(),
                offset: open.offset,
                reason: match stop {
                    Stop::Clean | Stop::Torn => "a durable record is missing",
                    Stop::Corrupt => "a durable record fails its checksum or sequence check",
                },
            }),
        }
    }

    /// Opens the segment holding `seq` and moves to that record (reading record headers and
    /// skipping payloads; a segment holds tens of thousands of records at most).
    fn open_at(&self, seq: u64) -> Result<Open, JournalError> {
        let (first, following) = {
            let segments = self.shared.segments();
            let index = segments.partition_point(|first| *first <= seq);
            let oldest = segments.first().copied().unwrap_or(self.end);
            let Some(first) = index.checked_sub(1).and_then(|i| segments.get(i)) else {
                return Err(JournalError::NotRetained { seq, oldest });
            };
            (*first, segments.get(index).copied().unwrap_or(u64::MAX))
        };
        let path = segment::path(&self.shared.dir, first);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Removed by retention since the list was read.
                let oldest = self.shared.segments().first().copied().unwrap_or(self.end);
                return Err(JournalError::NotRetained { seq, oldest });
            }
            Err(e) => return Err(JournalError::io("cannot open", &path)(e)),
        };
        let mut reader = BufReader::with_capacity(READ_AHEAD, file);
        let corrupt = |offset, reason| JournalError::Corrupt {
            path: path.clone(),
            offset,
            reason,
        };
        let mut header = [0u8; SEGMENT_HEADER_BYTES as usize];
        reader
            .read_exact(&mut header)
            .map_err(JournalError::io("cannot read", &path))?;
        if crate::format::parse_segment_header(&header) != Some(first) {
            return Err(corrupt(0, "no valid segment header"));
        }
        // From the nearest record the index knows, or else the segment's first.
        let (from, mut offset) = match self.shared.positions.nearest(first, seq) {
            Some((from, offset)) => {
                reader
                    .seek(SeekFrom::Start(offset))
                    .map_err(JournalError::io("cannot read", &path))?;
                (from, offset)
            }
            None => (first, SEGMENT_HEADER_BYTES),
        };
        for expected in from..seq {
            self.shared.positions.note(first, expected, offset);
            let mut record = [0u8; RECORD_HEADER_BYTES as usize];
            reader
                .read_exact(&mut record)
                .map_err(JournalError::io("cannot read", &path))?;
            let [l0, l1, l2, l3, _, _, _, _, s0, s1, s2, s3, s4, s5, s6, s7] = record;
            let length = u32::from_le_bytes([l0, l1, l2, l3]);
            if u64::from_le_bytes([s0, s1, s2, s3, s4, s5, s6, s7]) != expected
                || u64::from(length) > self.shared.max_record_bytes
            {
                return Err(corrupt(offset, "a durable record's header is wrong"));
            }
            reader
                .seek_relative(i64::from(length))
                .map_err(JournalError::io("cannot read", &path))?;
            offset += RECORD_HEADER_BYTES + u64::from(length);
        }
        Ok(Open {
            reader,
            path,
            first,
            offset,
            following,
        })
    }
}

impl Iterator for Records {
    type Item = Result<Record, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.next >= self.end {
            return None;
        }
        let result = self.read_next();
        self.failed = result.is_err();
        Some(result)
    }
}
