//! Retention: a group's `retentionInDays` hides older events from reads at once
//! (`events::earliest`) and removes them from storage in a sweep the server's scheduler runs
//! (the service's [`Timers`]): each group with a retention has one timer, set by
//! PutRetentionPolicy and found in the group's record, so a policy changed or deleted, or a
//! group deleted, leaves no second sweep behind. A sweep removes at most [`SWEEP_BUDGET`]
//! events, then runs again at once if more are left, else an hour later.

use rampart_service::timers::{DueWork, Timers, due_work, earliest_due, timer_key};
use rampart_service::{AwsError, Env};
use rampart_store::{ReadTx, StoreError, WriteTx};
use time::OffsetDateTime;

use crate::error::LogsError;
use crate::events::{Boundary, read_forward};
use crate::names;
use crate::records::{self, GroupRecord, STREAMS, StreamRecord};

/// The timer index: `timer_key(due, "<account>|<region>|<group>")` → nothing.
pub(crate) const SWEEPS: &str = "logs/retention-sweeps";
/// Events one sweep removes at most.
pub(crate) const SWEEP_BUDGET: usize = 10_000;
/// Time between sweeps of a group with nothing left to remove.
const SWEEP_EVERY: time::Duration = time::Duration::hours(1);

/// Sets `group`'s next sweep at `at` (replacing its current one), in its record.
pub(crate) fn schedule(
    env: &Env<'_>,
    tx: &mut (impl WriteTx + ?Sized),
    group: &mut GroupRecord,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    cancel(tx, group)?;
    let key = timer_key(
        at,
        &format!("{}|{}|{}", env.caller.account_id, env.region, group.name),
    );
    tx.put(SWEEPS, &key, b"")?;
    group.retention_sweep = Some(key);
    Ok(())
}

/// Removes `group`'s sweep, if it has one.
pub(crate) fn cancel(
    tx: &mut (impl WriteTx + ?Sized),
    group: &mut GroupRecord,
) -> Result<(), StoreError> {
    if let Some(key) = group.retention_sweep.take() {
        tx.delete(SWEEPS, &key)?;
    }
    Ok(())
}

/// Removes up to `budget` events of `group` older than its retention at `env.now`, keeping
/// the streams' and the group's counts; returns how many it removed.
pub(crate) fn sweep(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    group: &mut GroupRecord,
    budget: usize,
) -> Result<usize, LogsError> {
    let Some(days) = group.retention_days else {
        return Ok(0);
    };
    let cutoff = records::now_ms(env).saturating_sub(i64::from(days).saturating_mul(86_400_000));
    let streams: Vec<StreamRecord> =
        records::scan_all(tx, STREAMS, &names::under_group(env, &group.name))?
            .into_iter()
            .map(|(key, bytes)| records::decode(STREAMS, &key, &bytes))
            .collect::<Result<_, _>>()?;
    let mut removed = 0;
    for mut stream in streams {
        let stream_key = names::stream_key(env, &group.name, &stream.name);
        let mut changed = false;
        while removed < budget {
            let old: Vec<_> = read_forward(
                tx,
                &stream_key,
                Boundary::START,
                (budget - removed).min(1000),
            )?
            .into_iter()
            .take_while(|s| s.ts < cutoff)
            .collect();
            if old.is_empty() {
                break;
            }
            for stored in old {
                records::delete_event(tx, &stream_key, stored.ts, stored.seq)?;
                let bytes = stored.event.message.len() as u64;
                stream.stored_bytes = stream.stored_bytes.saturating_sub(bytes);
                group.stored_bytes = group.stored_bytes.saturating_sub(bytes);
                removed += 1;
                changed = true;
            }
        }
        if changed {
            stream.first_event = read_forward(tx, &stream_key, Boundary::START, 1)?
                .first()
                .map(|s| s.ts);
            if stream.first_event.is_none() {
                stream.last_event = None;
            }
            records::put_stream(env, tx, &group.name, &stream)?;
        }
        if removed >= budget {
            break;
        }
    }
    Ok(removed)
}

/// The sweeps, for the scheduler.
#[derive(Debug, Default)]
pub(crate) struct RetentionSweeps;

impl Timers for RetentionSweeps {
    fn due(
        &self,
        tx: &mut dyn ReadTx,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<DueWork>, StoreError> {
        due_work(tx, SWEEPS, now, limit)
    }

    fn next_due(&self, tx: &mut dyn ReadTx) -> Result<Option<OffsetDateTime>, StoreError> {
        earliest_due(tx, SWEEPS)
    }

    fn run(&self, env: &Env<'_>, tx: &mut dyn WriteTx, work: &DueWork) -> Result<(), AwsError> {
        let name = work.key.rsplit('|').next().unwrap_or_default().to_owned();
        let group = records::group(env, tx, &name).map_err(LogsError::from)?;
        // A timer no group points at (deleted, or its policy replaced) is dropped.
        let Some(mut group) = group.filter(|g| g.retention_sweep.as_deref() == Some(&work.key))
        else {
            tx.delete(SWEEPS, &work.key).map_err(LogsError::from)?;
            return Ok(());
        };
        let removed = sweep(env, tx, &mut group, SWEEP_BUDGET)?;
        let next = if removed >= SWEEP_BUDGET {
            env.now
        } else {
            env.now + SWEEP_EVERY
        };
        schedule(env, tx, &mut group, next).map_err(LogsError::from)?;
        records::put_group(env, tx, &group).map_err(LogsError::from)?;
        Ok(())
    }
}
