//! Rampart's audit log: an append-only journal of records in segment files, built for
//! appending (issue 20).
//!
//! Records are opaque bytes (the store decides what an event looks like). One [`Appender`],
//! owned by one thread, numbers records as they are pushed, writes a whole group with one
//! `pwrite` and makes it durable with one `fdatasync`; its owner publishes the group to
//! [`Reader`]s when it chooses (the store: after the SQLite commit that depends on it). A
//! [`Journal`] is an appender on a writer thread of its own that groups appends from any thread
//! and answers each once its group is durable and published. Records get global, gap-free
//! sequence numbers in the order they are written. Segments are
//! preallocated with written zeros (segment.rs says why), so the sync writes data and no
//! metadata. Opening scans the last segment, keeps every whole record and wipes a torn or
//! corrupt tail. Records are read by sequence number from any point, across segments.
//!
//! A crate of its own rather than a module of `rampart-store`: it is a stable interface (bytes
//! in, sequence numbers out) with no SQLite in it, so the fuzz target of its recovery scan
//! builds without the bundled SQLite, and the store's backends sit above it (the SQLite one
//! uses it; a PostgreSQL one keeps its journal in PostgreSQL).
//!
//! Linux/Unix only: it relies on positioned writes (`pwrite`) and on `fdatasync` semantics.
#![deny(missing_docs)]

mod appender;
mod error;
mod format;
mod positions;
mod reader;
mod segment;
mod writer;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;

pub use appender::{Appender, Mark};
pub use error::JournalError;
pub use format::{
    RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, SegmentScan, Stop, encode_record, scan_segment,
    segment_header,
};
pub use reader::{Record, Records};

/// Told the sequence numbers of an append's records once they are durable, or why not.
pub type AppendDone = Box<dyn FnOnce(Result<Range<u64>, JournalError>) + Send>;

/// How a journal lays out its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Bytes per segment file, preallocated. A larger segment means fewer files and fewer
    /// preallocations; retention removes whole segments, so it also sets retention's grain.
    pub segment_bytes: u64,
    /// The longest record accepted (at most what fits in one segment).
    pub max_record_bytes: u64,
    /// The sequence number of the first record of a new journal (a journal migrated from
    /// another store continues that store's numbering). Ignored when the journal exists.
    pub first_seq: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            // About 64,000 events of 1 KiB: a preallocation (a 64 MiB sequential write on the
            // spare thread) every few seconds at the heaviest load, and few files.
            segment_bytes: 64 << 20,
            max_record_bytes: 16 << 20,
            first_seq: 1,
        }
    }
}

/// What the writer and the readers share.
pub(crate) struct Shared {
    pub(crate) dir: PathBuf,
    pub(crate) segment_bytes: u64,
    /// The effective maximum: the options' one, bounded by a segment's capacity.
    pub(crate) max_record_bytes: u64,
    /// One past the last published sequence number: readers read below it.
    pub(crate) readable_end: AtomicU64,
    /// The segments' first sequence numbers, ascending.
    segments: Mutex<Vec<u64>>,
    /// Where some records start, so reads need not scan a segment from its start.
    pub(crate) positions: positions::Positions,
}

impl Shared {
    pub(crate) fn segments(&self) -> MutexGuard<'_, Vec<u64>> {
        // A reader or the writer that panicked holding the lock left the list consistent
        // (every change is one push or one remove).
        self.segments
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn add_segment(&self, first_seq: u64) {
        self.segments().push(first_seq);
    }

    /// Starts preparing the next segment on a thread of its own.
    pub(crate) fn spawn_spare(&self) -> Option<JoinHandle<Result<(), JournalError>>> {
        let (dir, bytes) = (self.dir.clone(), self.segment_bytes);
        std::thread::Builder::new()
            .name("rampart-journal-spare".into())
            .spawn(move || segment::prepare_spare(&dir, bytes))
            .inspect_err(|e| {
                tracing::warn!(error = %e, "cannot start the journal's spare thread; the writer will prepare the next segment itself");
            })
            .ok()
    }
}

/// Reads a journal: by sequence number, its bounds, and retention. Cheap to clone.
#[derive(Clone)]
pub struct Reader {
    shared: Arc<Shared>,
}

impl Reader {
    /// The highest readable sequence number (one less than the first, while there is none).
    /// A record is readable once durable and published (see [`Appender::publish`]).
    pub fn last_seq(&self) -> u64 {
        self.shared
            .readable_end
            .load(Ordering::Acquire)
            .saturating_sub(1)
    }

    /// The lowest sequence number still kept (retention removes older segments).
    pub fn first_seq(&self) -> u64 {
        self.shared
            .segments()
            .first()
            .copied()
            .unwrap_or_else(|| self.last_seq() + 1)
    }

