//! The one appender: it numbers records as they are pushed, keeps them in one buffer, and
//! makes the whole buffer durable with one `pwrite` and one `fdatasync` per segment it
//! reaches into (one, but at a roll-over).
//!
//! Sequence numbers are given here, in push order, so they are gap-free by construction; a
//! [`Mark`] lets its owner take back what it pushed since (a rolled-back transaction's
//! events) before anything is written. Records become readable only when the owner
//! publishes them, which may be later than their sync (the store publishes a group after
//! the SQLite commit that depends on it; docs/ARCHITECTURE.md, "State and audit").
//!
//! After a failed write or sync the appender refuses everything: what the kernel kept of the
//! failed group is unknown (a failed `fdatasync` may have dropped dirty pages and cleared the
//! error), and only the recovery scan of the next open can say.

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;

use crate::format::{RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, encode_record};
use crate::{JournalError, Shared, segment};

/// A point in the appender's buffer to come back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    /// The number the next record had when the mark was taken.
    seq: u64,
}

/// Appends to a journal; owned by one thread (see [`Journal::open_appender`](crate::Journal::open_appender)).
pub struct Appender {
    pub(crate) shared: Arc<Shared>,
    /// The segment being filled.
    pub(crate) file: File,
    /// Its first sequence number.
    pub(crate) file_first: u64,
    /// Where its next record goes.
    pub(crate) offset: u64,
    /// The first sequence number not yet durable.
    pub(crate) durable_end: u64,
    /// The thread preparing the next segment, if one is under way.
    pub(crate) spare: Option<JoinHandle<Result<(), JournalError>>>,
    /// The records pushed since the last sync, encoded back to back...
    pub(crate) buf: Vec<u8>,
    /// ...and where each of them ends in `buf`.
    pub(crate) ends: Vec<usize>,
    /// Set by the first failure; everything after gets it.
    pub(crate) failed: Option<JournalError>,
}

impl Appender {
    /// The number the next pushed record gets.
    pub fn next_seq(&self) -> u64 {
        self.durable_end + self.ends.len() as u64
    }

    /// The first sequence number not yet durable.
    pub fn durable_end(&self) -> u64 {
        self.durable_end
    }

    /// Numbers `payload` and buffers it; nothing is written until [`sync`](Self::sync).
    pub fn push(&mut self, payload: &[u8]) -> Result<u64, JournalError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let max = self.shared.max_record_bytes;
        if payload.len() as u64 > max {
            return Err(JournalError::TooLarge {
                length: payload.len(),
                max,
            });
        }
        let seq = self.next_seq();
        encode_record(&mut self.buf, seq, payload);
        self.ends.push(self.buf.len());
        Ok(seq)
    }

    /// Where the buffer stands now.
    pub fn mark(&self) -> Mark {
        Mark {
            seq: self.next_seq(),
        }
    }

    /// Takes back every record pushed since `mark`; their numbers are given again. A mark from
    /// before the last sync takes back nothing (what is durable stays).
    pub fn rollback_to(&mut self, mark: Mark) {
        // By number, not by buffer position: a sync between the mark and now empties the
        // buffer, and what was pushed after it still goes.
        let Some(kept) = mark
            .seq
            .checked_sub(self.durable_end)
            .and_then(|kept| usize::try_from(kept).ok())
        else {
            return;
        };
        self.ends.truncate(kept);
        self.buf.truncate(self.ends.last().copied().unwrap_or(0));
    }

    /// Makes every pushed record durable: one `pwrite` and one `fdatasync` into the current
    /// segment, and at a roll-over the same again into the next. Returns their numbers.
    /// They are not readable until [`publish`](Self::publish)ed.
    pub fn sync(&mut self) -> Result<Range<u64>, JournalError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let start = self.durable_end;
        let result = self.write_buffer();
        self.buf.clear();
        self.ends.clear();
        match result {
            Ok(()) => Ok(start..self.durable_end),
            Err(e) => {
                tracing::error!(error = %e, "the journal's group write failed; it accepts no more appends");
                let stopped = JournalError::Stopped(e.to_string());
                self.failed = Some(stopped.clone());
                Err(stopped)
            }
        }
    }

    /// Makes the records before `end` readable (at most the durable ones).
    pub fn publish(&self, end: u64) {
        self.shared
            .readable_end
            .fetch_max(end.min(self.durable_end), Ordering::AcqRel);
    }

    fn write_buffer(&mut self) -> Result<(), JournalError> {
        let mut written = 0; // bytes of `buf` already in a segment
        let mut records = 0; // records of `ends` already in a segment
        while records < self.ends.len() {
            // As many whole records as fit in the current segment; at least one when the
            // segment is empty (a record never exceeds a segment's capacity).
            let room = self.shared.segment_bytes.saturating_sub(self.offset);
            let fit = self
                .ends
                .iter()
                .skip(records)
                .take_while(|end| (**end - written) as u64 <= room)
                .count();
            if fit == 0 {
                if self.offset == SEGMENT_HEADER_BYTES {
                    return Err(JournalError::Stopped(
                        "a record larger than a segment was pushed".to_owned(),
                    ));
                }
                self.roll()?;
                continue;
            }
            let end = self.ends.get(records + fit - 1).copied().unwrap_or(written);
            let chunk = self.buf.get(written..end).unwrap_or_default();
            let path = || segment::path(&self.shared.dir, self.file_first);
            self.file
                .write_all_at(chunk, self.offset)
                .map_err(JournalError::io("cannot write", path()))?;
            self.file
                .sync_data()
                .map_err(JournalError::io("cannot sync", path()))?;
            let mut start = self.offset;
            for (seq, end) in (self.durable_end..).zip(self.ends.iter().skip(records).take(fit)) {
                self.shared.positions.note(self.file_first, seq, start);
                start = self.offset + (end - written) as u64;
            }
            self.offset += chunk.len() as u64;
            self.durable_end += fit as u64;
            written = end;
            records += fit;
        }
        Ok(())
    }

    /// Continues in a new segment, starting at the next sequence number.
    fn roll(&mut self) -> Result<(), JournalError> {
        let prepared = match self.spare.take().map(JoinHandle::join) {
            Some(Ok(Ok(()))) => true,
            Some(Ok(Err(e))) => {
                tracing::warn!(error = %e, "preparing the next journal segment failed; retrying");
                false
            }
            Some(Err(_)) | None => false,
        };
        if !prepared {
            segment::prepare_spare(&self.shared.dir, self.shared.segment_bytes)?;
        }
        let file = segment::install_spare(&self.shared.dir, self.durable_end)?;
        self.shared.add_segment(self.durable_end);
        self.file = file;
        self.file_first = self.durable_end;
        self.offset = SEGMENT_HEADER_BYTES;
        self.spare = self.shared.spawn_spare();
        Ok(())
    }
}

impl Drop for Appender {
    fn drop(&mut self) {
        if let Some(spare) = self.spare.take() {
            let _ = spare.join();
        }
    }
}

/// Bytes a record of `payload_len` takes in a segment.
pub(crate) fn encoded_len(payload_len: usize) -> usize {
    payload_len + RECORD_HEADER_BYTES as usize
}
