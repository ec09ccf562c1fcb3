//! Group commit: one thread owns the write connection; each round it takes every job queued
//! at that moment, runs each in its own savepoint inside one transaction (a job of a single
//! statement, such as an audit event's append, without one), commits once (one fsync for the
//! whole group), then tells every job its outcome.
//!
//! Between groups the same thread fills the journal's lookup index (journal_index.rs) in
//! batches, so no append waits for it: after a group once the backlog reaches
//! [`INDEX_BATCH`], and whenever no job has come for [`INDEX_WHEN_IDLE_FOR`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use rusqlite::Connection;

use crate::journal_index;
use crate::sqlite::{SqliteTx, run_cached};
use crate::{StoreError, WriteDone, WriteTx, WriteWork};

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
            commit_group(&self.conn, group, journal_seq);
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
        match journal_index::index_pending(&self.indexer, limit) {
            Ok(seq) => self.indexed = seq,
            Err(e) => tracing::error!(error = %e, "indexing the journal failed; will retry"),
        }
    }
}

fn commit_group(conn: &Connection, group: Vec<Job>, journal_seq: &AtomicU64) {
    if let Err(e) = run_cached(conn, "BEGIN IMMEDIATE") {
        for job in group {
            (job.done)(Err(e.clone()));
        }
        return;
    }
    let mut outcomes = Vec::with_capacity(group.len());
    let mut tx = SqliteTx::new(conn);
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