    /// The readable records from `seq` on, in order, up to the last one readable now.
    pub fn read_from(&self, seq: u64) -> Records {
        Records::new(Arc::clone(&self.shared), seq)
    }

    /// Opens the journal in `dir` for reading only, beside the process that appends to it (a
    /// `rampart trail export` beside a serving rampart): every whole, checksummed record there
    /// now, up to the first torn or missing one, is readable. Nothing is truncated, wiped or
    /// created: only the appender recovers. A snapshot: records appended later are not seen.
    pub fn open_read_only(dir: &Path, options: &Options) -> Result<Self, JournalError> {
        let segments = segment::list(dir)?;
        // Not bounded by this process's segment size: the appender's may be larger.
        let max_record_bytes = options.max_record_bytes.min(u64::from(u32::MAX));
        let end = match segments.last() {
            None => options.first_seq,
            Some(&last) => {
                let path = segment::path(dir, last);
                let file =
                    std::fs::File::open(&path).map_err(JournalError::io("cannot open", &path))?;
                let scan = scan_segment(
                    std::io::BufReader::with_capacity(1 << 20, file),
                    max_record_bytes,
                )
                .map_err(JournalError::io("cannot read", &path))?;
                match scan {
                    Some(scan) if scan.first_seq == last => last + scan.records,
                    // A segment being installed has no header yet: the ones before it are
                    // whole, and it holds nothing.
                    _ => last,
                }
            }
        };
        Ok(Self {
            shared: Arc::new(Shared {
                dir: dir.to_owned(),
                segment_bytes: options.segment_bytes,
                max_record_bytes,
                readable_end: AtomicU64::new(end),
                segments: Mutex::new(segments),
                positions: positions::Positions::default(),
            }),
        })
    }

    /// The first sequence numbers of the segments kept, ascending (the last is being filled).
    pub fn segments(&self) -> Vec<u64> {
        self.shared.segments().clone()
    }

    /// Removes every segment whose records all precede `seq` (never the one being filled),
    /// oldest first; returns how many. Readers already inside a removed segment finish it.
    pub fn remove_before(&self, seq: u64) -> Result<usize, JournalError> {
        let mut removed = 0;
        {
            let mut segments = self.shared.segments();
            while let [oldest, next, ..] = *segments.as_slice()
                && next <= seq
            {
                let path = segment::path(&self.shared.dir, oldest);
                std::fs::remove_file(&path).map_err(JournalError::io("cannot remove", &path))?;
                segments.remove(0);
                self.shared.positions.forget(oldest);
                removed += 1;
            }
        }
        if removed > 0 {
            segment::sync_dir(&self.shared.dir)?;
        }
        Ok(removed)
    }
}

/// An open journal with a writer thread of its own: appends from any thread are grouped, and
/// each is answered once durable and readable. It reads as a [`Reader`].
pub struct Journal {
    reader: Reader,
    jobs: Option<mpsc::Sender<writer::Job>>,
    writer: Option<JoinHandle<()>>,
}

impl std::ops::Deref for Journal {
    type Target = Reader;

    fn deref(&self) -> &Reader {
        &self.reader
    }
}

impl Journal {
    /// Opens the journal in `dir` (see [`Journal::open_appender`]) and starts its writer.
    pub fn open(dir: &Path, options: &Options) -> Result<Self, JournalError> {
        let (appender, reader) = Self::open_appender(dir, options)?;
        let (jobs, receiver) = mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("rampart-journal-writer".into())
            .spawn(move || writer::run(appender, &receiver))
            .map_err(JournalError::io("cannot start the writer for", dir))?;
        Ok(Self {
            reader,
            jobs: Some(jobs),
            writer: Some(writer),
        })
    }

