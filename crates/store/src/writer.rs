//! Group commit: one thread owns the write connection; each round it takes every job queued
//! at that moment, runs each in its own savepoint inside one transaction (a job of a single
//! statement, such as an audit event's append, without one), commits once (one fsync for the
//! whole group), then tells every job its outcome.
//!
//! When the journal is kept in the audit log (log.rs), the same thread owns the log's
//! appender and runs the protocol of docs/ARCHITECTURE.md per group ([`commit_log_group`]).
//!
//! Between groups the same thread fills the journal's lookup index (journal_index.rs) in
//! batches, so no append waits for it: after a group once the backlog reaches
//! [`INDEX_BATCH`], and whenever no job has come for [`INDEX_WHEN_IDLE_FOR`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use rusqlite::Connection;

use crate::journal_index;
use crate::log::{LogAppend, LogShared};
use crate::sqlite::{SqliteTx, run_cached};
use crate::{JournalAppend, JournalEntry, ReadTx, StoreError, WriteDone, WriteTx, WriteWork};

/// Upper bound on one group, so one commit's latency stays bounded under heavy load.
const MAX_GROUP: usize = 1024;

/// Events indexed per index transaction (at least: after a larger group, as many as it
/// appended, so the backlog cannot grow under sustained load). Large enough that each index
/// page is written once for many events, small enough (a few milliseconds) not to hold the
/// next group long.
const INDEX_BATCH: u64 = 1024;

/// A smaller backlog is indexed once the writer has had nothing to do for this long.
const INDEX_WHEN_IDLE_FOR: Duration = Duration::from_millis(5);

pub(crate) struct Job {
    pub(crate) work: WriteWork,
    pub(crate) done: WriteDone,
    /// The work makes at most one change with one statement (`Store::submit_single_change`),
    /// which is atomic by itself: it runs without a savepoint, which would copy every page
    /// it touches into SQLite's statement journal first.
    pub(crate) single_change: bool,
}

/// The writer thread's state.
pub(crate) struct Writer {
    /// Commits the groups (`synchronous=FULL`).
    pub(crate) conn: Connection,
    /// Commits index batches only (`synchronous=NORMAL`, see `journal_index::index_pending`).
    /// Used from the same thread between groups, so it never waits for the write lock.
    pub(crate) indexer: Connection,
    /// The last journal seq the lookup index covers.
    pub(crate) indexed: u64,
    /// Tells the checkpointer (checkpointer.rs) that a group committed; never blocks.
    pub(crate) committed: mpsc::SyncSender<()>,
    /// The audit log's appender and its readers' side, when the journal is kept there.
    pub(crate) log: Option<(LogAppend, Arc<LogShared>)>,
    /// The journal is in a log another process holds: appends are refused.
    pub(crate) journal_elsewhere: bool,
}

