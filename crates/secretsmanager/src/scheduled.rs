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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rampart_service::timers::{due_work, earliest_due, timer_key};
use rampart_service::{AwsError, CallPrincipal, DueWork, Env, Timers};
use rampart_store::{ReadTx, Store, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::SecretsError;
use crate::events;
use crate::handlers::RotationHandlers;
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
    /// A rotation RotateSecret started: its token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

/// What a timer does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
enum TimerKind {
    #[default]
    Deletion,
    /// A scheduled rotation.
    Rotation,
    /// A rotation RotateSecret asked for, through a handler.
    RotationNow,
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
        token: None,
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

/// Sets a timer due `now` for the rotation with `token` RotateSecret asked of a handler.
pub(crate) fn schedule_rotation_now(
    tx: &mut dyn WriteTx,
    record: &SecretRecord,
    now: time::OffsetDateTime,
    token: &str,
) -> Result<(), StoreError> {
    let key = timer_key(
        now,
        &format!("{}|{}|{}|now", record.account, record.region, record.name),
    );
    let mut doc = timer(record, TimerKind::RotationNow);
    doc.token = Some(token.to_owned());
    put_json(tx, DELETIONS, &key, &doc)
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

/// What a handler's steps came to, by timer: the token they ran with, and their outcome.
type Outcomes = HashMap<String, (String, Result<(), String>)>;

/// The deletion and rotation timers, for the scheduler.
#[derive(Default)]
pub(crate) struct SecretTimers {
    handlers: Arc<RotationHandlers>,
    outcomes: Mutex<Outcomes>,
}

impl SecretTimers {
    /// Timers that rotate through `handlers`.
    pub(crate) fn new(handlers: Arc<RotationHandlers>) -> Self {
        Self {
            handlers,
            outcomes: Mutex::new(HashMap::new()),
        }
    }

    fn outcome(&self, key: &str) -> Option<(String, Result<(), String>)> {
        self.outcomes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key)
    }

    fn keep(&self, key: &str, token: String, outcome: Result<(), String>) {
        self.outcomes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key.to_owned(), (token, outcome));
    }
}

impl Timers for SecretTimers {
    fn due(
        &self,
        tx: &mut dyn ReadTx,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<DueWork>, StoreError> {
        due_work(tx, DELETIONS, now, limit)
    }

    fn next_due(&self, tx: &mut dyn ReadTx) -> Result<Option<OffsetDateTime>, StoreError> {
        earliest_due(tx, DELETIONS)
    }

    fn run(&self, env: &Env<'_>, tx: &mut dyn WriteTx, work: &DueWork) -> Result<(), AwsError> {
        self.run_in(env, tx, work).map_err(AwsError::from)
    }

    /// A handler's steps, with no transaction open: they call back into Rampart.
    fn run_outside(&self, store: &dyn Store, work: &DueWork) {
        let found = store.read_with(|tx| {
            let Some(timer) = get_json::<TimerRecord>(tx, DELETIONS, &work.key)? else {
                return Ok::<_, StoreError>(None);
            };
            let record = records::load(tx, &timer.account, &timer.region, &timer.name)?;
            Ok(record.map(|r| (timer, r)))
        });
        let Ok(Some((timer, record))) = found else {
            return;
        };
        if timer.kind == TimerKind::Deletion || record.arn != timer.arn {
            return;
        }
        let Some(rotation) = record.rotation.clone() else {
            return;
        };
        if rotation::is_built_in(&rotation.lambda_arn) {
            return;
        }
        let token = timer
            .token
            .clone()
            .unwrap_or_else(|| rotation::scheduled_token(&record, &work.key));
        let rotation_token = rotation::derived_uuid(&format!("{}|{token}", work.key));
        let name = rotation::function_name(&rotation.lambda_arn).unwrap_or_default();
        let outcome = rotation::STEPS.iter().try_for_each(|step| {
            self.handlers
                .invoke(name, step, &record.arn, &token, &rotation_token)
        });
        self.keep(&work.key, token, outcome);
    }
}

impl SecretTimers {
    fn run_in(
        &self,
        env: &Env<'_>,
        tx: &mut dyn WriteTx,
        work: &DueWork,
    ) -> Result<(), SecretsError> {
        let Some(timer) = get_json::<TimerRecord>(tx, DELETIONS, &work.key)? else {
            return Ok(());
        };
        // The delete claims the item: of two nodes' transactions that both found it, only
        // the one whose delete removed the row (the other's waits for it, then finds none)
        // applies it.
        if !tx.delete(DELETIONS, &work.key)? {
            return Ok(());
        }
        let Some(mut record) = records::load(tx, &timer.account, &timer.region, &timer.name)?
        else {
            return Ok(());
        };
        if record.arn != timer.arn {
            return Ok(());
        }
        match timer.kind {
            TimerKind::Deletion => {
                if record.deleted.is_some() && key_of(&record).as_deref() == Some(work.key.as_str())
                {
                    unschedule_rotation(tx, &record)?;
                    records::remove(tx, &record)?;
                    events::deletion(env, "EndSecretVersionDelete", &record);
                }
            }
            TimerKind::Rotation | TimerKind::RotationNow => {
                let scheduled = timer.kind == TimerKind::Rotation;
                if scheduled && rotation_key_of(&record).as_deref() != Some(work.key.as_str()) {
                    return Ok(());
                }
                let Some(config) = record.rotation.clone() else {
                    return Ok(());
                };
                let live = record.deleted.is_none() && (config.enabled || !scheduled);
                if live {
                    self.rotate(env, tx, work, &timer, &mut record, &config.lambda_arn)?;
                }
                if scheduled {
                    // This timer is gone already; the next is set after the rotation.
                    if let Some(r) = record.rotation.as_mut() {
                        r.next_rotation = None;
                    }
                    rotation::reschedule(env, tx, &mut record)?;
                }
                records::save(tx, &record)?;
            }
        }
        Ok(())
    }

    /// One rotation: the built-in function's in `tx`; a handler's from what its steps came
    /// to outside (none yet: the item stays due).
    fn rotate(
        &self,
        env: &Env<'_>,
        tx: &mut dyn WriteTx,
        work: &DueWork,
        timer: &TimerRecord,
        record: &mut SecretRecord,
        lambda_arn: &str,
    ) -> Result<(), SecretsError> {
        if rotation::is_built_in(lambda_arn) {
            let token = timer
                .token
                .clone()
                .unwrap_or_else(|| rotation::scheduled_token(record, &work.key));
            // The built-in function acts as the principal that configured rotation (see
            // rotation.rs). A rotation that fails (that principal gone, or refused by KMS)
            // has written nothing, its first write being KMS's; the next window is set.
            let before = record.clone();
            let Some(runs_as) = record.rotation.as_ref().and_then(|r| r.runs_as.clone()) else {
                tracing::warn!(secret = %record.arn,
                    "scheduled rotation by the built-in function has no principal to run as: configure it again with RotateSecret");
                return Ok(());
            };
            let principal = CallPrincipal::Principal {
                principal: &runs_as,
                session_name: rotation::BUILT_IN,
            };
            let outcome =
                rotation::rotate_built_in(env, tx, record, &token, &principal).map_err(|e| {
                    *record = before;
                    rotation::built_in_failure(record, lambda_arn, e)
                });
            events::rotation_ran(env, record, &token, outcome);
            return Ok(());
        }
        let Some((token, outcome)) = self.outcome(&work.key) else {
            return Err(SecretsError::Kms(AwsError::new(
                "InternalServiceError",
                500,
                "the rotation function has not run yet",
            )));
        };
        let outcome = match outcome {
            Ok(()) if rotation::finished(env, record, &token) => Ok(()),
            Ok(()) => {
                tracing::warn!(secret = %record.arn, "rotation steps succeeded but finishSecret left AWSCURRENT where it was");
                Err(format!(
                    "Error when executing lambda {lambda_arn} during finishSecret step: AWSCURRENT was not moved to version {token}"
                ))
            }
            // As AWS: the failed rotation leaves AWSPENDING where its steps put it.
            Err(reason) => {
                tracing::warn!(secret = %record.arn, %reason, "rotation failed");
                Err(format!(
                    "Error when executing lambda {lambda_arn}: {reason}"
                ))
            }
        };
        events::rotation_ran(env, record, &token, outcome);
        Ok(())
    }
}
