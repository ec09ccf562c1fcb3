//! Group commit on PostgreSQL: one thread owns the write connection; each round it takes
//! every job queued at that moment, runs each in its own savepoint inside one transaction,
//! commits once, then tells every job its outcome. Same contract as the SQLite writer
//! (writer.rs), with one difference: a single-change job gets a savepoint too, because a
//! failed statement in PostgreSQL aborts the whole transaction, not just itself.
//!
//! A lost connection fails the group it was carrying; the next group connects again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use crate::postgres::{Connector, PgConn, PgTx};
use crate::writer::Job;
use crate::{StoreError, WriteTx, WriteWork};

/// Upper bound on one group, so one commit's latency stays bounded under heavy load.
const MAX_GROUP: usize = 1024;

pub(crate) struct PgWriter {
    connector: Connector,
    conn: Option<PgConn>,
}

impl PgWriter {
    pub(crate) fn new(connector: Connector, conn: PgConn) -> Self {
        Self {
            connector,
            conn: Some(conn),
        }
    }

    pub(crate) fn run(mut self, jobs: &mpsc::Receiver<Job>, journal_seq: &AtomicU64) {
        while let Ok(first) = jobs.recv() {
            let mut group = Vec::with_capacity(16);
            group.push(first);
            while group.len() < MAX_GROUP {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            self.commit_group(group, journal_seq);
        }
    }

    /// The open connection, or a new one when there is none or it was lost.
    fn connection(&mut self) -> Result<PgConn, StoreError> {
        match self.conn.take() {
            Some(conn) if !conn.is_closed() => Ok(conn),
            _ => self.connector.connect(),
        }
    }

    fn commit_group(&mut self, group: Vec<Job>, journal_seq: &AtomicU64) {
        let mut conn = match self.connection() {
            Ok(conn) => conn,
            Err(e) => {
                tracing::error!(error = %e, "cannot reach PostgreSQL; every write in the group is refused");
                return fail_all(group.into_iter().map(|job| job.done), &e);
            }
        };
        if let Err(e) = conn.batch("BEGIN") {
            return fail_all(group.into_iter().map(|job| job.done), &e);
        }
        let mut tx = PgTx::new(&mut conn);
        let mut outcomes = Vec::with_capacity(group.len());
        for job in group {
            let outcome = if tx.broken {
                Err(StoreError::Internal("the group's transaction broke".into()))
            } else {
                in_savepoint(&mut tx, job.work)
            };
            outcomes.push((job.done, outcome));
        }
        // The journal's new end goes into `journal_head` with the group (see postgres.rs).
        let recorded = if tx.broken {
            Ok(())
        } else {
            tx.record_head().and_then(|()| tx.record_state_version())
        };
        let (last_seq, broken) = (tx.last_seq, tx.broken);
        // A broken transaction may have been rolled back by the server already, and its
        // COMMIT would then report success: never send it.
        let committed = if broken {
            Err(StoreError::Database(
                "a savepoint of the group failed".into(),
            ))
        } else {
            recorded.and_then(|()| conn.batch("COMMIT"))
        };
        match committed {
            Ok(()) => {
                self.conn = Some(conn);
                if let Some(seq) = last_seq {
                    journal_seq.fetch_max(seq, Ordering::AcqRel);
                }
                for (done, outcome) in outcomes {
                    done(outcome);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed; every write in the group is refused");
                // A connection that cannot even roll back is dropped; the next group opens
                // another.
                if conn.batch("ROLLBACK").is_ok() {
                    self.conn = Some(conn);
                }
                fail_all(outcomes.into_iter().map(|(done, _)| done), &e);
            }
        }
    }
}

fn fail_all(dones: impl Iterator<Item = crate::WriteDone>, e: &StoreError) {
    for done in dones {
        done(Err(e.clone()));
    }
}

/// Runs `work` in a savepoint of its own, so that its failure undoes only its writes.
fn in_savepoint(tx: &mut PgTx<'_>, work: WriteWork) -> Result<(), StoreError> {
    let mut work = Some(work);
    let mut failure = None;
    let ran = tx.atomically(&mut |tx: &mut dyn WriteTx| {
        let Some(work) = work.take() else {
            return false;
        };
        work(tx).map_err(|e| failure = Some(e)).is_ok()
    });
    match ran {
        Ok(true) => Ok(()),
        Ok(false) => Err(failure
            .unwrap_or_else(|| StoreError::Database("a statement of the work failed".into()))),
        Err(e) => Err(e),
    }
}