impl Writer {
    pub(crate) fn run(mut self, jobs: &mpsc::Receiver<Job>, journal_seq: &AtomicU64) {
        // Set once a wait for work timed out; cleared by the next job. While idle, the
        // backlog is indexed batch after batch without waiting.
        let mut idle = false;
        loop {
            let backlog = journal_seq
                .load(Ordering::Acquire)
                .saturating_sub(self.indexed);
            let next = if backlog == 0 {
                jobs.recv().map_err(|_| true)
            } else if idle {
                jobs.try_recv()
                    .map_err(|e| matches!(e, TryRecvError::Disconnected))
            } else {
                jobs.recv_timeout(INDEX_WHEN_IDLE_FOR)
                    .map_err(|e| matches!(e, RecvTimeoutError::Disconnected))
            };
            let first = match next {
                Ok(job) => job,
                Err(true) => break,
                Err(false) => {
                    idle = true;
                    self.index(INDEX_BATCH);
                    continue;
                }
            };
            idle = false;
            let mut group = Vec::with_capacity(16);
            group.push(first);
            while group.len() < MAX_GROUP {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            let before = journal_seq.load(Ordering::Acquire);
            match &mut self.log {
                Some((append, shared)) => {
                    commit_log_group(&self.conn, append, shared, group, journal_seq);
                }
                None => commit_group(&self.conn, group, journal_seq, self.journal_elsewhere),
            }
            // Full means a checkpoint is already due, which will cover this commit too.
            let _ = self.committed.try_send(());
            let last = journal_seq.load(Ordering::Acquire);
            if last.saturating_sub(self.indexed) >= INDEX_BATCH {
                self.index(INDEX_BATCH.max(last - before));
            }
        }
    }

    /// Indexes up to `limit` events. A failure leaves them in the tail, where lookups still
    /// find them, and the next attempt retries.
    fn index(&mut self, limit: u64) {
        let log = self.log.as_ref().map(|(_, shared)| shared.as_ref());
        match journal_index::index_pending(&self.indexer, log, limit) {
            Ok(seq) => self.indexed = seq,
            Err(e) => tracing::error!(error = %e, "indexing the journal failed; will retry"),
        }
    }
}

fn commit_group(
    conn: &Connection,
    group: Vec<Job>,
    journal_seq: &AtomicU64,
    journal_elsewhere: bool,
) {
    if let Err(e) = run_cached(conn, "BEGIN IMMEDIATE") {
        for job in group {
            (job.done)(Err(e.clone()));
        }
        return;
    }
    let mut outcomes = Vec::with_capacity(group.len());
    let mut tx = SqliteTx::new(conn).journal_elsewhere(journal_elsewhere);
    for job in group {
        let outcome = if job.single_change {
            (job.work)(&mut tx)
        } else {
            in_savepoint(&mut tx, job.work)
        };
        outcomes.push((job.done, outcome));
    }
    let last_seq = tx.last_seq;
    match run_cached(conn, "COMMIT") {
        Ok(()) => {
            if let Some(seq) = last_seq {
                journal_seq.fetch_max(seq, Ordering::AcqRel);
            }
            for (done, outcome) in outcomes {
                done(outcome);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "group commit failed; every write in the group is refused");
            let _ = run_cached(conn, "ROLLBACK");
            for (done, _) in outcomes {
                done(Err(e.clone()));
            }
        }
    }
}

/// One group with the journal in the audit log (docs/ARCHITECTURE.md, "The audit log and the
/// protocol that keeps state and its event atomic"): `BEGIN` only if a job may change state;
/// each job runs, its events pushed into the log's group (a `submit` job's flagged as
/// depending on the transaction; a savepoint's rollback takes its events back); one `pwrite`
/// and one `fdatasync` of the group; `journal_applied` := the log's end and `COMMIT`; the
/// group published; every job answered.
///
/// Jobs that changed no state are answered after the commit too, not right after the
/// `fdatasync` as the protocol allows: their events become readable only when the group is
/// published, and a caller who reads the trail after the answer must find its own event.
fn commit_log_group(
    conn: &Connection,
    log: &mut LogAppend,
    shared: &LogShared,
    group: Vec<Job>,
    journal_seq: &AtomicU64,
) {
    let changes_state = group.iter().any(|job| !job.single_change);
    if changes_state && let Err(e) = run_cached(conn, "BEGIN IMMEDIATE") {
        for job in group {
            (job.done)(Err(e.clone()));
        }
        return;
    }
    let mut outcomes = Vec::with_capacity(group.len());
    for job in group {
        let outcome = if job.single_change {
            // No SQLite at all: the job appends its event and changes nothing else.
            let mark = log.mark();
            let outcome = (job.work)(&mut LogOnlyTx { log: &mut *log });
            if outcome.is_err() {
                log.rollback_to(mark);
            }
            outcome
        } else {
            in_savepoint(
                &mut SqliteTx::writing_log(conn, shared, &mut *log),
                job.work,
            )
        };
        outcomes.push((job.done, outcome, job.single_change));
    }
    if let Err(e) = log.appender.sync() {
        // Nothing of the group is acknowledged; the log refuses appends until reopened.
        log.flagged.clear();
        if changes_state {
            let _ = run_cached(conn, "ROLLBACK");
        }
        let e = StoreError::from(e);
        for (done, _, _) in outcomes {
            done(Err(e.clone()));
        }
        return;
    }
    let mut commit_failure = None;
    if changes_state {
        let committed = log
            .record_applied(conn)
            .and_then(|()| run_cached(conn, "COMMIT"));
        match committed {
            Ok(()) => {
                log.pending_void.clear();
                log.flagged.clear();
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed; every write in the group is refused");
                let _ = run_cached(conn, "ROLLBACK");
                // The group's flagged events claim changes that are not there.
                log.void_group(shared);
                commit_failure = Some(e);
            }
        }
    }
    let end = log.appender.durable_end();
    log.appender.publish(end);
    journal_seq.fetch_max(end.saturating_sub(1), Ordering::AcqRel);
    for (done, outcome, single_change) in outcomes {
        done(match &commit_failure {
            Some(e) if !single_change => Err(e.clone()),
            _ => outcome,
        });
    }
}

/// A `submit_single_change` job's transaction with the journal in the log: it appends events
/// and touches nothing else (the server sends only a read-only or denied call's event so).
struct LogOnlyTx<'a> {
    log: &'a mut LogAppend,
}