    /// Opens the journal in `dir`, creating it (owner-only) if needed, for a caller whose own
    /// thread appends (the store's writer, which commits its transaction between a group's
    /// sync and its publication). Recovery: the last segment is scanned; every whole record is
    /// kept and readable, and a torn or corrupt one after them is wiped together with
    /// everything after it (a write that was never acknowledged).
    pub fn open_appender(
        dir: &Path,
        options: &Options,
    ) -> Result<(Appender, Reader), JournalError> {
        let capacity = options
            .segment_bytes
            .checked_sub(SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES)
            .filter(|c| *c > 0)
            .ok_or_else(|| {
                JournalError::Options(format!(
                    "segments of {} bytes hold no record",
                    options.segment_bytes
                ))
            })?;
        if options.first_seq == 0 {
            return Err(JournalError::Options(
                "sequence numbers start at 1".to_owned(),
            ));
        }
        create_private_dir(dir)?;
        segment::remove_spares(dir)?;
        let mut segments = segment::list(dir)?;
        let max_record_bytes = options
            .max_record_bytes
            .min(capacity)
            .min(u64::from(u32::MAX));
        let (file, file_first, offset, next_seq) = match segments.last() {
            None => {
                segment::prepare_sparse_spare(dir, options.segment_bytes)?;
                let file = segment::install_spare(dir, options.first_seq)?;
                segments.push(options.first_seq);
                (
                    file,
                    options.first_seq,
                    SEGMENT_HEADER_BYTES,
                    options.first_seq,
                )
            }
            Some(&last) => recover(dir, last, options.segment_bytes, max_record_bytes)?,
        };
        let shared = Arc::new(Shared {
            dir: dir.to_owned(),
            segment_bytes: options.segment_bytes,
            max_record_bytes,
            readable_end: AtomicU64::new(next_seq),
            segments: Mutex::new(segments),
            positions: positions::Positions::default(),
        });
        let appender = Appender {
            spare: shared.spawn_spare(),
            shared: Arc::clone(&shared),
            file,
            file_first,
            offset,
            durable_end: next_seq,
            buf: Vec::new(),
            ends: Vec::new(),
            failed: None,
        };
        Ok((appender, Reader { shared }))
    }

    /// Queues `records` for the next group; `done` receives their sequence numbers
    /// (consecutive, in order) once they are durable and readable. A failed append leaves
    /// none of them acknowledged (after a crash, a whole record of a failed group may still be
    /// found).
    pub fn submit(&self, records: Vec<Vec<u8>>, done: AppendDone) {
        let job = writer::Job { records, done };
        match &self.jobs {
            Some(jobs) => {
                if let Err(mpsc::SendError(job)) = jobs.send(job) {
                    (job.done)(Err(JournalError::Stopped("the writer is gone".to_owned())));
                }
            }
            None => (job.done)(Err(JournalError::Stopped(
                "the journal is closed".to_owned(),
            ))),
        }
    }

    /// Appends `records` and waits until they are durable; returns their sequence numbers.
    pub fn append_all(&self, records: Vec<Vec<u8>>) -> Result<Range<u64>, JournalError> {
        let (sender, receiver) = mpsc::sync_channel(1);
        self.submit(
            records,
            Box::new(move |result| {
                let _ = sender.send(result);
            }),
        );
        receiver
            .recv()
            .map_err(|_| JournalError::Stopped("the writer is gone".to_owned()))?
    }

    /// Appends one record and waits until it is durable; returns its sequence number.
    pub fn append(&self, record: Vec<u8>) -> Result<u64, JournalError> {
        self.append_all(vec![record]).map(|seqs| seqs.start)
    }
}

impl Drop for Journal {
    /// Stops the writer once it has written everything already queued.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn create_private_dir(dir: &Path) -> Result<(), JournalError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(JournalError::io("cannot create", dir))
}

/// Scans the last segment and wipes what follows its last whole record. Returns the open
/// segment, its first sequence number, where its next record goes, and that record's number.
fn recover(
    dir: &Path,
    first: u64,
    segment_bytes: u64,
    max_record_bytes: u64,
) -> Result<(std::fs::File, u64, u64, u64), JournalError> {
    let path = segment::path(dir, first);
    let file = segment::open_rw(&path)?;
    let scan = scan_segment(
        std::io::BufReader::with_capacity(1 << 20, &file),
        max_record_bytes,
    )
    .map_err(JournalError::io("cannot read", &path))?
    .ok_or_else(|| JournalError::Corrupt {
        path: path.clone(),
        offset: 0,
        reason: "no valid segment header",
    })?;
    if scan.first_seq != first {
        return Err(JournalError::Corrupt {
            path,
            offset: 0,
            reason: "the header names another first sequence number than the file name",
        });
    }
    if scan.stop != Stop::Clean {
        tracing::warn!(
            segment = %path.display(),
            offset = scan.valid_end,
            stop = ?scan.stop,
            "wiping a torn or corrupt record at the journal's end (its write was never acknowledged)"
        );
    }
    let length = file
        .metadata()
        .map_err(JournalError::io("cannot read", &path))?
        .len();
    // Everything after the last whole record goes, not only the bad record: after a power
    // cut, pages of an unacknowledged group may have reached the disk out of order, and a
    // stale record there must never become readable once new records reach up to it.
    segment::zero_range(&file, &path, scan.valid_end, length.max(segment_bytes))?;
    file.sync_all()
        .map_err(JournalError::io("cannot sync", &path))?;
    Ok((file, first, scan.valid_end, first + scan.records))
}
