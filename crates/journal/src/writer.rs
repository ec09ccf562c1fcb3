//! The one writer: each round it takes every append queued at that moment, encodes the whole
//! group into one buffer, writes it with one `pwrite` and makes it durable with one
//! `fdatasync`, then tells every appender its sequence numbers.
//!
//! Sequence numbers are given here, in the order the group is encoded, so they are gap-free
//! by construction. After a failed write or sync the writer stops accepting work: what the
//! kernel kept of the failed group is unknown (a failed `fdatasync` may have dropped dirty
//! pages and cleared the error), and only the recovery scan of the next open can say.

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;

use crate::format::{RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, encode_record};
use crate::{AppendDone, JournalError, Shared, segment};

/// Upper bounds on one group, so that one sync's latency stays bounded under heavy load.
const MAX_GROUP_JOBS: usize = 4096;
const MAX_GROUP_BYTES: usize = 4 << 20;

pub(crate) struct Job {
    pub(crate) records: Vec<Vec<u8>>,
    pub(crate) done: AppendDone,
}

impl Job {
    fn bytes(&self) -> usize {
        self.records
            .iter()
            .map(|r| r.len() + RECORD_HEADER_BYTES as usize)
            .sum()
    }
}

pub(crate) struct Writer {
    pub(crate) shared: Arc<Shared>,
    /// The segment being filled.
    pub(crate) file: File,
    /// Its first sequence number (for error messages).
    pub(crate) file_first: u64,
    /// Where its next record goes.
    pub(crate) offset: u64,
    /// The next record's sequence number.
    pub(crate) next_seq: u64,
    /// The thread preparing the next segment, if one is under way.
    pub(crate) spare: Option<JoinHandle<Result<(), JournalError>>>,
    /// The group being encoded; kept between groups for its capacity.
    pub(crate) buf: Vec<u8>,
    /// Set by the first failure; every later append gets it.
    pub(crate) failed: Option<JournalError>,
}

impl Writer {
    pub(crate) fn run(mut self, jobs: &Receiver<Job>) {
        while let Ok(first) = jobs.recv() {
            let mut bytes = first.bytes();
            let mut group = vec![first];
            while group.len() < MAX_GROUP_JOBS && bytes < MAX_GROUP_BYTES {
                match jobs.try_recv() {
                    Ok(job) => {
                        bytes += job.bytes();
                        group.push(job);
                    }
                    Err(_) => break,
                }
            }
            self.commit(group);
        }
        if let Some(spare) = self.spare.take() {
            let _ = spare.join();
        }
    }

    fn commit(&mut self, group: Vec<Job>) {
        let mut acknowledged: Vec<(AppendDone, Range<u64>)> = Vec::with_capacity(group.len());
        for job in group {
            if let Some(error) = &self.failed {
                (job.done)(Err(error.clone()));
                continue;
            }
            let max = self.shared.max_record_bytes;
            if let Some(record) = job.records.iter().find(|r| r.len() as u64 > max) {
                let length = record.len();
                (job.done)(Err(JournalError::TooLarge { length, max }));
                continue;
            }
            let start = self.next_seq;
            for record in &job.records {
                let used = self.offset + self.buf.len() as u64;
                let needed = RECORD_HEADER_BYTES + record.len() as u64;
                if used + needed > self.shared.segment_bytes && used > SEGMENT_HEADER_BYTES {
                    // The segment is full: what is buffered goes into it, the rest into the next.
                    if let Err(e) = self.flush().and_then(|()| self.roll()) {
                        self.failed = Some(e);
                        break;
                    }
                }
                encode_record(&mut self.buf, self.next_seq, record);
                self.next_seq += 1;
            }
            match &self.failed {
                None => acknowledged.push((job.done, start..self.next_seq)),
                Some(error) => (job.done)(Err(error.clone())),
            }
        }
        if self.failed.is_none()
            && let Err(e) = self.flush()
        {
            self.failed = Some(e);
        }
        for (done, seqs) in acknowledged {
            done(match &self.failed {
                None => Ok(seqs),
                Some(error) => Err(error.clone()),
            });
        }
    }

    /// Writes the buffered records with one `pwrite`, makes them durable with one
    /// `fdatasync`, and publishes them to readers.
    fn flush(&mut self) -> Result<(), JournalError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let path = || segment::path(&self.shared.dir, self.file_first);
        let result = self
            .file
            .write_all_at(&self.buf, self.offset)
            .map_err(JournalError::io("cannot write", path()))
            .and_then(|()| {
                self.file
                    .sync_data()
                    .map_err(JournalError::io("cannot sync", path()))
            });
        if let Err(e) = result {
            tracing::error!(error = %e, "the journal's group write failed; it accepts no more appends");
            return Err(JournalError::Stopped(e.to_string()));
        }
        self.offset += self.buf.len() as u64;
        self.buf.clear();
        self.shared
            .durable_end
            .store(self.next_seq, Ordering::Release);
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
            Some(Err(_)) => false,
            None => false,
        };
        if !prepared {
            segment::prepare_spare(&self.shared.dir, self.shared.segment_bytes)?;
        }
        let file = segment::install_spare(&self.shared.dir, self.next_seq)?;
        self.shared.add_segment(self.next_seq);
        self.file = file;
        self.file_first = self.next_seq;
        self.offset = SEGMENT_HEADER_BYTES;
        self.spare = self.shared.spawn_spare();
        Ok(())
    }
}
