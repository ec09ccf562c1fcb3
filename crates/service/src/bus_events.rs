//! Events services raise for Amazon EventBridge (Parameter Store's policy notifications), as
//! EventBridge delivers them: `version`, `id`, `detail-type`, `source`, `account`, `time`,
//! `region`, `resources`, `detail`.
//!
//! They are not CloudTrail records, and the audit journal holds CloudTrail records only
//! (LookupEvents and the trail files read every entry of it as one), so they are kept in a
//! namespace of their own, [`BUS_EVENTS_NS`], in the order they were raised, for later
//! features (rules, detection) to consume. Each is written in the transaction of the change
//! that raises it.

use rampart_store::{ReadTx, StoreError, WriteTx, put_json, scan_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where bus events are kept, keyed by the time they were raised.
pub const BUS_EVENTS_NS: &str = "eventbridge/events";

/// One event, in EventBridge's envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusEvent {
    /// Always `0`.
    pub version: String,
    /// A unique ID.
    pub id: String,
    /// What happened, e.g. `Parameter Store Policy Action`.
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// The raising service, e.g. `aws.ssm`.
    pub source: String,
    /// The account the event belongs to.
    pub account: String,
    /// When it was raised (RFC 3339, seconds, `Z`).
    pub time: String,
    /// The region it was raised in.
    pub region: String,
    /// The ARNs of the resources it is about.
    pub resources: Vec<String>,
    /// The service's own detail.
    pub detail: serde_json::Value,
}

/// Keeps `event`, raised at `at`, after every event raised before it.
pub fn put_bus_event(
    tx: &mut dyn WriteTx,
    at: OffsetDateTime,
    event: &BusEvent,
) -> Result<(), StoreError> {
    let nanos = u128::try_from(at.unix_timestamp_nanos()).unwrap_or(0);
    put_json(
        tx,
        BUS_EVENTS_NS,
        &format!("{nanos:024}|{}", event.id),
        event,
    )
}

/// Up to `limit` events raised after the one keyed `after` (from the first when `None`), in
/// the order they were raised, with their keys.
pub fn bus_events_after(
    tx: &mut dyn ReadTx,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, BusEvent)>, StoreError> {
    scan_json(tx, BUS_EVENTS_NS, "", after, limit)
}