impl LogOnlyTx<'_> {
    fn refuse<T>(&self, what: &str) -> Result<T, StoreError> {
        Err(StoreError::Internal(format!(
            "a single-change job cannot {what} (it appends an event only)"
        )))
    }
}

impl ReadTx for LogOnlyTx<'_> {
    fn get(&mut self, _ns: &str, _key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.refuse("read documents")
    }

    fn scan(
        &mut self,
        _ns: &str,
        _prefix: &str,
        _after: Option<&str>,
        _limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.refuse("read documents")
    }

    fn journal_after(
        &mut self,
        _after: u64,
        _limit: usize,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        self.refuse("read the journal")
    }
}

impl WriteTx for LogOnlyTx<'_> {
    fn put(&mut self, _ns: &str, _key: &str, _value: &[u8]) -> Result<(), StoreError> {
        self.refuse("change state")
    }

    fn delete(&mut self, _ns: &str, _key: &str) -> Result<bool, StoreError> {
        self.refuse("change state")
    }

    fn clear_documents(&mut self) -> Result<(), StoreError> {
        self.refuse("change state")
    }

    fn append_journal(&mut self, entry: &JournalAppend<'_>) -> Result<u64, StoreError> {
        // Not flagged: no transaction carries it, so no commit can fail to apply it.
        self.log.push(entry, false)
    }

    fn atomically(
        &mut self,
        work: &mut dyn FnMut(&mut dyn WriteTx) -> bool,
    ) -> Result<bool, StoreError> {
        let mark = self.log.mark();
        let ok = work(self);
        if !ok {
            self.log.rollback_to(mark);
        }
        Ok(ok)
    }
}

/// Runs `work` in a savepoint of its own, so that its failure undoes only its writes.
fn in_savepoint(tx: &mut SqliteTx<'_>, work: WriteWork) -> Result<(), StoreError> {
    let mut work = Some(work);
    let mut failure = None;
    let ran = tx.atomically(&mut |tx: &mut dyn WriteTx| match work.take() {
        Some(work) => match work(tx) {
            Ok(()) => true,
            Err(e) => {
                failure = Some(e);
                false
            }
        },
        None => false,
    });
    match (ran, failure) {
        (Ok(true), _) => Ok(()),
        (Ok(false), Some(e)) => Err(e),
        (Ok(false), None) => Err(StoreError::Internal("write work did not run".into())),
        (Err(e), _) => Err(e),
    }
}
