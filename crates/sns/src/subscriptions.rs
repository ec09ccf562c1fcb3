//! Subscriptions of a topic. (Subscribe and its kin are not served yet.)

use rampart_store::{ReadTx, StoreError, WriteTx};
use serde::{Deserialize, Serialize};

use crate::names::TopicName;
use crate::records;

pub(crate) const SUBSCRIPTIONS: &str = "sns/subscriptions";

/// Whether a subscription is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Status {
    PendingConfirmation,
    Confirmed,
}

/// A subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SubscriptionRecord {
    pub(crate) id: String,
    pub(crate) status: Status,
}

/// A topic's subscriptions by state, as GetTopicAttributes counts them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) confirmed: usize,
    pub(crate) pending: usize,
    pub(crate) deleted: usize,
}

/// The prefix of every subscription of `topic`.
pub(crate) fn under_topic(topic: &TopicName) -> String {
    format!("{}:", topic.key())
}

fn scan_all(
    tx: &mut (impl ReadTx + ?Sized),
    prefix: &str,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    loop {
        let after = out.last().map(|(key, _)| key.clone());
        let batch = tx.scan(SUBSCRIPTIONS, prefix, after.as_deref(), 1000)?;
        let done = batch.len() < 1000;
        out.extend(batch);
        if done {
            return Ok(out);
        }
    }
}

/// Counts `topic`'s subscriptions.
pub(crate) fn counts(
    tx: &mut (impl ReadTx + ?Sized),
    topic: &TopicName,
) -> Result<Counts, StoreError> {
    let mut counts = Counts::default();
    for (key, bytes) in scan_all(tx, &under_topic(topic))? {
        let record: SubscriptionRecord = records::decode(SUBSCRIPTIONS, &key, &bytes)?;
        match record.status {
            Status::Confirmed => counts.confirmed += 1,
            Status::PendingConfirmation => counts.pending += 1,
        }
    }
    Ok(counts)
}

/// Removes every subscription of `topic`.
pub(crate) fn delete_all_of(
    tx: &mut (impl WriteTx + ?Sized),
    topic: &TopicName,
) -> Result<(), StoreError> {
    for (key, _) in scan_all(tx, &under_topic(topic))? {
        tx.delete(SUBSCRIPTIONS, &key)?;
    }
    Ok(())
}
