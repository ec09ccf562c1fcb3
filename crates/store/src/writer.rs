//! Group commit: one thread owns the write connection; each round it takes every job queued
//! at that moment, runs each in its own savepoint inside one transaction, commits once (one
//! fsync for the whole group), then tells every job its outcome.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use rusqlite::Connection;

use crate::sqlite::{SqliteTx, run_cached};
use crate::{StoreError, WriteDone, WriteTx, WriteWork};

/// Upper bound on one group, so one commit's latency stays bounded under heavy load.
const MAX_GROUP: usize = 1024;

pub(crate) struct Job {
    pub(crate) work: WriteWork,
    pub(crate) done: WriteDone,
}

pub(crate) fn run_writer(conn: Connection, jobs: mpsc::Receiver<Job>, journal_seq: &AtomicU64) {
    while let Ok(first) = jobs.recv() {
        let mut group = Vec::with_capacity(16);
        group.push(first);
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&conn, group, journal_seq);
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
        let mut work = Some(job.work);
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
        let outcome = match (ran, failure) {
            (Ok(true), _) => Ok(()),
            (Ok(false), Some(e)) => Err(e),
            (Ok(false), None) => Err(StoreError::Internal("write work did not run".into())),
            (Err(e), _) => Err(e),
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
