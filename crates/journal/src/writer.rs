//! The standalone journal's writer thread: each round it takes every append queued at that
//! moment, pushes the whole group into the [`Appender`], syncs it once, publishes it, then
//! tells every appender its sequence numbers.

use std::ops::Range;
use std::sync::mpsc::Receiver;

use crate::appender::{Appender, encoded_len};
use crate::{AppendDone, JournalError};

/// Upper bounds on one group, so that one sync's latency stays bounded under heavy load.
const MAX_GROUP_JOBS: usize = 4096;
const MAX_GROUP_BYTES: usize = 4 << 20;

pub(crate) struct Job {
    pub(crate) records: Vec<Vec<u8>>,
    pub(crate) done: AppendDone,
}

impl Job {
    fn bytes(&self) -> usize {
        self.records.iter().map(|r| encoded_len(r.len())).sum()
    }
}

pub(crate) fn run(mut appender: Appender, jobs: &Receiver<Job>) {
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
        commit(&mut appender, group);
    }
}

fn commit(appender: &mut Appender, group: Vec<Job>) {
    let mut pushed: Vec<(AppendDone, Range<u64>)> = Vec::with_capacity(group.len());
    for job in group {
        // A job's records go in all or none.
        let mark = appender.mark();
        let start = appender.next_seq();
        match job
            .records
            .iter()
            .try_for_each(|r| appender.push(r).map(|_| ()))
        {
            Ok(()) => pushed.push((job.done, start..appender.next_seq())),
            Err(e) => {
                appender.rollback_to(mark);
                (job.done)(Err(e));
            }
        }
    }
    let synced = appender.sync();
    if let Ok(seqs) = &synced {
        appender.publish(seqs.end);
    }
    for (done, seqs) in pushed {
        done(match &synced {
            Ok(_) => Ok(seqs),
            Err(e) => Err(JournalError::clone(e)),
        });
    }
}
