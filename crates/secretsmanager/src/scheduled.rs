//! Work that falls due, in `secretsmanager/deletions` by due time, which the server's scheduler
//! runs as `secretsmanager.amazonaws.com` ([`rampart_service::Timers`]):
//!
//! - a secret scheduled for deletion has a timer at the end of its recovery window
//!   (RestoreSecret and ForceDeleteWithoutRecovery remove it), which deletes the secret if it is
//!   still the one scheduled then;
//! - a secret with rotation on has a timer when its next rotation falls due (rotation.rs),
//!   which rotates it and sets the next.
//!
//! A timer runs once, in the transaction that removes it; work that fails is undone and the
//! timer stays due, tried again on a later round.

use rampart_service::timers::{earliest_due, parse_timer_key, scan_due, timer_key};
use rampart_service::{AwsError, DueWork, Env, Timers};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::SecretsError;
use crate::records::{self, SecretRecord};
use crate::rotation;

/// Pending deletions, by due time.
pub(crate) const DELETIONS: &str = "secretsmanager/deletions";

/// What a timer is for.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TimerRecord {
    account: String,
    region: String,
    name: String,
    arn: String,
    #[serde(default)]
    kind: TimerKind,
}

/// What a timer does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
enum TimerKind {
    #[default]
    Deletion,
    Rotation,
}

fn key_of(record: &SecretRecord) -> Option<String> {
    let due = record.deletion_due?;
    Some(timer_key(
        due,
        &format!("{}|{}|{}", record.account, record.region, record.name),
    ))
}

fn rotation_key_of(record: &SecretRecord) -> Option<String> {
    let due = record.rotation.as_ref()?.next_rotation?;
    Some(timer_key(
        due,
        &format!(
            "{}|{}|{}|rotation",
            record.account, record.region, record.name
        ),
    ))
}

fn timer(record: &SecretRecord, kind: TimerKind) -> TimerRecord {
    TimerRecord {
        account: record.account.clone(),
        region: record.region.clone(),
        name: record.name.clone(),
        arn: record.arn.clone(),
        kind,
    }
}

/// Sets the timer of `record`'s scheduled deletion.
pub(crate) fn schedule(tx: &mut dyn WriteTx, record: &SecretRecord) -> Result<(), StoreError> {
    let Some(key) = key_of(record) else {
        return Ok(());
    };
    put_json(tx, DELETIONS, &key, &timer(record, TimerKind::Deletion))
}

/// Sets the timer of `record`'s next scheduled rotation.
pub(crate) fn schedule_rotation(
    tx: &mut dyn WriteTx,
    record: &SecretRecord,
) -> Result<(), StoreError> {
    let Some(key) = rotation_key_of(record) else {
        return Ok(());
    };
    put_json(tx, DELETIONS, &key, &timer(record, TimerKind::Rotation))
}

/// Removes the timer of `record`'s next scheduled rotation, if it has one.
pub(crate) fn unschedule_rotation(
    tx: &mut dyn WriteTx,
    record: &SecretRecord,
) -> Result<(), StoreError> {
    if let Some(key) = rotation_key_of(record) {
        tx.delete(DELETIONS, &key)?;
    }
    Ok(())
}

/// Removes the timer of `record`'s scheduled deletion, if it has one.
pub(crate) fn unschedule(tx: &mut dyn WriteTx, record: &SecretRecord) -> Result<(), StoreError> {
    if let Some(key) = key_of(record) {
        tx.delete(DELETIONS, &key)?;
    }
    Ok(())
}

/// The deletion and rotation timers, for the scheduler.
pub(crate) struct SecretTimers;

impl Timers for SecretTimers {
    fn due(
        &self,
        tx: &mut dyn ReadTx,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<DueWork>, StoreError> {
        let mut due = Vec::new();
        for (key, _) in scan_due(tx, DELETIONS, now, limit)? {
            let Some((at, rest)) = parse_timer_key(&key) else {
                continue;
            };
            let mut parts = rest.split('|');
            let (Some(account), Some(region)) = (parts.next(), parts.next()) else {
                continue;
            };
            due.push(DueWork {
                account: account.to_owned(),
                region: region.to_owned(),
                due: at,
                key,
            });
        }
        Ok(due)
    }

    fn next_due(&self, tx: &mut dyn ReadTx) -> Result<Option<OffsetDateTime>, StoreError> {
        earliest_due(tx, DELETIONS)
    }

    fn run(&self, env: &Env<'_>, tx: &mut dyn WriteTx, work: &DueWork) -> Result<(), AwsError> {
        run(env, tx, work).map_err(AwsError::from)
    }
}

fn run(env: &Env<'_>, tx: &mut dyn WriteTx, work: &DueWork) -> Result<(), SecretsError> {
    let Some(timer) = get_json::<TimerRecord>(tx, DELETIONS, &work.key)? else {
        return Ok(());
    };
    tx.delete(DELETIONS, &work.key)?;
    let Some(mut record) = records::load(tx, &timer.account, &timer.region, &timer.name)? else {
        return Ok(());
    };
    if record.arn != timer.arn {
        return Ok(());
    }
    match timer.kind {
        TimerKind::Deletion => {
            if record.deleted.is_some() && key_of(&record).as_deref() == Some(work.key.as_str()) {
                unschedule_rotation(tx, &record)?;
                records::remove(tx, &record)?;
            }
        }
        TimerKind::Rotation => {
            if rotation_key_of(&record).as_deref() != Some(work.key.as_str()) {
                return Ok(());
            }
            // This timer is gone already; the next is set after the rotation.
            if let Some(r) = record.rotation.as_mut() {
                r.next_rotation = None;
            }
            rotation::run_scheduled(env, tx, &mut record)?;
            rotation::reschedule(env, tx, &mut record)?;
            records::save(tx, &record)?;
        }
    }
    Ok(())
}
