//! Deletions that fall due: a secret scheduled for deletion has a timer in
//! `secretsmanager/deletions` at the end of its recovery window, which the server's scheduler
//! runs as `secretsmanager.amazonaws.com` ([`rampart_service::Timers`]). RestoreSecret and
//! ForceDeleteWithoutRecovery remove it; a timer runs once, in the transaction that removes
//! it, and deletes the secret only if it is still the one scheduled then.

use rampart_service::timers::{earliest_due, parse_timer_key, scan_due, timer_key};
use rampart_service::{AwsError, DueWork, Env, Timers};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::SecretsError;
use crate::records::{self, SecretRecord};

/// Pending deletions, by due time.
pub(crate) const DELETIONS: &str = "secretsmanager/deletions";

/// What a deletion timer is for.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DeletionTimer {
    account: String,
    region: String,
    name: String,
    arn: String,
}

fn key_of(record: &SecretRecord) -> Option<String> {
    let due = record.deletion_due?;
    Some(timer_key(
        due,
        &format!("{}|{}|{}", record.account, record.region, record.name),
    ))
}

/// Sets the timer of `record`'s scheduled deletion.
pub(crate) fn schedule(tx: &mut dyn WriteTx, record: &SecretRecord) -> Result<(), StoreError> {
    let Some(key) = key_of(record) else {
        return Ok(());
    };
    put_json(
        tx,
        DELETIONS,
        &key,
        &DeletionTimer {
            account: record.account.clone(),
            region: record.region.clone(),
            name: record.name.clone(),
            arn: record.arn.clone(),
        },
    )
}

/// Removes the timer of `record`'s scheduled deletion, if it has one.
pub(crate) fn unschedule(tx: &mut dyn WriteTx, record: &SecretRecord) -> Result<(), StoreError> {
    if let Some(key) = key_of(record) {
        tx.delete(DELETIONS, &key)?;
    }
    Ok(())
}

/// The deletion timers, for the scheduler.
pub(crate) struct DeletionTimers;

impl Timers for DeletionTimers {
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

    fn run(&self, _env: &Env<'_>, tx: &mut dyn WriteTx, work: &DueWork) -> Result<(), AwsError> {
        run(tx, work).map_err(AwsError::from)
    }
}

fn run(tx: &mut dyn WriteTx, work: &DueWork) -> Result<(), SecretsError> {
    let Some(timer) = get_json::<DeletionTimer>(tx, DELETIONS, &work.key)? else {
        return Ok(());
    };
    tx.delete(DELETIONS, &work.key)?;
    let Some(record) = records::load(tx, &timer.account, &timer.region, &timer.name)? else {
        return Ok(());
    };
    if record.arn == timer.arn
        && record.deleted.is_some()
        && key_of(&record) == Some(work.key.clone())
    {
        records::remove(tx, &record)?;
    }
    Ok(())
}
