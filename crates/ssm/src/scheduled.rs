//! Parameter policies at work: each pending policy of a parameter has a timer in `ssm/timers`
//! (keyed by its due time), which the server's scheduler runs as `ssm.amazonaws.com`
//! ([`rampart_service::Timers`]):
//!
//! - `Expiration` deletes the parameter (every version, its labels and tags);
//! - `ExpirationNotification` and `NoChangeNotification` raise their event;
//!
//! each raising a `Parameter Store Policy Action` event (source `aws.ssm`) in the EventBridge
//! namespace ([`rampart_service::bus_events`]). A parameter's timers are replaced whenever it
//! gets a new version (a change restarts NoChangeNotification's clock) and removed with it; a
//! timer runs once, in the transaction that removes it, and does nothing if its parameter no
//! longer lists it.

use rampart_service::bus_events::{BusEvent, put_bus_event};
use rampart_service::timers::{due_work, earliest_due, timer_key};
use rampart_service::{AwsError, DueWork, Env, Timers, aws_timestamp};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::error::SsmError;
use crate::names::parameter_arn;
use crate::policies::{self, Policy};
use crate::records::{self, ParameterRecord, PolicyRecord};

/// Pending policy timers, by due time.
pub(crate) const TIMERS: &str = "ssm/timers";
/// A policy that has not done its work yet.
pub(crate) const PENDING: &str = "Pending";
/// A notification that has been raised.
const FINISHED: &str = "Finished";

/// What a timer is for.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TimerRecord {
    account: String,
    region: String,
    /// The parameter's stored key.
    key: String,
    /// The policy type.
    policy: String,
}

/// The parsed policies of `records` (kept texts were checked when they were given).
pub(crate) fn parsed(records: &[PolicyRecord]) -> Vec<Policy> {
    if records.is_empty() {
        return Vec::new();
    }
    let texts: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
    // Checked against the time they were given; read back at any time.
    policies::parse(
        &format!("[{}]", texts.join(",")),
        OffsetDateTime::UNIX_EPOCH,
    )
    .unwrap_or_default()
}

/// Replaces the timers of the parameter `record` (kept under `key` in `env`'s account and
/// region) with those its pending policies need now.
pub(crate) fn reschedule(
    tx: &mut dyn WriteTx,
    env: &Env<'_>,
    key: &str,
    record: &mut ParameterRecord,
) -> Result<(), StoreError> {
    unschedule(tx, record)?;
    let policies = &record.current.policies;
    for (policy, due) in policies::due_times(&parsed(policies), record.current.last_modified) {
        let pending = policies
            .iter()
            .any(|p| p.policy_type == policy && p.status == PENDING);
        if !pending {
            continue;
        }
        let account = &env.caller.account_id;
        let timer = timer_key(due, &format!("{account}|{}|{key}|{policy}", env.region));
        put_json(
            tx,
            TIMERS,
            &timer,
            &TimerRecord {
                account: account.clone(),
                region: env.region.to_owned(),
                key: key.to_owned(),
                policy: policy.to_owned(),
            },
        )?;
        record.timers.push(timer);
    }
    Ok(())
}

/// Removes the timers of `record`.
pub(crate) fn unschedule(
    tx: &mut dyn WriteTx,
    record: &mut ParameterRecord,
) -> Result<(), StoreError> {
    for timer in record.timers.drain(..) {
        tx.delete(TIMERS, &timer)?;
    }
    Ok(())
}

/// The policy timers, for the scheduler.
pub(crate) struct PolicyTimers;

impl Timers for PolicyTimers {
    fn due(
        &self,
        tx: &mut dyn ReadTx,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<DueWork>, StoreError> {
        due_work(tx, TIMERS, now, limit)
    }

    fn next_due(&self, tx: &mut dyn ReadTx) -> Result<Option<OffsetDateTime>, StoreError> {
        earliest_due(tx, TIMERS)
    }

    fn run(&self, env: &Env<'_>, tx: &mut dyn WriteTx, work: &DueWork) -> Result<(), AwsError> {
        run(env, tx, work).map_err(AwsError::from)
    }
}

fn run(env: &Env<'_>, tx: &mut dyn WriteTx, work: &DueWork) -> Result<(), SsmError> {
    let Some(timer) = get_json::<TimerRecord>(tx, TIMERS, &work.key)? else {
        return Ok(());
    };
    // The delete claims the item: of two nodes' transactions that both found it, only the
    // one whose delete removed the row (the other's waits for it, then finds none) applies it.
    if !tx.delete(TIMERS, &work.key)? {
        return Ok(());
    }
    let doc_key = format!("{}:{}:{}", timer.account, timer.region, timer.key);
    let Some(mut record) = get_json::<ParameterRecord>(tx, records::PARAMETERS, &doc_key)? else {
        return Ok(());
    };
    let Some(at) = record.timers.iter().position(|t| *t == work.key) else {
        return Ok(());
    };
    record.timers.remove(at);
    let policy = record
        .current
        .policies
        .iter()
        .find(|p| p.policy_type == timer.policy)
        .cloned();
    if timer.policy == "Expiration" {
        unschedule(tx, &mut record)?;
        records::remove(tx, env, &doc_key, &record)?;
    } else {
        for p in &mut record.current.policies {
            if p.policy_type == timer.policy {
                p.status = FINISHED.to_owned();
            }
        }
        records::save(tx, &doc_key, &record)?;
    }
    let arn = parameter_arn(&timer.region, &timer.account, &timer.key);
    let event = BusEvent {
        version: "0".to_owned(),
        id: uuid::Builder::from_random_bytes(random_16(env))
            .into_uuid()
            .to_string(),
        detail_type: "Parameter Store Policy Action".to_owned(),
        source: "aws.ssm".to_owned(),
        account: timer.account.clone(),
        time: aws_timestamp(env.now),
        region: timer.region.clone(),
        resources: vec![arn],
        detail: json!({
            "parameter-name": record.name,
            "parameter-type": record.current.parameter_type.as_str(),
            "policy-type": timer.policy,
            "policy-content": policy.map(|p| p.text).unwrap_or_default(),
            "action-status": FINISHED,
        }),
    };
    put_bus_event(tx, env.now, &event)?;
    Ok(())
}

fn random_16(env: &Env<'_>) -> [u8; 16] {
    let mut out = [0u8; 16];
    env.entropy.fill(&mut out);
    out
}
